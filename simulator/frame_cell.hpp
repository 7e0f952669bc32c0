// One cell's entry in a published frame: what its sensors report (noise,
// quantisation, faults) and its status word. Shared by the CPU frame builder
// and the CUDA backend, which measures on the device.
#pragma once

#include <cmath>
#include <cstdint>

#include "common/segment/segment_layout.hpp"
#include "simulator/cell_columns.hpp"
#include "simulator/model/cell_model.hpp"
#include "simulator/model/hd.hpp"
#include "simulator/model/sensor_model.hpp"

namespace brt {

struct FrameCell {
    float values[6];  // indexed by Field, voltage_v .. soh
    std::uint32_t status;
};

// Sensors with the given faults (all `none` for a healthy cell) read the
// cell's true state after `step` physics steps.
BRT_HD inline FrameCell measure_frame_cell(const CellColumns& cells,
                                           const model::ChemistryParams& p,
                                           const model::SensorFaultState& sensors,
                                           std::uint64_t seed, std::uint64_t cell,
                                           std::uint64_t step) {
    const model::MeasuredCell measured = model::measure_cell(
        cells.voltage_v[cell], cells.current_a[cell], static_cast<float>(cells.temperature_c[cell]),
        sensors, seed, cell, step);
    FrameCell out{};
    out.values[static_cast<int>(Field::voltage_v)] = measured.voltage_v;
    out.values[static_cast<int>(Field::current_a)] = measured.current_a;
    out.values[static_cast<int>(Field::temperature_c)] = measured.temperature_c;
    out.values[static_cast<int>(Field::soc)] = static_cast<float>(cells.soc[cell]);
    out.values[static_cast<int>(Field::resistance_ohm)] = cells.coefficient_r0_ohm[cell];
    out.values[static_cast<int>(Field::soh)] = static_cast<float>(1.0 - cells.capacity_fade[cell]);
    // Condition bits (self-heating, venting, runaway) come from the model and
    // read only the fast state; balancing from the last step.
    const std::uint32_t condition = model::cell_condition_bits(p, cells.fast_state(cell));
    out.status =
        measured.status_bits | condition | (cells.balancing[cell] ? cell_status::balancing : 0u);
    // A venting cell has lost electrolyte (and after a runaway, its
    // electrodes): its charge and health are unknown, not the last value the
    // model had. NaN, with no dropout bit: no sensor failed.
    if ((condition & model::status_bit::venting) != 0) {
        out.values[static_cast<int>(Field::soc)] = NAN;
        out.values[static_cast<int>(Field::soh)] = NAN;
    }
    return out;
}

// A stuck sensor holds the true reading of the moment its fault began, on
// the converter's step like every other reading (a held value off the 1 mV /
// 0.1 K grid would be one no real front end reports).
BRT_HD inline void capture_stuck_readings(const CellColumns& cells, std::uint64_t cell,
                                          model::SensorFaultState& sensors) {
    sensors.stuck_voltage_v = model::quantise(cells.voltage_v[cell], model::kVoltageQuantumV);
    sensors.stuck_temperature_c =
        model::quantise(static_cast<float>(cells.temperature_c[cell]), model::kTemperatureQuantumK);
}

// Where a frame's cell columns live: the frame builder's vectors, or the
// CUDA backend's device copy of a slot's columns.
struct FrameColumns {
    float* values[6];
    std::uint32_t* status;

    BRT_HD void store(std::uint64_t cell, const FrameCell& entry) const {
        for (int field = 0; field < 6; ++field) {
            values[field][cell] = entry.values[field];
        }
        status[cell] = entry.status;
    }
};

}  // namespace brt
