// The alarm segment's single writer: brt-anomaly-monitor, the alarm server.
// It holds the segment's flock for its whole life, publishes the complete
// alarm table under a seqlock, heartbeats, and consumes the command ring
// (acknowledge, shelve, unshelve).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "alarm_segment_file.hpp"
#include "alarm_table.hpp"

namespace brt {

class AlarmSegmentWriter {
  public:
    // Opens `name` (normalized) when it exists and is valid (a previous
    // monitor's: its last table becomes previous_table(), its record
    // capacity is kept), else creates it with `options`. Then takes the
    // writer lock. Throws SegmentError: writer_present naming the pid of the
    // monitor that holds it; malformed, truncated, bad_magic or abi_mismatch
    // for a broken segment, which is never removed behind the user's back
    // (the message says how to start afresh); permission, no_space, system.
    // Permission also for an existing segment that is world-writable or
    // owned by another user than this process's (root's is accepted).
    static AlarmSegmentWriter open_or_create(const std::string& name,
                                             const AlarmSegmentOptions& options);

    AlarmSegmentWriter(AlarmSegmentWriter&&) noexcept = default;
    AlarmSegmentWriter& operator=(AlarmSegmentWriter&&) noexcept = default;
    // Marks the writer stopped when start() was called and stop() was not.
    ~AlarmSegmentWriter();

    const std::string& name() const { return segment_.name(); }
    std::uint32_t record_capacity() const { return segment_.layout().record_capacity; }
    // The last complete publication found at open (a previous monitor's).
    const std::optional<AlarmTable>& previous_table() const { return previous_table_; }

    // State running, pid, start time, period, heartbeat; writer_generation + 1.
    void start(std::uint64_t publish_period_ns);
    // Publishes one table under the next slot's seqlock: the first
    // record_capacity() records (the rest are added to records_left_out),
    // then latest_version, the heartbeat, and a wake-up of sleeping readers.
    // Returns the new version.
    //
    // publish and heartbeat throw SegmentError (truncated) when the file
    // was shrunk under the writer (truncation_guard.hpp: a publication that
    // ran past its end, or, at a heartbeat, an fstat), after stopping the
    // writer as failed where the header is still in the file. The caller
    // stops: exit 1 with the message.
    std::uint64_t publish(const AlarmPublication& publication,
                          std::span<const AlarmRecord> records);
    // At least every 100 ms (kMaxHeartbeatIntervalNs) between publications.
    void heartbeat();
    // State stopped, or failed; readers are woken. The lock goes with the object.
    void stop(bool failed);

    // The consumer side is the writer's alone.
    CommandRing& commands() { return commands_; }

  private:
    explicit AlarmSegmentWriter(MappedAlarmSegment segment);
    void set_state(WriterState state);
    [[noreturn]] void fail_truncated();

    MappedAlarmSegment segment_;
    CommandRing commands_;
    std::optional<AlarmTable> previous_table_;
    std::uint64_t next_version_ = 1;
    bool started_ = false;
    bool stopped_ = false;
};

}  // namespace brt
