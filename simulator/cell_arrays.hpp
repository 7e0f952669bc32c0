// Every cell's state, structure-of-arrays: one vector per quantity, indexed
// by the segment's rack-major cell number.
#pragma once

#include <cstdint>
#include <vector>

#include "simulator/model/cell_model.hpp"

namespace brt {

struct CellArrays {
    // True state (model::CellState, split by field). Quantities that change
    // by less than a float's resolution per step at 1 kHz are double.
    std::vector<double> soc;
    std::vector<float> v_rc_v;
    std::vector<double> temperature_c;
    std::vector<double> capacity_fade;
    std::vector<double> resistance_growth;
    std::vector<double> ah_throughput;
    std::vector<double> calendar_age_s;
    std::vector<float> runaway_progress;
    // Drawn once.
    std::vector<float> capacity_factor;
    std::vector<float> resistance_factor;
    // Slow electrical coefficients (model::CellCoefficients), refreshed every
    // 0.1 s of simulated time.
    std::vector<float> coefficient_r0_ohm;
    std::vector<float> coefficient_r1_ohm;
    std::vector<float> coefficient_capacity_ah;
    // Outputs of the last step.
    std::vector<float> voltage_v;
    std::vector<float> current_a;  // string current plus the cell's balancing bleed
    // 1 while the cell bleeds. 32 bits, as wide as a float, so the SIMD step
    // runs as many cells per vector as its floats allow.
    std::vector<std::uint32_t> balancing;
    // Scenario effects.
    std::vector<float> external_heat_w;
    std::vector<float> short_circuit_ohm;
    std::vector<float> ageing_multiplier;

    void resize(std::uint64_t cells);

    // The part of the state every step changes; the slow part (capacity
    // fade, resistance growth, calendar age) is zero in the result and only
    // ageing changes it.
    model::CellState fast_state(std::uint64_t cell) const {
        model::CellState s{};
        s.soc = soc[cell];
        s.v_rc_v = v_rc_v[cell];
        s.temperature_c = temperature_c[cell];
        s.ah_throughput = ah_throughput[cell];
        s.runaway_progress = runaway_progress[cell];
        return s;
    }
    void set_fast_state(std::uint64_t cell, const model::CellState& s) {
        soc[cell] = s.soc;
        v_rc_v[cell] = s.v_rc_v;
        temperature_c[cell] = s.temperature_c;
        ah_throughput[cell] = s.ah_throughput;
        runaway_progress[cell] = s.runaway_progress;
    }
    // The whole state: the fast part and the slow part.
    model::CellState state(std::uint64_t cell) const {
        model::CellState s = fast_state(cell);
        s.capacity_fade = capacity_fade[cell];
        s.resistance_growth = resistance_growth[cell];
        s.calendar_age_s = calendar_age_s[cell];
        return s;
    }
    void set_state(std::uint64_t cell, const model::CellState& s) {
        set_fast_state(cell, s);
        capacity_fade[cell] = s.capacity_fade;
        resistance_growth[cell] = s.resistance_growth;
        calendar_age_s[cell] = s.calendar_age_s;
    }
};

}  // namespace brt
