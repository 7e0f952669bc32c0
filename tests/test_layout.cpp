// The byte layout is the contract with readers in other languages: these
// numbers are the worked example of docs/segment-format.md.
#include <catch2/catch.hpp>

#include <cstring>

#include "common/segment/segment_layout.hpp"
#include "common/segment/segment_reader.hpp"
#include "support/test_segment.hpp"

using namespace brt;

TEST_CASE("default geometry has the documented offsets", "[layout]") {
    const SegmentLayout layout = compute_layout(Geometry{20, 10, 32}, 4);
    CHECK(layout.metadata_offset == 4096);
    CHECK(layout.rack_chemistry_offset == 4096);
    CHECK(layout.cell_chemistry_offset == 4224);
    CHECK(layout.cell_capacity_offset == 10624);
    CHECK(layout.metadata_size == 32768);
    CHECK(layout.ring_offset == 36864);
    CHECK(layout.ring_results_offset == 45056);
    CHECK(layout.slots_offset == 49152);
    CHECK(layout.rack_table_offset_in_slot == 128);
    CHECK(layout.column_stride == 25600);
    CHECK(layout.column_offset_in_slot[0] == 448);
    CHECK(layout.column_offset_in_slot[6] == 448 + 6 * 25600);
    CHECK(layout.slot_stride == 180224);
    CHECK(layout.segment_size == 770048);
    // First cell of rack 3, module 2: cell index (3 * 10 + 2) * 32 = 1024.
    CHECK(Geometry{20, 10, 32}.cell_index(3, 2, 0) == 1024);
}

TEST_CASE("every region and column is aligned and nothing overlaps", "[layout]") {
    const Geometry geometries[] = {{1, 1, 1}, {3, 7, 5}, {20, 10, 32}, {100, 10, 1000}, {7, 1, 3}};
    for (const Geometry& geometry : geometries) {
        for (std::uint32_t slots : {3u, 4u, 16u}) {
            const SegmentLayout layout = compute_layout(geometry, slots);
            INFO(geometry.racks << "x" << geometry.modules_per_rack << "x"
                                << geometry.cells_per_module << " slots " << slots);
            CHECK(layout.metadata_offset % kPageSize == 0);
            CHECK(layout.ring_offset % kPageSize == 0);
            CHECK(layout.slots_offset % kPageSize == 0);
            CHECK(layout.slot_stride % kPageSize == 0);
            CHECK(layout.cell_capacity_offset % kColumnAlignment == 0);
            CHECK(layout.ring_offset >= layout.cell_capacity_offset + geometry.cell_count() * 4);
            CHECK(layout.slots_offset >=
                  layout.ring_results_offset + layout.ring_capacity * sizeof(CommandResult));
            CHECK(layout.column_offset_in_slot[0] >=
                  layout.rack_table_offset_in_slot + geometry.racks * sizeof(RackRecord));
            for (std::uint32_t field = 0; field < kFieldCount; ++field) {
                CHECK(layout.column_offset_in_slot[field] % kColumnAlignment == 0);
                CHECK(layout.column_offset_in_slot[field] + geometry.cell_count() * 4 <=
                      layout.slot_stride);
                if (field > 0) {
                    CHECK(layout.column_offset_in_slot[field] >=
                          layout.column_offset_in_slot[field - 1] + geometry.cell_count() * 4);
                }
            }
            CHECK(layout.segment_size == layout.slots_offset + slots * layout.slot_stride);
        }
    }
}

TEST_CASE("a created segment describes itself in its header", "[layout]") {
    test::ScopedSegment scoped("header", Geometry{4, 3, 5}, 3);
    SegmentReader reader(scoped.name());
    reader.require_attached();
    const SegmentHeader& header = reader.header();
    CHECK(header.magic.load() == kSegmentMagic);
    char magic_text[9] = {};
    std::memcpy(magic_text, &header, 8);
    CHECK(std::string(magic_text) == "BRT-SHM1");
    CHECK(header.abi_version == kAbiVersion);
    CHECK(header.racks == 4);
    CHECK(header.modules_per_rack == 3);
    CHECK(header.cells_per_module == 5);
    CHECK(header.cell_count == 60);
    CHECK(header.slot_count == 3);
    CHECK(header.generation != 0);
    CHECK(header.field_count == kFieldCount);
    CHECK(std::string(header.fields[0].name) == "voltage_v");
    CHECK(std::string(header.fields[6].name) == "status");
    CHECK(header.fields[6].element_type == static_cast<std::uint32_t>(FieldType::uint32));
    CHECK(header.writer_state.load() == static_cast<std::uint32_t>(WriterState::never_started));
    CHECK(header.latest_frame.load() == 0);
    const auto* capacity = reader.segment().at<const float>(header.cell_capacity_offset);
    CHECK(capacity[0] == 100.0f);  // default chemistry is NMC
}

TEST_CASE("geometry selections refuse racks and modules that do not exist", "[layout]") {
    const Geometry geometry{20, 10, 32};
    CHECK(rack_range(geometry, 19).first_cell == 19 * 320);
    CHECK(module_range(geometry, 3, 2).first_cell == 1024);
    CHECK(module_range(geometry, 3, 2).cell_count == 32);
    CHECK_THROWS_WITH(rack_range(geometry, 20), Catch::Contains("racks 0..19"));
    CHECK_THROWS_WITH(module_range(geometry, 0, 10), Catch::Contains("modules 0..9"));
}
