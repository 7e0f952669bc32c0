// Batch output of one snapshot: a plain table, CSV (one row per cell) or
// JSON (one object per snapshot, on one line). Numbers are in the segment's
// base units (V, A, degC, fractions, ohm, s); NaN is null in JSON, an empty
// CSV field and "-" in tables.
//
// What a snapshot holds depends on the selection:
//   nothing selected   table: one row per rack    json: racks         csv: every cell
//   --rack R           table: one row per module  json: rack R, its modules and cells
//   --rack R --module M  table: one row per cell  json: rack R, module M and its cells
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "viewer/snapshot.hpp"

namespace brt::viewer {

enum class BatchFormat { table, csv, json };

struct Selection {
    std::optional<std::uint32_t> rack;
    std::optional<std::uint32_t> module;  // only with rack
};

struct BatchFormatOptions {
    BatchFormat format = BatchFormat::table;
    Selection selection;
    std::vector<Field> fields;  // empty: the format's default
    bool color = false;         // tables only: bold headings
};

// `first`: the first snapshot of a series (CSV writes its header row once).
std::string format_snapshot(const Snapshot& snapshot, const BatchFormatOptions& options,
                            bool first);

namespace detail {
std::string format_table(const Snapshot& snapshot, const BatchFormatOptions& options);
std::string format_csv(const Snapshot& snapshot, const BatchFormatOptions& options, bool header);
std::string format_json(const Snapshot& snapshot, const BatchFormatOptions& options);
// The cells of the selection (absolute indices): a module, a rack, or every
// cell of the frame.
CellRange selected_cells(const Snapshot& snapshot, const Selection& selection);
}  // namespace detail

}  // namespace brt::viewer
