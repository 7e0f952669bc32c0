#include "mqtt_bridge/sparkplug.hpp"

#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/control/rack_mode.hpp"
#include "common/segment/errors.hpp"
#include "sparkplug_b.pb.h"

namespace brt::mqtt::sparkplug {

namespace {

using Payload = org::eclipse::tahu::protobuf::Payload;
using Metric = org::eclipse::tahu::protobuf::Payload::Metric;

// Sparkplug B data types (specification, "Data Types").
enum DataType : std::uint32_t {
    kUInt64 = 8,
    kFloat = 9,
    kDouble = 10,
    kBoolean = 11,
    kString = 12,
};

// Node metric aliases (bdSeq goes by name only, as NDEATH carries it).
enum NodeAlias : std::uint64_t {
    kRebirth = 1,
    kWriterLiveness,
    kWriterFrameRate,
    kWriterLatestFrame,
    kAlarmsCritical,
    kAlarmsWarning,
    kAlarmsInfo,
    kMonitorRunning,
    kDroppedTelemetry,
    kCommandAmbient,
    kCommandPause,
    kCommandResume,
    kCommandAcknowledge,
};

// Device metrics: alias = 1000 * (rack + 1) + one of these. Three per
// quantity (min, mean, max) first, at 3 * field.
enum DeviceMetric : std::uint64_t {
    kStringCurrent = 20,
    kAirTemperature,
    kMode,
    kChemistry,
    kFrame,
    kSensorFaultCells,
    kBalancingCells,
    kThermalRunawayCells,
    kCommandMode,
    kCommandApplyScenario,
    kCommandClearScenario,
};

std::uint64_t device_alias(std::uint32_t rack, std::uint64_t metric) {
    return 1000 * (std::uint64_t{rack} + 1) + metric;
}

std::uint64_t now_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

// Adds a metric: with its name in a birth (`named`), by alias alone in data.
Metric* add(Payload& payload, bool named, const char* name, std::uint64_t alias, DataType type) {
    Metric* metric = payload.add_metrics();
    if (named) {
        metric->set_name(name);
        metric->set_datatype(type);
    }
    metric->set_alias(alias);
    metric->set_timestamp(payload.timestamp());
    return metric;
}

void add_float(Payload& payload, bool named, const std::string& name, std::uint64_t alias,
               float value) {
    Metric* metric = add(payload, named, name.c_str(), alias, kFloat);
    if (std::isnan(value)) {
        metric->set_is_null(true);
    } else {
        metric->set_float_value(value);
    }
}

void node_metrics(Payload& payload, bool birth, const NodeState& node) {
    add(payload, birth, "Writer/Liveness", kWriterLiveness, kString)
        ->set_string_value(node.writer_liveness);
    add(payload, birth, "Writer/Frame Rate", kWriterFrameRate, kDouble)
        ->set_double_value(node.frame_rate_hz);
    add(payload, birth, "Writer/Latest Frame", kWriterLatestFrame, kUInt64)
        ->set_long_value(node.latest_frame);
    add(payload, birth, "Alarms/Critical", kAlarmsCritical, kUInt64)
        ->set_long_value(node.alarms_critical);
    add(payload, birth, "Alarms/Warning", kAlarmsWarning, kUInt64)
        ->set_long_value(node.alarms_warning);
    add(payload, birth, "Alarms/Info", kAlarmsInfo, kUInt64)->set_long_value(node.alarms_info);
    add(payload, birth, "Alarms/Monitor Running", kMonitorRunning, kBoolean)
        ->set_boolean_value(node.monitor_running);
    add(payload, birth, "Bridge/Dropped Telemetry", kDroppedTelemetry, kUInt64)
        ->set_long_value(node.dropped_telemetry);
}

void device_metrics(Payload& payload, bool birth, const FrameSummary& summary, std::uint32_t rack) {
    const GroupSummary& group = summary.racks.at(rack);
    for (std::uint32_t f = 0; f < kFloatFieldCount; ++f) {
        const std::string name(field_info(static_cast<Field>(f)).name);
        const FieldSummary& field = group.fields[f];
        add_float(payload, birth, name + "/min", device_alias(rack, 3 * f), field.min);
        add_float(payload, birth, name + "/mean", device_alias(rack, 3 * f + 1),
                  static_cast<float>(field.mean()));
        add_float(payload, birth, name + "/max", device_alias(rack, 3 * f + 2), field.max);
    }
    const RackRecord& record = summary.frame.racks.at(rack);
    add_float(payload, birth, "string_current_a", device_alias(rack, kStringCurrent),
              record.current_a);
    add_float(payload, birth, "air_temperature_c", device_alias(rack, kAirTemperature),
              record.air_temperature_c);
    add(payload, birth, "mode", device_alias(rack, kMode), kString)
        ->set_string_value(record.mode < kRackModeCount
                               ? std::string(rack_mode_name(static_cast<RackMode>(record.mode)))
                               : std::string("unknown"));
    add(payload, birth, "chemistry", device_alias(rack, kChemistry), kString)
        ->set_string_value(rack < summary.rack_chemistry.size()
                               ? std::string(chemistry_name(summary.rack_chemistry[rack]))
                               : std::string("unknown"));
    add(payload, birth, "frame", device_alias(rack, kFrame), kUInt64)
        ->set_long_value(summary.frame.frame_number);
    add(payload, birth, "sensor_fault_cells", device_alias(rack, kSensorFaultCells), kUInt64)
        ->set_long_value(group.sensor_fault_cells);
    add(payload, birth, "balancing_cells", device_alias(rack, kBalancingCells), kUInt64)
        ->set_long_value(group.balancing_cells);
    add(payload, birth, "thermal_runaway_cells", device_alias(rack, kThermalRunawayCells), kUInt64)
        ->set_long_value(group.thermal_runaway_cells);
}

bool valid_level(const std::string& level) {
    return !level.empty() && level.find_first_of("/+#") == std::string::npos;
}

// The metric a command names, by name or (what a host that saw the birth
// sends) by alias.
bool is(const Metric& metric, const char* name, std::uint64_t alias) {
    return metric.has_name() ? metric.name() == name : metric.alias() == alias;
}

}  // namespace

Session::Session(std::string group, std::string node)
    : group_(std::move(group)), node_(std::move(node)) {
    if (!valid_level(group_) || !valid_level(node_)) {
        throw UsageError(fmt::format(
            "Sparkplug group '{}' and edge node '{}' (--site, --node) must each be one topic "
            "level without '/', '+' or '#'",
            group_, node_));
    }
}

std::string Session::prefix(const char* type) const {
    return fmt::format("spBv1.0/{}/{}/{}", group_, type, node_);
}

std::string Session::dbirth_topic(std::uint32_t rack) const {
    return fmt::format("{}/rack{}", prefix("DBIRTH"), rack);
}

std::string Session::ddata_topic(std::uint32_t rack) const {
    return fmt::format("{}/rack{}", prefix("DDATA"), rack);
}

std::string Session::next_death() {
    bd_seq_.store((bd_seq_.load() + 1) % 256);
    return death();
}

std::string Session::death() const {
    Payload payload;
    payload.set_timestamp(now_ms());
    Metric* metric = payload.add_metrics();
    metric->set_name("bdSeq");
    metric->set_datatype(kUInt64);
    metric->set_long_value(bd_seq_.load());
    return payload.SerializeAsString();
}

std::uint64_t Session::next_seq() {
    seq_ = (seq_ + 1) % 256;
    return seq_;
}

std::string Session::node_birth(const NodeState& node) {
    Payload payload;
    payload.set_timestamp(now_ms());
    seq_ = 0;
    payload.set_seq(0);
    Metric* bd_seq = payload.add_metrics();
    bd_seq->set_name("bdSeq");
    bd_seq->set_datatype(kUInt64);
    bd_seq->set_long_value(bd_seq_.load());
    add(payload, true, "Node Control/Rebirth", kRebirth, kBoolean)->set_boolean_value(false);
    node_metrics(payload, true, node);
    // Writable metrics: what a host may send back in an NCMD.
    add(payload, true, "Commands/Ambient", kCommandAmbient, kDouble)->set_double_value(25.0);
    add(payload, true, "Commands/Pause", kCommandPause, kBoolean)->set_boolean_value(false);
    add(payload, true, "Commands/Resume", kCommandResume, kBoolean)->set_boolean_value(false);
    add(payload, true, "Commands/Acknowledge Alarm", kCommandAcknowledge, kUInt64)
        ->set_long_value(0);
    return payload.SerializeAsString();
}

std::string Session::node_data(const NodeState& node) {
    Payload payload;
    payload.set_timestamp(now_ms());
    payload.set_seq(next_seq());
    node_metrics(payload, false, node);
    return payload.SerializeAsString();
}

std::string Session::device_birth(const FrameSummary& summary, std::uint32_t rack) {
    Payload payload;
    payload.set_timestamp(now_ms());
    payload.set_seq(next_seq());
    device_metrics(payload, true, summary, rack);
    add(payload, true, "Commands/Mode", device_alias(rack, kCommandMode), kString)
        ->set_string_value("");
    add(payload, true, "Commands/Apply Scenario", device_alias(rack, kCommandApplyScenario),
        kString)
        ->set_string_value("");
    add(payload, true, "Commands/Clear Scenario", device_alias(rack, kCommandClearScenario),
        kString)
        ->set_string_value("");
    return payload.SerializeAsString();
}

std::string Session::device_data(const FrameSummary& summary, std::uint32_t rack) {
    Payload payload;
    payload.set_timestamp(now_ms());
    payload.set_seq(next_seq());
    device_metrics(payload, false, summary, rack);
    return payload.SerializeAsString();
}

DecodedCommands Session::decode_command(const std::string& topic, const std::string& text) const {
    DecodedCommands out;
    Payload payload;
    if (!payload.ParseFromString(text)) {
        out.error = "not a Sparkplug B payload (protobuf)";
        return out;
    }
    std::optional<std::uint32_t> rack;
    const std::string dcmd = prefix("DCMD") + "/";
    if (topic.starts_with(dcmd)) {
        const std::string device = topic.substr(dcmd.size());
        const std::string number = device.starts_with("rack") ? device.substr(4) : std::string();
        if (number.empty() || number.size() > 6 ||
            number.find_first_not_of("0123456789") != std::string::npos) {
            out.error =
                fmt::format("no device '{}': devices are rack0, rack1, ...", device.substr(0, 40));
            return out;
        }
        rack = static_cast<std::uint32_t>(std::stoul(number));
    } else if (topic != ncmd_topic()) {
        out.error = "not an NCMD or DCMD topic of this node";
        return out;
    }
    using nlohmann::json;
    for (const Metric& metric : payload.metrics()) {
        auto wrong_type = [&](const char* wanted) {
            out = {};
            out.error = fmt::format("metric '{}' (alias {}) must be a {}",
                                    metric.name().substr(0, 60), metric.alias(), wanted);
        };
        if (!rack) {
            if (is(metric, "Node Control/Rebirth", kRebirth)) {
                if (!metric.has_boolean_value()) {
                    wrong_type("Boolean");
                    return out;
                }
                out.rebirth = out.rebirth || metric.boolean_value();
            } else if (is(metric, "Commands/Ambient", kCommandAmbient)) {
                if (!metric.has_double_value() && !metric.has_float_value()) {
                    wrong_type("Double");
                    return out;
                }
                const double value =
                    metric.has_double_value() ? metric.double_value() : metric.float_value();
                out.commands.push_back({"ambient", json{{"temperature_c", value}}.dump()});
            } else if (is(metric, "Commands/Pause", kCommandPause) ||
                       is(metric, "Commands/Resume", kCommandResume)) {
                if (!metric.has_boolean_value()) {
                    wrong_type("Boolean");
                    return out;
                }
                if (metric.boolean_value()) {
                    const bool pause = is(metric, "Commands/Pause", kCommandPause);
                    out.commands.push_back({pause ? "pause" : "resume", "{}"});
                }
            } else if (is(metric, "Commands/Acknowledge Alarm", kCommandAcknowledge)) {
                if (!metric.has_long_value() && !metric.has_int_value()) {
                    wrong_type("UInt64 (an alarm id, 0 for all)");
                    return out;
                }
                const std::uint64_t id =
                    metric.has_long_value() ? metric.long_value() : metric.int_value();
                out.commands.push_back(
                    {"alarm/acknowledge", id == 0 ? "{}" : json{{"id", id}}.dump()});
            } else {
                out = {};
                out.error = fmt::format(
                    "unknown node metric '{}' (alias {}): Node Control/Rebirth, "
                    "Commands/Ambient, Commands/Pause, Commands/Resume, Commands/Acknowledge "
                    "Alarm",
                    metric.name().substr(0, 60), metric.alias());
                return out;
            }
            continue;
        }
        const bool mode = is(metric, "Commands/Mode", device_alias(*rack, kCommandMode));
        const bool apply =
            is(metric, "Commands/Apply Scenario", device_alias(*rack, kCommandApplyScenario));
        const bool clear =
            is(metric, "Commands/Clear Scenario", device_alias(*rack, kCommandClearScenario));
        if (!mode && !apply && !clear) {
            out = {};
            out.error = fmt::format(
                "unknown device metric '{}' (alias {}): Commands/Mode, Commands/Apply "
                "Scenario, Commands/Clear Scenario",
                metric.name().substr(0, 60), metric.alias());
            return out;
        }
        if (!metric.has_string_value()) {
            wrong_type("String");
            return out;
        }
        const std::string& value = metric.string_value();
        if (mode) {
            out.commands.push_back({"rack/mode", json{{"rack", *rack}, {"mode", value}}.dump()});
        } else if (apply) {
            out.commands.push_back(
                {"scenario/apply", json{{"scenario", value}, {"rack", *rack}}.dump()});
        } else {
            out.commands.push_back(
                {"scenario/clear",
                 json{{"scenario", value.empty() ? "all" : value}, {"rack", *rack}}.dump()});
        }
    }
    if (!out.rebirth && out.commands.empty()) {
        out.error = "the payload holds no command metric";
    }
    return out;
}

}  // namespace brt::mqtt::sparkplug
