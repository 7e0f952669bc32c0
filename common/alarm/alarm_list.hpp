// The alarm list as readers see it: the table brt-anomaly-monitor publishes
// in the alarm segment, turned back into BoardAlarms, with one alarm of the
// readers' own when the monitor is not running (an operator must know when
// the alarm system is down). One way to print it, text and JSON, for the
// viewer (--alarms --once), the bridge (/api/v1/alarms, the alarms view)
// and `brt-anomaly-monitor ctl list`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/alarm/alarm_board.hpp"
#include "common/alarm_segment/alarm_segment_reader.hpp"
#include "common/json/json_writer.hpp"

namespace brt {

// The board's alarm as a record of the segment, and back. An unknown rule,
// severity or state code (a newer monitor) gives no alarm.
AlarmRecord alarm_record(const BoardAlarm& alarm);
std::optional<BoardAlarm> board_alarm(const AlarmRecord& record);

struct AlarmList {
    // Most severe first, then oldest; alarm_system (id 0) first when the
    // monitor is not running.
    std::vector<BoardAlarm> alarms;
    bool monitor_running = false;
    std::string monitor_problem;     // why not, for people; empty when running
    std::uint64_t frame_number = 0;  // the telemetry frame the list was computed from
    std::uint64_t telemetry_generation = 0;
    std::uint64_t version = 0;  // of the publication; 0: none
    std::uint64_t published_realtime_ns = 0;
    std::uint64_t raised_total = 0;
    std::uint64_t annunciated_total = 0;
    // Alarms not in `alarms`: beyond the segment's capacity, or with a code
    // this version does not know.
    std::uint32_t records_left_out = 0;
};

// Attaches when it can, reads the newest publication and judges the
// monitor. `judge_monitor` false (a reader's start-up grace) leaves out the
// alarm_system alarm. Never throws for a missing or broken segment: that is
// the alarm_system alarm, with the reason.
AlarmList read_alarm_list(AlarmSegmentReader& reader, bool judge_monitor, std::uint64_t now_ns);

// Text for people, one line per alarm and a heading:
//   "#3  critical  unacknowledged  thermal_runaway  rack 1 module 1 cell 5  value 1.3 K/s
//    worst 1.6 K/s limit 1 K/s  since 2026-12-06T10:15:02.345Z  latching"
// Suppressed alarms only with `show_suppressed`.
std::string alarm_list_text(const AlarmList& list, bool show_suppressed);
// {"monitor":{"running":true,"problem":""},"frame":..,"alarms":[{...}, ...]}
void write_alarm_list_json(JsonWriter& json, const AlarmList& list, bool show_suppressed);
// The same keys into an object the caller has begun (and ends): for a
// tool that adds keys of its own, as the bridge's /api/v1/alarms does.
void write_alarm_list_fields(JsonWriter& json, const AlarmList& list, bool show_suppressed);
void write_alarm_json(JsonWriter& json, const BoardAlarm& alarm);

}  // namespace brt
