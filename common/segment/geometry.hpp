// Racks x modules x cells, and the cell ranges readers select. Cells are
// numbered rack-major: cell = (rack * modules_per_rack + module) * cells_per_module +
// cell_in_module, so one rack or one module is a contiguous run in every column.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace brt {

struct Geometry {
    std::uint32_t racks = 20;
    std::uint32_t modules_per_rack = 10;
    std::uint32_t cells_per_module = 32;

    std::uint64_t cells_per_rack() const {
        return std::uint64_t{modules_per_rack} * cells_per_module;
    }
    std::uint64_t cell_count() const { return std::uint64_t{racks} * cells_per_rack(); }
    std::uint64_t cell_index(std::uint32_t rack, std::uint32_t module, std::uint32_t cell) const {
        return (std::uint64_t{rack} * modules_per_rack + module) * cells_per_module + cell;
    }
    bool operator==(const Geometry&) const = default;
};

// Limits: large enough for 100 million cells on a data-centre GPU, small
// enough that a typo (an extra zero or two) is refused instead of eating RAM.
inline constexpr std::uint32_t kMaxRacks = 65536;
inline constexpr std::uint32_t kMaxModulesPerRack = 4096;
inline constexpr std::uint32_t kMaxCellsPerModule = 4096;
inline constexpr std::uint64_t kMaxCells = 200'000'000;
inline constexpr std::uint32_t kMinSlots = 3;
inline constexpr std::uint32_t kMaxSlots = 16;
inline constexpr std::uint32_t kDefaultSlots = 4;

// Throws UsageError naming the offending value and the allowed range.
void validate_geometry(const Geometry& geometry, std::uint32_t slot_count);

// A contiguous run of cells: the whole frame, one rack or one module.
struct CellRange {
    std::uint64_t first_cell = 0;
    std::uint64_t cell_count = 0;
};

CellRange whole_frame(const Geometry& geometry);
// Why the rack (or the rack's module) does not exist, empty when it does:
// the text rack_range and module_range throw, for callers that answer
// instead of throwing.
std::string selection_problem(const Geometry& geometry, std::uint32_t rack,
                              std::optional<std::uint32_t> module = std::nullopt);
// Throw UsageError when the rack or module does not exist.
CellRange rack_range(const Geometry& geometry, std::uint32_t rack);
CellRange module_range(const Geometry& geometry, std::uint32_t rack, std::uint32_t module);

}  // namespace brt
