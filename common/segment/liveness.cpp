#include "liveness.hpp"

#include "message.hpp"

#include <algorithm>

#include "clock.hpp"
#include "writer_lock.hpp"

namespace brt {

std::string_view liveness_name(Liveness liveness) {
    switch (liveness) {
        case Liveness::live:
            return "live";
        case Liveness::stale:
            return "stale";
        case Liveness::stopped:
            return "stopped";
        case Liveness::no_writer:
            return "no writer";
        case Liveness::no_segment:
            return "no segment";
    }
    return "unknown";
}

std::string_view writer_state_name(WriterState state) {
    switch (state) {
        case WriterState::never_started:
            return "never started";
        case WriterState::running:
            return "running";
        case WriterState::paused:
            return "paused";
        case WriterState::stopped:
            return "stopped";
        case WriterState::failed:
            return "failed";
    }
    return "unknown";
}

std::uint64_t heartbeat_interval_ns(std::uint64_t publish_period_ns) {
    return std::min(publish_period_ns, kMaxHeartbeatIntervalNs);
}

std::uint64_t fresh_heartbeat_ns(std::uint64_t publish_period_ns) {
    constexpr std::uint64_t kFreshFloorNs = 20'000'000;
    return std::max(kFreshFloorNs, heartbeat_interval_ns(publish_period_ns));
}

std::uint64_t stale_after_ns(std::uint64_t publish_period_ns) {
    constexpr std::uint64_t kFloorNs = 250'000'000;
    return std::max(kFloorNs, 4 * heartbeat_interval_ns(publish_period_ns));
}

WriterStatus judge_writer(WriterState state, pid_t pid, std::uint64_t heartbeat_ns,
                          std::uint64_t publish_period_ns, std::uint64_t latest, int lock_fd) {
    WriterStatus status;
    status.state = state;
    status.pid = pid;
    status.publish_period_ns = publish_period_ns;
    status.latest_frame = latest;
    const std::uint64_t now = monotonic_ns();
    status.heartbeat_age_ns = now > heartbeat_ns ? now - heartbeat_ns : 0;

    switch (status.state) {
        case WriterState::never_started:
            status.liveness = Liveness::no_writer;
            status.detail = "no writer has attached yet";
            return status;
        case WriterState::stopped:
        case WriterState::failed:
            status.liveness = Liveness::stopped;
            status.detail = segment_message::format(
                "writer pid {} {}", status.pid,
                status.state == WriterState::failed ? "stopped on an error" : "stopped cleanly");
            return status;
        case WriterState::running:
        case WriterState::paused:
            break;
    }
    // A heartbeat younger than one heartbeat interval (at least 20 ms, at
    // most 100 ms) is proof of life on its own. Only a late heartbeat needs
    // the lock to tell a crash from a hang: finding its holder reads
    // /proc/locks, which can sleep for an RCU grace period (several ms), and
    // readers ask after every frame. A killed writer is reported one interval
    // later for it, however long its publish period.
    if (status.heartbeat_age_ns <= fresh_heartbeat_ns(status.publish_period_ns)) {
        status.liveness = Liveness::live;
        status.detail =
            segment_message::format("writer pid {} is {}", status.pid,
                                    status.state == WriterState::paused ? "paused" : "publishing");
        return status;
    }
    const auto holder = flock_holder_pid(lock_fd);
    if (!holder) {
        status.liveness = Liveness::stale;
        status.detail = segment_message::format(
            "writer pid {} is gone without saying so (crashed or killed); its lock is free",
            status.pid);
    } else if (status.heartbeat_age_ns > stale_after_ns(status.publish_period_ns)) {
        status.liveness = Liveness::stale;
        status.detail = segment_message::format(
            "writer pid {} holds the lock but its heartbeat is {} ms old (hung "
            "or suspended?)",
            *holder, status.heartbeat_age_ns / 1000000);
    } else {
        status.liveness = Liveness::live;
        status.detail =
            segment_message::format("writer pid {} is {}", status.pid,
                                    status.state == WriterState::paused ? "paused" : "publishing");
    }
    return status;
}

WriterStatus read_writer_status(const MappedSegment& segment) {
    const SegmentHeader& header = segment.header();
    return judge_header_writer(header, header.latest_frame.load(std::memory_order_acquire),
                               segment.fd());
}

}  // namespace brt
