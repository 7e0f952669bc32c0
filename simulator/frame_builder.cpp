#include "simulator/frame_builder.hpp"

#include <cmath>

namespace brt {

FrameBuilder::FrameBuilder(const Geometry& geometry) {
    for (auto& column : columns_) {
        column.resize(geometry.cell_count());
    }
    status_.resize(geometry.cell_count());
    racks_.resize(geometry.racks);
}

namespace {

// Condition bits (self-heating, venting, runaway) come from the model and
// read only the fast state (temperature, runaway progress); balancing from
// the last step.
std::uint32_t condition_bits(const CellArrays& cells, std::uint64_t cell,
                             const model::ChemistryParams& p) {
    return model::cell_condition_bits(p, cells.fast_state(cell)) |
           (cells.balancing[cell] ? cell_status::balancing : 0u);
}

}  // namespace

// The bulk of a frame: noise and quantisation are cheaper with AVX2's
// rounding instruction than with SSE2's emulation of roundf.
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
void FrameBuilder::measure_racks(const Simulation& simulation, std::uint64_t first_rack,
                                 std::uint64_t last_rack) {
    const Geometry& geometry = simulation.geometry();
    const CellArrays& cells = simulation.cells();
    const std::uint64_t seed = simulation.config().seed;
    const std::uint64_t step = simulation.step_count();
    auto& voltage = columns_[static_cast<int>(Field::voltage_v)];
    auto& current = columns_[static_cast<int>(Field::current_a)];
    auto& temperature = columns_[static_cast<int>(Field::temperature_c)];
    auto& soc = columns_[static_cast<int>(Field::soc)];
    auto& resistance = columns_[static_cast<int>(Field::resistance_ohm)];
    auto& soh = columns_[static_cast<int>(Field::soh)];
    const model::SensorFaultState healthy{};
    for (std::uint64_t r = first_rack; r < last_rack; ++r) {
        const model::ChemistryParams& p = simulation.params(simulation.racks()[r].chemistry);
        const CellRange range = rack_range(geometry, static_cast<std::uint32_t>(r));
        for (std::uint64_t c = range.first_cell; c < range.first_cell + range.cell_count; ++c) {
            const model::MeasuredCell measured =
                model::measure_cell(cells.voltage_v[c], cells.current_a[c], cells.temperature_c[c],
                                    healthy, seed, c, step);
            voltage[c] = measured.voltage_v;
            current[c] = measured.current_a;
            temperature[c] = measured.temperature_c;
            soc[c] = static_cast<float>(cells.soc[c]);
            resistance[c] = cells.coefficient_r0_ohm[c];
            soh[c] = 1.0f - cells.capacity_fade[c];
            status_[c] = measured.status_bits | condition_bits(cells, c, p);
        }
    }
}

FrameData FrameBuilder::build(Simulation& simulation, WorkerPool& pool) {
    const Geometry& geometry = simulation.geometry();
    const CellArrays& cells = simulation.cells();
    pool.parallel_for(geometry.racks, [&](std::uint64_t first_rack, std::uint64_t last_rack) {
        measure_racks(simulation, first_rack, last_rack);
    });

    const std::uint64_t seed = simulation.config().seed;
    const std::uint64_t step = simulation.step_count();
    auto& voltage = columns_[static_cast<int>(Field::voltage_v)];
    auto& current = columns_[static_cast<int>(Field::current_a)];
    auto& temperature = columns_[static_cast<int>(Field::temperature_c)];

    const double now = simulation.sim_time_s();
    for (FaultedSensor& fault : simulation.faulted_sensors()) {
        const std::uint64_t c = fault.cell;
        if (!fault.captured) {
            fault.state.stuck_voltage_v = cells.voltage_v[c];
            fault.state.stuck_temperature_c = cells.temperature_c[c];
            fault.captured = true;
        }
        const std::uint32_t rack = static_cast<std::uint32_t>(c / geometry.cells_per_rack());
        const model::ChemistryParams& p = simulation.params(simulation.racks()[rack].chemistry);
        const model::MeasuredCell measured =
            model::measure_cell(cells.voltage_v[c], cells.current_a[c], cells.temperature_c[c],
                                fault.state, seed, c, step);
        voltage[c] = measured.voltage_v;
        current[c] = measured.current_a;
        temperature[c] = measured.temperature_c;
        status_[c] = measured.status_bits | condition_bits(cells, c, p);
    }

    for (std::uint32_t r = 0; r < geometry.racks; ++r) {
        const RackState& rack = simulation.racks()[r];
        RackRecord& record = racks_[r];
        record.current_a = rack.current_a;
        record.air_temperature_c = rack.air_temperature_c;
        record.mode = static_cast<std::uint32_t>(rack.mode);
        record.flags = (rack.hvac_on ? rack_flags::hvac_on : 0u) |
                       (rack.constant_voltage ? rack_flags::constant_voltage : 0u) |
                       (rack.grid_outage ? rack_flags::grid_outage : 0u) |
                       (rack.cv_failure ? rack_flags::charger_fault : 0u) |
                       (rack.cut_off ? rack_flags::discharge_cutoff : 0u) |
                       (simulation.paused() ? rack_flags::paused : 0u);
    }

    FrameData frame;
    for (int field = 0; field < 6; ++field) {
        frame.columns[field] = columns_[field];
    }
    frame.status = status_;
    frame.racks = racks_;
    frame.sim_time_ns = static_cast<std::uint64_t>(std::llround(now * 1e9));
    frame.ambient_temperature_c = simulation.ambient_c();
    return frame;
}

}  // namespace brt
