#include "common/alarm/alarm_rules.hpp"

#include <fmt/format.h>

#include "common/segment/errors.hpp"

namespace brt {

namespace {

struct RuleInfo {
    Rule rule;
    std::string_view name;
    std::string_view unit;
    Severity fixed_severity;  // for the rules without levels
    std::string_view description;
};

constexpr RuleInfo kRules[kRuleCount] = {
    {Rule::cell_overvoltage, "cell_overvoltage", "V", Severity::info,
     "highest cell voltage of a rack above its limit"},
    {Rule::cell_undervoltage, "cell_undervoltage", "V", Severity::info,
     "lowest cell voltage of a rack below its limit"},
    {Rule::overtemperature_charge, "overtemperature_charge", "°C", Severity::info,
     "hottest cell of a charging rack above the charge limit"},
    {Rule::overtemperature_discharge, "overtemperature_discharge", "°C", Severity::info,
     "hottest cell of a discharging or resting rack above the discharge limit"},
    {Rule::undertemperature_charge, "undertemperature_charge", "°C", Severity::info,
     "coldest cell of a charging rack below the charge limit"},
    {Rule::undertemperature_discharge, "undertemperature_discharge", "°C", Severity::info,
     "coldest cell of a discharging or resting rack below the discharge limit"},
    {Rule::overcurrent_discharge, "overcurrent_discharge", "A", Severity::info,
     "rack discharge current above its limit (C-rate x nominal Ah)"},
    {Rule::overcurrent_charge, "overcurrent_charge", "A", Severity::info,
     "rack charge current above its limit (C-rate x nominal Ah)"},
    {Rule::soc_high, "soc_high", "", Severity::info,
     "highest cell state of charge of a rack above the window"},
    {Rule::soc_low, "soc_low", "", Severity::info,
     "lowest cell state of charge of a rack below the window"},
    {Rule::soh_low, "soh_low", "", Severity::info,
     "lowest cell state of health of a rack below the floor"},
    {Rule::voltage_plausibility, "voltage_plausibility", "V", Severity::warning,
     "cell voltage far from its module's median (value: the difference)"},
    {Rule::temperature_plausibility, "temperature_plausibility", "K", Severity::warning,
     "cell temperature far from its module's median (value: the difference)"},
    {Rule::sensor_dropout, "sensor_dropout", "", Severity::warning,
     "a reading is NaN or the front end reports a dropout"},
    {Rule::voltage_range, "voltage_range", "V", Severity::warning,
     "voltage reading outside the physical range"},
    {Rule::temperature_range, "temperature_range", "°C", Severity::warning,
     "temperature reading outside the physical range"},
    {Rule::voltage_stuck, "voltage_stuck", "s", Severity::warning,
     "voltage reading unchanged while the module's other readings move (value: seconds)"},
    {Rule::temperature_stuck, "temperature_stuck", "s", Severity::warning,
     "temperature reading unchanged while the module's other readings move (value: seconds)"},
    {Rule::sensor_status, "sensor_status", "", Severity::warning,
     "the front end flags a sensor fault (value: the status word)"},
    {Rule::temperature_rise_rate, "temperature_rise_rate", "K/s", Severity::warning,
     "temperature rising fast: thermal runaway early warning"},
    {Rule::thermal_runaway, "thermal_runaway", "K/s", Severity::critical,
     "thermal runaway confirmed: dT/dt held with a voltage drop or over-temperature (latched)"},
    {Rule::voltage_imbalance, "voltage_imbalance", "V", Severity::warning,
     "voltage spread (max - min) within a module"},
    {Rule::resistance_outlier, "resistance_outlier", "", Severity::warning,
     "resistance stands out from the module's peers (value: robust z-score)"},
    {Rule::self_discharge, "self_discharge", "%/h", Severity::warning,
     "loses charge faster than the module's peers (value: excess SoC loss per hour)"},
    {Rule::writer_liveness, "writer_liveness", "s", Severity::critical,
     "the writer is stale or gone: no fresh measurements (value: heartbeat age)"},
    {Rule::cell_venting, "cell_venting", "", Severity::critical,
     "the cell vented: its gas sensor tripped; the cell is out of service (latched)"},
    {Rule::alarm_system, "alarm_system", "s", Severity::critical,
     "the alarm monitor is not running: alarms are not being evaluated (value: heartbeat age)"},
    {Rule::rack_protection_trip, "rack_protection_trip", "", Severity::critical,
     "the rack's BMS opened its contactor on a critical cell condition (value: the trip "
     "reasons, rack flag bits 8..13 shifted down)"},
};

const RuleInfo& info(Rule rule) {
    return kRules[static_cast<std::size_t>(rule)];
}

void check_levels(const std::string& name, const LevelLimits& levels, bool maximum) {
    const float values[3] = {levels.mol, levels.rsl, levels.msl};
    float previous = NAN;
    for (float value : values) {
        if (std::isinf(value)) {
            throw UsageError(fmt::format("{}: limits must be finite numbers or off", name));
        }
        if (std::isnan(value)) {
            continue;
        }
        if (!std::isnan(previous) && (maximum ? value < previous : value > previous)) {
            throw UsageError(fmt::format(
                "{}: levels must be in the order MOL, RSL, MSL, each {} than the one before "
                "(got {}, {}, {})",
                name, maximum ? "no lower" : "no higher", levels.mol, levels.rsl, levels.msl));
        }
        previous = value;
    }
}

void check_positive(const char* name, double value, bool allow_zero = false) {
    if (!std::isfinite(value) || value < 0 || (!allow_zero && value == 0)) {
        throw UsageError(fmt::format("{} must be a {} number, got {}", name,
                                     allow_zero ? "non-negative" : "positive", value));
    }
}

void check_debounce(const char* name, const Debounce& debounce) {
    if (debounce.raise_frames == 0 || debounce.clear_frames == 0 || debounce.raise_frames > 60000 ||
        debounce.clear_frames > 60000) {
        throw UsageError(fmt::format("{}: frame counts must be between 1 and 60000", name));
    }
}

}  // namespace

std::string_view severity_name(Severity severity) {
    switch (severity) {
        case Severity::info:
            return "info";
        case Severity::warning:
            return "warning";
        case Severity::critical:
            return "critical";
    }
    return "unknown";
}

std::optional<Severity> parse_severity(std::string_view name) {
    for (Severity severity : {Severity::info, Severity::warning, Severity::critical}) {
        if (severity_name(severity) == name) {
            return severity;
        }
    }
    return std::nullopt;
}

int syslog_priority(Severity severity) {
    switch (severity) {
        case Severity::critical:
            return 2;
        case Severity::warning:
            return 4;
        case Severity::info:
            return 6;
    }
    return 6;
}

std::string_view rule_name(Rule rule) {
    return info(rule).name;
}

std::string_view rule_unit(Rule rule) {
    return info(rule).unit;
}

std::string_view rule_description(Rule rule) {
    return info(rule).description;
}

Severity rule_fixed_severity(Rule rule) {
    return info(rule).fixed_severity;
}

bool rule_lower_is_worse(Rule rule) {
    switch (rule) {
        case Rule::cell_undervoltage:
        case Rule::undertemperature_charge:
        case Rule::undertemperature_discharge:
        case Rule::soc_low:
        case Rule::soh_low:
            return true;
        default:
            return false;
    }
}

std::optional<Rule> rule_from_code(std::uint32_t code) {
    if (code >= kRuleCount) {
        return std::nullopt;
    }
    return static_cast<Rule>(code);
}

ChemistryLimits default_chemistry_limits(Chemistry chemistry) {
    ChemistryLimits limits;
    const bool lfp = chemistry == Chemistry::lfp;
    // Cell voltage: shared/data/README.md, "Safety limits" (common datasheet
    // figures), the same MSL the simulator's cell model uses.
    limits.voltage_max_v =
        lfp ? LevelLimits{3.55f, 3.60f, 3.65f} : LevelLimits{4.15f, 4.20f, 4.25f};
    limits.voltage_min_v =
        lfp ? LevelLimits{2.70f, 2.60f, 2.50f} : LevelLimits{3.00f, 2.90f, 2.80f};
    // Temperature: the same README, for both chemistries.
    limits.temperature_max_charge_c = {35.0f, 40.0f, 45.0f};
    limits.temperature_max_discharge_c = {45.0f, 50.0f, 55.0f};
    limits.temperature_min_discharge_c = {-10.0f, -15.0f, -20.0f};
    // Charging below 0 °C plates lithium on the anode: datasheets of both
    // chemistries allow charge from 0 °C only, so that is the MSL, with the
    // warning and information levels a few kelvin above it.
    limits.temperature_min_charge_c = {5.0f, 2.0f, 0.0f};
    // Current, in C: NMC energy cells are rated about 1 C continuous and 2 C
    // peak; 280 Ah LFP prismatics 0.5 C standard and 1 C maximum, both ways.
    limits.current_max_discharge_c_rate =
        lfp ? LevelLimits{0.8f, 1.0f, 1.2f} : LevelLimits{1.0f, 1.5f, 2.0f};
    limits.current_max_charge_c_rate =
        lfp ? LevelLimits{0.8f, 1.0f, 1.2f} : LevelLimits{0.7f, 1.0f, 1.5f};
    // SoC window: CC/CV charging stops short of 100 % and the discharge
    // cut-off leaves a few per cent; a cell counted past 100 % is overcharged.
    limits.soc_max = {0.98f, 1.00f, 1.02f};
    limits.soc_min = {0.10f, 0.05f, 0.02f};
    // SoH floor: 80 % of nominal capacity is the usual end of life.
    limits.soh_min = {0.80f, 0.70f, 0.60f};
    return limits;
}

void AlarmConfig::validate() const {
    for (Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        const ChemistryLimits& l = limits(chemistry);
        const std::string prefix = std::string(chemistry_name(chemistry)) + "-";
        check_levels(prefix + "voltage-max", l.voltage_max_v, true);
        check_levels(prefix + "voltage-min", l.voltage_min_v, false);
        check_levels(prefix + "temperature-max-charge", l.temperature_max_charge_c, true);
        check_levels(prefix + "temperature-max-discharge", l.temperature_max_discharge_c, true);
        check_levels(prefix + "temperature-min-charge", l.temperature_min_charge_c, false);
        check_levels(prefix + "temperature-min-discharge", l.temperature_min_discharge_c, false);
        check_levels(prefix + "current-max-discharge", l.current_max_discharge_c_rate, true);
        check_levels(prefix + "current-max-charge", l.current_max_charge_c_rate, true);
        check_levels(prefix + "soc-max", l.soc_max, true);
        check_levels(prefix + "soc-min", l.soc_min, false);
        check_levels(prefix + "soh-min", l.soh_min, false);
    }
    check_positive("voltage-hysteresis", voltage_hysteresis_v, true);
    check_positive("temperature-hysteresis", temperature_hysteresis_k, true);
    check_positive("current-hysteresis", current_hysteresis_c_rate, true);
    check_positive("soc-hysteresis", soc_hysteresis, true);
    check_positive("soh-hysteresis", soh_hysteresis, true);
    check_positive("charging-c-rate", charging_c_rate, true);
    check_debounce("voltage-debounce", voltage_debounce);
    check_debounce("temperature-debounce", temperature_debounce);
    check_debounce("current-debounce", current_debounce);
    check_debounce("soc-debounce", soc_debounce);
    check_debounce("sensor-debounce", sensor_debounce);
    check_debounce("trend-debounce", trend_debounce);
    check_positive("voltage-plausibility", voltage_plausibility_v);
    check_positive("temperature-plausibility", temperature_plausibility_k);
    if (!(voltage_range_min_v < voltage_range_max_v)) {
        throw UsageError("voltage-range: the minimum must be below the maximum");
    }
    if (!(temperature_range_min_c < temperature_range_max_c)) {
        throw UsageError("temperature-range: the minimum must be below the maximum");
    }
    check_positive("stuck-time", stuck_time_s);
    if (stuck_min_frames == 0) {
        throw UsageError("stuck-frames must be at least 1");
    }
    check_positive("temperature-rate-warning", temperature_rate_warning_k_per_s);
    check_positive("runaway-rate", runaway_rate_k_per_s);
    check_positive("runaway-confirm-time", runaway_confirm_s, true);
    if (!(runaway_voltage_drop > 0 && runaway_voltage_drop < 1)) {
        throw UsageError(
            fmt::format("runaway-voltage-drop must be a fraction between 0 and 1, got {}",
                        runaway_voltage_drop));
    }
    check_positive("imbalance-spread", imbalance_spread_v);
    check_positive("outlier-window", outlier_window_s);
    check_positive("resistance-z", resistance_z);
    check_positive("resistance-min-deviation", resistance_min_deviation, true);
    check_positive("self-discharge-z", self_discharge_z);
    check_positive("self-discharge-min", self_discharge_min_pct_per_h, true);
}

}  // namespace brt
