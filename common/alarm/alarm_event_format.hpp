// One way to print alarm events, for every tool that shows them: a text line
// for people and a JSON object (one per line) for scripts. The fields and
// their meaning are documented in docs/anomaly-monitor.md.
#pragma once

#include <string>

#include "common/alarm/alarm_engine.hpp"
#include "common/json/json_writer.hpp"

namespace brt {

struct EventTextStyle {
    bool color = false;          // ANSI colours by severity (see color_enabled)
    bool syslog_prefix = false;  // "<N>" priority prefix for journald ($JOURNAL_STREAM)
};

// "2026-11-21T10:15:02.345Z frame 1234 RAISE critical cell_overvoltage
//  rack 0 module 1 cell 5 value 4.262 V limit 4.25 V", no newline.
std::string alarm_event_text(const AlarmEvent& event, const EventTextStyle& style);
// {"event":"raise","time":"...","time_ns":...,"frame":...,"severity":"critical",
//  "rule":"cell_overvoltage","rack":0,"module":1,"cell":5,"value":4.262,
//  "limit":4.25,"unit":"V","detail":""}, no newline.
std::string alarm_event_json(const AlarmEvent& event);

// The event's time: the frame's publish time, or when it was detected for
// events without a frame (liveness).
std::uint64_t alarm_event_time_ns(const AlarmEvent& event);
// ISO 8601 UTC with milliseconds: "2026-11-21T10:15:02.345Z".
std::string utc_timestamp(std::uint64_t realtime_ns);
// A value as people read it: the float's shortest form that reads back as
// the same float (common/json/number_format.hpp), "n/a" for NaN. The JSON
// forms write the same digits (JsonWriter::value(float)), null for NaN.
std::string format_alarm_value(float value);
// The value with its rule's unit: "4.262 V", "0.99", "n/a".
std::string alarm_value_text(float value, Rule rule);

// The JSON fields an event and a listed alarm share, in this order:
// "rack","module","cell" (null where they do not apply)...
void write_alarm_location_json(JsonWriter& json, const AlarmLocation& location);
// ... and "latching","suppressed","first_out","first_out_id","shelved_until_ns".
void write_alarm_grouping_json(JsonWriter& json, bool latching, bool suppressed, bool first_out,
                               std::uint64_t first_out_id, std::uint64_t shelved_until_ns);

}  // namespace brt
