#include "common/control/scenario.hpp"

#include <fmt/format.h>

#include <charconv>
#include <fstream>

#include "common/segment/errors.hpp"

namespace brt {

namespace {

const std::vector<ScenarioInfo> kCatalogue = {
    {ScenarioKind::normal, "normal", "Normal operation: clears every scenario at the target", "-",
     0},
    {ScenarioKind::high_ambient, "high_ambient",
     "Hot weather: the ambient air around the racks rises", "temperature rise, K", 15},
    {ScenarioKind::power_outage, "power_outage",
     "Grid lost: racks discharge to carry the site load and cannot charge; SoC drains until "
     "the cut-off",
     "discharge rate, C", 0.5},
    {ScenarioKind::hvac_failure, "hvac_failure",
     "HVAC off: rack air and cells heat up under their own losses", "-", 0},
    {ScenarioKind::accelerated_degradation, "accelerated_degradation",
     "Ageing runs faster: capacity fades and resistance grows", "ageing speed factor", 2000},
    {ScenarioKind::thermal_runaway, "thermal_runaway",
     "Abuse test: a heater on each target cell until it runs away, then off (1 h time-out); "
     "runaway can spread to neighbours",
     "heater power, W (the default below is NMC's; LFP's is 1500)", 400},
    {ScenarioKind::internal_short, "internal_short",
     "A soft internal short: the cell self-discharges and heats", "short resistance, ohm", 0.5},
    {ScenarioKind::cell_imbalance, "cell_imbalance",
     "The target cells lose charge at once (balancing in equalize mode brings them back)",
     "SoC drop, fraction", 0.08},
    {ScenarioKind::overcharge, "overcharge",
     "Charger CV failure: the rack charges at constant current past the cells' CV voltage "
     "until its protection trips at their maximum safety voltage",
     "-", 0},
    {ScenarioKind::sensor_fault, "sensor_fault",
     "A measurement fault (kind=stuck|offset|dropout|open_wire, sensor=voltage|temperature); "
     "the true state is unaffected",
     "offset, V or K (kind=offset)", 0.05},
};

double parse_number(std::string_view key, std::string_view text) {
    double value = 0;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    if (result.ec != std::errc() || result.ptr != text.data() + text.size() ||
        !std::isfinite(value)) {
        throw UsageError(fmt::format("scenario {}={}: not a number", key, text));
    }
    return value;
}

std::uint32_t parse_index(std::string_view key, std::string_view text) {
    if (text == "all") {
        return kAllTargets;
    }
    const double value = parse_number(key, text);
    if (value < 0 || value != std::floor(value) || value >= kAllTargets) {
        throw UsageError(fmt::format("scenario {}={}: not a valid index", key, text));
    }
    return static_cast<std::uint32_t>(value);
}

}  // namespace

const std::vector<ScenarioInfo>& scenario_catalogue() {
    return kCatalogue;
}

const ScenarioInfo* find_scenario(std::string_view name) {
    for (const auto& info : kCatalogue) {
        if (info.name == name) {
            return &info;
        }
    }
    return nullptr;
}

const ScenarioInfo* find_scenario(ScenarioKind kind) {
    for (const auto& info : kCatalogue) {
        if (info.kind == kind) {
            return &info;
        }
    }
    return nullptr;
}

std::string_view fault_kind_name(FaultKind kind) {
    switch (kind) {
        case FaultKind::stuck:
            return "stuck";
        case FaultKind::offset:
            return "offset";
        case FaultKind::dropout:
            return "dropout";
        case FaultKind::open_wire:
            return "open_wire";
    }
    return "unknown";
}

std::optional<FaultKind> parse_fault_kind(std::string_view name) {
    for (auto kind :
         {FaultKind::stuck, FaultKind::offset, FaultKind::dropout, FaultKind::open_wire}) {
        if (fault_kind_name(kind) == name) {
            return kind;
        }
    }
    return std::nullopt;
}

CellRange target_cells(const Geometry& geometry, const Target& target) {
    if (target.rack == kAllTargets) {
        if (target.module != kAllTargets || target.cell != kAllTargets) {
            throw UsageError("a module or cell target needs a rack too");
        }
        return whole_frame(geometry);
    }
    if (target.module == kAllTargets) {
        if (target.cell != kAllTargets) {
            throw UsageError("a cell target needs a module too");
        }
        return rack_range(geometry, target.rack);
    }
    CellRange range = module_range(geometry, target.rack, target.module);
    if (target.cell == kAllTargets) {
        return range;
    }
    if (target.cell >= geometry.cells_per_module) {
        throw UsageError(fmt::format("cell {} does not exist: modules have cells 0..{}",
                                     target.cell, geometry.cells_per_module - 1));
    }
    return {range.first_cell + target.cell, 1};
}

std::string target_text(const Target& target) {
    if (target.rack == kAllTargets) {
        return "system";
    }
    std::string text = fmt::format("rack {}", target.rack);
    if (target.module != kAllTargets) {
        text += fmt::format(" module {}", target.module);
    }
    if (target.cell != kAllTargets) {
        text += fmt::format(" cell {}", target.cell);
    }
    return text;
}

double ScenarioSpec::magnitude_or_default() const {
    if (!std::isnan(magnitude)) {
        return magnitude;
    }
    const ScenarioInfo* info = find_scenario(kind);
    return info ? info->default_magnitude : 0.0;
}

ScenarioSpec parse_scenario_spec(std::string_view text) {
    auto is_separator = [](char c) { return c == ',' || c == ' ' || c == '\t' || c == ':'; };
    std::vector<std::string_view> parts;
    std::size_t begin = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || is_separator(text[i])) {
            if (i > begin) {
                parts.push_back(text.substr(begin, i - begin));
            }
            begin = i + 1;
        }
    }
    if (parts.empty()) {
        throw UsageError(
            "empty scenario: give a name such as thermal_runaway (see --list-scenarios)");
    }
    const ScenarioInfo* info = find_scenario(parts[0]);
    if (info == nullptr) {
        throw UsageError(fmt::format("unknown scenario '{}' (see --list-scenarios)", parts[0]));
    }
    ScenarioSpec spec;
    spec.kind = info->kind;
    for (std::size_t i = 1; i < parts.size(); ++i) {
        const auto equals = parts[i].find('=');
        if (equals == std::string_view::npos) {
            throw UsageError(fmt::format("scenario option '{}' is not key=value", parts[i]));
        }
        const std::string_view key = parts[i].substr(0, equals);
        const std::string_view value = parts[i].substr(equals + 1);
        if (key == "rack") {
            spec.target.rack = parse_index(key, value);
        } else if (key == "module") {
            spec.target.module = parse_index(key, value);
        } else if (key == "cell") {
            spec.target.cell = parse_index(key, value);
        } else if (key == "start") {
            spec.start_s = parse_number(key, value);
        } else if (key == "duration") {
            spec.duration_s = parse_number(key, value);
        } else if (key == "magnitude") {
            spec.magnitude = parse_number(key, value);
        } else if (key == "kind") {
            const auto fault = parse_fault_kind(value);
            if (!fault) {
                throw UsageError(fmt::format(
                    "unknown sensor fault kind '{}'; known: stuck, offset, dropout, open_wire",
                    value));
            }
            spec.fault = *fault;
        } else if (key == "sensor") {
            spec.sensor = parse_fault_sensor(value);
        } else {
            throw UsageError(fmt::format(
                "unknown scenario option '{}'; known: rack, module, cell, start, duration, "
                "magnitude, kind, sensor",
                key));
        }
    }
    validate_scenario_spec(spec);
    return spec;
}

