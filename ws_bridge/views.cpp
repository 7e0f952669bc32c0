#include "ws_bridge/views.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "common/alarm/alarm_event_format.hpp"
#include "common/alarm/alarm_list.hpp"
#include "common/control/rack_mode.hpp"
#include "common/control/scenario.hpp"
#include "common/frames/summary_json.hpp"
#include "common/json/json_writer.hpp"

namespace brt::bridge {

namespace {

void write_writer(JsonWriter& json, const Snapshot& snapshot) {
    const WriterStatus& writer = snapshot.writer;
    json.key("writer").begin_object();
    json.key("liveness").value(liveness_name(writer.liveness));
    json.key("state").value(writer_state_name(writer.state));
    json.key("pid").value(static_cast<std::int64_t>(writer.pid));
    json.key("heartbeat_age_s").seconds_from_ns(writer.heartbeat_age_ns);
    json.key("publish_period_s").seconds_from_ns(writer.publish_period_ns);
    json.key("latest_frame").value(writer.latest_frame);
    json.key("frame_rate_hz").value(snapshot.frame_rate_hz);
    json.key("detail").value(writer.detail);
    json.end_object();
}

void write_geometry(JsonWriter& json, const Geometry& geometry) {
    json.key("geometry").begin_object();
    json.key("racks").value(geometry.racks);
    json.key("modules_per_rack").value(geometry.modules_per_rack);
    json.key("cells_per_module").value(geometry.cells_per_module);
    json.key("cells").value(geometry.cell_count());
    json.end_object();
}

void write_status_bits(JsonWriter& json, std::uint32_t status) {
    static constexpr std::pair<std::uint32_t, const char*> kNames[] = {
        {cell_status::voltage_sensor_fault, "voltage_sensor_fault"},
        {cell_status::temperature_sensor_fault, "temperature_sensor_fault"},
        {cell_status::current_sensor_fault, "current_sensor_fault"},
        {cell_status::dropout, "dropout"},
        {cell_status::open_wire, "open_wire"},
        {cell_status::stuck, "stuck"},
        {cell_status::offset_drift, "offset_drift"},
        {cell_status::balancing, "balancing"},
        {cell_status::self_heating, "self_heating"},
        {cell_status::venting, "venting"},
        {cell_status::thermal_runaway, "thermal_runaway"},
    };
    json.key("status").value(status);
    json.key("status_names").begin_array();
    for (const auto& [bit, name] : kNames) {
        if ((status & bit) != 0) {
            json.value(name);
        }
    }
    json.end_array();
}

// Keys shared by every frame-carrying document.
void write_frame_header(JsonWriter& json, const Snapshot& snapshot) {
    json.key("bridge_time_ns")
        .value(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              snapshot.made_at.time_since_epoch())
                                              .count()));
    write_writer(json, snapshot);
    if (snapshot.view) {
        const FrameBuffer& frame = snapshot.view->frame;
        json.key("frame").value(frame.frame_number);
        json.key("sim_time_s").seconds_from_ns(frame.sim_time_ns);
        json.key("wall_time_ns").value(frame.wall_time_ns);
        json.key("publish_monotonic_ns").value(frame.publish_monotonic_ns);
        json.key("ambient_temperature_c").value(frame.ambient_temperature_c);
    } else {
        json.key("frame").null();
    }
}

void write_counts(JsonWriter& json, const AlarmCounts& counts) {
    json.begin_object();
    for (Severity severity : {Severity::info, Severity::warning, Severity::critical}) {
        json.key(severity_name(severity)).value(counts.at(severity));
    }
    json.key("total").value(counts.total());
    json.end_object();
}

void write_levels(JsonWriter& json, const char* key, const LevelLimits& levels) {
    json.key(key).begin_object();
    json.key("mol").value(levels.mol);
    json.key("rsl").value(levels.rsl);
    json.key("msl").value(levels.msl);
    json.end_object();
}

// The alarm limits of the rack's chemistry, in the units of the columns, so
// a page can draw them over the cells (MOL, RSL, MSL; null when off). They
// are the built-in defaults (docs/anomaly-monitor.md): the alarm segment
// does not carry the limits a monitor was configured with.
void write_chemistry_limits(JsonWriter& json, Chemistry chemistry) {
    static const AlarmConfig kDefaultLimits;
    const ChemistryLimits& limits = kDefaultLimits.limits(chemistry);
    json.begin_object();
    json.key("voltage_v").begin_object();
    write_levels(json, "max", limits.voltage_max_v);
    write_levels(json, "min", limits.voltage_min_v);
    json.end_object();
    json.key("temperature_c").begin_object();
    write_levels(json, "max", limits.temperature_max_discharge_c);
    write_levels(json, "max_charge", limits.temperature_max_charge_c);
    write_levels(json, "min", limits.temperature_min_discharge_c);
    write_levels(json, "min_charge", limits.temperature_min_charge_c);
    json.end_object();
    json.key("soc").begin_object();
    write_levels(json, "max", limits.soc_max);
    write_levels(json, "min", limits.soc_min);
    json.end_object();
    json.key("soh").begin_object();
    write_levels(json, "min", limits.soh_min);
    json.end_object();
    json.end_object();
}

