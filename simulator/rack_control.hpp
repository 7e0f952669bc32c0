// The string current of a rack, one physics step at a time. Every cell of a
// rack is in series, so this one current flows through all of them; the
// limits come from the cells themselves (reduced over the rack each step).
#pragma once

#include <cstdint>

#include "simulator/model/hd.hpp"

namespace brt {

// What the control law needs, prepared by the backend each step.
struct RackControlInputs {
    // The effective action this step (modes and profile resolved by the host):
    // +1 discharge, -1 charge, 0 idle, 2 float.
    int action = 0;
    float demand_a = 0.0f;       // discharge: current demand (A), or
    float demand_w = 0.0f;       // discharge: power demand (W), used when > 0
    float charge_current_a = 0;  // CC magnitude for charging
    float string_voltage_v = 0;  // sum of the cells' terminal voltages, last step
    // Currents (discharge positive) at which the first cell of the rack would
    // reach its limit, from the cells' OCV, RC voltage and R0, and from their
    // SoC (full or empty, see soc_bound_gain_a_per_ah):
    float charge_limit_a = 0;  // max over cells of (OCV - Vrc - V_cv) / R0   (<= 0 when charging)
    float float_limit_a = 0;   // the same at the float voltage
    float discharge_limit_a = 0;  // min over cells of (OCV - Vrc - V_cutoff) / R0
    bool cv_failure = false;      // overcharge scenario: the charger ignores the CV limit
};

struct RackControlOutput {
    float current_a = 0;  // discharge positive
    bool constant_voltage = false;
    bool cut_off = false;  // a discharge demand was refused by the cut-off
};

inline constexpr int kActionCharge = -1;
inline constexpr int kActionIdle = 0;
inline constexpr int kActionDischarge = 1;
inline constexpr int kActionFloat = 2;

// The cells' limits, reduced over a rack in one pass: for each cell,
// OCV - Vrc = V + I*R0, so the current that would put it at V_limit is
// I + (V - V_limit) / R0, with no OCV lookup.
struct RackLimits {
    float charge_limit_a = -3.0e38f;
    float float_limit_a = -3.0e38f;
    float discharge_limit_a = 3.0e38f;
    float string_voltage_v = 0.0f;
    std::uint32_t conditions = 0;  // protection:: bits of any cell, this step
};

// The critical cell conditions the rack's BMS opens its contactor on, as a
// real rack BMS has them (foxBMS style): a cell beyond a maximum safety limit
// (MSL) of voltage or temperature, venting, in thermal runaway. The values
// are the bits 8..13 of the published rack flags, shifted down
// (rack_flags::trip_shift, common/control/rack_mode.hpp).
namespace protection {
inline constexpr std::uint32_t over_voltage = 1u << 0;
inline constexpr std::uint32_t under_voltage = 1u << 1;
inline constexpr std::uint32_t over_temperature = 1u << 2;
inline constexpr std::uint32_t under_temperature = 1u << 3;
inline constexpr std::uint32_t venting = 1u << 4;
inline constexpr std::uint32_t thermal_runaway = 1u << 5;
inline constexpr std::uint32_t voltage = over_voltage | under_voltage;
inline constexpr std::uint32_t temperature = over_temperature | under_temperature;
}  // namespace protection

// A rack's MSLs for one step: the charge temperature limit while the string
// charges, the discharge one otherwise.
struct ProtectionLimits {
    float v_max_v;
    float v_min_v;
    float t_max_c;
    float t_min_c;
};

// A cell's voltage and temperature conditions (comparisons only: every
// backend and path gets the same bits).
BRT_HD inline std::uint32_t cell_limit_conditions(const ProtectionLimits& l, float voltage_v,
                                                  float temperature_c) {
    return (voltage_v > l.v_max_v ? protection::over_voltage : 0u) |
           (voltage_v < l.v_min_v ? protection::under_voltage : 0u) |
           (temperature_c > l.t_max_c ? protection::over_temperature : 0u) |
           (temperature_c < l.t_min_c ? protection::under_temperature : 0u);
}

// How long a condition must hold before the contactor opens, in physics
// steps (foxBMS debounces voltage over 50 checks at 10 ms and temperature
// over 500): venting and runaway open it at once.
struct RackProtectionParams {
    std::uint32_t voltage_debounce_steps;
    std::uint32_t temperature_debounce_steps;
};

// 1 / R0, bounded for a cell with no resistance. The division is done
// whatever r0 is: no branch, so a loop over cells can run as SIMD.
BRT_HD inline float cell_conductance_s(float r0_ohm) {
    const float inverse = 1.0f / r0_ohm;
    return r0_ohm > 1e-9f ? inverse : 1e9f;
}
// The current at which a cell now at voltage_v with current_a would be at limit_v.
BRT_HD inline float limit_current_a(float current_a, float voltage_v, float limit_v,
                                    float conductance_s) {
    return current_a + (voltage_v - limit_v) * conductance_s;
}

// Charging ends at full and discharging at empty whatever the voltages do
// (on LFP's flat curve the highest cell can stay below V_cv past SoC 1): a
// cell allows at most the current that closes half of what is left to SoC 1
// (charge) or 0 (discharge) in one step. Its SoC then approaches the bound
// without crossing it, the current falls through the taper and the charge
// completes. This is that current per Ah left: 0.5 * 3600 / dt.
BRT_HD inline float soc_bound_gain_a_per_ah(float dt_s) {
    return dt_s > 0.0f ? 1800.0f / dt_s : 3.0e38f;
}
// The currents at which a cell of capacity_ah at `soc` reaches full
// (negative, charge) and empty (positive, discharge) as above.
BRT_HD inline float full_limit_current_a(double soc, float capacity_ah, float gain_a_per_ah) {
    return -static_cast<float>(1.0 - soc) * capacity_ah * gain_a_per_ah;
}
BRT_HD inline float empty_limit_current_a(double soc, float capacity_ah, float gain_a_per_ah) {
    return static_cast<float>(soc) * capacity_ah * gain_a_per_ah;
}

BRT_HD inline void accumulate_cell_limits(RackLimits& limits, float current_a, float voltage_v,
                                          float r0_ohm, float v_charge_cv_v, float v_float_v,
                                          float v_cutoff_v, double soc, float capacity_ah,
                                          float soc_gain_a_per_ah) {
    const float g = cell_conductance_s(r0_ohm);
    const float full = full_limit_current_a(soc, capacity_ah, soc_gain_a_per_ah);
    const float empty = empty_limit_current_a(soc, capacity_ah, soc_gain_a_per_ah);
    float charge = limit_current_a(current_a, voltage_v, v_charge_cv_v, g);
    float hold = limit_current_a(current_a, voltage_v, v_float_v, g);
    float discharge = limit_current_a(current_a, voltage_v, v_cutoff_v, g);
    charge = full > charge ? full : charge;
    hold = full > hold ? full : hold;
    discharge = empty < discharge ? empty : discharge;
    limits.charge_limit_a = charge > limits.charge_limit_a ? charge : limits.charge_limit_a;
    limits.float_limit_a = hold > limits.float_limit_a ? hold : limits.float_limit_a;
    limits.discharge_limit_a =
        discharge < limits.discharge_limit_a ? discharge : limits.discharge_limit_a;
    limits.string_voltage_v += voltage_v;
}

// Physics steps in `interval_s` of simulated time (at least one).
BRT_HD inline unsigned long long steps_per_interval(double interval_s, double physics_dt_s) {
    const double steps = interval_s / physics_dt_s;
    return steps < 1.0 ? 1ull : static_cast<unsigned long long>(steps + 0.5);
}
// Cadences of the slow parts of the model, the same on every backend:
// resistance and capacity (temperature, SoC and age move them over seconds)
// every 0.1 s, ageing (months) every 1 s, in global step numbers.
BRT_HD inline unsigned long long coefficient_interval_steps(double physics_dt_s) {
    return steps_per_interval(0.1, physics_dt_s);
}
BRT_HD inline unsigned long long ageing_interval_steps(double physics_dt_s) {
    return steps_per_interval(1.0, physics_dt_s);
}
// The protection's debounce: 0.5 s for voltage, 5 s for temperature.
BRT_HD inline RackProtectionParams rack_protection_params(double physics_dt_s) {
    return {static_cast<std::uint32_t>(steps_per_interval(0.5, physics_dt_s)),
            static_cast<std::uint32_t>(steps_per_interval(5.0, physics_dt_s))};
}

BRT_HD inline RackControlOutput rack_current(const RackControlInputs& in) {
    RackControlOutput out;
    switch (in.action) {
        case kActionCharge: {
            const float cc = -in.charge_current_a;
            if (in.cv_failure) {
                out.current_a = cc;  // nothing stops it: cells go past their maximum
                break;
            }
            // The least negative current that keeps every cell at or below V_cv.
            out.current_a = in.charge_limit_a > cc ? in.charge_limit_a : cc;
            out.constant_voltage = in.charge_limit_a > cc;
            if (out.current_a > 0.0f) {
                out.current_a = 0.0f;  // never discharge to "charge"
            }
            break;
        }
        case kActionFloat: {
            const float cc = -in.charge_current_a;
            out.current_a = in.float_limit_a > cc ? in.float_limit_a : cc;
            if (out.current_a > 0.0f) {
                out.current_a = 0.0f;
            }
            out.constant_voltage = true;
            break;
        }
        case kActionDischarge: {
            float demand = in.demand_a;
            if (in.demand_w > 0.0f) {
                demand = in.string_voltage_v > 1.0f ? in.demand_w / in.string_voltage_v : 0.0f;
            }
            out.current_a = demand < in.discharge_limit_a ? demand : in.discharge_limit_a;
            if (out.current_a < 0.0f) {
                out.current_a = 0.0f;
            }
            out.cut_off = out.current_a < demand;
            break;
        }
        default:
            out.current_a = 0.0f;
    }
    return out;
}

}  // namespace brt
