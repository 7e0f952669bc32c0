#include "common/alarm/alarm_list.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/alarm/alarm_event_format.hpp"
#include "common/segment/errors.hpp"

namespace brt {

namespace {

std::uint32_t flags_of(const BoardAlarm& alarm) {
    std::uint32_t flags = 0;
    flags |= alarm.active ? alarm_flags::active : 0;
    flags |= alarm.latching ? alarm_flags::latching : 0;
    flags |= alarm.shelved() ? alarm_flags::shelved : 0;
    flags |= alarm.suppressed ? alarm_flags::suppressed_by_design : 0;
    flags |= alarm.first_out ? alarm_flags::first_out : 0;
    return flags;
}

// The readers' own alarm: the alarm system itself is down.
BoardAlarm alarm_system_down(const WriterStatus& monitor, std::uint64_t now_ns) {
    BoardAlarm alarm;
    alarm.id = 0;
    alarm.rule = Rule::alarm_system;
    alarm.severity = Severity::critical;
    alarm.key = AlarmKey{Rule::alarm_system, Severity::critical, kNoIndex, kNoIndex, kNoIndex};
    alarm.state = AlarmState::unacknowledged;
    alarm.active = true;
    const bool ever_ran =
        monitor.liveness != Liveness::no_segment && monitor.state != WriterState::never_started;
    alarm.value =
        ever_ran ? static_cast<float>(static_cast<double>(monitor.heartbeat_age_ns) * 1e-9) : NAN;
    alarm.worst_value = alarm.value;
    alarm.raised_realtime_ns = now_ns;
    alarm.changed_realtime_ns = now_ns;
    return alarm;
}

// The writer's liveness verdict, about the monitor: "stopped: monitor pid
// 42 stopped cleanly".
std::string monitor_words(const WriterStatus& monitor) {
    std::string detail = monitor.detail;
    const std::string writer = "writer pid";
    if (const auto at = detail.find(writer); at != std::string::npos) {
        detail.replace(at, writer.size(), "monitor pid");
    }
    return fmt::format("{}: {}", liveness_name(monitor.liveness), detail);
}

}  // namespace

AlarmRecord alarm_record(const BoardAlarm& alarm) {
    AlarmRecord record;
    record.id = alarm.id;
    record.first_out_id = alarm.first_out_id;
    record.key_rule = static_cast<std::uint8_t>(alarm.key.rule);
    record.rule = static_cast<std::uint8_t>(alarm.rule);
    record.severity = static_cast<std::uint8_t>(alarm.severity);
    record.state = static_cast<std::uint8_t>(alarm.state);
    record.flags = flags_of(alarm);
    record.key_rack = alarm.key.rack;
    record.key_module = alarm.key.module;
    record.key_cell = alarm.key.cell;
    record.rack = alarm.location.rack;
    record.module = alarm.location.module;
    record.cell = alarm.location.cell;
    record.value = alarm.value;
    record.worst_value = alarm.worst_value;
    record.limit = alarm.limit;
    record.raised_realtime_ns = alarm.raised_realtime_ns;
    record.changed_realtime_ns = alarm.changed_realtime_ns;
    record.shelved_until_realtime_ns = alarm.shelved_until_realtime_ns;
    record.raised_frame = alarm.raised_frame;
    const std::size_t length =
        std::min(alarm.acknowledged_by.size(), sizeof record.acknowledged_by - 1);
    std::memcpy(record.acknowledged_by, alarm.acknowledged_by.data(), length);
    return record;
}

std::optional<BoardAlarm> board_alarm(const AlarmRecord& record) {
    const auto rule = rule_from_code(record.rule);
    const auto key_rule = rule_from_code(record.key_rule);
    if (!rule || !key_rule || record.severity >= kSeverityCount || record.state == 0 ||
        record.state > static_cast<std::uint8_t>(AlarmState::returned_unacknowledged)) {
        return std::nullopt;
    }
    BoardAlarm alarm;
    alarm.id = record.id;
    alarm.first_out_id = record.first_out_id;
    alarm.rule = *rule;
    alarm.severity = static_cast<Severity>(record.severity);
    alarm.key =
        AlarmKey{*key_rule, alarm.severity, record.key_rack, record.key_module, record.key_cell};
    alarm.state = static_cast<AlarmState>(record.state);
    alarm.active = (record.flags & alarm_flags::active) != 0;
    alarm.latching = (record.flags & alarm_flags::latching) != 0;
    alarm.suppressed = (record.flags & alarm_flags::suppressed_by_design) != 0;
    alarm.first_out = (record.flags & alarm_flags::first_out) != 0;
    alarm.location = AlarmLocation{record.rack, record.module, record.cell};
    alarm.value = record.value;
    alarm.worst_value = record.worst_value;
    alarm.limit = record.limit;
    alarm.raised_realtime_ns = record.raised_realtime_ns;
    alarm.changed_realtime_ns = record.changed_realtime_ns;
    alarm.shelved_until_realtime_ns = record.shelved_until_realtime_ns;
    alarm.raised_frame = record.raised_frame;
    alarm.acknowledged_by.assign(record.acknowledged_by,
                                 strnlen(record.acknowledged_by, sizeof record.acknowledged_by));
    return alarm;
}

AlarmList read_alarm_list(AlarmSegmentReader& reader, bool judge_monitor, std::uint64_t now_ns) {
    AlarmList list;
    WriterStatus monitor;
    try {
        reader.try_attach();
        if (reader.attached()) {
            AlarmTable table;
            if (reader.read(table) == AlarmSegmentReader::ReadOutcome::ok) {
                list.frame_number = table.info.frame_number;
                list.telemetry_generation = table.info.telemetry_generation;
                list.version = table.version;
                list.published_realtime_ns = table.published_realtime_ns;
                list.raised_total = table.info.raised_total;
                list.annunciated_total = table.info.annunciated_total;
                list.records_left_out = table.info.records_left_out;
                for (const AlarmRecord& record : table.records) {
                    if (auto alarm = board_alarm(record)) {
                        list.alarms.push_back(std::move(*alarm));
                    } else {
                        ++list.records_left_out;  // a code of a newer monitor
                    }
                }
            } else if (!reader.problem().empty()) {
                list.monitor_problem = reader.problem();
            }
        }
        monitor = reader.writer_status();
    } catch (const SegmentError& error) {
        monitor = WriterStatus{};
        list.monitor_problem = error.what();
    }
    list.monitor_running = monitor.liveness == Liveness::live;
    if (!list.monitor_running) {
        if (list.monitor_problem.empty()) {
            list.monitor_problem =
                monitor.liveness == Liveness::no_segment
                    ? fmt::format("no alarm segment {}: start brt-anomaly-monitor", reader.name())
                    : monitor_words(monitor);
        }
        if (judge_monitor) {
            list.alarms.insert(list.alarms.begin(), alarm_system_down(monitor, now_ns));
        }
    }
    return list;
}

std::string alarm_list_text(const AlarmList& list, bool show_suppressed) {
    std::string text;
    std::size_t shown = 0;
    std::size_t hidden = 0;
    for (const BoardAlarm& alarm : list.alarms) {
        if (alarm.suppressed && !show_suppressed) {
            ++hidden;
            continue;
        }
        ++shown;
        std::string line = alarm.id == 0 ? std::string("#-") : fmt::format("#{}", alarm.id);
        line += fmt::format("  {:<8}  {:<23}  {}  {}", severity_name(alarm.severity),
                            alarm_state_name(alarm.state), rule_name(alarm.rule),
                            location_text(alarm.location));
        line += "  value " + alarm_value_text(alarm.value, alarm.rule);
        if (alarm.id == 0) {
            line += "  (alarm monitor not running: " + list.monitor_problem + ")";
        } else {
            line += "  worst " + alarm_value_text(alarm.worst_value, alarm.rule);
            line += "  limit " + alarm_value_text(alarm.limit, alarm.rule);
            line += "  since " + utc_timestamp(alarm.raised_realtime_ns);
        }
        if (alarm.latching) {
            line += "  latching";
        }
        if (alarm.first_out) {
            line += "  first-out";
        } else if (alarm.suppressed) {
            line += fmt::format("  suppressed: follows #{}", alarm.first_out_id);
        }
        if (alarm.shelved()) {
            line += "  shelved until " + utc_timestamp(alarm.shelved_until_realtime_ns);
        }
        if (!alarm.acknowledged_by.empty()) {
            line += "  acknowledged by " + alarm.acknowledged_by;
        }
        text += line + "\n";
    }
    std::string heading = fmt::format("{} alarm{}", shown, shown == 1 ? "" : "s");
    if (hidden != 0) {
        heading += fmt::format(" ({} more suppressed by design: --show-suppressed)", hidden);
    }
    if (list.version != 0) {
        heading += fmt::format(", as of frame {} ({})", list.frame_number,
                               utc_timestamp(list.published_realtime_ns));
    }
    if (list.records_left_out != 0) {
        heading += fmt::format(
            "; {} more not shown (beyond the alarm segment's capacity, or of a newer monitor)",
            list.records_left_out);
    }
    return heading + "\n" + text;
}

void write_alarm_json(JsonWriter& json, const BoardAlarm& alarm) {
    json.begin_object();
    json.key("id").value(alarm.id);
    json.key("rule").value(rule_name(alarm.rule));
    json.key("severity").value(severity_name(alarm.severity));
    json.key("state").value(alarm_state_name(alarm.state));
    json.key("active").value(alarm.active);
    write_alarm_location_json(json, alarm.location);
    json.key("value").value(alarm.value);
    json.key("worst").value(alarm.worst_value);
    json.key("limit").value(alarm.limit);
    json.key("unit").value(rule_unit(alarm.rule));
    json.key("raised_ns").value(alarm.raised_realtime_ns);
    json.key("raised").value(utc_timestamp(alarm.raised_realtime_ns));
    json.key("changed_ns").value(alarm.changed_realtime_ns);
    write_alarm_grouping_json(json, alarm.latching, alarm.suppressed, alarm.first_out,
                              alarm.first_out_id, alarm.shelved_until_realtime_ns);
    json.key("acknowledged_by").value(alarm.acknowledged_by);
    json.end_object();
}

void write_alarm_list_json(JsonWriter& json, const AlarmList& list, bool show_suppressed) {
    json.begin_object();
    write_alarm_list_fields(json, list, show_suppressed);
    json.end_object();
}

void write_alarm_list_fields(JsonWriter& json, const AlarmList& list, bool show_suppressed) {
    json.key("monitor").begin_object();
    json.key("running").value(list.monitor_running);
    json.key("problem").value(list.monitor_problem);
    json.end_object();
    json.key("frame").value(list.frame_number);
    json.key("version").value(list.version);
    json.key("published_ns").value(list.published_realtime_ns);
    json.key("raised_total").value(list.raised_total);
    json.key("annunciated_total").value(list.annunciated_total);
    json.key("left_out").value(std::uint64_t{list.records_left_out});
    std::uint64_t suppressed = 0;
    json.key("alarms").begin_array();
    for (const BoardAlarm& alarm : list.alarms) {
        if (alarm.suppressed && !show_suppressed) {
            ++suppressed;
            continue;
        }
        write_alarm_json(json, alarm);
    }
    json.end_array();
    json.key("suppressed_hidden").value(suppressed);
}

}  // namespace brt