void write_limits(JsonWriter& json, const Snapshot& snapshot, std::uint32_t rack) {
    const Chemistry chemistry =
        rack < snapshot.rack_chemistry.size() ? snapshot.rack_chemistry[rack] : Chemistry::nmc;
    json.key("limits");
    write_chemistry_limits(json, chemistry);
}

void write_rack_record(JsonWriter& json, const Snapshot& snapshot, std::uint32_t rack) {
    write_rack_record_fields(json, rack, snapshot.view->frame.racks.at(rack),
                             rack < snapshot.rack_chemistry.size()
                                 ? std::optional<Chemistry>(snapshot.rack_chemistry[rack])
                                 : std::nullopt);
}

void write_group(JsonWriter& json, const GroupSummary& group) {
    write_group_fields(json, group);
}

}  // namespace

std::string summary_json(const Snapshot& snapshot) {
    JsonWriter json;
    json.begin_object();
    json.key("type").value("summary");
    write_frame_header(json, snapshot);
    if (snapshot.geometry) {
        write_geometry(json, *snapshot.geometry);
    } else {
        json.key("geometry").null();
    }
    json.key("frames_seen").value(snapshot.frames_seen);
    json.key("frames_missed").value(snapshot.frames_missed);
    json.key("alarms");
    write_counts(json, snapshot.alarms ? snapshot.alarms->annunciated : AlarmCounts{});
    if (snapshot.view) {
        json.key("system").begin_object();
        write_group(json, snapshot.view->system);
        json.end_object();
        json.key("racks").begin_array();
        for (std::uint32_t rack = 0; rack < snapshot.view->racks.size(); ++rack) {
            json.begin_object();
            write_rack_record(json, snapshot, rack);
            write_group(json, snapshot.view->racks[rack]);
            json.end_object();
        }
        json.end_array();
    } else {
        json.key("system").null();
        json.key("racks").begin_array().end_array();
    }
    json.end_object();
    return json.str();
}

std::string rack_json(const Snapshot& snapshot, std::uint32_t rack) {
    const Geometry& geometry = *snapshot.geometry;
    JsonWriter json;
    json.begin_object();
    json.key("type").value("rack");
    write_frame_header(json, snapshot);
    write_rack_record(json, snapshot, rack);
    write_group(json, snapshot.view->racks.at(rack));
    json.key("modules").begin_array();
    for (std::uint32_t module = 0; module < geometry.modules_per_rack; ++module) {
        json.begin_object();
        json.key("module").value(module);
        write_group(json, snapshot.view->modules.at(rack * geometry.modules_per_rack + module));
        json.end_object();
    }
    json.end_array();
    json.end_object();
    return json.str();
}

std::string module_json(const Snapshot& snapshot, std::uint32_t rack, std::uint32_t module) {
    const Geometry& geometry = *snapshot.geometry;
    const FrameBuffer& frame = snapshot.view->frame;
    JsonWriter json;
    json.begin_object();
    json.key("type").value("module");
    write_frame_header(json, snapshot);
    write_rack_record(json, snapshot, rack);
    json.key("module").value(module);
    write_group(json, snapshot.view->modules.at(rack * geometry.modules_per_rack + module));
    write_limits(json, snapshot, rack);
    json.key("cell_list").begin_array();
    const CellRange range = module_range(geometry, rack, module);
    for (std::uint64_t i = 0; i < range.cell_count; ++i) {
        const std::uint64_t cell = range.first_cell + i;
        json.begin_object();
        json.key("cell").value(static_cast<std::uint64_t>(i));
        json.key("index").value(cell);
        for (std::uint32_t f = 0; f < kFloatFieldCount; ++f) {
            json.key(field_info(static_cast<Field>(f)).name).value(frame.columns[f][cell]);
        }
        write_status_bits(json, frame.status[cell]);
        json.end_object();
    }
    json.end_array();
    json.end_object();
    return json.str();
}

std::string alarms_json(const Snapshot& snapshot) {
    const AlarmView empty;
    const AlarmView& alarms = snapshot.alarms ? *snapshot.alarms : empty;
    // The bridge's own keys first, then the monitor's list exactly as
    // write_alarm_list_json writes it for every reader (ctl list --json).
    JsonWriter head;
    head.begin_object();
    head.key("type").value("alarms");
    head.key("bridge_time_ns")
        .value(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              snapshot.made_at.time_since_epoch())
                                              .count()));
    write_writer(head, snapshot);
    head.key("view_version").value(alarms.version);
    head.key("counts");
    write_counts(head, alarms.annunciated);
    // What each rule means, for the rules in the list (a page's tooltips).
    head.key("rule_descriptions").begin_object();
    std::vector<Rule> described;
    for (const BoardAlarm& alarm : alarms.list.alarms) {
        if (std::find(described.begin(), described.end(), alarm.rule) == described.end()) {
            described.push_back(alarm.rule);
            head.key(rule_name(alarm.rule)).value(rule_description(alarm.rule));
        }
    }
    head.end_object();
    // The events are already JSON objects (alarm_event_json, the monitor's
    // --format json lines), newest first.
    head.key("recent_events").begin_array();
    for (auto event = alarms.recent_events.rbegin(); event != alarms.recent_events.rend();
         ++event) {
        head.raw(*event);
    }
    head.end_array();
    write_alarm_list_fields(head, alarms.list, true);
    head.end_object();
    return head.str();
}

