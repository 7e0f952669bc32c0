// Aggregates over groups of cells of one frame: min / mean / max of every
// quantity (NaN readings skipped and counted) and counts of status bits, per
// module, per rack or for any contiguous run of cells. One pass over the
// columns; what the viewer, the bridge and the monitor show as "rack
// summaries" all comes from here.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "common/segment/geometry.hpp"
#include "common/segment/segment_layout.hpp"
#include "common/segment/segment_reader.hpp"

namespace brt {

inline constexpr std::size_t kFloatFieldCount = 6;  // voltage_v .. soh; status is separate

struct FieldSummary {
    float min = NAN;
    float max = NAN;
    double sum = 0;              // of valid readings
    std::uint64_t valid = 0;     // readings that are not NaN
    std::uint64_t min_cell = 0;  // absolute cell index of the minimum (first one)
    std::uint64_t max_cell = 0;

    double mean() const { return valid == 0 ? NAN : sum / static_cast<double>(valid); }
    float spread() const { return max - min; }  // NaN when nothing valid
};

struct GroupSummary {
    CellRange cells;
    std::array<FieldSummary, kFloatFieldCount> fields;  // indexed by Field
    std::uint64_t sensor_fault_cells = 0;               // any of the sensor fault bits (0..6)
    std::uint64_t balancing_cells = 0;
    std::uint64_t self_heating_cells = 0;
    std::uint64_t venting_cells = 0;
    std::uint64_t thermal_runaway_cells = 0;

    const FieldSummary& field(Field f) const { return fields.at(static_cast<std::size_t>(f)); }
    // Adds another group's figures (the groups should not overlap).
    void merge(const GroupSummary& other);
};

// `cells` must lie inside `frame.range`.
GroupSummary summarize_cells(const FrameBuffer& frame, CellRange cells);
// Every whole module inside `frame.range`, in cell order.
std::vector<GroupSummary> summarize_modules(const FrameBuffer& frame, const Geometry& geometry);
// Every whole rack among `modules` (consecutive, as summarize_modules gives
// them), merged from its module summaries: no second pass over the cells.
std::vector<GroupSummary> summarize_racks(std::span<const GroupSummary> modules,
                                          const Geometry& geometry);

}  // namespace brt
