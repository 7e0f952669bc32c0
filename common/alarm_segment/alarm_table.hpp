// One publication of the alarm segment in private memory, and the seqlock
// copy that fills it: shared by the readers and by a restarted writer that
// adopts the table its predecessor left.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alarm_segment_file.hpp"

namespace brt {

// What a publication says besides its records (the slot header's fields
// that the writer does not fill in itself).
struct AlarmPublication {
    std::uint64_t frame_number = 0;  // the telemetry frame evaluated; 0 = none yet
    std::uint64_t frame_publish_monotonic_ns = 0;
    std::uint64_t telemetry_generation = 0;  // 0 = not attached to telemetry
    std::uint64_t raised_total = 0;
    std::uint64_t annunciated_total = 0;
    std::uint64_t monitor_start_realtime_ns = 0;
    std::uint32_t records_left_out = 0;  // active alarms that did not fit
};

// One complete publication.
struct AlarmTable {
    AlarmPublication info;
    std::uint64_t version = 0;
    std::uint64_t published_monotonic_ns = 0;
    std::uint64_t published_realtime_ns = 0;
    std::vector<AlarmRecord> records;
};

enum class AlarmReadOutcome {
    ok,
    no_publication,  // attached, nothing published since the segment was created
    busy,            // the writer kept overwriting the slot, or it stayed mid-write
    no_segment,      // not attached, or the file was shrunk under the mapping
    malformed,       // the slot contradicts the header (record_count > record_capacity,
                     // or it holds another version than latest_version says)
};

// Copies the newest complete publication (latest_version) under its slot's
// seqlock, retrying a torn copy a bounded number of times. On anything but
// ok, `table` is unspecified and `problem` says why, for people.
AlarmReadOutcome read_latest_alarm_table(const MappedAlarmSegment& segment, AlarmTable& table,
                                         std::string& problem);

}  // namespace brt
