// Rack operating modes. The numeric values are ABI: they are published in
// each frame's rack table (RackRecord::mode) and sent in set_rack_mode commands.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace brt {

enum class RackMode : std::uint32_t {
    idle = 0,       // no current
    charge = 1,     // constant current, then constant voltage on the highest cell, then float
    float_ = 2,     // hold the highest cell at the float voltage
    discharge = 3,  // at a current (A) or power (W) demand, stopping at the cut-off voltage
    equalize = 4,   // no string current, passive balancing on
    profile = 5,    // follow the load profile (built-in daily duty cycle or a CSV)
};
inline constexpr std::uint32_t kRackModeCount = 6;

std::string_view rack_mode_name(RackMode mode);
std::optional<RackMode> parse_rack_mode(std::string_view name);

// RackRecord::flags bits.
namespace rack_flags {
inline constexpr std::uint32_t hvac_on = 1u << 0;
inline constexpr std::uint32_t constant_voltage = 1u << 1;  // charge in its CV phase
inline constexpr std::uint32_t grid_outage = 1u << 2;       // power_outage scenario active
inline constexpr std::uint32_t charger_fault = 1u << 3;  // overcharge scenario: CV control failed
inline constexpr std::uint32_t discharge_cutoff = 1u << 4;  // demand refused: a cell is at cut-off
inline constexpr std::uint32_t paused = 1u << 5;
// The rack's protection opened its contactor: no current until a reset
// (ctl reset). Bits 8..13 say why (latched until the reset).
inline constexpr std::uint32_t contactor_open = 1u << 6;
// A charge whose CV phase tapered below C/20: charge complete, held at float
// (bit 1, constant voltage, is set too).
inline constexpr std::uint32_t charge_complete = 1u << 7;
inline constexpr std::uint32_t trip_shift = 8;                // trip reasons: flags >> 8 & 0x3F
inline constexpr std::uint32_t trip_over_voltage = 1u << 8;   // a cell above its V MSL
inline constexpr std::uint32_t trip_under_voltage = 1u << 9;  // a cell below its V MSL
inline constexpr std::uint32_t trip_over_temperature =
    1u << 10;  // above T max MSL (charge or discharge)
inline constexpr std::uint32_t trip_under_temperature = 1u << 11;  // below T min MSL
inline constexpr std::uint32_t trip_venting = 1u << 12;            // a cell vented
inline constexpr std::uint32_t trip_thermal_runaway = 1u << 13;    // a cell in thermal runaway
inline constexpr std::uint32_t trip_reasons = 0x3Fu << 8;
}  // namespace rack_flags

}  // namespace brt
