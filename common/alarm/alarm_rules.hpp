// The alarm rules and their limits: what the anomaly monitor and the
// WebSocket bridge check on every frame, with the same configuration.
//
// Levels in the style of foxBMS 2 (../docs/anomaly-monitor.md):
//   MOL, maximum operating limit   -> Severity::info
//   RSL, recommended safety limit  -> Severity::warning
//   MSL, maximum safety limit      -> Severity::critical
// Limits are per chemistry (the segment says which chemistry each rack
// holds); the default figures come from the reference data in
// shared/data/README.md ("Safety limits"), with the reasons beside each value
// in alarm_rules.cpp.
//
// An AlarmConfig is plain data: build it with defaults (AlarmConfig{}), change
// fields in code, or fill it from a CLI11 config file and the command line
// with AlarmConfigOptions (alarm_config_cli.hpp). validate() before use.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/segment/chemistry.hpp"

namespace brt {

enum class Severity : std::uint8_t {
    info = 0,      // MOL reached: operate with care
    warning = 1,   // RSL reached: act (derate, investigate)
    critical = 2,  // MSL reached: unsafe, a BMS would open the contactors
};
inline constexpr std::size_t kSeverityCount = 3;

std::string_view severity_name(Severity severity);  // "info", "warning", "critical"
std::optional<Severity> parse_severity(std::string_view name);
// The syslog priority journald records for a raise event of this severity:
// critical 2 (crit), warning 4 (warning), info 6 (info). Clear events use 5
// (notice).
int syslog_priority(Severity severity);
inline constexpr int kSyslogPriorityClear = 5;

// Every rule the engine evaluates. The names (rule_name) are part of the
// output format: scripts match on them.
enum class Rule : std::uint8_t {
    // Limits, three levels each, evaluated per rack on its worst cell.
    cell_overvoltage,
    cell_undervoltage,
    overtemperature_charge,      // while the rack charges
    overtemperature_discharge,   // while it discharges or rests
    undertemperature_charge,     // while the rack charges (lithium plating below 0 °C)
    undertemperature_discharge,  // while it discharges or rests
    overcurrent_discharge,       // rack string current, discharge positive
    overcurrent_charge,
    soc_high,
    soc_low,
    soh_low,
    // Plausibility, per cell (warning).
    voltage_plausibility,      // far from its module's median voltage
    temperature_plausibility,  // far from its module's median temperature
    sensor_dropout,            // a NaN reading or the dropout status bit
    voltage_range,             // at or beyond the converter's physical range
    temperature_range,
    voltage_stuck,  // no change for a while although the module's other readings move
    temperature_stuck,
    sensor_status,  // the front end flags a sensor fault (status bits 0..6)
    // Trends.
    temperature_rise_rate,  // dT/dt early warning, per cell (warning)
    thermal_runaway,        // confirmed (GB 38031 rule), per cell (critical, latched)
    voltage_imbalance,      // voltage spread within a module (warning)
    resistance_outlier,     // robust z-score against the module's peers (warning)
    self_discharge,         // loses charge faster than its module's peers (warning)
    // The writer itself.
    writer_liveness,  // stale or gone (critical)
    // Appended after the first release: the codes above are in the alarm
    // segment (docs/alarm-segment.md) and never move.
    cell_venting,  // the cell's vent gas sensor tripped (critical, latched)
    alarm_system,  // the alarm monitor is not running: raised by the readers themselves
    // The rack's BMS opened its contactor (rack flag contactor_open), per
    // rack (critical; clears at the reset).
    rack_protection_trip,
};
inline constexpr std::size_t kRuleCount = static_cast<std::size_t>(Rule::rack_protection_trip) + 1;

std::string_view rule_name(Rule rule);
std::string_view rule_unit(Rule rule);  // "V", "°C", "A", "K/s", "%/h", ...
// One line for people (docs, --help).
std::string_view rule_description(Rule rule);
// The severity of the single-level rules (plausibility, trends, liveness).
Severity rule_fixed_severity(Rule rule);
// Rules whose worst value is the lowest one (the minimum limits); for the
// others it is the one furthest from zero.
bool rule_lower_is_worse(Rule rule);
// Rule from its code in the alarm segment; empty for an unknown code.
std::optional<Rule> rule_from_code(std::uint32_t code);

// MOL / RSL / MSL for one quantity. A NaN level is switched off.
struct LevelLimits {
    float mol = NAN;
    float rsl = NAN;
    float msl = NAN;

