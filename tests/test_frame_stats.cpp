// Aggregates per module and rack: the figures every reader shows.
#include <catch2/catch.hpp>

#include <cmath>

#include "common/frames/frame_stats.hpp"

using namespace brt;

namespace {

// 2 racks x 2 modules x 4 cells; voltage = 3 + cell/100, temperature = cell.
FrameBuffer make_frame(const Geometry& geometry, CellRange range) {
    FrameBuffer frame;
    frame.range = range;
    for (auto& column : frame.columns) {
        column.assign(range.cell_count, 0.5f);
    }
    frame.status.assign(range.cell_count, 0);
    for (std::uint64_t i = 0; i < range.cell_count; ++i) {
        const std::uint64_t cell = range.first_cell + i;
        frame.columns[0][i] = 3.0f + static_cast<float>(cell) / 100.0f;
        frame.columns[2][i] = static_cast<float>(cell);
    }
    frame.racks.resize(geometry.racks);
    return frame;
}

}  // namespace

TEST_CASE("module and rack summaries carry min, mean, max and where they are") {
    const Geometry geometry{2, 2, 4};
    FrameBuffer frame = make_frame(geometry, whole_frame(geometry));
    const auto modules = summarize_modules(frame, geometry);
    REQUIRE(modules.size() == 4);
    const FieldSummary& v = modules[1].field(Field::voltage_v);
    CHECK(v.min == Approx(3.04f));
    CHECK(v.max == Approx(3.07f));
    CHECK(v.mean() == Approx(3.055).epsilon(1e-6));
    CHECK(v.min_cell == 4);
    CHECK(v.max_cell == 7);
    CHECK(v.spread() == Approx(0.03f).epsilon(1e-4));

    const auto racks = summarize_racks(summarize_modules(frame, geometry), geometry);
    REQUIRE(racks.size() == 2);
    CHECK(racks[1].cells.first_cell == 8);
    CHECK(racks[1].field(Field::temperature_c).min == 8.0f);
    CHECK(racks[1].field(Field::temperature_c).max == 15.0f);
    CHECK(racks[1].field(Field::temperature_c).mean() == Approx(11.5));
}

TEST_CASE("NaN readings are skipped and counted; status bits are counted") {
    const Geometry geometry{1, 1, 4};
    FrameBuffer frame = make_frame(geometry, whole_frame(geometry));
    frame.columns[0][0] = NAN;
    frame.status[1] = cell_status::dropout;
    frame.status[2] = cell_status::thermal_runaway | cell_status::venting;
    frame.status[3] = cell_status::balancing;
    const GroupSummary all = summarize_cells(frame, whole_frame(geometry));
    CHECK(all.field(Field::voltage_v).valid == 3);
    CHECK(all.field(Field::voltage_v).min == Approx(3.01f));
    CHECK(all.field(Field::voltage_v).min_cell == 1);
    CHECK(all.sensor_fault_cells == 1);
    CHECK(all.thermal_runaway_cells == 1);
    CHECK(all.venting_cells == 1);
    CHECK(all.balancing_cells == 1);

    for (auto& value : frame.columns[0]) {
        value = NAN;
    }
    const GroupSummary none = summarize_cells(frame, whole_frame(geometry));
    CHECK(none.field(Field::voltage_v).valid == 0);
    CHECK(std::isnan(none.field(Field::voltage_v).mean()));
    CHECK(std::isnan(none.field(Field::voltage_v).min));
}

TEST_CASE("a frame buffer holding one rack summarizes only that rack's modules") {
    const Geometry geometry{2, 2, 4};
    FrameBuffer frame = make_frame(geometry, rack_range(geometry, 1));
    const auto modules = summarize_modules(frame, geometry);
    REQUIRE(modules.size() == 2);
    CHECK(modules[0].cells.first_cell == 8);
    CHECK(modules[1].field(Field::voltage_v).max_cell == 15);
    const auto racks = summarize_racks(summarize_modules(frame, geometry), geometry);
    REQUIRE(racks.size() == 1);

    GroupSummary merged = modules[0];
    merged.merge(modules[1]);
    CHECK(merged.cells.cell_count == 8);
    CHECK(merged.field(Field::voltage_v).mean() == Approx(racks[0].field(Field::voltage_v).mean()));
    CHECK_THROWS_AS(summarize_cells(frame, {0, 4}), std::out_of_range);
}
