// One cell of a rack: equivalent circuit (OCV, R0, one RC pair), lumped heat
// balance, thermal runaway and ageing, advanced by one explicit step. Written
// once for both backends: plain structs, float maths except where float
// cannot hold the state (see CellState), no allocation, no exceptions.
//
// Sign convention: current is positive on discharge.
#pragma once

#include <cmath>
#include <cstdint>

#include "simulator/model/cell_status_bits.hpp"
#include "simulator/model/chemistry_params.hpp"
#include "simulator/model/hd.hpp"
#include "simulator/model/random.hpp"

namespace brt::model {

// SoC may leave [0, 1] only this far, so over-charge and deep-discharge
// scenarios show cells past their limits without the state running away.
inline constexpr double kSocMin = -0.05;
inline constexpr double kSocMax = 1.05;
// A half-cycle ends where the SoC has turned back from its furthest point
// by more than this (see age_cell_at): small enough for the 1 % swings of a
// rack following a load, large enough that a step's rounding or a balancing
// bleed does not end one.
inline constexpr float kCycleReversalSoc = 0.001f;
// The ageing laws have no end of life; the capacity stops at 1 % of nominal.
inline constexpr double kMaxCapacityFade = 0.99;
// Beyond the table the OCV is extrapolated from its last two points, by at
// most this much (overcharge visibly pushes the voltage past v_max).
inline constexpr float kOcvExtrapolationLimitV = 0.3f;

struct CellVariation {
    float capacity_factor;    // ~N(1, sigma), drawn once per cell
    float resistance_factor;  // ~N(1, sigma), drawn once per cell
};

// The half-cycle under way, counted at SoC reversal points (age_cell_at):
// its cyclic ageing is applied at its depth when it ends. Sums over its
// ageing steps of dn (normalised throughput on the ageing clock) weighted as
// named; the laws' depth terms multiply them at the end. Float is enough:
// every sum restarts at each reversal, so it spans one half-cycle.
struct CycleCounter {
    float start_soc;               // where it began: the last reversal point
    float extreme_soc;             // the furthest SoC from start_soc reached since
    float throughput;              // sum of dn
    float temperature_throughput;  // sum of (temperature factor) dn
    float capacity_stress;         // sum of (capacity law without its depth terms) dn
    float resistance_stress;       // sum of (resistance law without its depth terms) dn
};

// Fields that accumulate tiny increments are double: at 1 kHz a float
// temperature near 25 C stops moving while the net heat is below ~1 W (the
// increment is under half an ulp), float SoC loses charge, and a float age
// in seconds cannot add 1 ms after a few hours.
struct CellState {
    double soc;                // true SoC 0..1 of the present (aged) capacity
    float v_rc_v;              // voltage across the RC pair
    double temperature_c;      // lumped cell temperature
    double capacity_fade;      // fraction of nominal capacity lost; SoH = 1 - capacity_fade
    double resistance_growth;  // R = R_fresh * (1 + resistance_growth)
    double ah_throughput;      // sum of |I| dt / 3600 (real time, not sped up)
    // Calendar age expressed at the reference condition (25 C, 50 % SoC):
    // the capacity's calendar loss is a function of it alone (see age_cell).
    double calendar_age_s;
    float runaway_progress;  // 0..1 share of the runaway energy released
    CycleCounter cycle;      // slow state, like capacity_fade
};

struct CellInputs {
    float current_a;  // through the cell, discharge positive (string current + balancing bleed)
    float air_temperature_c;  // rack air
    float neighbour_heat_w;   // conduction from adjacent cells (from their previous temperatures)
    float external_heat_w;    // a scenario's heater, usually 0; off once the cell is in runaway
    float short_circuit_ohm;  // internal short between the terminals, 0 = none
    float dt_s;               // physics step
    // Multiplies the ageing clock; 0 = no ageing this step. Ageing costs about
    // three times the rest of a step (powf, expf), and changes slowly: an
    // engine may pass speedup x N on every Nth step and 0 on the others
    // (calendar ageing stays exact, throughput ageing samples the current).
    float ageing_speedup;
};

struct CellStepOutput {
    float terminal_voltage_v;  // OCV - I*R0 - V_rc, collapsing to 0 as runaway progresses
    float r0_ohm;              // present R0 (temperature, SoC, growth, variation)
    float heat_generated_w;    // internal heat: I^2 R0 + V_rc^2/R1 + short + self-heating + runaway
    float heat_to_air_w;       // to the rack air this step: conducted, plus a runaway's vent gas
    float open_circuit_voltage_v;
    float short_circuit_current_a;  // through the internal short
    std::uint32_t status_bits;      // status_bit::self_heating, venting, thermal_runaway
};

namespace detail {

// Comparisons rather than fminf/fmaxf: those are library calls on x86-64
// unless NaN handling is relaxed. clampf maps NaN to lo.
BRT_HD inline float min_f(float a, float b) {
    return b < a ? b : a;
}
BRT_HD inline float max_f(float a, float b) {
    return b > a ? b : a;
}
BRT_HD inline float clampf(float x, float lo, float hi) {
    return x > lo ? (x < hi ? x : hi) : lo;
}
BRT_HD inline double clampd(double x, double lo, double hi) {
    return x > lo ? (x < hi ? x : hi) : lo;
}

// 1 - exp(-x) for x >= 0: the share of the way an RC pair moves to its
// target in a step. A series for the small x of a physics step (error below
// x^5/120, under float resolution), expm1f beyond.
BRT_HD inline float one_minus_exp_neg(float x) {
    if (x < 0.05f) {
        return x * (1.0f - 0.5f * x * (1.0f - (x / 3.0f) * (1.0f - 0.25f * x)));
    }
    return -expm1f(-x);
}

// exp(-theta (1/T - 1/T_ref)): how much faster a thermally activated process
// runs at T than at T_ref. T is clamped to the fitted range.
BRT_HD inline float arrhenius_rate(float theta_k, float temperature_c, float reference_c) {
    const float t_k = clampf(temperature_c, kArrheniusMinC, kArrheniusMaxC) + kZeroCelsiusK;
    return expf(-theta_k * (1.0f / t_k - 1.0f / (reference_c + kZeroCelsiusK)));
}

// (t + dt)^z - t^z without the cancellation of the direct form, given
// t_pow_z = t^z: t^z ((1 + u)^z - 1) with u = dt/t, by its series while u
// is small (error ~u^4, below float resolution), else expm1f/log1pf.
BRT_HD inline float power_increment(float t, float t_pow_z, float dt, float z) {
    if (z == 1.0f) {
        return dt;
    }
    if (!(t > 0.0f)) {
        return powf(dt, z);
    }
    const float u = dt / t;
    if (u < 1e-3f) {
        return t_pow_z * z * u * (1.0f + 0.5f * (z - 1.0f) * u * (1.0f + (z - 2.0f) * u / 3.0f));
    }
    return t_pow_z * expm1f(z * log1pf(u));
}

// A cyclic law's coefficient without its depth terms, per unit of
// throughput, at one step's OCV and C-rate (not clamped: a half-cycle's sum is).
BRT_HD inline float cyclic_base(const CyclicLaw& law, float ocv_v, float c_rate) {
    const float dv = ocv_v - law.volt_centre_v;
    return law.per_volt_squared * dv * dv + law.constant + law.per_c_rate * c_rate;
}

// The law's sum of coefficient x dn over a half-cycle of depth `depth`,
// from the sums of its depth-free part and of the temperature factor.
BRT_HD inline float cyclic_half_cycle_sum(const CyclicLaw& law, float base_sum,
                                          float temperature_sum, float depth) {
    const float d = depth - law.depth_centre;
    const float depth_factor = law.depth_cubed * d * d * d + law.depth_constant;
    return max_f((base_sum + law.per_depth * depth * temperature_sum) * depth_factor, 0.0f);
}

// How much faster cycling ages a cell at T than at the source's cycling
// temperature: the borrowed Arrhenius rise at and above the plating
// crossover, lithium plating's rise as it gets colder below it (continuous
// at the crossover).
BRT_HD inline float cyclic_temperature_factor(const AgeingCoefficients& a, float temperature_c) {
    if (temperature_c >= kPlatingCrossoverC) {
        return arrhenius_rate(a.cyclic_theta_k, temperature_c, a.cyclic_reference_c);
    }
    return arrhenius_rate(a.cyclic_theta_k, kPlatingCrossoverC, a.cyclic_reference_c) *
           arrhenius_rate(-a.plating_theta_k, temperature_c, kPlatingCrossoverC);
}

}  // namespace detail

// Open-circuit voltage: linear interpolation on the uniform SoC grid; outside
// [0, 1] linear extrapolation from the end points, limited to 0.3 V. Every
// case is computed and one selected, with no branch, so that a loop over
// cells can run several side by side (SIMD); a NaN SoC lands below 0.
BRT_HD inline float ocv_v(const ChemistryParams& p, float soc) {
    const int last = p.ocv_points - 1;
    const auto last_f = static_cast<float>(last);
    const float x = detail::clampf(soc * last_f, 0.0f, last_f);
    int i = static_cast<int>(x);
    i = i > last - 1 ? last - 1 : i;
    const float f = x - static_cast<float>(i);
    const float inside = p.ocv_v[i] + f * (p.ocv_v[i + 1] - p.ocv_v[i]);
    const float slope_low = (p.ocv_v[1] - p.ocv_v[0]) * last_f;
    const float below = p.ocv_v[0] - detail::min_f(slope_low * -soc, kOcvExtrapolationLimitV);
    const float slope_high = (p.ocv_v[last] - p.ocv_v[last - 1]) * last_f;
    const float above =
        p.ocv_v[last] + detail::min_f(slope_high * (soc - 1.0f), kOcvExtrapolationLimitV);
    return !(soc > 0.0f) ? below : (soc >= 1.0f ? above : inside);
}

// R(soc) / R(0.5), interpolated in the 11-point table (the charge column
// when charging), flat outside [0, 1].
BRT_HD inline float resistance_soc_factor(const ChemistryParams& p, float soc,
                                          bool charging = false) {
    const float* factor = charging ? p.r_soc_factor_charge : p.r_soc_factor;
    const float x = detail::clampf(soc, 0.0f, 1.0f) * static_cast<float>(kResistanceSocPoints - 1);
    int i = static_cast<int>(x);
    if (i > kResistanceSocPoints - 2) {
        i = kResistanceSocPoints - 2;
    }
    const float f = x - static_cast<float>(i);
    return factor[i] + f * (factor[i + 1] - factor[i]);
}

// DC resistance (R0 + R1) of a fresh, nominal cell, on discharge or charge:
// R_ref * soc factor * exp(Ea/R (1/T - 1/T_25C)), T clamped to -30..80 C.
BRT_HD inline float resistance_dc_ohm(const ChemistryParams& p, float soc, float temperature_c,
                                      bool charging = false) {
    const float theta_k = p.r_activation_j_per_mol / kGasConstantJPerMolK;
    return p.r_dc_ref_ohm * resistance_soc_factor(p, soc, charging) /
           detail::arrhenius_rate(theta_k, temperature_c, kReferenceTemperatureC);
}

// Present capacity in Ah: nominal x variation x SoH (never below 1 % of it).
BRT_HD inline float capacity_ah(const ChemistryParams& p, const CellVariation& v,
                                const CellState& s) {
    const float soh = detail::max_f(1.0f - static_cast<float>(s.capacity_fade),
                                    static_cast<float>(1.0 - kMaxCapacityFade));
    return p.nominal_capacity_ah * v.capacity_factor * soh;
}

// Present DC resistance (R0 + R1) of this cell in its state.
BRT_HD inline float cell_resistance_dc_ohm(const ChemistryParams& p, const CellVariation& v,
                                           const CellState& s, bool charging = false) {
    return resistance_dc_ohm(p, static_cast<float>(s.soc), static_cast<float>(s.temperature_c),
                             charging) *
           v.resistance_factor * (1.0f + static_cast<float>(s.resistance_growth));
}

// Exothermic decomposition once the cell is past its onset: 0 below it, then
// Arrhenius from self_heating_at_onset_w, capped at the runaway's own mean
// power (it can never release faster than the runaway, which also keeps an
// explicit step bounded).
BRT_HD inline float self_heating_w(const ChemistryParams& p, float temperature_c) {
    if (!(temperature_c >= p.self_heating_onset_c)) {
        return 0.0f;
    }
    const float onset_k = p.self_heating_onset_c + kZeroCelsiusK;
    const float t_k = temperature_c + kZeroCelsiusK;
    const float theta_k = p.self_heating_activation_j_per_mol / kGasConstantJPerMolK;
    const float w = p.self_heating_at_onset_w * expf(theta_k * (1.0f / onset_k - 1.0f / t_k));
    return detail::min_f(w, p.runaway_energy_j / p.runaway_duration_s);
}

// Status bits that follow from the physical state (the sensor bits come
// from measure_cell, balancing from the engine). Venting is latched only
// through runaway: a cell that vented at 130 C and cooled back clears it.
BRT_HD inline std::uint32_t cell_condition_bits(const ChemistryParams& p, const CellState& s) {
    std::uint32_t bits = 0;
    if (s.runaway_progress > 0.0f) {
        return status_bit::thermal_runaway | status_bit::venting;
    }
    if (s.temperature_c >= p.self_heating_onset_c) {
        bits |= status_bit::self_heating;
    }
    if (s.temperature_c >= p.venting_c) {
        bits |= status_bit::venting;
    }
    return bits;
}

// A cycle count that starts at `soc` with nothing under way.
BRT_HD inline CycleCounter start_cycle_count(float soc) {
    CycleCounter c{};
    c.start_soc = soc;
    c.extreme_soc = soc;
    return c;
}

// Ageing over dt_age_s of ageing time (real time x speedup) at the given
// conditions. Integrated so that a constant condition gives exactly the
// source's closed form and a changing one continues from the damage done:
//
// - Calendar capacity, loss = a(V, soc, T) t^z: "equivalent time". The state
//   calendar_age_s is the age at the reference condition (25 C, 50 % SoC)
//   that gives the present calendar loss, loss = a_ref age^z. Under the
//   condition a, the equivalent age is t_eq = age (a_ref/a)^(1/z); advancing
//   it by dt advances age by dt (a/a_ref)^(1/z), an ageing clock that runs
//   faster when hot or full.
// - Calendar resistance, growth = a_res t^z_res: advanced by
//   a_res ((t_eq + dt)^z_res - t_eq^z_res) on the capacity's t_eq (exact for
//   a constant condition when z_res equals z, NMC, or is 1, LFP).
// - Cycle depth, counted per half-cycle at SoC reversal points (the
//   streaming equivalent of rainflow counting's half-cycles, with no
//   history to keep): a half-cycle runs from the last reversal point to the
//   furthest SoC reached since, and ends once the SoC has turned back from
//   there by more than kCycleReversalSoc; its depth DOD = |extreme - start|.
//   Its throughput is summed as it goes (CycleCounter) and its cyclic
//   ageing applied when it ends, at its depth: the laws' DOD is the counted
//   depth, not an assumed one. Until then the half-cycle under way has not
//   aged the cell (SoH lags by at most one half-cycle).
// - Cyclic capacity, loss = b sqrt(n): "equivalent throughput", the cyclic
//   share of the loss (capacity_fade minus the calendar loss of the age)
//   gives n_eq = (loss/b)^2 under the half-cycle's mean b, and the loss
//   becomes b sqrt(n_eq + n_half_cycle).
// - Cyclic resistance, growth = r n: linear, so simply the half-cycle's
//   sum of r dn.
// - The cyclic temperature factor multiplies every dn as it is summed
//   (detail::cyclic_temperature_factor: lithium plating below 25 C).
// Every increment is >= 0, so SoH never rises and resistance never falls.
BRT_HD inline void age_cell_at(const ChemistryParams& p, CellState& s, float soc, float ocv,
                               float temperature_c, float abs_current_a, float dt_age_s) {
    if (!(dt_age_s > 0.0f)) {
        return;
    }
    const AgeingCoefficients& a = p.ageing;
    const float unit_s = a.calendar_time_unit_s;
    const CalendarLaw& cap = a.calendar_capacity;
    const float ref_stress = a.calendar_capacity_reference_stress;

    const float age_units = static_cast<float>(s.calendar_age_s / unit_s);
    const float age_pow_z = powf(age_units, cap.exponent);
    const float calendar_loss_old = ref_stress * age_pow_z;
    const double cyclic_loss =
        detail::clampd(s.capacity_fade - static_cast<double>(calendar_loss_old), 0.0, 1.0);

    double age_s = s.calendar_age_s;
    float growth = 0.0f;
    const float cap_stress =
        detail::calendar_polynomial(cap, ocv, soc) *
        detail::arrhenius_rate(cap.theta_k, temperature_c, kReferenceTemperatureC);
    // Below a millionth of the reference rate (NMC near empty) the clock stops.
    if (cap_stress > 1e-6f * ref_stress) {
        const float ratio = cap_stress / ref_stress;
        const float clock_rate = powf(ratio, 1.0f / cap.exponent);  // (a / a_ref)^(1/z)
        age_s += static_cast<double>(dt_age_s) * static_cast<double>(clock_rate);
        const float t_eq_units = age_units / clock_rate;
        const CalendarLaw& res = a.calendar_resistance;
        const float res_stress =
            detail::calendar_polynomial(res, ocv, soc) *
            detail::arrhenius_rate(res.theta_k, temperature_c, kReferenceTemperatureC);
        if (res_stress > 0.0f) {
            // t_eq^z_res; with the capacity's exponent that is age^z / ratio.
            float t_eq_pow = 0.0f;
            if (res.exponent == cap.exponent) {
                t_eq_pow = age_pow_z / ratio;
            } else if (res.exponent != 1.0f) {
                t_eq_pow = powf(t_eq_units, res.exponent);
            }
            growth += res_stress * detail::power_increment(t_eq_units, t_eq_pow, dt_age_s / unit_s,
                                                           res.exponent);
        }
    }
    const float calendar_loss_new =
        ref_stress * powf(static_cast<float>(age_s / unit_s), cap.exponent);

    // The half-cycle under way: extended, or ended by a reversal (then its
    // ageing is applied at its depth and the next one starts at its
    // extreme). This step's throughput belongs to the one under way after.
    CycleCounter& cycle = s.cycle;
    float cyclic_increment = 0.0f;
    const bool rising = soc > cycle.extreme_soc;
    const bool falling = soc < cycle.extreme_soc;
    const bool went_up = cycle.extreme_soc > cycle.start_soc;
    const bool went_down = cycle.extreme_soc < cycle.start_soc;
    if ((!went_up && !went_down) || (went_up && rising) || (went_down && falling)) {
        cycle.extreme_soc = soc;  // further in its direction (or its first move)
    } else if (fabsf(soc - cycle.extreme_soc) > kCycleReversalSoc) {
        const float depth = detail::min_f(fabsf(cycle.extreme_soc - cycle.start_soc), 1.0f);
        const float n = cycle.throughput;
        if (n > 0.0f) {
            const float b_n = detail::cyclic_half_cycle_sum(
                a.cyclic_capacity, cycle.capacity_stress, cycle.temperature_throughput, depth);
            const float b = b_n / n;
            // b sqrt(n_eq + n) - b sqrt(n_eq) with b sqrt(n_eq) = loss, in
            // the form without cancellation.
            const float loss = static_cast<float>(cyclic_loss);
            const float b2n = b * b * n;
            if (b2n > 0.0f) {
                cyclic_increment = b2n / (sqrtf(loss * loss + b2n) + loss);
            }
            growth += detail::cyclic_half_cycle_sum(a.cyclic_resistance, cycle.resistance_stress,
                                                    cycle.temperature_throughput, depth);
        }
        const float turn_soc = cycle.extreme_soc;
        cycle = start_cycle_count(turn_soc);
        cycle.extreme_soc = soc;
    }
    const float dn = abs_current_a * dt_age_s / (3600.0f * p.nominal_capacity_ah);
    if (dn > 0.0f) {
        const float c_rate = abs_current_a / p.nominal_capacity_ah;
        const float factor_dn = detail::cyclic_temperature_factor(a, temperature_c) * dn;
        cycle.throughput += dn;
        cycle.temperature_throughput += factor_dn;
        cycle.capacity_stress += detail::cyclic_base(a.cyclic_capacity, ocv, c_rate) * factor_dn;
        cycle.resistance_stress +=
            detail::cyclic_base(a.cyclic_resistance, ocv, c_rate) * factor_dn;
    }

    s.calendar_age_s = age_s;
    const double fade = static_cast<double>(calendar_loss_new) + cyclic_loss + cyclic_increment;
    const double capped = fade < kMaxCapacityFade ? fade : kMaxCapacityFade;
    s.capacity_fade = capped > s.capacity_fade ? capped : s.capacity_fade;
    s.resistance_growth += static_cast<double>(growth);
}

// Ageing on its own, for an engine that ages every Nth step with dt = N steps
// (calendar ageing stays exact; throughput ageing then uses this current).
BRT_HD inline void age_cell(const ChemistryParams& p, CellState& s, float temperature_c,
                            float current_a, float dt_age_s) {
    const float soc = static_cast<float>(s.soc);
    age_cell_at(p, s, soc, ocv_v(p, soc), temperature_c, fabsf(current_a), dt_age_s);
}

// The electrical coefficients of a cell that move only with temperature,
// SoC and ageing: seconds to years. A backend may evaluate them once per
// frame and step many times with them (step_cell_with), which saves the
// Arrhenius exponential and two table look-ups per step.
struct CellCoefficients {
    float r0_ohm;
    float r1_ohm;
    float capacity_ah;  // present capacity: nominal x variation x SoH
};

// current_a (discharge positive) picks the table's column: charge below 0,
// discharge (and rest) otherwise.
BRT_HD inline CellCoefficients cell_coefficients(const ChemistryParams& p, const CellVariation& v,
                                                 const CellState& s, float current_a = 0.0f) {
    const float r_dc = cell_resistance_dc_ohm(p, v, s, current_a < 0.0f);
    const float r0 = p.r0_fraction * r_dc;
    return {r0, r_dc - r0, capacity_ah(p, v, s)};
}

// The RC pair's approach factor 1 - exp(-dt / tau): constant for a run.
BRT_HD inline float rc_approach(const ChemistryParams& p, float dt_s) {
    return detail::one_minus_exp_neg(detail::max_f(dt_s, 0.0f) / p.tau_rc_s);
}

// The pieces of a step, shared by step_cell_with and step_quiet_cell so that
// both do the very same arithmetic.
namespace step_part {

// Coulomb counting against the present capacity: the step's change is exact
// to float precision, the sum is kept in double. `cell_a` flows through the
// electrodes (string current plus an internal short's), `current_a` through
// the terminals (what the throughput counts).
BRT_HD inline void count_charge(double& soc, double& ah_throughput, float cell_a, float current_a,
                                float dt, float capacity_ah) {
    const float dsoc = cell_a * dt / (3600.0f * capacity_ah);
    soc = detail::clampd(soc - static_cast<double>(dsoc), kSocMin, kSocMax);
    // dt in hours is the same for every cell: a multiplication, not a division.
    const double dt_h = static_cast<double>(dt) / 3600.0;
    ah_throughput += static_cast<double>(fabsf(current_a)) * dt_h;
}

// RC pair: the exact solution for a current held over the step, written as
// an approach towards I R1 so the steady state is exact in float.
BRT_HD inline float relax_rc(float v_rc_old, float cell_a, float r1, float approach) {
    return v_rc_old + (cell_a * r1 - v_rc_old) * approach;
}

// Joule heat in the cell (W): I^2 R0 and the RC pair's loss.
BRT_HD inline float joule_heat_w(float cell_a, float r0, float v_rc_old, float r1) {
    return cell_a * cell_a * r0 + v_rc_old * v_rc_old / r1;
}

// Heat conducted to the rack air (W).
BRT_HD inline float heat_to_air_w(const ChemistryParams& p, float t_old, float air_temperature_c) {
    return p.cell_to_air_w_per_k * (t_old - air_temperature_c);
}

// Heat balance, explicit Euler (dt k / C is below 1e-4 at 10 ms; a runaway
// moves a cell under 1 K a step). No limit: a runaway's peak follows from
// the heat it keeps (see step_cell_with).
BRT_HD inline double heat_cell(const ChemistryParams& p, double temperature_c, float net_w,
                               float dt) {
    // dt / C is the same for every cell of a chemistry: a multiplication per cell.
    const float kelvin_per_joule = dt / p.heat_capacity_j_per_k;
    return temperature_c + static_cast<double>(net_w * kelvin_per_joule);
}

}  // namespace step_part

// One explicit step of dt_s with the inputs held constant over it, using
// coefficients evaluated earlier (see cell_coefficients) and
// approach = rc_approach(p, in.dt_s).
BRT_HD inline CellStepOutput step_cell_with(const ChemistryParams& p, const CellCoefficients& k,
                                            float approach, CellState& s, const CellInputs& in) {
    const float dt = detail::max_f(in.dt_s, 0.0f);
    const float soc_old = static_cast<float>(s.soc);
    const float t_old = static_cast<float>(s.temperature_c);
    const float r0 = k.r0_ohm;
    const float r1 = k.r1_ohm;

    // An internal short R_s sits across the terminals inside the cell: the
    // terminal voltage is V_t = (OCV - I R0 - V_rc) / (1 + R0/R_s) and the
    // cell's electrodes carry I + V_t/R_s.
    float shunt_factor = 1.0f;
    float short_a = 0.0f;
    float short_w = 0.0f;
    if (in.short_circuit_ohm > 0.0f) {
        shunt_factor = 1.0f / (1.0f + r0 / in.short_circuit_ohm);
        const float v_t = (ocv_v(p, soc_old) - in.current_a * r0 - s.v_rc_v) * shunt_factor;
        short_a = detail::max_f(v_t, 0.0f) / in.short_circuit_ohm;
        short_w = short_a * short_a * in.short_circuit_ohm;
    }
    const float cell_a = short_a > 0.0f ? in.current_a + short_a : in.current_a;

    step_part::count_charge(s.soc, s.ah_throughput, cell_a, in.current_a, dt, k.capacity_ah);
    const float v_rc_old = s.v_rc_v;
    s.v_rc_v = step_part::relax_rc(v_rc_old, cell_a, r1, approach);

    // An abuse test's heater is switched off once its cell is in runaway
    // (UL 9540A and GB 38031 propagation tests do so): from the step after
    // the trigger on, whatever the scenario still asks.
    const float external_w = s.runaway_progress > 0.0f ? 0.0f : in.external_heat_w;

    // Reaction heat: self-heating until the trigger, then the runaway
    // releases its energy evenly over its duration, whatever the temperature
    // does; afterwards nothing is left to react. The vent gas and ejecta
    // carry the share runaway_vent_fraction of the runaway's heat straight
    // into the rack air.
    float reaction_w = 0.0f;
    float vent_w = 0.0f;
    if (s.runaway_progress < 1.0f) {
        if (s.runaway_progress > 0.0f || t_old >= p.runaway_trigger_c) {
            const float next = detail::min_f(s.runaway_progress + dt / p.runaway_duration_s, 1.0f);
            if (dt > 0.0f) {
                reaction_w = (next - s.runaway_progress) * p.runaway_energy_j / dt;
                vent_w = p.runaway_vent_fraction * reaction_w;
            }
            s.runaway_progress = next;
        } else {
            reaction_w = self_heating_w(p, t_old);
        }
    }

    const float heat_w = step_part::joule_heat_w(cell_a, r0, v_rc_old, r1) + short_w + reaction_w;
    const float to_air_w = step_part::heat_to_air_w(p, t_old, in.air_temperature_c);
    const float net_w = heat_w - vent_w + in.neighbour_heat_w + external_w - to_air_w;
    s.temperature_c = step_part::heat_cell(p, s.temperature_c, net_w, dt);

    CellStepOutput out{};
    const float soc_new = static_cast<float>(s.soc);
    out.open_circuit_voltage_v = ocv_v(p, soc_new);

    // Ageing at the step's end-of-step SoC and its starting temperature.
    if (in.ageing_speedup > 0.0f) {
        age_cell_at(p, s, soc_new, out.open_circuit_voltage_v, t_old, fabsf(in.current_a),
                    dt * in.ageing_speedup);
    }

    out.terminal_voltage_v = (out.open_circuit_voltage_v - in.current_a * r0 - s.v_rc_v) *
                             shunt_factor * (1.0f - s.runaway_progress);
    out.r0_ohm = r0;
    out.heat_generated_w = heat_w;
    out.heat_to_air_w = to_air_w + vent_w;
    out.short_circuit_current_a = short_a;
    out.status_bits = cell_condition_bits(p, s);
    return out;
}

// Below this temperature, with no internal short and no runaway under way, a
// cell makes no reaction heat: it is "quiet", which is nearly every cell
// nearly all the time.
BRT_HD inline float quiet_temperature_limit_c(const ChemistryParams& p) {
    return detail::min_f(p.self_heating_onset_c, p.runaway_trigger_c);
}
BRT_HD inline bool cell_is_quiet(const ChemistryParams& p, const CellState& s,
                                 float short_circuit_ohm) {
    return !(short_circuit_ohm > 0.0f) && !(s.runaway_progress > 0.0f) &&
           static_cast<float>(s.temperature_c) < quiet_temperature_limit_c(p);
}

// step_cell_with for a quiet cell (cell_is_quiet) on a step without ageing,
// with none of the branches the rare cases need, so that a backend can step
// many cells side by side (SIMD lanes). It gives the same bits as
// step_cell_with for such a cell (tests/test_model_cell.cpp holds it to that).
struct QuietStepOutput {
    float terminal_voltage_v;
    float heat_to_air_w;
};
BRT_HD inline QuietStepOutput step_quiet_cell(const ChemistryParams& p, const CellCoefficients& k,
                                              float approach, float dt, double& soc,
                                              double& ah_throughput, float& v_rc_v,
                                              double& temperature_c, float current_a,
                                              float air_temperature_c, float neighbour_heat_w,
                                              float external_heat_w) {
    const float t_old = static_cast<float>(temperature_c);
    step_part::count_charge(soc, ah_throughput, current_a, current_a, dt, k.capacity_ah);
    const float v_rc_old = v_rc_v;
    v_rc_v = step_part::relax_rc(v_rc_old, current_a, k.r1_ohm, approach);
    const float heat_w = step_part::joule_heat_w(current_a, k.r0_ohm, v_rc_old, k.r1_ohm);
    const float to_air_w = step_part::heat_to_air_w(p, t_old, air_temperature_c);
    const float net_w = heat_w + neighbour_heat_w + external_heat_w - to_air_w;
    temperature_c = step_part::heat_cell(p, temperature_c, net_w, dt);
    const float ocv = ocv_v(p, static_cast<float>(soc));
    return {ocv - current_a * k.r0_ohm - v_rc_v, to_air_w};
}

// One explicit step of dt_s with the inputs held constant over it, every
// coefficient evaluated at the start of the step.
BRT_HD inline CellStepOutput step_cell(const ChemistryParams& p, const CellVariation& v,
                                       CellState& s, const CellInputs& in) {
    return step_cell_with(p, cell_coefficients(p, v, s, in.current_a), rc_approach(p, in.dt_s), s,
                          in);
}

// A fresh cell at rest.
BRT_HD inline CellState make_cell_state(double soc, double temperature_c) {
    CellState s{};
    s.soc = soc;
    s.temperature_c = temperature_c;
    s.cycle = start_cycle_count(static_cast<float>(soc));
    return s;
}

// The cell's manufacturing spread, drawn once (step 0) from its own streams;
// factors are kept within [0.5, 1.5] so an extreme sigma stays physical.
BRT_HD inline CellVariation draw_cell_variation(std::uint64_t seed, std::uint64_t cell,
                                                float capacity_sigma, float resistance_sigma) {
    CellVariation v{};
    const float zc = standard_normal(mix_key(seed, cell, 0, random_stream::variation_capacity));
    const float zr = standard_normal(mix_key(seed, cell, 0, random_stream::variation_resistance));
    v.capacity_factor = detail::clampf(1.0f + capacity_sigma * zc, 0.5f, 1.5f);
    v.resistance_factor = detail::clampf(1.0f + resistance_sigma * zr, 0.5f, 1.5f);
    return v;
}

// Initial SoC ~ N(mean, sigma), clamped to [0, 1].
BRT_HD inline double draw_initial_soc(std::uint64_t seed, std::uint64_t cell, float mean,
                                      float sigma) {
    const float z = standard_normal(mix_key(seed, cell, 0, random_stream::initial_soc));
    return static_cast<double>(detail::clampf(mean + sigma * z, 0.0f, 1.0f));
}

}  // namespace brt::model
