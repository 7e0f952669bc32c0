#include "common/control/control_json.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/alarm/alarm_board.hpp"
#include "common/config/config_file.hpp"
#include "common/control/scenario.hpp"
#include "common/segment/errors.hpp"

namespace brt {

namespace {

using nlohmann::json;

// Alarm ids count up from 1 and stay below 2^63 (docs/alarm-segment.md).
constexpr std::uint64_t kMaxAlarmId = std::numeric_limits<std::int64_t>::max();
// A correlation id is echoed back; a longer one is someone's mistake.
constexpr std::size_t kMaxCorrelationIdBytes = 256;

json parse_body(std::string_view text, const JsonCommandVerb& verb) {
    const json body =
        trim_blanks(text).empty() ? json::object() : json::parse(text, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        throw UsageError(fmt::format("the payload must be one JSON object, e.g. {}", verb.example));
    }
    return body;
}

std::string shown(const json& value) {
    return value.dump().substr(0, 60);
}

std::uint32_t target_index(const json& body, const char* key) {
    const auto found = body.find(key);
    if (found == body.end() || found->is_null() ||
        (found->is_string() && found->get<std::string>() == "all")) {
        return kAllTargets;
    }
    if (found->is_number_unsigned() && found->get<std::uint64_t>() < kAllTargets) {
        return static_cast<std::uint32_t>(found->get<std::uint64_t>());
    }
    throw UsageError(fmt::format("\"{}\" must be a non-negative integer or \"all\", got {}", key,
                                 shown(*found)));
}

double number_field(const json& body, const char* key, double fallback) {
    const auto found = body.find(key);
    if (found == body.end() || found->is_null()) {
        return fallback;
    }
    if (!found->is_number() || !std::isfinite(found->get<double>())) {
        throw UsageError(fmt::format("\"{}\" must be a number, got {}", key, shown(*found)));
    }
    return found->get<double>();
}

std::string string_field(const json& body, const char* key, const std::string& fallback) {
    const auto found = body.find(key);
    if (found == body.end() || found->is_null()) {
        return fallback;
    }
    if (!found->is_string()) {
        throw UsageError(fmt::format("\"{}\" must be a string, got {}", key, shown(*found)));
    }
    return found->get<std::string>();
}

Target body_target(const json& body) {
    return {target_index(body, "rack"), target_index(body, "module"), target_index(body, "cell")};
}

std::string scenario_names() {
    std::string names;
    for (const ScenarioInfo& info : scenario_catalogue()) {
        names += names.empty() ? "" : ", ";
        names += info.name;
    }
    return names;
}

ControlCommand apply_command(const json& body, const Geometry& geometry) {
    ScenarioSpec spec;
    if (const auto text = body.find("spec"); text != body.end()) {
        // The simulator's own spec syntax, e.g. "thermal_runaway:rack=3,module=2".
        if (!text->is_string()) {
            throw UsageError("\"spec\" must be a string like \"hvac_failure:rack=2\"");
        }
        spec = parse_scenario_spec(text->get<std::string>());
    } else {
        const std::string name = string_field(body, "scenario", "");
        const ScenarioInfo* info = find_scenario(name);
        if (info == nullptr) {
            throw UsageError(fmt::format("unknown scenario \"{}\": one of {}", name.substr(0, 60),
                                         scenario_names()));
        }
        spec.kind = info->kind;
        spec.target = body_target(body);
        spec.start_s = number_field(body, "start_s", 0);
        spec.duration_s = number_field(body, "duration_s", 0);
        spec.magnitude = number_field(body, "magnitude", NAN);
        const auto fault = parse_fault_kind(string_field(body, "kind", "dropout"));
        if (!fault) {
            throw UsageError("\"kind\" must be stuck, offset, dropout or open_wire");
        }
        spec.fault = *fault;
        spec.sensor = parse_fault_sensor(string_field(body, "sensor", "voltage"));
    }
    return make_apply_command(spec, geometry);
}

std::uint64_t alarm_id(const json& body, bool required) {
    const auto found = body.find("id");
    if (found == body.end() || found->is_null()) {
        if (required) {
            throw UsageError(
                fmt::format("\"id\" is required: an alarm id from 1 to {}", kMaxAlarmId));
        }
        return 0;  // every unacknowledged alarm
    }
    if (!found->is_number_unsigned() || found->get<std::uint64_t>() == 0 ||
        found->get<std::uint64_t>() > kMaxAlarmId) {
        throw UsageError(fmt::format("\"id\" must be an alarm id from 1 to {}, got {}", kMaxAlarmId,
                                     shown(*found)));
    }
    return found->get<std::uint64_t>();
}

ControlCommand alarm_command(std::string_view verb, const json& body) {
    ControlCommand out;
    const bool acknowledge = verb == "alarm/acknowledge";
    out.command.target_id = alarm_id(body, !acknowledge);
    const std::string id_text = out.command.target_id == 0
                                    ? std::string("every unacknowledged alarm")
                                    : fmt::format("alarm {}", out.command.target_id);
    if (acknowledge) {
        out.command.kind = CommandKind::alarm_acknowledge;
        out.what = "acknowledge " + id_text;
    } else if (verb == "alarm/unshelve") {
        out.command.kind = CommandKind::alarm_unshelve;
        out.what = "unshelve " + id_text;
    } else {
        const auto seconds = body.find("seconds");
        if (seconds == body.end() || !seconds->is_number() ||
            !std::isfinite(seconds->get<double>()) || seconds->get<double>() <= 0 ||
            seconds->get<double>() > kMaxShelveS) {
            throw UsageError(fmt::format(
                "\"seconds\" must be a number, more than 0 and at most {} s (a day); got {}",
                kMaxShelveS, seconds == body.end() ? std::string("none") : shown(*seconds)));
        }
        out.command.kind = CommandKind::alarm_shelve;
        out.command.args[0] = seconds->get<double>();
        out.what = fmt::format("shelve {} for {} s", id_text, seconds->get<double>());
    }
    return out;
}

}  // namespace

const std::vector<JsonCommandVerb>& json_command_verbs() {
    using enum CommandDestination;
    static const std::vector<JsonCommandVerb> kVerbs = {
        {"scenario/apply", simulator, R"({"scenario": "hvac_failure", "rack": 2})"},
        {"scenario/clear", simulator, R"({"scenario": "all", "rack": 2})"},
        {"rack/mode", simulator, R"({"rack": 0, "mode": "discharge", "current_a": 50})"},
        {"rack/reset", simulator, R"({"rack": 0})"},
        {"ambient", simulator, R"({"temperature_c": 35})"},
        {"pause", simulator, "{}"},
        {"resume", simulator, "{}"},
        {"alarm/acknowledge", alarm_monitor, R"({"id": 3})"},
        {"alarm/shelve", alarm_monitor, R"({"id": 3, "seconds": 600})"},
        {"alarm/unshelve", alarm_monitor, R"({"id": 3})"},
    };
    return kVerbs;
}

const JsonCommandVerb* find_json_command_verb(std::string_view verb) {
    for (const JsonCommandVerb& known : json_command_verbs()) {
        if (known.name == verb) {
            return &known;
        }
    }
    return nullptr;
}

ControlCommand control_command_from_json(const JsonCommandVerb& verb, std::string_view text,
                                         const Geometry& geometry) {
    const json body = parse_body(text, verb);
    const std::string_view name = verb.name;
    if (verb.destination == CommandDestination::alarm_monitor) {
        return alarm_command(name, body);
    }
    if (name == "scenario/apply") {
        return apply_command(body, geometry);
    }
    if (name == "scenario/clear") {
        return make_clear_command(string_field(body, "scenario", "all"), body_target(body),
                                  geometry);
    }
    if (name == "rack/mode") {
        return make_mode_command(target_index(body, "rack"), string_field(body, "mode", ""),
                                 number_field(body, "current_a", 0),
                                 number_field(body, "power_w", 0), geometry);
    }
    if (name == "rack/reset") {
        return make_reset_command(target_index(body, "rack"), geometry);
    }
    if (name == "ambient") {
        const auto found = body.find("temperature_c");
        if (found == body.end() || found->is_null()) {
            throw UsageError(fmt::format("\"temperature_c\" is required: a number from {} to {} C",
                                         kMinAmbientC, kMaxAmbientC));
        }
        return make_ambient_command(number_field(body, "temperature_c", NAN));
    }
    return name == "pause" ? make_pause_command() : make_resume_command();
}

std::string json_correlation_id(std::string_view text) {
    const json body = json::parse(text, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        return {};
    }
    const auto found = body.find("correlation_id");
    if (found == body.end() || !(found->is_string() || found->is_number())) {
        return {};
    }
    std::string dumped = found->dump();
    return dumped.size() <= kMaxCorrelationIdBytes ? dumped : std::string();
}

}  // namespace brt
