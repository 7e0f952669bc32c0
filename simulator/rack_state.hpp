// One rack: what it was told to do, what it does this publish interval, and
// its dynamic state (air temperature, string current, the cells' limits).
#pragma once

#include <cstdint>

#include "common/control/rack_mode.hpp"
#include "common/segment/chemistry.hpp"

namespace brt {

struct RackState {
    Chemistry chemistry = Chemistry::nmc;
    float capacity_ah = 100.0f;  // nominal capacity of the rack's cells
    // Set by the user (defaults, --mode, ctl mode).
    RackMode mode = RackMode::profile;
    float demand_current_a = 0.0f;
    float demand_power_w = 0.0f;
    // Resolved at each publish from mode, profile and scenarios.
    int action = 0;  // rack_control.hpp kAction*
    float action_current_a = 0.0f;
    float action_power_w = 0.0f;
    bool cv_failure = false;
    bool hvac_on = true;
    bool grid_outage = false;
    float outage_current_a = 0.0f;
    float ambient_c = 25.0f;
    float hvac_capacity_w = 0.0f;
    // Dynamic, updated every physics step.
    float air_temperature_c = 25.0f;
    float current_a = 0.0f;
    float string_voltage_v = 0.0f;
    float charge_limit_a = 0.0f;
    float float_limit_a = 0.0f;
    float discharge_limit_a = 0.0f;
    bool constant_voltage = false;
    bool cut_off = false;
    bool charge_complete = false;  // CV tapered out: hold at float until told otherwise
    // Protection (rack_step.hpp update_protection): the contactor opens on a
    // critical cell condition and stays open, current 0, until a reset.
    bool contactor_open = false;
    std::uint32_t trip_reasons = 0;             // protection:: bits that opened it (until reset)
    std::uint32_t conditions = 0;               // protection:: bits of the last step, undebounced
    std::uint32_t voltage_condition_steps = 0;  // steps a voltage condition has held
    std::uint32_t temperature_condition_steps = 0;  // steps a temperature condition has held
};

}  // namespace brt