std::string scenarios_json() {
    JsonWriter json;
    json.begin_object();
    json.key("type").value("scenarios");
    json.key("scenarios").begin_array();
    for (const ScenarioInfo& info : scenario_catalogue()) {
        json.begin_object();
        json.key("name").value(info.name);
        json.key("code").value(static_cast<std::uint32_t>(info.kind));
        json.key("description").value(info.description);
        json.key("magnitude_meaning").value(info.magnitude_meaning);
        json.key("default_magnitude").value(info.default_magnitude);
        json.end_object();
    }
    json.end_array();
    json.key("fault_kinds").begin_array();
    for (auto kind :
         {FaultKind::stuck, FaultKind::offset, FaultKind::dropout, FaultKind::open_wire}) {
        json.value(fault_kind_name(kind));
    }
    json.end_array();
    json.key("modes").begin_array();
    for (std::uint32_t mode = 0; mode < kRackModeCount; ++mode) {
        json.value(rack_mode_name(static_cast<RackMode>(mode)));
    }
    json.end_array();
    json.end_object();
    return json.str();
}

std::string limits_json() {
    JsonWriter json;
    json.begin_object();
    json.key("type").value("limits");
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        json.key(chemistry_name(chemistry));
        write_chemistry_limits(json, chemistry);
    }
    json.end_object();
    return json.str();
}

std::string error_json(std::string_view message) {
    JsonWriter json;
    json.begin_object().key("type").value("error").key("error").value(message).end_object();
    return json.str();
}

std::string health_json(const Snapshot& snapshot) {
    JsonWriter json;
    json.begin_object();
    json.key("status").value(snapshot.live() ? "ok" : "unavailable");
    write_writer(json, snapshot);
    json.key("frame").value(snapshot.frame_number());
    json.end_object();
    return json.str();
}

std::optional<Field> parse_field_name(std::string_view name) {
    for (std::uint32_t f = 0; f < kFieldCount; ++f) {
        if (name == field_info(static_cast<Field>(f)).name) {
            return static_cast<Field>(f);
        }
    }
    return std::nullopt;
}

std::string heatmap_binary(const Snapshot& snapshot, std::uint32_t rack, std::uint32_t field_mask) {
    const Geometry& geometry = *snapshot.geometry;
    const FrameBuffer& frame = snapshot.view->frame;
    const CellRange range =
        rack == kAllTargets ? whole_frame(geometry) : rack_range(geometry, rack);
    field_mask &= kAllFieldsMask;
    const auto field_count = static_cast<std::uint32_t>(std::popcount(field_mask));
    std::string out(kHeatmapHeaderBytes + std::uint64_t{field_count} * range.cell_count * 4, '\0');
    char* bytes = out.data();
    auto put = [bytes](std::size_t offset, auto value) {
        std::memcpy(bytes + offset, &value, sizeof value);
    };
    put(0, kHeatmapMagic);
    put(4, kHeatmapVersion);
    put(6, static_cast<std::uint16_t>(kHeatmapHeaderBytes));
    put(8, frame.frame_number);
    put(16, frame.publish_monotonic_ns);
    put(24, frame.wall_time_ns);
    put(32, static_cast<std::uint32_t>(range.first_cell));
    put(36, static_cast<std::uint32_t>(range.cell_count));
    put(40, geometry.racks);
    put(44, geometry.modules_per_rack);
    put(48, geometry.cells_per_module);
    put(52, field_mask);
    put(56, rack);
    put(60, static_cast<std::uint32_t>(snapshot.writer.liveness));
    std::size_t offset = kHeatmapHeaderBytes;
    const std::size_t bytes_per_field = range.cell_count * 4;
    for (std::uint32_t f = 0; f < kFieldCount; ++f) {
        if ((field_mask & (1u << f)) == 0) {
            continue;
        }
        const void* source =
            f == static_cast<std::uint32_t>(Field::status)
                ? static_cast<const void*>(frame.status.data() + range.first_cell)
                : static_cast<const void*>(frame.columns[f].data() + range.first_cell);
        std::memcpy(bytes + offset, source, bytes_per_field);
        offset += bytes_per_field;
    }
    return out;
}

}  // namespace brt::bridge
