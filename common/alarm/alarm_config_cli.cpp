#include "common/alarm/alarm_config_cli.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <optional>
#include <vector>

#include "common/config/config_file.hpp"
#include "common/segment/errors.hpp"

namespace brt {

namespace {

constexpr const char* kGroup = "Alarm limits (also settable in the --config file)";

// One setting: its option name, how many values it takes, and how its
// parsed numbers go into an AlarmConfig.
struct Setting {
    std::string name;
    std::size_t count;  // values expected
    bool allow_off;     // a value may be "off" (NaN): levels only
    std::string help;
    std::string default_text;
    std::function<void(AlarmConfig&, const std::vector<float>&)> apply;
};

// A number, or "off" (NaN) where allowed. Empty when it is neither.
std::optional<float> parse_number(const std::string& text, bool allow_off) {
    if (allow_off && (text == "off" || text == "OFF" || text == "none")) {
        return NAN;
    }
    if (text.empty()) {
        return std::nullopt;
    }
    errno = 0;
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || errno != 0 || !std::isfinite(value)) {
        return std::nullopt;
    }
    return static_cast<float>(value);
}

// Checks `values` against the setting; returns the numbers or a reason.
std::vector<float> parse_values(const Setting& setting, const std::vector<std::string>& values,
                                std::string& error) {
    if (values.size() != setting.count) {
        error = setting.count == 1
                    ? fmt::format("{} takes one value, got {}", setting.name, values.size())
                    : fmt::format("{} takes {} comma-separated values ({}), got {}", setting.name,
                                  setting.count, setting.help.substr(0, setting.help.find(':')),
                                  values.size());
        return {};
    }
    std::vector<float> numbers;
    for (const std::string& raw : values) {
        const auto number = parse_number(trim_blanks(raw), setting.allow_off);
        if (!number) {
            error = fmt::format("{}: '{}' is not a number{}", setting.name, trim_blanks(raw),
                                setting.allow_off ? " or off" : "");
            return {};
        }
        numbers.push_back(*number);
    }
    return numbers;
}

std::string levels_text(const LevelLimits& levels) {
    auto one = [](float value) {
        return std::isnan(value) ? std::string("off") : fmt::format("{}", value);
    };
    return fmt::format("{},{},{}", one(levels.mol), one(levels.rsl), one(levels.msl));
}

std::vector<Setting> make_settings() {
    std::vector<Setting> settings;
    const AlarmConfig defaults;
    for (Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        const std::string prefix = std::string(chemistry_name(chemistry)) + "-";
        const ChemistryLimits& d = defaults.limits(chemistry);
        auto add_levels = [&](const char* name, const char* what,
                              LevelLimits ChemistryLimits::*member) {
            settings.push_back(
                {prefix + name, 3, true,
                 fmt::format("MOL,RSL,MSL for {} racks: {}", chemistry_name(chemistry), what),
                 levels_text(d.*member),
                 [chemistry, member](AlarmConfig& config, const std::vector<float>& v) {
                     config.limits(chemistry).*member = LevelLimits{v[0], v[1], v[2]};
                 }});
        };
        add_levels("voltage-max", "highest cell voltage, V", &ChemistryLimits::voltage_max_v);
        add_levels("voltage-min", "lowest cell voltage, V", &ChemistryLimits::voltage_min_v);
        add_levels("temperature-max-charge", "hottest cell while charging, °C",
                   &ChemistryLimits::temperature_max_charge_c);
        add_levels("temperature-max-discharge", "hottest cell while discharging or resting, °C",
                   &ChemistryLimits::temperature_max_discharge_c);
        add_levels("temperature-min-charge", "coldest cell while charging, °C",
                   &ChemistryLimits::temperature_min_charge_c);
        add_levels("temperature-min-discharge", "coldest cell while discharging or resting, °C",
                   &ChemistryLimits::temperature_min_discharge_c);
        add_levels("current-max-discharge", "rack discharge current, C",
                   &ChemistryLimits::current_max_discharge_c_rate);
        add_levels("current-max-charge", "rack charge current, C",
                   &ChemistryLimits::current_max_charge_c_rate);
        add_levels("soc-max", "highest cell state of charge, fraction", &ChemistryLimits::soc_max);
        add_levels("soc-min", "lowest cell state of charge, fraction", &ChemistryLimits::soc_min);
        add_levels("soh-min", "lowest cell state of health, fraction", &ChemistryLimits::soh_min);
    }
    auto add_float = [&](const char* name, const char* help, float AlarmConfig::*member) {
        settings.push_back({name, 1, false, help, fmt::format("{}", defaults.*member),
                            [member](AlarmConfig& config, const std::vector<float>& v) {
                                config.*member = v[0];
                            }});
    };
    auto add_double = [&](const char* name, const char* help, double AlarmConfig::*member) {
        settings.push_back({name, 1, false, help, fmt::format("{}", defaults.*member),
                            [member](AlarmConfig& config, const std::vector<float>& v) {
                                config.*member = v[0];
                            }});
    };
    auto add_debounce = [&](const char* name, const char* help, Debounce AlarmConfig::*member) {
        const Debounce& d = defaults.*member;
        settings.push_back(
            {name, 2, false, help, fmt::format("{},{}", d.raise_frames, d.clear_frames),
             [name, member](AlarmConfig& config, const std::vector<float>& v) {
                 for (float count : v) {
                     if (count < 1 || count > 60000 || count != std::floor(count)) {
                         throw UsageError(fmt::format(
                             "{}: frame counts must be whole numbers from 1 to 60000", name));
                     }
                 }
                 config.*member =
                     Debounce{static_cast<std::uint32_t>(v[0]), static_cast<std::uint32_t>(v[1])};
             }});
    };
    add_float("voltage-hysteresis", "back inside a voltage limit by this much to clear, V",
              &AlarmConfig::voltage_hysteresis_v);
    add_float("temperature-hysteresis", "the same for temperature, K",
              &AlarmConfig::temperature_hysteresis_k);
    add_float("current-hysteresis", "the same for rack current, C",
              &AlarmConfig::current_hysteresis_c_rate);
    add_float("soc-hysteresis", "the same for state of charge, fraction",
              &AlarmConfig::soc_hysteresis);
    add_float("soh-hysteresis", "the same for state of health, fraction",
              &AlarmConfig::soh_hysteresis);
    add_float("charging-c-rate", "a rack charges below -this x nominal Ah (charge limits apply)",
              &AlarmConfig::charging_c_rate);
    add_debounce("voltage-debounce", "RAISE,CLEAR: frames to raise and to clear cell voltage flags",
                 &AlarmConfig::voltage_debounce);
    add_debounce("temperature-debounce", "RAISE,CLEAR: the same for temperature flags",
                 &AlarmConfig::temperature_debounce);
    add_debounce("current-debounce", "RAISE,CLEAR: the same for rack current flags",
                 &AlarmConfig::current_debounce);
    add_debounce("soc-debounce", "RAISE,CLEAR: the same for SoC and SoH flags",
                 &AlarmConfig::soc_debounce);
    add_debounce("sensor-debounce",
                 "RAISE,CLEAR: the same for plausibility, dropout, range, stuck and status",
                 &AlarmConfig::sensor_debounce);
    add_debounce("trend-debounce", "RAISE,CLEAR: the same for dT/dt and module imbalance",
                 &AlarmConfig::trend_debounce);
    add_float("voltage-plausibility", "a cell this far from its module's median voltage, V",
              &AlarmConfig::voltage_plausibility_v);
    add_float("temperature-plausibility", "a cell this far from its module's median temperature, K",
              &AlarmConfig::temperature_plausibility_k);
    settings.push_back(
        {"voltage-range", 2, false,
         "MIN,MAX: a voltage reading outside this range cannot be a cell's, V",
         fmt::format("{},{}", defaults.voltage_range_min_v, defaults.voltage_range_max_v),
         [](AlarmConfig& config, const std::vector<float>& v) {
             config.voltage_range_min_v = v[0];
             config.voltage_range_max_v = v[1];
         }});
    settings.push_back(
        {"temperature-range", 2, false,
         "MIN,MAX: the same for temperature (an open thermistor reads -40), °C",
         fmt::format("{},{}", defaults.temperature_range_min_c, defaults.temperature_range_max_c),
         [](AlarmConfig& config, const std::vector<float>& v) {
             config.temperature_range_min_c = v[0];
             config.temperature_range_max_c = v[1];
         }});
    add_double("stuck-time", "a reading unchanged this long (simulated s) while neighbours move",
               &AlarmConfig::stuck_time_s);
    settings.push_back({"stuck-frames", 1, false, "... and for at least this many frames",
                        fmt::format("{}", defaults.stuck_min_frames),
                        [](AlarmConfig& config, const std::vector<float>& v) {
                            if (v[0] < 1 || v[0] != std::floor(v[0])) {
                                throw UsageError("stuck-frames must be a whole number >= 1");
                            }
                            config.stuck_min_frames = static_cast<std::uint32_t>(v[0]);
                        }});
    add_float("temperature-rate-warning", "dT/dt early warning, K/s",
              &AlarmConfig::temperature_rate_warning_k_per_s);
    add_float("runaway-rate", "runaway confirmation: dT/dt at least this, K/s",
              &AlarmConfig::runaway_rate_k_per_s);
    add_double("runaway-confirm-time", "... held for more than this, s",
               &AlarmConfig::runaway_confirm_s);
    add_float("runaway-voltage-drop",
              "... with a voltage drop of this fraction of the module median (or T >= MOL)",
              &AlarmConfig::runaway_voltage_drop);
    add_float("imbalance-spread", "voltage spread within a module, V",
              &AlarmConfig::imbalance_spread_v);
    add_double("outlier-window",
               "resistance and self-discharge outliers are judged every this many s",
               &AlarmConfig::outlier_window_s);
    add_float("resistance-z", "robust z-score of a cell's resistance within its module",
              &AlarmConfig::resistance_z);
    add_float("resistance-min-deviation", "... and at least this fraction above the median",
              &AlarmConfig::resistance_min_deviation);
    add_float("self-discharge-z", "robust z-score of a cell's SoC loss within its module",
              &AlarmConfig::self_discharge_z);
    add_float("self-discharge-min", "... and at least this much more SoC lost, % per hour",
              &AlarmConfig::self_discharge_min_pct_per_h);
    return settings;
}

const std::vector<Setting>& settings() {
    static const std::vector<Setting> table = make_settings();
    return table;
}

// Refuses a value that is not a number (or "off" where allowed), on the
// command line and, with its line named, in the config file.
CLI::Validator number_check(bool allow_off) {
    return CLI::Validator(
        [allow_off](std::string& text) -> std::string {
            if (parse_number(trim_blanks(text), allow_off)) {
                return {};
            }
            return fmt::format("'{}' is not a number{}", trim_blanks(text),
                               allow_off ? " or off" : "");
        },
        "");
}

// [nmc] and [lfp] in the config file hold the limits of one chemistry.
std::vector<ConfigSection> chemistry_sections() {
    std::vector<ConfigSection> sections;
    for (Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        const std::string name(chemistry_name(chemistry));
        sections.push_back({name, name + "-"});
    }
    return sections;
}

}  // namespace

