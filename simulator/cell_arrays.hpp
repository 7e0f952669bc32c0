// Every cell's state, structure-of-arrays: one vector per quantity, indexed
// by the segment's rack-major cell number.
#pragma once

#include <cstdint>
#include <vector>

#include "simulator/cell_columns.hpp"
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
    std::vector<model::CycleCounter> cycle;  // the half-cycle under way (ageing)
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

    // Raw pointers to every column, for code shared with the CUDA backend.
    // Inline: fast_state and state below go through it, cell by cell.
    CellColumns columns() { return cell_columns_of(*this); }
    // The same, for reading (the pointers are not const: CellColumns is one
    // type on host and device; a const CellArrays is only read through it).
    CellColumns columns() const { return const_cast<CellArrays*>(this)->columns(); }

    model::CellState fast_state(std::uint64_t cell) const { return columns().fast_state(cell); }
    void set_fast_state(std::uint64_t cell, const model::CellState& s) {
        columns().set_fast_state(cell, s);
    }
    model::CellState state(std::uint64_t cell) const { return columns().state(cell); }
    void set_state(std::uint64_t cell, const model::CellState& s) { columns().set_state(cell, s); }
};

}  // namespace brt
