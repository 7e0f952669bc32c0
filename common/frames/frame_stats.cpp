#include "common/frames/frame_stats.hpp"

#include <algorithm>
#include <stdexcept>

namespace brt {

namespace {

constexpr std::uint32_t kSensorFaultBits =
    cell_status::voltage_sensor_fault | cell_status::temperature_sensor_fault |
    cell_status::current_sensor_fault | cell_status::dropout | cell_status::open_wire |
    cell_status::stuck | cell_status::offset_drift;

void summarize_column(std::span<const float> values, std::uint64_t first_cell, FieldSummary& out) {
    for (std::size_t i = 0; i < values.size(); ++i) {
        const float value = values[i];
        if (std::isnan(value)) {
            continue;
        }
        if (out.valid == 0 || value < out.min) {
            out.min = value;
            out.min_cell = first_cell + i;
        }
        if (out.valid == 0 || value > out.max) {
            out.max = value;
            out.max_cell = first_cell + i;
        }
        out.sum += value;
        ++out.valid;
    }
}

}  // namespace

void GroupSummary::merge(const GroupSummary& other) {
    if (cells.cell_count == 0) {
        cells = other.cells;
    } else {
        const std::uint64_t first = std::min(cells.first_cell, other.cells.first_cell);
        const std::uint64_t end = std::max(cells.first_cell + cells.cell_count,
                                           other.cells.first_cell + other.cells.cell_count);
        cells = {first, end - first};
    }
    for (std::size_t f = 0; f < kFloatFieldCount; ++f) {
        FieldSummary& mine = fields[f];
        const FieldSummary& theirs = other.fields[f];
        if (theirs.valid == 0) {
            continue;
        }
        if (mine.valid == 0 || theirs.min < mine.min) {
            mine.min = theirs.min;
            mine.min_cell = theirs.min_cell;
        }
        if (mine.valid == 0 || theirs.max > mine.max) {
            mine.max = theirs.max;
            mine.max_cell = theirs.max_cell;
        }
        mine.sum += theirs.sum;
        mine.valid += theirs.valid;
    }
    sensor_fault_cells += other.sensor_fault_cells;
    balancing_cells += other.balancing_cells;
    self_heating_cells += other.self_heating_cells;
    venting_cells += other.venting_cells;
    thermal_runaway_cells += other.thermal_runaway_cells;
}

GroupSummary summarize_cells(const FrameBuffer& frame, CellRange cells) {
    if (cells.first_cell < frame.range.first_cell ||
        cells.first_cell + cells.cell_count > frame.range.first_cell + frame.range.cell_count) {
        throw std::out_of_range("summarize_cells: cells outside the frame buffer's range");
    }
    GroupSummary summary;
    summary.cells = cells;
    const std::size_t offset = cells.first_cell - frame.range.first_cell;
    for (std::size_t f = 0; f < kFloatFieldCount; ++f) {
        const std::span<const float> column = frame.column(static_cast<Field>(f));
        summarize_column(column.subspan(offset, cells.cell_count), cells.first_cell,
                         summary.fields[f]);
    }
    for (std::size_t i = 0; i < cells.cell_count; ++i) {
        const std::uint32_t status = frame.status[offset + i];
        summary.sensor_fault_cells += (status & kSensorFaultBits) != 0;
        summary.balancing_cells += (status & cell_status::balancing) != 0;
        summary.self_heating_cells += (status & cell_status::self_heating) != 0;
        summary.venting_cells += (status & cell_status::venting) != 0;
        summary.thermal_runaway_cells += (status & cell_status::thermal_runaway) != 0;
    }
    return summary;
}

std::vector<GroupSummary> summarize_modules(const FrameBuffer& frame, const Geometry& geometry) {
    const std::uint64_t per_module = geometry.cells_per_module;
    std::vector<GroupSummary> modules;
    const std::uint64_t begin = frame.range.first_cell;
    const std::uint64_t end = begin + frame.range.cell_count;
    std::uint64_t first = (begin + per_module - 1) / per_module * per_module;
    for (; first + per_module <= end; first += per_module) {
        modules.push_back(summarize_cells(frame, {first, per_module}));
    }
    return modules;
}

std::vector<GroupSummary> summarize_racks(std::span<const GroupSummary> modules,
                                          const Geometry& geometry) {
    std::vector<GroupSummary> racks;
    const std::size_t per_rack = geometry.modules_per_rack;
    std::size_t first = 0;
    while (first + per_rack <= modules.size()) {
        if (modules[first].cells.first_cell % geometry.cells_per_rack() != 0) {
            ++first;  // the end of a rack that began before the frame's range
            continue;
        }
        GroupSummary& rack = racks.emplace_back();
        for (std::size_t m = first; m < first + per_rack; ++m) {
            rack.merge(modules[m]);
        }
        first += per_rack;
    }
    return racks;
}

}  // namespace brt
