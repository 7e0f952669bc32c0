#include "simulator/cpu_stepper.hpp"

#include <algorithm>
#include <cmath>

#include "simulator/rack_control.hpp"

namespace brt {

CpuStepper::CpuStepper(Simulation& simulation, WorkerPool& pool)
    : simulation_(simulation), pool_(pool) {}

void CpuStepper::run(std::uint64_t steps) {
    pool_.parallel_for(simulation_.geometry().racks, [&](std::uint64_t begin, std::uint64_t end) {
        std::vector<float> scratch(simulation_.geometry().cells_per_module);
        for (std::uint64_t r = begin; r < end; ++r) {
            run_rack(static_cast<std::uint32_t>(r), steps, scratch);
        }
    });
    simulation_.advance_clock(steps);
}

void CpuStepper::run_rack(std::uint32_t rack_index, std::uint64_t steps,
                          std::vector<float>& neighbour_heat_w) {
    const Geometry& geometry = simulation_.geometry();
    const SimulationConfig& config = simulation_.config();
    RackState& rack = simulation_.racks()[rack_index];
    CellArrays& cells = simulation_.cells();
    const model::ChemistryParams& p = simulation_.params(rack.chemistry);
    const auto dt_s = static_cast<float>(config.physics_dt_s);
    const std::uint32_t cells_per_module = geometry.cells_per_module;
    const float taper_current_a = config.taper_c_rate * rack.capacity_ah;
    const std::uint64_t coefficient_every = coefficient_interval_steps(config.physics_dt_s);
    const std::uint64_t ageing_every = ageing_interval_steps(config.physics_dt_s);
    const std::uint64_t first_step = simulation_.step_count();
    const float approach = model::rc_approach(p, dt_s);

    for (std::uint64_t step = 0; step < steps; ++step) {
        // Ageing is slow and costly (powers, exponentials): it runs on every
        // Nth global step with N steps' worth of time, the same steps on
        // every backend and thread count. Resistance and capacity likewise,
        // on their own cadence.
        const std::uint64_t global_step = first_step + step;
        const bool ageing_step = global_step % ageing_every == 0;
        const bool coefficient_step = ageing_step || global_step % coefficient_every == 0;
        const float ageing_dt_factor = ageing_step ? static_cast<float>(ageing_every) : 0.0f;
        RackControlInputs control;
        control.action = rack.action;
        control.demand_a = rack.action_current_a;
        control.demand_w = rack.action_power_w;
        control.charge_current_a = rack.action_current_a;
        control.string_voltage_v = rack.string_voltage_v;
        control.charge_limit_a = rack.charge_limit_a;
        control.float_limit_a = rack.float_limit_a;
        control.discharge_limit_a = rack.discharge_limit_a;
        control.cv_failure = rack.cv_failure;
        const RackControlOutput output = rack_current(control);
        rack.current_a = output.current_a;
        rack.constant_voltage = output.constant_voltage;
        rack.cut_off = output.cut_off;
        if (rack.action == kActionCharge && output.constant_voltage &&
            std::fabs(output.current_a) < taper_current_a) {
            rack.charge_complete = true;  // CV tapered out: float from now on
            rack.action = kActionFloat;
        }
        const bool balancing_on = rack.mode == RackMode::equalize || output.constant_voltage;

        RackLimits limits;
        float heat_to_air_w = 0.0f;
        for (std::uint32_t module = 0; module < geometry.modules_per_rack; ++module) {
            const std::uint64_t first = geometry.cell_index(rack_index, module, 0);
            // Passive balancing bleeds the cells above the module's lowest
            // (looked for only while balancing is on).
            float module_min_v = cells.voltage_v[first];
            for (std::uint32_t c = 1; balancing_on && c < cells_per_module; ++c) {
                module_min_v = std::min(module_min_v, cells.voltage_v[first + c]);
            }
            // Conduction uses the temperatures before this step (Jacobi), so
            // the order cells are stepped in does not matter: the GPU steps
            // them all at once.
            for (std::uint32_t c = 0; c < cells_per_module; ++c) {
                const float t = cells.temperature_c[first + c];
                float flow = 0.0f;
                if (c > 0) {
                    flow += cells.temperature_c[first + c - 1] - t;
                }
                if (c + 1 < cells_per_module) {
                    flow += cells.temperature_c[first + c + 1] - t;
                }
                neighbour_heat_w[c] = p.cell_to_cell_w_per_k * flow;
            }
            for (std::uint32_t c = 0; c < cells_per_module; ++c) {
                const std::uint64_t cell = first + c;
                const bool bleeding =
                    balancing_on &&
                    cells.voltage_v[cell] > module_min_v + config.balancing_threshold_v;
                model::CellInputs inputs{};
                inputs.current_a = rack.current_a + (bleeding ? config.balancing_current_a : 0.0f);
                inputs.air_temperature_c = rack.air_temperature_c;
                inputs.neighbour_heat_w = neighbour_heat_w[c];
                inputs.external_heat_w = cells.external_heat_w[cell];
                inputs.short_circuit_ohm = cells.short_circuit_ohm[cell];
                inputs.dt_s = dt_s;
                inputs.ageing_speedup =
                    ageing_dt_factor * config.ageing_speedup * cells.ageing_multiplier[cell];
                // Between ageing steps only the fast part of the state moves;
                // the slow part (fade, growth, calendar age) is neither read
                // nor written, which halves a step's memory traffic.
                model::CellState state =
                    ageing_step || coefficient_step ? cells.state(cell) : cells.fast_state(cell);
                // Resistance and capacity move with temperature, SoC and age:
                // refreshed on their cadence, held in between.
                if (coefficient_step) {
                    const model::CellVariation variation{cells.capacity_factor[cell],
                                                         cells.resistance_factor[cell]};
                    const model::CellCoefficients fresh =
                        model::cell_coefficients(p, variation, state);
                    cells.coefficient_r0_ohm[cell] = fresh.r0_ohm;
                    cells.coefficient_r1_ohm[cell] = fresh.r1_ohm;
                    cells.coefficient_capacity_ah[cell] = fresh.capacity_ah;
                }
                const model::CellCoefficients coefficients{cells.coefficient_r0_ohm[cell],
                                                           cells.coefficient_r1_ohm[cell],
                                                           cells.coefficient_capacity_ah[cell]};
                const model::CellStepOutput out =
                    model::step_cell_with(p, coefficients, approach, state, inputs);
                if (ageing_step) {
                    cells.set_state(cell, state);
                } else {
                    cells.set_fast_state(cell, state);
                }
                cells.voltage_v[cell] = out.terminal_voltage_v;
                cells.current_a[cell] = inputs.current_a;
                cells.balancing[cell] = bleeding ? 1 : 0;
                heat_to_air_w += out.heat_to_air_w;
                accumulate_cell_limits(limits, rack.current_a, out.terminal_voltage_v, out.r0_ohm,
                                       p.v_charge_cv_v, p.v_float_v, p.v_discharge_cutoff_v);
            }
        }
        // Rack air: the cells' heat, the enclosure's exchange with ambient,
        // and the HVAC holding its setpoint within its capacity.
        float hvac_w = 0.0f;
        if (rack.hvac_on) {
            hvac_w = std::clamp(
                -config.hvac_gain_w_per_k * (rack.air_temperature_c - config.hvac_setpoint_c),
                -rack.hvac_capacity_w, rack.hvac_capacity_w);
        }
        const float air_heat_w =
            heat_to_air_w +
            config.rack_to_ambient_w_per_k * (rack.ambient_c - rack.air_temperature_c) + hvac_w;
        rack.air_temperature_c += dt_s * air_heat_w / config.rack_air_heat_capacity_j_per_k;
        rack.charge_limit_a = limits.charge_limit_a;
        rack.float_limit_a = limits.float_limit_a;
        rack.discharge_limit_a = limits.discharge_limit_a;
        rack.string_voltage_v = limits.string_voltage_v;
    }
}

}  // namespace brt
