// A view of every cell's state as raw column pointers, usable from host and
// device code alike: CellArrays hands one out over its vectors, the CUDA
// backend over its device buffers, and the per-cell step and measurement
// (cell_step.hpp, frame_cell.hpp) read and write through it on both.
#pragma once

#include <cstdint>

#include "simulator/model/cell_model.hpp"
#include "simulator/model/hd.hpp"

namespace brt {

struct CellColumns {
    // True state (model::CellState, split by field).
    double* soc;
    float* v_rc_v;
    double* temperature_c;
    double* capacity_fade;
    double* resistance_growth;
    double* ah_throughput;
    double* calendar_age_s;
    float* runaway_progress;
    model::CycleCounter* cycle;  // slow, like capacity_fade
    // Drawn once.
    float* capacity_factor;
    float* resistance_factor;
    // Slow electrical coefficients, refreshed on their cadence.
    float* coefficient_r0_ohm;
    float* coefficient_r1_ohm;
    float* coefficient_capacity_ah;
    // Outputs of the last step.
    float* voltage_v;
    float* current_a;
    std::uint32_t* balancing;
    // Scenario effects.
    float* external_heat_w;
    float* short_circuit_ohm;
    float* ageing_multiplier;

    // The part of the state every step changes; the slow part is zero here.
    BRT_HD model::CellState fast_state(std::uint64_t cell) const {
        model::CellState s{};
        s.soc = soc[cell];
        s.v_rc_v = v_rc_v[cell];
        s.temperature_c = temperature_c[cell];
        s.ah_throughput = ah_throughput[cell];
        s.runaway_progress = runaway_progress[cell];
        return s;
    }
    BRT_HD void set_fast_state(std::uint64_t cell, const model::CellState& s) const {
        soc[cell] = s.soc;
        v_rc_v[cell] = s.v_rc_v;
        temperature_c[cell] = s.temperature_c;
        ah_throughput[cell] = s.ah_throughput;
        runaway_progress[cell] = s.runaway_progress;
    }
    BRT_HD model::CellState state(std::uint64_t cell) const {
        model::CellState s = fast_state(cell);
        s.capacity_fade = capacity_fade[cell];
        s.resistance_growth = resistance_growth[cell];
        s.calendar_age_s = calendar_age_s[cell];
        s.cycle = cycle[cell];
        return s;
    }
    BRT_HD void set_state(std::uint64_t cell, const model::CellState& s) const {
        set_fast_state(cell, s);
        capacity_fade[cell] = s.capacity_fade;
        resistance_growth[cell] = s.resistance_growth;
        calendar_age_s[cell] = s.calendar_age_s;
        cycle[cell] = s.cycle;
    }
};

// The view over any holder of the columns by these names whose columns have
// data() (CellArrays' vectors, the CUDA backend's device arrays).
template <typename Holder>
CellColumns cell_columns_of(Holder& h) {
    return CellColumns{h.soc.data(),
                       h.v_rc_v.data(),
                       h.temperature_c.data(),
                       h.capacity_fade.data(),
                       h.resistance_growth.data(),
                       h.ah_throughput.data(),
                       h.calendar_age_s.data(),
                       h.runaway_progress.data(),
                       h.cycle.data(),
                       h.capacity_factor.data(),
                       h.resistance_factor.data(),
                       h.coefficient_r0_ohm.data(),
                       h.coefficient_r1_ohm.data(),
                       h.coefficient_capacity_ah.data(),
                       h.voltage_v.data(),
                       h.current_a.data(),
                       h.balancing.data(),
                       h.external_heat_w.data(),
                       h.short_circuit_ohm.data(),
                       h.ageing_multiplier.data()};
}

}  // namespace brt
