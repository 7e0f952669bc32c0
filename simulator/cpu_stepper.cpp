#include "simulator/cpu_stepper.hpp"

#include <algorithm>
#include <cmath>

#include "simulator/cell_step.hpp"
#include "simulator/rack_step.hpp"

namespace brt {

CpuStepper::CpuStepper(Simulation& simulation, WorkerPool& pool)
    : simulation_(simulation), pool_(pool) {}

void CpuStepper::run(std::uint64_t steps) {
    pool_.parallel_for(simulation_.geometry().racks, [&](std::uint64_t begin, std::uint64_t end) {
        RackScratch scratch;
        scratch.neighbour_heat_w.resize(simulation_.geometry().cells_per_module);
        scratch.heat_to_air_w.resize(simulation_.geometry().cells_per_module);
        scratch.module_quiet.resize(simulation_.geometry().modules_per_rack);
        for (std::uint64_t r = begin; r < end; ++r) {
            run_rack(static_cast<std::uint32_t>(r), steps, scratch);
        }
    });
    simulation_.advance_clock(steps);
}

bool CpuStepper::module_is_quiet(const model::ChemistryParams& p, std::uint64_t first_cell) const {
    const CellArrays& cells = simulation_.cells();
    for (std::uint64_t cell = first_cell;
         cell < first_cell + simulation_.geometry().cells_per_module; ++cell) {
        if (!model::cell_is_quiet(p, cells.fast_state(cell), cells.short_circuit_ohm[cell])) {
            return false;
        }
    }
    return true;
}

void CpuStepper::run_rack(std::uint32_t rack_index, std::uint64_t steps, RackScratch& scratch) {
    const Geometry& geometry = simulation_.geometry();
    const SimulationConfig& config = simulation_.config();
    RackState& rack = simulation_.racks()[rack_index];
    const model::ChemistryParams& p = simulation_.params(rack.chemistry);
    const float taper_current_a = config.taper_c_rate * rack.capacity_ah;
    const std::uint64_t coefficient_every = coefficient_interval_steps(config.physics_dt_s);
    const std::uint64_t ageing_every = ageing_interval_steps(config.physics_dt_s);
    const std::uint64_t first_step = simulation_.step_count();
    const RackAirParams air = rack_air_params(config);
    const RackProtectionParams protection = rack_protection_params(config.physics_dt_s);

    ModuleStep module_step{};
    module_step.params = &p;
    module_step.dt_s = std::max(static_cast<float>(config.physics_dt_s), 0.0f);
    module_step.approach = model::rc_approach(p, module_step.dt_s);

    // Scenarios may have changed shorts and heaters since the last interval;
    // from here on each step tells the next which modules are quiet.
    for (std::uint32_t module = 0; module < geometry.modules_per_rack; ++module) {
        scratch.module_quiet[module] =
            module_is_quiet(p, geometry.cell_index(rack_index, module, 0)) ? 1 : 0;
    }

    for (std::uint64_t step = 0; step < steps; ++step) {
        // Ageing is slow and costly (powers, exponentials): it runs on every
        // Nth global step with N steps' worth of time, the same steps on
        // every backend and thread count. Resistance and capacity likewise,
        // on their own cadence.
        const std::uint64_t global_step = first_step + step;
        const bool ageing_step = global_step % ageing_every == 0;
        const bool coefficient_step = ageing_step || global_step % coefficient_every == 0;
        const float ageing_dt_factor = ageing_step ? static_cast<float>(ageing_every) : 0.0f;
        const RackControlOutput output = begin_rack_step(rack, taper_current_a);
        module_step.rack_current_a = rack.current_a;
        module_step.air_temperature_c = rack.air_temperature_c;
        module_step.balancing_on = balancing_on(rack, output);
        module_step.protection = protection_limits(p, rack.current_a);

        RackLimits limits;
        float heat_to_air_w = 0.0f;
        for (std::uint32_t module = 0; module < geometry.modules_per_rack; ++module) {
            module_step.first_cell = geometry.cell_index(rack_index, module, 0);
            // A quiet module takes the SIMD path on every step but the
            // ageing ones (its coefficients refreshed first when due, as
            // step_module would at the start of the step).
            const bool quiet = quiet_path_ && scratch.module_quiet[module] != 0 && !ageing_step;
            if (quiet) {
                if (coefficient_step) {
                    refresh_coefficients(p, module_step.first_cell);
                }
                scratch.module_quiet[module] =
                    step_quiet_module(module_step, scratch, limits, heat_to_air_w);
            } else {
                float module_min_v = 0.0f;
                prepare_module(module_step, scratch.neighbour_heat_w, module_min_v);
                scratch.module_quiet[module] = step_module(
                    module_step, scratch.neighbour_heat_w, module_min_v, coefficient_step,
                    ageing_step, ageing_dt_factor, limits, heat_to_air_w);
            }
        }
        end_rack_step(rack, limits, heat_to_air_w, module_step.dt_s, air, protection);
    }
}

void CpuStepper::refresh_coefficients(const model::ChemistryParams& p, std::uint64_t first_cell) {
    const CellColumns cells = simulation_.cells().columns();
    for (std::uint64_t cell = first_cell;
         cell < first_cell + simulation_.geometry().cells_per_module; ++cell) {
        refresh_cell_coefficients(cells, p, cell, cells.state(cell));
    }
}

// Inline: the quiet step calls it too, in its own instruction-set copies.
inline void CpuStepper::prepare_module(const ModuleStep& step, std::vector<float>& neighbour_heat_w,
                                       float& module_min_v) const {
    const CellArrays& cells = simulation_.cells();
    const std::uint32_t n = simulation_.geometry().cells_per_module;
    const float* voltage_v = cells.voltage_v.data() + step.first_cell;
    const double* temperature_c = cells.temperature_c.data() + step.first_cell;
    // Passive balancing bleeds the cells above the module's lowest (looked
    // for only while balancing is on).
    float lowest_v = voltage_v[0];
    if (step.balancing_on) {
#pragma omp simd reduction(min : lowest_v)
        for (std::uint32_t c = 1; c < n; ++c) {
            lowest_v = std::min(lowest_v, voltage_v[c]);
        }
    }
    module_min_v = lowest_v;
    // Conduction uses the temperatures before this step (Jacobi), so the
    // order cells are stepped in does not matter: the GPU steps them all at
    // once.
    const float k = step.params->cell_to_cell_w_per_k;
    float* __restrict heat_w = neighbour_heat_w.data();
    if (n == 1) {
        heat_w[0] = 0.0f;
        return;
    }
    // The arithmetic of neighbour_heat_w (cell_step.hpp), without its
    // per-cell branches, so that the interior cells run as SIMD.
    heat_w[0] = edge_conduction_w(k, static_cast<float>(temperature_c[1]),
                                  static_cast<float>(temperature_c[0]));
#pragma omp simd
    for (std::uint32_t c = 1; c < n - 1; ++c) {
        heat_w[c] = conduction_w(k, static_cast<float>(temperature_c[c - 1]),
                                 static_cast<float>(temperature_c[c]),
                                 static_cast<float>(temperature_c[c + 1]));
    }
    heat_w[n - 1] = edge_conduction_w(k, static_cast<float>(temperature_c[n - 2]),
                                      static_cast<float>(temperature_c[n - 1]));
}

bool CpuStepper::step_module(const ModuleStep& step, const std::vector<float>& neighbour_heat_w,
                             float module_min_v, bool coefficient_step, bool ageing_step,
                             float ageing_dt_factor, RackLimits& limits, float& heat_to_air_w) {
    const SimulationConfig& config = simulation_.config();
    const CellColumns cells = simulation_.cells().columns();
    CellStepContext context{};
    context.params = step.params;
    context.dt_s = step.dt_s;
    context.approach = step.approach;
    context.soc_gain_a_per_ah = soc_bound_gain_a_per_ah(step.dt_s);
    context.rack_current_a = step.rack_current_a;
    context.air_temperature_c = step.air_temperature_c;
    context.balancing_on = step.balancing_on;
    context.bleed_current_a = config.balancing_current_a;
    context.coefficient_step = coefficient_step;
    context.ageing_step = ageing_step;
    context.ageing_speedup = ageing_dt_factor * config.ageing_speedup;
    context.protection = step.protection;
    const float bleed_above_v = module_min_v + config.balancing_threshold_v;
    const std::uint32_t n = simulation_.geometry().cells_per_module;
    bool all_quiet = true;
    for (std::uint32_t c = 0; c < n; ++c) {
        const bool quiet =
            step_general_cell(cells, step.first_cell + c, context, neighbour_heat_w[c],
                              bleed_above_v, limits, heat_to_air_w);
        all_quiet = all_quiet && quiet;
    }
    return all_quiet;
}

// The common case, written so the compiler can step several cells at once
// (SIMD): model::step_quiet_cell has no branches, and the rack's limits are
// reduced as maxima, minima and sums. The reductions' order differs from
// step_module's, which changes the rack's sums in their last bits only; the
// result is still the same for every run and thread count.
// Clang (the fuzz build, docs/fuzzing.md) wants target_clones on the first
// declaration, which is in the header; it takes the baseline copy only.
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && \
    !defined(__clang__)
// x86-64's baseline (SSE2) has no gather or blend and two doubles a vector;
// CPUs with AVX2 (x86-64-v3) or AVX-512 (x86-64-v4) get their own copy,
// picked at load time.
// -ffp-contract=off (simulator/model/meson.build) keeps both copies' results identical.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
bool CpuStepper::step_quiet_module(const ModuleStep& step, RackScratch& scratch,
                                   RackLimits& limits, float& heat_to_air_w) {
    float module_min_v = 0.0f;
    prepare_module(step, scratch.neighbour_heat_w, module_min_v);
    const SimulationConfig& config = simulation_.config();
    const model::ChemistryParams& p = *step.params;
    CellArrays& cells = simulation_.cells();
    const std::uint32_t n = simulation_.geometry().cells_per_module;
    const std::uint64_t first = step.first_cell;
    double* __restrict soc = cells.soc.data() + first;
    double* __restrict ah_throughput = cells.ah_throughput.data() + first;
    float* __restrict v_rc_v = cells.v_rc_v.data() + first;
    double* __restrict temperature_c = cells.temperature_c.data() + first;
    float* __restrict voltage_v = cells.voltage_v.data() + first;
    float* __restrict current_a = cells.current_a.data() + first;
    std::uint32_t* __restrict balancing = cells.balancing.data() + first;
    const float* r0_ohm = cells.coefficient_r0_ohm.data() + first;
    const float* r1_ohm = cells.coefficient_r1_ohm.data() + first;
    const float* capacity_ah = cells.coefficient_capacity_ah.data() + first;
    const float* external_heat_w = cells.external_heat_w.data() + first;
    const float* neighbour_w = scratch.neighbour_heat_w.data();
    const float bleed_above_v = module_min_v + config.balancing_threshold_v;
    const float bleed_a = step.balancing_on ? config.balancing_current_a : 0.0f;
    const float quiet_below_c = model::quiet_temperature_limit_c(p);
    // The arrays written are __restrict and the step's values locals, so
    // the compiler keeps the constants in registers instead of reloading
    // them after every store.
    const float rack_current_a = step.rack_current_a;
    const float air_temperature_c = step.air_temperature_c;
    const float approach = step.approach;
    const float dt_s = step.dt_s;
    const std::uint32_t balancing_on = step.balancing_on ? 1 : 0;
    const float v_charge_cv_v = p.v_charge_cv_v;
    const float v_float_v = p.v_float_v;
    const float v_cutoff_v = p.v_discharge_cutoff_v;
    const float soc_gain_a_per_ah = soc_bound_gain_a_per_ah(dt_s);
    const ProtectionLimits protection = step.protection;

    // First the cells' physics, element by element; then the reductions in a
    // loop of their own (in one loop they leave too few registers).
    float* __restrict to_air_w = scratch.heat_to_air_w.data();
#pragma omp simd
    for (std::uint32_t c = 0; c < n; ++c) {
        const bool bleeding = voltage_v[c] > bleed_above_v;
        const float cell_current_a = rack_current_a + (bleeding ? bleed_a : 0.0f);
        const model::QuietStepOutput out = model::step_quiet_cell(
            p, {r0_ohm[c], r1_ohm[c], capacity_ah[c]}, approach, dt_s, soc[c], ah_throughput[c],
            v_rc_v[c], temperature_c[c], cell_current_a, air_temperature_c, neighbour_w[c],
            external_heat_w[c]);
        voltage_v[c] = out.terminal_voltage_v;
        current_a[c] = cell_current_a;
        balancing[c] = bleeding ? balancing_on : 0;
        to_air_w[c] = out.heat_to_air_w;
    }
    float charge_limit_a = limits.charge_limit_a;
    float float_limit_a = limits.float_limit_a;
    float discharge_limit_a = limits.discharge_limit_a;
    float string_voltage_v = 0.0f;
    float module_to_air_w = 0.0f;
    int hot = 0;
    // A quiet cell is below its onset, so never venting nor in runaway: only
    // its voltage and temperature can be beyond an MSL.
    std::uint32_t conditions = 0;
#pragma omp simd reduction(max : charge_limit_a, float_limit_a) reduction(min : discharge_limit_a) \
    reduction(+ : string_voltage_v, module_to_air_w) reduction(| : hot, conditions)
    for (std::uint32_t c = 0; c < n; ++c) {
        const float v = voltage_v[c];
        const float g = cell_conductance_s(r0_ohm[c]);
        // The same limits as accumulate_cell_limits, as maxima and minima.
        const float full = full_limit_current_a(soc[c], capacity_ah[c], soc_gain_a_per_ah);
        const float empty = empty_limit_current_a(soc[c], capacity_ah[c], soc_gain_a_per_ah);
        charge_limit_a = std::max(
            charge_limit_a, std::max(full, limit_current_a(rack_current_a, v, v_charge_cv_v, g)));
        float_limit_a = std::max(float_limit_a,
                                 std::max(full, limit_current_a(rack_current_a, v, v_float_v, g)));
        discharge_limit_a = std::min(
            discharge_limit_a, std::min(empty, limit_current_a(rack_current_a, v, v_cutoff_v, g)));
        string_voltage_v += v;
        module_to_air_w += to_air_w[c];
        hot |= static_cast<float>(temperature_c[c]) < quiet_below_c ? 0 : 1;
        conditions |= cell_limit_conditions(protection, v, static_cast<float>(temperature_c[c]));
    }
    limits.charge_limit_a = charge_limit_a;
    limits.float_limit_a = float_limit_a;
    limits.discharge_limit_a = discharge_limit_a;
    limits.string_voltage_v += string_voltage_v;
    limits.conditions |= conditions;
    heat_to_air_w += module_to_air_w;
    return hot == 0;
}

}  // namespace brt
