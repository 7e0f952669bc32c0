// The ambient temperatures the simulator's model is made for: its start-up
// option and every `ambient` command (ctl, the MQTT bridge) check against them.
#pragma once

namespace brt {

inline constexpr double kMinAmbientC = -50;
inline constexpr double kMaxAmbientC = 70;
inline bool ambient_in_range(double ambient_c) {
    return ambient_c >= kMinAmbientC && ambient_c <= kMaxAmbientC;  // false for NaN
}

}  // namespace brt
