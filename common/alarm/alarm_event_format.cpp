#include "common/alarm/alarm_event_format.hpp"

#include <fmt/format.h>

#include <cmath>
#include <ctime>
#include <string>

#include "common/json/json_writer.hpp"
#include "common/json/number_format.hpp"

namespace brt {

namespace {

const char* severity_color(const AlarmEvent& event) {
    if (event.transition != AlarmTransition::raise) {
        return "\x1b[32m";  // green
    }
    switch (event.severity) {
        case Severity::critical:
            return "\x1b[1;31m";  // bold red
        case Severity::warning:
            return "\x1b[33m";  // yellow
        case Severity::info:
            return "\x1b[36m";  // cyan
    }
    return "";
}

std::string_view transition_word(AlarmTransition transition) {
    switch (transition) {
        case AlarmTransition::raise:
            return "RAISE";
        case AlarmTransition::clear:
            return "CLEAR";
        case AlarmTransition::acknowledge:
            return "ACK";
        case AlarmTransition::shelve:
            return "SHELVE";
        case AlarmTransition::unshelve:
            return "UNSHELVE";
    }
    return "?";
}

// " [#12 acknowledged, first-out]": the board's part of a text line.
std::string lifecycle_text(const AlarmEvent& event) {
    std::string text = fmt::format(" [#{} {}", event.id, alarm_state_name(event.state));
    if (event.first_out) {
        text += ", first-out";
    } else if (event.suppressed) {
        text += fmt::format(", suppressed: follows #{}", event.first_out_id);
    }
    if (event.latching) {
        text += ", latching";
    }
    if (event.shelved) {
        text += ", shelved until " + utc_timestamp(event.shelved_until_realtime_ns);
    }
    if (!event.by.empty()) {
        text += ", by " + event.by;
    }
    return text + "]";
}

}  // namespace

std::uint64_t alarm_event_time_ns(const AlarmEvent& event) {
    return event.frame_realtime_ns != 0 ? event.frame_realtime_ns : event.detected_realtime_ns;
}

std::string utc_timestamp(std::uint64_t realtime_ns) {
    const auto seconds = static_cast<std::time_t>(realtime_ns / 1'000'000'000ull);
    const auto millis = (realtime_ns / 1'000'000ull) % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
    return fmt::format("{}.{:03}Z", buffer, millis);
}

std::string format_alarm_value(float value) {
    if (std::isnan(value)) {
        return "n/a";
    }
    return format_float(value);
}

std::string alarm_value_text(float value, Rule rule) {
    const std::string_view unit = rule_unit(rule);
    std::string text = format_alarm_value(value);
    if (!unit.empty() && std::isfinite(value)) {
        text += " ";
        text += unit;
    }
    return text;
}

void write_alarm_location_json(JsonWriter& json, const AlarmLocation& location) {
    auto index = [&](const char* name, std::uint32_t value) {
        json.key(name);
        if (value == kNoIndex) {
            json.null();
        } else {
            json.value(value);
        }
    };
    index("rack", location.rack);
    index("module", location.module);
    index("cell", location.cell);
}

void write_alarm_grouping_json(JsonWriter& json, bool latching, bool suppressed, bool first_out,
                               std::uint64_t first_out_id, std::uint64_t shelved_until_ns) {
    json.key("latching").value(latching);
    json.key("suppressed").value(suppressed);
    json.key("first_out").value(first_out);
    json.key("first_out_id").value(first_out_id);
    json.key("shelved_until_ns").value(shelved_until_ns);
}

std::string alarm_event_text(const AlarmEvent& event, const EventTextStyle& style) {
    std::string line;
    // A suppressed raise is a consequence the operator is not alerted to:
    // the journal gets it at the priority of a clear.
    const bool alerting =
        event.transition == AlarmTransition::raise && !event.suppressed && !event.shelved;
    if (style.syslog_prefix) {
        line +=
            fmt::format("<{}>", alerting ? syslog_priority(event.severity) : kSyslogPriorityClear);
    }
    std::string head =
        fmt::format("{} {:<8}", transition_word(event.transition), severity_name(event.severity));
    if (style.color) {
        head = fmt::format("{}{}\x1b[0m", severity_color(event), head);
    }
    line += fmt::format(
        "{} frame {} {} {} {} value {} limit {}", utc_timestamp(alarm_event_time_ns(event)),
        event.frame_number, head, rule_name(event.rule), location_text(event.location),
        alarm_value_text(event.value, event.rule), alarm_value_text(event.limit, event.rule));
    if (!event.detail.empty()) {
        line += " (" + event.detail + ")";
    }
    if (event.id != 0) {
        line += lifecycle_text(event);
    }
    return line;
}

std::string alarm_event_json(const AlarmEvent& event) {
    JsonWriter json;
    const std::uint64_t time_ns = alarm_event_time_ns(event);
    json.begin_object()
        .key("event")
        .value(transition_name(event.transition))
        .key("time")
        .value(utc_timestamp(time_ns))
        .key("time_ns")
        .value(time_ns)
        .key("frame")
        .value(event.frame_number)
        .key("severity")
        .value(severity_name(event.severity))
        .key("rule")
        .value(rule_name(event.rule));
    write_alarm_location_json(json, event.location);
    json.key("value").value(event.value);
    json.key("limit").value(event.limit);
    json.key("unit").value(rule_unit(event.rule));
    json.key("detail").value(event.detail);
    if (event.id != 0) {
        json.key("id").value(event.id);
        json.key("state").value(alarm_state_name(event.state));
        json.key("worst").value(event.worst_value);
        write_alarm_grouping_json(json, event.latching, event.suppressed, event.first_out,
                                  event.first_out_id, event.shelved_until_realtime_ns);
        json.key("by").value(event.by);
    }
    json.end_object();
    return json.str();
}

}  // namespace brt
