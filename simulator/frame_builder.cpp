#include "simulator/frame_builder.hpp"

#include <cmath>

#include "simulator/frame_cell.hpp"
#include "simulator/rack_control.hpp"

namespace brt {

FrameBuilder::FrameBuilder(const Geometry& geometry) {
    for (auto& column : columns_) {
        column.resize(geometry.cell_count());
    }
    status_.resize(geometry.cell_count());
    racks_.resize(geometry.racks);
}

FrameColumns FrameBuilder::frame_columns() {
    FrameColumns out{};
    for (int field = 0; field < 6; ++field) {
        out.values[field] = columns_[field].data();
    }
    out.status = status_.data();
    return out;
}

// The bulk of a frame: noise and quantisation are cheaper with AVX2's
// rounding instruction than with SSE2's emulation of roundf.
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
void FrameBuilder::measure_racks(const Simulation& simulation, std::uint64_t first_rack,
                                 std::uint64_t last_rack) {
    const Geometry& geometry = simulation.geometry();
    const CellColumns cells = simulation.cells().columns();
    const std::uint64_t seed = simulation.config().seed;
    const std::uint64_t step = simulation.step_count();
    const FrameColumns out = frame_columns();
    const model::SensorFaultState healthy{};
    for (std::uint64_t r = first_rack; r < last_rack; ++r) {
        const model::ChemistryParams& p = simulation.params(simulation.racks()[r].chemistry);
        const CellRange range = rack_range(geometry, static_cast<std::uint32_t>(r));
        for (std::uint64_t c = range.first_cell; c < range.first_cell + range.cell_count; ++c) {
            out.store(c, measure_frame_cell(cells, p, healthy, seed, c, step));
        }
    }
}

FrameData FrameBuilder::build(Simulation& simulation, WorkerPool& pool) {
    const Geometry& geometry = simulation.geometry();
    pool.parallel_for(geometry.racks, [&](std::uint64_t first_rack, std::uint64_t last_rack) {
        measure_racks(simulation, first_rack, last_rack);
    });

    // Faulted sensors, few: measured again with their faults.
    const CellColumns cells = simulation.cells().columns();
    const FrameColumns out = frame_columns();
    for (FaultedSensor& fault : simulation.faulted_sensors()) {
        if (!fault.captured) {
            capture_stuck_readings(cells, fault.cell, fault.state);
            fault.captured = true;
        }
        const std::uint32_t rack =
            static_cast<std::uint32_t>(fault.cell / geometry.cells_per_rack());
        const model::ChemistryParams& p = simulation.params(simulation.racks()[rack].chemistry);
        out.store(fault.cell, measure_frame_cell(cells, p, fault.state, simulation.config().seed,
                                                 fault.cell, simulation.step_count()));
    }

    for (std::uint32_t r = 0; r < geometry.racks; ++r) {
        racks_[r] = rack_record(simulation.racks()[r], simulation.paused());
    }

    FrameData frame;
    for (int field = 0; field < 6; ++field) {
        frame.columns[field] = columns_[field];
    }
    frame.status = status_;
    frame.racks = racks_;
    frame.sim_time_ns = frame_sim_time_ns(simulation);
    frame.ambient_temperature_c = simulation.ambient_c();
    return frame;
}

RackRecord rack_record(const RackState& rack, bool paused) {
    RackRecord record{};
    record.current_a = rack.current_a;
    record.air_temperature_c = rack.air_temperature_c;
    record.mode = static_cast<std::uint32_t>(rack.mode);
    record.flags = (rack.hvac_on ? rack_flags::hvac_on : 0u) |
                   (rack.constant_voltage ? rack_flags::constant_voltage : 0u) |
                   (rack.grid_outage ? rack_flags::grid_outage : 0u) |
                   (rack.cv_failure ? rack_flags::charger_fault : 0u) |
                   (rack.cut_off ? rack_flags::discharge_cutoff : 0u) |
                   (paused ? rack_flags::paused : 0u) |
                   (rack.contactor_open ? rack_flags::contactor_open : 0u) |
                   (rack.charge_complete && rack.action == kActionFloat && !rack.contactor_open
                        ? rack_flags::charge_complete
                        : 0u) |
                   ((rack.trip_reasons << rack_flags::trip_shift) & rack_flags::trip_reasons);
    return record;
}

std::uint64_t frame_sim_time_ns(const Simulation& simulation) {
    return static_cast<std::uint64_t>(std::llround(simulation.sim_time_s() * 1e9));
}

}  // namespace brt
