// What happens to a rack around each physics step, shared by the backends:
// before it, the control law sets the string current from last step's
// limits; after it, the rack air takes the cells' heat.
#pragma once

#include "simulator/model/hd.hpp"
#include "simulator/rack_control.hpp"
#include "simulator/rack_state.hpp"
#include "simulator/simulation_config.hpp"

namespace brt {

// The rack air's constants (from SimulationConfig, which device code cannot hold).
struct RackAirParams {
    float heat_capacity_j_per_k;
    float to_ambient_w_per_k;
    float hvac_setpoint_c;
    float hvac_gain_w_per_k;
};

inline RackAirParams rack_air_params(const SimulationConfig& config) {
    return {config.rack_air_heat_capacity_j_per_k, config.rack_to_ambient_w_per_k,
            config.hvac_setpoint_c, config.hvac_gain_w_per_k};
}

// Sets the rack's current for this step and returns the control law's
// verdict; a charge whose CV phase has tapered below taper_current_a turns
// into float from here on.
BRT_HD inline RackControlOutput begin_rack_step(RackState& rack, float taper_current_a) {
    if (rack.contactor_open) {
        // The string is disconnected: no current, whatever was asked.
        rack.current_a = 0.0f;
        rack.constant_voltage = false;
        rack.cut_off = false;
        return RackControlOutput{};
    }
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
    const float magnitude_a = output.current_a < 0.0f ? -output.current_a : output.current_a;
    if (rack.action == kActionCharge && output.constant_voltage && magnitude_a < taper_current_a) {
        rack.charge_complete = true;  // CV tapered out: float from now on
        rack.action = kActionFloat;
    }
    return output;
}

// Passive balancing runs while the rack equalises or holds a constant voltage.
BRT_HD inline bool balancing_on(const RackState& rack, const RackControlOutput& output) {
    return rack.mode == RackMode::equalize || output.constant_voltage;
}

// The rack BMS: a voltage condition that held for the voltage debounce, a
// temperature one for the temperature debounce, or any venting or runaway
// cell opens the contactor, and the reasons stay latched until a reset
// (Simulation::handle_command, reset_protection), which is refused while a
// condition holds.
BRT_HD inline void update_protection(RackState& rack, std::uint32_t conditions,
                                     const RackProtectionParams& params) {
    rack.conditions = conditions;
    rack.voltage_condition_steps =
        (conditions & protection::voltage) != 0 ? rack.voltage_condition_steps + 1 : 0;
    rack.temperature_condition_steps =
        (conditions & protection::temperature) != 0 ? rack.temperature_condition_steps + 1 : 0;
    std::uint32_t trips = conditions & (protection::venting | protection::thermal_runaway);
    if (rack.voltage_condition_steps >= params.voltage_debounce_steps) {
        trips |= conditions & protection::voltage;
    }
    if (rack.temperature_condition_steps >= params.temperature_debounce_steps) {
        trips |= conditions & protection::temperature;
    }
    if (trips != 0) {
        rack.contactor_open = true;
        rack.trip_reasons |= trips;
    }
}

// Rack air: the cells' heat, the enclosure's exchange with ambient, and the
// HVAC holding its setpoint within its capacity. Then the cells' limits
// become the rack's for the next step, and their conditions go to the
// protection.
BRT_HD inline void end_rack_step(RackState& rack, const RackLimits& limits, float heat_to_air_w,
                                 float dt_s, const RackAirParams& air,
                                 const RackProtectionParams& protection_params) {
    float hvac_w = 0.0f;
    if (rack.hvac_on) {
        hvac_w = -air.hvac_gain_w_per_k * (rack.air_temperature_c - air.hvac_setpoint_c);
        hvac_w = hvac_w < -rack.hvac_capacity_w  ? -rack.hvac_capacity_w
                 : rack.hvac_capacity_w < hvac_w ? rack.hvac_capacity_w
                                                 : hvac_w;
    }
    const float air_heat_w =
        heat_to_air_w + air.to_ambient_w_per_k * (rack.ambient_c - rack.air_temperature_c) + hvac_w;
    rack.air_temperature_c += dt_s * air_heat_w / air.heat_capacity_j_per_k;
    rack.charge_limit_a = limits.charge_limit_a;
    rack.float_limit_a = limits.float_limit_a;
    rack.discharge_limit_a = limits.discharge_limit_a;
    rack.string_voltage_v = limits.string_voltage_v;
    update_protection(rack, limits.conditions, protection_params);
}

}  // namespace brt