    float at(Severity severity) const {
        return severity == Severity::info ? mol : severity == Severity::warning ? rsl : msl;
    }
};

struct ChemistryLimits {
    LevelLimits voltage_max_v;
    LevelLimits voltage_min_v;
    LevelLimits temperature_max_charge_c;
    LevelLimits temperature_max_discharge_c;
    LevelLimits temperature_min_charge_c;
    LevelLimits temperature_min_discharge_c;
    LevelLimits current_max_discharge_c_rate;  // in C: amps = C x the rack's nominal Ah
    LevelLimits current_max_charge_c_rate;
    LevelLimits soc_max;  // fractions 0..1
    LevelLimits soc_min;
    LevelLimits soh_min;
};

// The defaults documented in docs/anomaly-monitor.md.
ChemistryLimits default_chemistry_limits(Chemistry chemistry);

// Up/down counter: a flag raises after `raise_frames` more bad frames than
// good ones, and clears after `clear_frames` more good frames than bad ones
// (good meaning back inside the limit by the hysteresis).
struct Debounce {
    std::uint32_t raise_frames = 1;
    std::uint32_t clear_frames = 1;
};

struct AlarmConfig {
    ChemistryLimits nmc = default_chemistry_limits(Chemistry::nmc);
    ChemistryLimits lfp = default_chemistry_limits(Chemistry::lfp);

    // A flag clears only once the value is back inside its limit by this much.
    float voltage_hysteresis_v = 0.02f;
    float temperature_hysteresis_k = 2.0f;
    float current_hysteresis_c_rate = 0.05f;
    float soc_hysteresis = 0.02f;
    float soh_hysteresis = 0.01f;
    // A rack charges while its current is below -charging_c_rate x nominal Ah
    // (discharge positive): the charge temperature limits (maximum and
    // minimum) apply then, the discharge ones otherwise.
    float charging_c_rate = 0.01f;

    Debounce voltage_debounce{5, 5};        // 0.5 s at 10 frames/s (foxBMS: 50 x 10 ms)
    Debounce temperature_debounce{10, 10};  // 1 s
    Debounce current_debounce{3, 3};
    Debounce soc_debounce{10, 10};    // SoC and SoH
    Debounce sensor_debounce{5, 10};  // plausibility, dropout, range, stuck, status
    Debounce trend_debounce{5, 20};   // rise rate and module imbalance

    // Plausibility (foxBMS: 300 mV and 10 K from the string average).
    float voltage_plausibility_v = 0.3f;
    float temperature_plausibility_k = 10.0f;
    // Physical range: a reading outside it cannot be a cell's. An open
    // thermistor reads the bottom of its -40 C measuring range, so the
    // temperature range starts just above that rail.
    float voltage_range_min_v = 0.0f;
    float voltage_range_max_v = 5.0f;
    float temperature_range_min_c = -39.5f;
    float temperature_range_max_c = 1000.0f;
    // Stuck: unchanged for this much time (the frames' simulated time) and
    // this many frames, while at least half of the module's other cells moved.
    double stuck_time_s = 30.0;
    std::uint32_t stuck_min_frames = 50;

    // Trends. dT/dt is estimated per cell from the frames' timestamps.
    float temperature_rate_warning_k_per_s = 0.1f;
    // GB 38031-2025 confirmation: dT/dt >= 1 K/s for more than 3 s, with a
    // voltage drop of more than 25 % or T >= the maximum operating temperature.
    float runaway_rate_k_per_s = 1.0f;
    double runaway_confirm_s = 3.0;
    float runaway_voltage_drop = 0.25f;  // fraction of the module's median voltage
    float imbalance_spread_v = 0.25f;    // max - min cell voltage within a module
    // Robust z-score (median and MAD of the module), evaluated once per window.
    double outlier_window_s = 60.0;
    float resistance_z = 6.0f;
    float resistance_min_deviation = 0.25f;  // and at least this fraction above the median
    float self_discharge_z = 6.0f;
    float self_discharge_min_pct_per_h = 1.0f;  // and at least this much SoC (%) per hour more

    const ChemistryLimits& limits(Chemistry chemistry) const {
        return chemistry == Chemistry::lfp ? lfp : nmc;
    }
    ChemistryLimits& limits(Chemistry chemistry) { return chemistry == Chemistry::lfp ? lfp : nmc; }

    // Throws UsageError naming the setting: levels out of order (MOL <= RSL <=
    // MSL for a maximum, the reverse for a minimum), negative hysteresis, a
    // zero debounce count, an empty range...
    void validate() const;
};

}  // namespace brt
