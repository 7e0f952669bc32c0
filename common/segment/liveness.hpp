// What a reader can say about the writer, from the header and the lock.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "segment_file.hpp"

namespace brt {

enum class Liveness {
    live,        // heartbeat fresh, lock held
    stale,       // writer claims to run but its heartbeat is old or its lock is free
    stopped,     // the writer exited (cleanly or on an error) and said so
    no_writer,   // the segment exists and no writer has ever attached
    no_segment,  // nothing to read
};

std::string_view liveness_name(Liveness liveness);

struct WriterStatus {
    Liveness liveness = Liveness::no_segment;
    WriterState state = WriterState::never_started;
    pid_t pid = 0;
    std::uint64_t heartbeat_age_ns = 0;  // valid when a writer ever ran
    std::uint64_t publish_period_ns = 0;
    std::uint64_t latest_frame = 0;
    std::string detail;  // one sentence for people: why stale, who holds the lock
};

// The writer's promise: it refreshes `heartbeat_ns` at least this often,
// whatever its publish period (between slow frames and while paused too), so
// that a reader's verdict never waits for the next frame.
inline constexpr std::uint64_t kMaxHeartbeatIntervalNs = 100'000'000;

// How often a reader may expect a heartbeat: every publish, but never less
// often than kMaxHeartbeatIntervalNs. 0 (period never set) stays 0: the
// floors below then decide.
std::uint64_t heartbeat_interval_ns(std::uint64_t publish_period_ns);

// A heartbeat younger than this proves life without looking at the lock:
// one heartbeat interval, at least 20 ms. At most 100 ms.
std::uint64_t fresh_heartbeat_ns(std::uint64_t publish_period_ns);

// A heartbeat older than this is stale even with the lock held (hung or
// suspended): four heartbeat intervals, never less than 250 ms (the age at
// which foxBMS calls a measurement stale). Because the interval is capped,
// so is this: at most 400 ms, however slowly the writer publishes.
std::uint64_t stale_after_ns(std::uint64_t publish_period_ns);

// The verdict from values loaded from a header with the telemetry header's
// writer-state fields (the alarm segment has them too), and an fd of the
// segment's file for the lock check. `latest` is the newest complete
// publication (a frame number, or an alarm table version), copied into
// WriterStatus::latest_frame.
WriterStatus judge_writer(WriterState state, pid_t pid, std::uint64_t heartbeat_ns,
                          std::uint64_t publish_period_ns, std::uint64_t latest, int lock_fd);

// judge_writer on any header with the telemetry header's writer-state
// fields (the telemetry and the alarm segment's).
template <typename Header>
WriterStatus judge_header_writer(const Header& header, std::uint64_t latest, int lock_fd) {
    const auto state =
        static_cast<WriterState>(header.writer_state.load(std::memory_order_acquire));
    return judge_writer(state, header.writer_pid.load(std::memory_order_relaxed),
                        header.heartbeat_ns.load(std::memory_order_relaxed),
                        header.publish_period_ns.load(std::memory_order_relaxed), latest, lock_fd);
}

WriterStatus read_writer_status(const MappedSegment& segment);

std::string_view writer_state_name(WriterState state);

}  // namespace brt
