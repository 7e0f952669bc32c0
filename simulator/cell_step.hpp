// One physics step of one cell of a module, the general case (any cell, any
// step): the CPU backend runs it for every cell that is not quiet, the CUDA
// backend for every cell. One source, so the two backends step cells alike.
#pragma once

#include <cstdint>

#include "simulator/cell_columns.hpp"
#include "simulator/model/cell_model.hpp"
#include "simulator/model/hd.hpp"
#include "simulator/rack_control.hpp"

namespace brt {

// Conduction from a cell's neighbours in its module, from the temperatures
// before this step (Jacobi): the order cells are stepped in does not matter.
BRT_HD inline float conduction_w(float k, float t_left, float t, float t_right) {
    return k * ((t_left - t) + (t_right - t));
}
// A cell at either end of its module has one neighbour.
BRT_HD inline float edge_conduction_w(float k, float t_neighbour, float t) {
    return k * (t_neighbour - t);
}
// Cell c of a module of n cells whose temperatures start at module_t_c.
BRT_HD inline float neighbour_heat_w(float k, const double* module_t_c, std::uint32_t c,
                                     std::uint32_t n) {
    if (n == 1) {
        return 0.0f;
    }
    const float t = static_cast<float>(module_t_c[c]);
    if (c == 0) {
        return edge_conduction_w(k, static_cast<float>(module_t_c[1]), t);
    }
    if (c == n - 1) {
        return edge_conduction_w(k, static_cast<float>(module_t_c[n - 2]), t);
    }
    return conduction_w(k, static_cast<float>(module_t_c[c - 1]), t,
                        static_cast<float>(module_t_c[c + 1]));
}

// Resistance and capacity from the cell's state (model::cell_coefficients);
// the resistance of the direction of the cell's last current (charge or
// discharge column), which a change of direction reaches at the next
// refresh, at most 0.1 s later.
BRT_HD inline void refresh_cell_coefficients(const CellColumns& cells,
                                             const model::ChemistryParams& p, std::uint64_t cell,
                                             const model::CellState& state) {
    const model::CellVariation variation{cells.capacity_factor[cell],
                                         cells.resistance_factor[cell]};
    const model::CellCoefficients fresh =
        model::cell_coefficients(p, variation, state, cells.current_a[cell]);
    cells.coefficient_r0_ohm[cell] = fresh.r0_ohm;
    cells.coefficient_r1_ohm[cell] = fresh.r1_ohm;
    cells.coefficient_capacity_ah[cell] = fresh.capacity_ah;
}

// What one step of one rack's cells shares.
struct CellStepContext {
    const model::ChemistryParams* params;
    float dt_s;
    float approach;           // model::rc_approach(params, dt_s)
    float soc_gain_a_per_ah;  // soc_bound_gain_a_per_ah(dt_s)
    float rack_current_a;
    float air_temperature_c;
    bool balancing_on;
    float bleed_current_a;        // a bleeding cell's extra current
    bool coefficient_step;        // refresh resistance and capacity first
    bool ageing_step;             // age the cell, and write the slow state back
    float ageing_speedup;         // the step's ageing clock (0 between ageing steps)
    ProtectionLimits protection;  // the cells' MSLs at this step's current
};

// The protection conditions of a cell after its step: its voltage and
// temperature against the MSLs, and its venting and runaway status bits.
BRT_HD inline std::uint32_t cell_protection_conditions(const ProtectionLimits& limits,
                                                       float voltage_v, float temperature_c,
                                                       std::uint32_t status_bits) {
    return cell_limit_conditions(limits, voltage_v, temperature_c) |
           ((status_bits & model::status_bit::venting) != 0 ? protection::venting : 0u) |
           ((status_bits & model::status_bit::thermal_runaway) != 0 ? protection::thermal_runaway
                                                                    : 0u);
}

// The rack's MSLs from its chemistry, for a step at rack_current_a.
BRT_HD inline ProtectionLimits protection_limits(const model::ChemistryParams& p,
                                                 float rack_current_a) {
    return {p.v_max_v, p.v_min_v,
            rack_current_a < 0.0f ? p.t_max_charge_msl_c : p.t_max_discharge_msl_c, p.t_min_msl_c};
}

// Steps `cell`; while balancing is on, it bleeds if its voltage is above
// bleed_above_v (its module's lowest plus the threshold). Adds the cell to
// the rack's limits and heat, and returns whether the cell is quiet after.
BRT_HD inline bool step_general_cell(const CellColumns& cells, std::uint64_t cell,
                                     const CellStepContext& step, float neighbour_w,
                                     float bleed_above_v, RackLimits& limits,
                                     float& heat_to_air_w) {
    const model::ChemistryParams& p = *step.params;
    const bool bleeding = step.balancing_on && cells.voltage_v[cell] > bleed_above_v;
    model::CellInputs inputs{};
    inputs.current_a = step.rack_current_a + (bleeding ? step.bleed_current_a : 0.0f);
    inputs.air_temperature_c = step.air_temperature_c;
    inputs.neighbour_heat_w = neighbour_w;
    inputs.external_heat_w = cells.external_heat_w[cell];
    inputs.short_circuit_ohm = cells.short_circuit_ohm[cell];
    inputs.dt_s = step.dt_s;
    inputs.ageing_speedup = step.ageing_speedup * cells.ageing_multiplier[cell];
    // Between ageing steps only the fast part of the state moves; the slow
    // part (fade, growth, calendar age) is neither read nor written, which
    // halves a step's memory traffic.
    model::CellState state =
        step.ageing_step || step.coefficient_step ? cells.state(cell) : cells.fast_state(cell);
    // Resistance and capacity move with temperature, SoC and age: refreshed
    // on their cadence, held in between.
    if (step.coefficient_step) {
        refresh_cell_coefficients(cells, p, cell, state);
    }
    const model::CellCoefficients coefficients{cells.coefficient_r0_ohm[cell],
                                               cells.coefficient_r1_ohm[cell],
                                               cells.coefficient_capacity_ah[cell]};
    const model::CellStepOutput out =
        model::step_cell_with(p, coefficients, step.approach, state, inputs);
    if (step.ageing_step) {
        cells.set_state(cell, state);
    } else {
        cells.set_fast_state(cell, state);
    }
    cells.voltage_v[cell] = out.terminal_voltage_v;
    cells.current_a[cell] = inputs.current_a;
    cells.balancing[cell] = bleeding ? 1 : 0;
    heat_to_air_w += out.heat_to_air_w;
    accumulate_cell_limits(limits, step.rack_current_a, out.terminal_voltage_v, out.r0_ohm,
                           p.v_charge_cv_v, p.v_float_v, p.v_discharge_cutoff_v, state.soc,
                           coefficients.capacity_ah, step.soc_gain_a_per_ah);
    limits.conditions |=
        cell_protection_conditions(step.protection, out.terminal_voltage_v,
                                   static_cast<float>(state.temperature_c), out.status_bits);
    return model::cell_is_quiet(p, state, inputs.short_circuit_ohm);
}

}  // namespace brt
