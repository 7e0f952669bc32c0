// Batch output of one snapshot: a plain table, CSV or JSON (one object per
// snapshot, on one line). Numbers are in the segment's base units (V, A,
// degC, ohm, s; SoC and SoH as fractions 0..1 under their segment names
// `soc`, `soh`), except that tables show SoC and SoH in percent under
// `soc_pct`, `soh_pct`, as the dashboard does. NaN is null in JSON, an empty
// CSV field and "-" in tables.
//
// What a snapshot holds depends on the selection, the same in every format:
//   nothing selected     table, csv: one row per rack    json: racks
//   --rack R             table, csv: one row per module  json: rack R, its modules and cells
//   --rack R --module M  table, csv: one row per cell    json: rack R, module M and its cells
// --cells asks for one row per cell of the selection (the whole frame, a
// rack) in the table and CSV, and for the cells in JSON.
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
    bool cells = false;         // one row per cell of the selection, whatever it is
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

// What a row of the table and CSV is.
enum class RowLevel { rack, module, cell };
RowLevel row_level(const BatchFormatOptions& options);

// How the table and CSV write a number: the table with fixed decimals, "-"
// for NaN, SoC and SoH in percent; CSV in base units, each reading in its
// shortest float32 form (the digits of JSON and the bridge), NaN empty.
enum class RowStyle { table, csv };
using Row = std::vector<std::string>;
struct Rows {
    Row headings;
    std::vector<Row> rows;
};
// The rows of the selection (row_level), without the table's header line
// and CSV's frame column.
Rows selection_rows(const Snapshot& snapshot, const BatchFormatOptions& options, RowStyle style);
// A field's column name: the segment's name, `soc_pct`/`soh_pct` in tables.
std::string column_name(RowStyle style, Field field);
}  // namespace detail

}  // namespace brt::viewer
