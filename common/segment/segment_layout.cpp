#include "segment_layout.hpp"

#include <array>

namespace brt {

namespace {

constexpr std::array<FieldInfo, kFieldCount> kFields = {{
    {"voltage_v", FieldType::float32},
    {"current_a", FieldType::float32},
    {"temperature_c", FieldType::float32},
    {"soc", FieldType::float32},
    {"resistance_ohm", FieldType::float32},
    {"soh", FieldType::float32},
    {"status", FieldType::uint32},
}};

}  // namespace

const FieldInfo& field_info(Field field) {
    return kFields.at(static_cast<std::size_t>(field));
}

SegmentLayout compute_layout(const Geometry& geometry, std::uint32_t slot_count) {
    SegmentLayout layout;
    layout.geometry = geometry;
    layout.slot_count = slot_count;
    const std::uint64_t cells = geometry.cell_count();

    layout.metadata_offset = kPageSize;
    layout.rack_chemistry_offset = layout.metadata_offset;
    layout.cell_chemistry_offset =
        layout.rack_chemistry_offset + round_up(geometry.racks * 4ull, kColumnAlignment);
    layout.cell_capacity_offset = layout.cell_chemistry_offset + round_up(cells, kColumnAlignment);
    const std::uint64_t metadata_end =
        layout.cell_capacity_offset + round_up(cells * 4, kColumnAlignment);
    layout.metadata_size = round_up(metadata_end, kPageSize) - layout.metadata_offset;

    layout.ring_offset = layout.metadata_offset + layout.metadata_size;
    layout.ring_results_offset =
        layout.ring_offset + std::uint64_t{layout.ring_capacity} * sizeof(CommandEntry);
    const std::uint64_t ring_end =
        layout.ring_results_offset + std::uint64_t{layout.ring_capacity} * sizeof(CommandResult);

    layout.slots_offset = round_up(ring_end, kPageSize);
    layout.rack_table_offset_in_slot = sizeof(SlotHeader);
    layout.column_stride = round_up(cells * 4, kColumnAlignment);
    std::uint64_t column_start = round_up(
        layout.rack_table_offset_in_slot + geometry.racks * sizeof(RackRecord), kColumnAlignment);
    for (std::uint32_t field = 0; field < kFieldCount; ++field) {
        layout.column_offset_in_slot[field] = column_start;
        column_start += layout.column_stride;
    }
    // Page-aligned slots: each can be registered with a GPU driver on its own.
    layout.slot_stride = round_up(column_start, kPageSize);
    layout.segment_size = layout.slots_offset + slot_count * layout.slot_stride;
    return layout;
}

}  // namespace brt