struct AlarmConfigOptions::Values {
    std::map<std::string, std::vector<std::string>> raw;
    CLI::Option* config_option = nullptr;
};

AlarmConfigOptions::AlarmConfigOptions(CLI::App& app) : values_(std::make_unique<Values>()) {
    // The project's --config, with a section per chemistry for the limits.
    values_->config_option = add_config_option(app, chemistry_sections());
    for (const Setting& setting : settings()) {
        auto* option =
            app.add_option("--" + setting.name, values_->raw[setting.name], setting.help);
        option->group(kGroup)
            ->default_str(setting.default_text)
            ->expected(static_cast<int>(setting.count))
            ->check(number_check(setting.allow_off));
        if (setting.count > 1) {
            option->delimiter(',');
        }
    }
}

AlarmConfigOptions::~AlarmConfigOptions() = default;

AlarmConfig AlarmConfigOptions::config() const {
    AlarmConfig config;
    for (const Setting& setting : settings()) {
        const auto found = values_->raw.find(setting.name);
        if (found == values_->raw.end() || found->second.empty()) {
            continue;
        }
        std::string error;
        const std::vector<float> numbers = parse_values(setting, found->second, error);
        if (!error.empty()) {
            throw UsageError("--" + error);
        }
        setting.apply(config, numbers);
    }
    config.validate();
    return config;
}

AlarmConfig load_alarm_config_file(const std::string& path) {
    CLI::App app{"alarm configuration"};
    AlarmConfigOptions options(app);
    const std::string program = "alarm-config";
    std::vector<const char*> argv = {program.c_str(), "--config", path.c_str()};
    try {
        app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& error) {
        throw UsageError(error.what());
    }
    return options.config();
}

}  // namespace brt
