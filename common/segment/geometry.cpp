#include "geometry.hpp"

#include "message.hpp"

#include "errors.hpp"

namespace brt {

namespace {

void check_range(const char* what, std::uint64_t value, std::uint64_t max) {
    if (value < 1 || value > max) {
        throw UsageError(
            segment_message::format("{} must be between 1 and {}, got {}", what, max, value));
    }
}

}  // namespace

void validate_geometry(const Geometry& geometry, std::uint32_t slot_count) {
    check_range("racks", geometry.racks, kMaxRacks);
    check_range("modules per rack", geometry.modules_per_rack, kMaxModulesPerRack);
    check_range("cells per module", geometry.cells_per_module, kMaxCellsPerModule);
    if (geometry.cell_count() > kMaxCells) {
        throw UsageError(segment_message::format(
            "{} x {} x {} = {} cells is more than the {} a segment can hold; "
            "choose fewer racks, modules or cells",
            geometry.racks, geometry.modules_per_rack, geometry.cells_per_module,
            geometry.cell_count(), kMaxCells));
    }
    if (slot_count < kMinSlots || slot_count > kMaxSlots) {
        throw UsageError(segment_message::format("slots must be between {} and {}, got {}",
                                                 kMinSlots, kMaxSlots, slot_count));
    }
}

CellRange whole_frame(const Geometry& geometry) {
    return {0, geometry.cell_count()};
}

std::string selection_problem(const Geometry& geometry, std::uint32_t rack,
                              std::optional<std::uint32_t> module) {
    if (rack >= geometry.racks) {
        return segment_message::format("rack {} does not exist: this segment has racks 0..{}", rack,
                                       geometry.racks - 1);
    }
    if (module && *module >= geometry.modules_per_rack) {
        return segment_message::format("module {} does not exist: racks have modules 0..{}",
                                       *module, geometry.modules_per_rack - 1);
    }
    return {};
}

CellRange rack_range(const Geometry& geometry, std::uint32_t rack) {
    if (std::string problem = selection_problem(geometry, rack); !problem.empty()) {
        throw UsageError(std::move(problem));
    }
    return {geometry.cell_index(rack, 0, 0), geometry.cells_per_rack()};
}

CellRange module_range(const Geometry& geometry, std::uint32_t rack, std::uint32_t module) {
    if (std::string problem = selection_problem(geometry, rack, module); !problem.empty()) {
        throw UsageError(std::move(problem));
    }
    return {geometry.cell_index(rack, module, 0), geometry.cells_per_module};
}

}  // namespace brt
