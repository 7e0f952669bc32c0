#include "alarm_segment_writer.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

#include "common/segment/atomic_copy.hpp"
#include "common/segment/clock.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/futex.hpp"
#include "common/segment/message.hpp"
#include "common/segment/shm_name.hpp"
#include "common/segment/writer_lock.hpp"

namespace brt {

namespace {

MappedAlarmSegment open_or_create_file(const std::string& name,
                                       const AlarmSegmentOptions& options) {
    // Two monitors starting together: one creates, the other finds it (and
    // is then refused by the lock). A name removed between the two tries
    // is simply created again.
    for (int attempt = 0;; ++attempt) {
        try {
            return open_alarm_segment(name, AlarmSegmentAccess::writer);
        } catch (const SegmentError& error) {
            if (error.kind() != SegmentErrorKind::no_segment || attempt >= 3) {
                throw;
            }
        }
        create_alarm_segment(name, options);
    }
}

// An alarm segment that someone else could have prepared or may change:
// world-writable (anyone could acknowledge and shelve alarms), or owned by
// another user than this monitor's (and not root).
void refuse_foreign(const MappedAlarmSegment& segment, const std::string& name) {
    struct stat file_status {};
    if (fstat(segment.fd(), &file_status) != 0) {
        throw SegmentError(
            SegmentErrorKind::system,
            segment_message::format("cannot stat {}: {}", shm_path(name), errno_text(errno)));
    }
    const std::string fix = segment_message::format(
        "remove it ('brt-anomaly-monitor --reset-alarms' removes it and creates it afresh with "
        "the telemetry segment's mode and group, forgetting acknowledgements and shelving), or "
        "fix it with 'chmod o-rwx {}' or 'chown' as root",
        shm_path(name));
    if ((file_status.st_mode & 0002) != 0) {
        throw SegmentError(SegmentErrorKind::permission,
                           segment_message::format(
                               "alarm segment '{}' is world-writable (mode {}): any local user "
                               "could acknowledge and shelve alarms, so the monitor refuses it; {}",
                               name, mode_text(file_status.st_mode & 07777), fix));
    }
    const uid_t me = geteuid();
    if (file_status.st_uid != me && file_status.st_uid != 0) {
        throw SegmentError(
            SegmentErrorKind::permission,
            segment_message::format("alarm segment '{}' is owned by {}, not by this monitor's "
                                    "user ({}) or root: whoever owns it controls the alarm "
                                    "list, so the monitor refuses it; {}",
                                    name, user_text(file_status.st_uid), user_text(me), fix));
    }
}

}  // namespace

AlarmSegmentWriter::AlarmSegmentWriter(MappedAlarmSegment segment)
    : segment_(std::move(segment)), commands_(segment_.command_ring()) {}

AlarmSegmentWriter AlarmSegmentWriter::open_or_create(const std::string& name,
                                                      const AlarmSegmentOptions& options) {
    const std::string normalized = normalize_shm_name(name);
    MappedAlarmSegment segment = open_or_create_file(normalized, options);
    refuse_foreign(segment, normalized);
    if (const auto holder = lock_or_find_holder(
            segment.fd(), segment.header().writer_pid.load(std::memory_order_relaxed))) {
        const pid_t pid = *holder;
        throw SegmentError(
            SegmentErrorKind::writer_present,
            segment_message::format("another alarm monitor (pid {}) holds alarm segment '{}'; "
                                    "only one brt-anomaly-monitor may serve a telemetry "
                                    "segment: stop pid {} first, or use another --shm-name",
                                    pid, normalized, pid));
    }
    AlarmSegmentWriter writer(std::move(segment));
    AlarmTable table;
    std::string problem;
    // A damaged last table is not adopted; the new monitor starts empty.
    if (read_latest_alarm_table(writer.segment_, table, problem) == AlarmReadOutcome::ok) {
        writer.previous_table_ = std::move(table);
    }
    // Versions continue across monitor restarts, like frame numbers.
    writer.next_version_ =
        writer.segment_.header().latest_version.load(std::memory_order_acquire) + 1;
    return writer;
}

AlarmSegmentWriter::~AlarmSegmentWriter() {
    if (segment_.is_open() && started_ && !stopped_) {
        stop(false);
    }
}

void AlarmSegmentWriter::start(std::uint64_t publish_period_ns) {
    AlarmSegmentHeader& header = segment_.header();
    header.writer_pid.store(getpid(), std::memory_order_relaxed);
    header.writer_start_realtime_ns.store(realtime_ns(), std::memory_order_relaxed);
    header.publish_period_ns.store(publish_period_ns, std::memory_order_relaxed);
    header.writer_generation.fetch_add(1, std::memory_order_relaxed);
    started_ = true;
    stopped_ = false;
    set_state(WriterState::running);
}

std::uint64_t AlarmSegmentWriter::publish(const AlarmPublication& publication,
                                          std::span<const AlarmRecord> records) {
    const std::uint64_t version = next_version_;
    const auto slot_index = static_cast<std::uint32_t>(version % kAlarmSlotCount);
    AlarmSlotHeader& slot = segment_.slot_header(slot_index);
    const std::size_t count = std::min<std::size_t>(records.size(), record_capacity());

    // A writer killed mid-publication leaves an odd sequence; step past it.
    const std::uint64_t sequence = slot.sequence.load(std::memory_order_relaxed);
    const std::uint64_t sequence_odd = sequence % 2 == 0 ? sequence + 1 : sequence + 2;
    slot.sequence.store(sequence_odd, std::memory_order_relaxed);
    // Orders the odd sequence before every data store that follows.
    std::atomic_thread_fence(std::memory_order_release);

    copy_to_shared(segment_.slot_records(slot_index), records.data(), count * sizeof(AlarmRecord));
    const std::uint64_t now_monotonic = monotonic_ns();
    slot.version.store(version, std::memory_order_relaxed);
    slot.frame_number.store(publication.frame_number, std::memory_order_relaxed);
    slot.frame_publish_monotonic_ns.store(publication.frame_publish_monotonic_ns,
                                          std::memory_order_relaxed);
    slot.published_monotonic_ns.store(now_monotonic, std::memory_order_relaxed);
    slot.published_realtime_ns.store(realtime_ns(), std::memory_order_relaxed);
    slot.telemetry_generation.store(publication.telemetry_generation, std::memory_order_relaxed);
    slot.record_count.store(static_cast<std::uint32_t>(count), std::memory_order_relaxed);
    slot.records_left_out.store(
        publication.records_left_out + static_cast<std::uint32_t>(records.size() - count),
        std::memory_order_relaxed);
    slot.raised_total.store(publication.raised_total, std::memory_order_relaxed);
    slot.annunciated_total.store(publication.annunciated_total, std::memory_order_relaxed);
    slot.monitor_start_realtime_ns.store(publication.monitor_start_realtime_ns,
                                         std::memory_order_relaxed);
    slot.sequence.store(sequence_odd + 1, std::memory_order_release);

    AlarmSegmentHeader& header = segment_.header();
    header.latest_version.store(version, std::memory_order_release);
    header.heartbeat_ns.store(now_monotonic, std::memory_order_relaxed);
    futex_bump_and_wake(header.publish_futex, header.futex_waiters);
    next_version_ = version + 1;
    // The stores above went to zero pages if the file was shrunk meanwhile.
    if (segment_.truncated()) {
        fail_truncated();
    }
    return version;
}

void AlarmSegmentWriter::heartbeat() {
    // The monitor heartbeats when nothing changed: without this fstat, a
    // file shrunk while no publication touched it would go unnoticed.
    if (segment_.shrunk()) {
        fail_truncated();
    }
    segment_.header().heartbeat_ns.store(monotonic_ns(), std::memory_order_relaxed);
}

void AlarmSegmentWriter::fail_truncated() {
    if (!stopped_) {
        set_state(WriterState::failed);  // readers see it where the header is still in the file
        stopped_ = true;
    }
    throw SegmentError(SegmentErrorKind::truncated, alarm_truncation_message(segment_));
}

void AlarmSegmentWriter::set_state(WriterState state) {
    segment_.header().heartbeat_ns.store(monotonic_ns(), std::memory_order_relaxed);
    AlarmSegmentHeader& header = segment_.header();
    header.writer_state.store(static_cast<std::uint32_t>(state), std::memory_order_release);
    // Sleepers notice a start or a stop now, not at their timeout.
    futex_bump_and_wake(header.publish_futex, header.futex_waiters);
}

void AlarmSegmentWriter::stop(bool failed) {
    set_state(failed ? WriterState::failed : WriterState::stopped);
    stopped_ = true;
}

}  // namespace brt