FaultSensor parse_fault_sensor(std::string_view name) {
    if (name == "voltage") {
        return FaultSensor::voltage;
    }
    if (name == "temperature") {
        return FaultSensor::temperature;
    }
    throw UsageError(fmt::format("sensor '{}': use voltage or temperature", name));
}

MagnitudeRange scenario_magnitude_range(ScenarioKind kind, FaultKind fault, FaultSensor sensor) {
    switch (kind) {
        case ScenarioKind::high_ambient:
            // A heat wave on an outdoor enclosure: up to 35 K over the set
            // ambient (25 C + 35 K = 60 C, a sun-heated container).
            return {true, 0, 35, "K", "a heat wave over the set ambient"};
        case ScenarioKind::power_outage:
            // The site load a rack carries: a stationary rack is rated for
            // 0.5-1 C; 2 C is beyond any ESS rating.
            return {true, 0, 2, "C", "a stationary rack's discharge rating"};
        case ScenarioKind::accelerated_degradation:
            // 1 = real time; 1e7 puts a 15-year life into 13 hours.
            return {true, 1, 1e7, "x", "real time to 15 years in 13 hours"};
        case ScenarioKind::thermal_runaway:
            // Abuse-test heaters on large-format cells deliver a few hundred
            // watts to about 2 kW; 10 kW is far above any test standard's.
            return {true, 0, 10'000, "W", "abuse-test heaters: hundreds of W to about 2 kW"};
        case ScenarioKind::internal_short:
            // From a hard short (1 mOhm, about the cell's own resistance)
            // to a soft one that barely self-discharges (1 kOhm).
            return {true, 0.001, 1000, "ohm", "a hard short to a barely measurable one"};
        case ScenarioKind::cell_imbalance:
            return {true, 0, 1, "SoC fraction", "a share of the charge"};
        case ScenarioKind::sensor_fault:
            if (fault != FaultKind::offset) {
                return {};
            }
            // A calibration offset within a front end's reach: a cell
            // voltage channel spans about 0-5 V, a thermistor -40..125 C.
            return sensor == FaultSensor::voltage
                       ? MagnitudeRange{true, -1, 1, "V", "a voltage channel's calibration error"}
                       : MagnitudeRange{true, -50, 50, "K", "a thermistor's calibration error"};
        case ScenarioKind::normal:
        case ScenarioKind::hvac_failure:
        case ScenarioKind::overcharge:
            return {};
    }
    return {};
}

std::string magnitude_range_text(const MagnitudeRange& range) {
    if (!range.used) {
        return "-";
    }
    return fmt::format("{}..{} {}", range.min, range.max, range.unit);
}

std::string scenario_spec_problem(const ScenarioSpec& spec) {
    if (!(spec.start_s >= 0 && spec.start_s <= kMaxScenarioStartS)) {  // NaN fails both
        return fmt::format("a scenario's start {:g} s is outside 0..{} s (one year)", spec.start_s,
                           kMaxScenarioStartS);
    }
    if (!(spec.duration_s >= 0 && spec.duration_s <= kMaxScenarioDurationS)) {
        return fmt::format(
            "a scenario's duration {:g} s is outside 0..{} s (one year; 0 = until cleared)",
            spec.duration_s, kMaxScenarioDurationS);
    }
    if (std::isinf(spec.magnitude)) {
        return "a scenario's magnitude must be finite";
    }
    const MagnitudeRange range = scenario_magnitude_range(spec.kind, spec.fault, spec.sensor);
    if (range.used && !std::isnan(spec.magnitude) &&
        !(spec.magnitude >= range.min && spec.magnitude <= range.max)) {
        const ScenarioInfo* info = find_scenario(spec.kind);
        return fmt::format("{} magnitude {:g} is outside {} ({})", info ? info->name : "scenario",
                           spec.magnitude, magnitude_range_text(range), range.why);
    }
    return {};
}

void validate_scenario_spec(const ScenarioSpec& spec) {
    if (std::string problem = scenario_spec_problem(spec); !problem.empty()) {
        throw UsageError(std::move(problem));
    }
}

Command encode_apply_command(const ScenarioSpec& spec) {
    Command command;
    command.kind = CommandKind::apply_scenario;
    command.rack = spec.target.rack;
    command.module = spec.target.module;
    command.cell = spec.target.cell;
    command.code = static_cast<std::uint32_t>(spec.kind);
    command.args[0] = spec.start_s;
    command.args[1] = spec.duration_s;
    command.args[2] = spec.magnitude;
    command.args[3] = static_cast<double>(spec.fault);
    command.args[4] = static_cast<double>(spec.sensor);
    return command;
}

std::optional<ScenarioSpec> decode_apply_command(const Command& command) {
    const ScenarioInfo* info = find_scenario(static_cast<ScenarioKind>(command.code));
    if (info == nullptr) {
        return std::nullopt;
    }
    ScenarioSpec spec;
    spec.kind = info->kind;
    spec.target = {command.rack, command.module, command.cell};
    spec.start_s = command.args[0];
    spec.duration_s = command.args[1];
    spec.magnitude = command.args[2];
    // Only sensor_fault reads the fault kind and the sensor; other scenarios
    // ignore args[3] and args[4], so a producer that leaves them zero (as
    // docs/segment-format.md allows) is not refused.
    if (spec.kind == ScenarioKind::sensor_fault) {
        const double fault = command.args[3];
        const double sensor = command.args[4];
        if (!(fault == 1 || fault == 2 || fault == 3 || fault == 4) ||
            !(sensor == 0 || sensor == 1)) {
            return std::nullopt;
        }
        spec.fault = static_cast<FaultKind>(static_cast<std::uint32_t>(fault));
        spec.sensor = static_cast<FaultSensor>(static_cast<std::uint32_t>(sensor));
    }
    // The ranges, checked here so that every producer is held to them.
    if (!scenario_spec_problem(spec).empty()) {
        return std::nullopt;
    }
    return spec;
}

std::vector<ScenarioSpec> load_scenario_file(const std::string& path) {
    std::ifstream file(path);
    if (!file) {
        throw UsageError(fmt::format("cannot read scenario file {}", path));
    }
    std::vector<ScenarioSpec> specs;
    std::string line;
    for (int number = 1; std::getline(file, line); ++number) {
        if (const auto hash = line.find('#'); hash != std::string::npos) {
            line.erase(hash);
        }
        if (line.find_first_not_of(" \t\r") == std::string::npos) {
            continue;
        }
        try {
            specs.push_back(parse_scenario_spec(line));
        } catch (const UsageError& error) {
            throw UsageError(fmt::format("{}:{}: {}", path, number, error.what()));
        }
    }
    return specs;
}

}  // namespace brt
