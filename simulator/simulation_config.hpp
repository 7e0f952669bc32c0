// Everything that shapes a run, from the command line. Units in the names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/control/control_command.hpp"  // kMinAmbientC, kMaxAmbientC
#include "common/control/rack_mode.hpp"

namespace brt {

struct SimulationConfig {
    std::uint64_t seed = 1;
    double physics_dt_s = 0.01;
    float ambient_c = 25.0f;
    // Cell-to-cell variation, drawn once per cell from the seed.
    float initial_soc_mean = 0.6f;
    float initial_soc_sigma = 0.03f;
    float capacity_sigma = 0.02f;    // relative
    float resistance_sigma = 0.05f;  // relative
    float ageing_speedup = 1.0f;
    // Rack operation.
    RackMode initial_mode = RackMode::profile;
    float charge_c_rate = 0.5f;      // CC phase of `charge`
    float discharge_c_rate = 0.3f;   // default demand of `discharge`
    float taper_c_rate = 0.05f;      // CV ends (and float starts) below this
    double profile_period_s = 1800;  // the built-in day, compressed
    std::string load_profile_csv;    // empty: the built-in daily cycle
    float balancing_current_a = 0.5f;
    float balancing_threshold_v = 0.005f;
    // Rack air and HVAC.
    float rack_air_heat_capacity_j_per_k = 30000.0f;
    float rack_to_ambient_w_per_k = 10.0f;
    float hvac_setpoint_c = 25.0f;
    float hvac_capacity_w = 1200.0f;  // at or below 30 C ambient; derates above
    float hvac_gain_w_per_k = 600.0f;
    unsigned threads = 0;  // 0: every core
};

}  // namespace brt
