#include "alarm_table.hpp"

#include <atomic>
#include <thread>

#include "common/segment/atomic_copy.hpp"
#include "common/segment/message.hpp"

namespace brt {

namespace {

// As the telemetry reader: with two slots the writer must publish twice
// during one copy to make it retry at all, so this many means it never ends.
constexpr int kMaxReadAttempts = 64;

enum class SlotCopy { ok, torn, other_version, bad_count, truncated };

SlotCopy copy_slot(const MappedAlarmSegment& segment, std::uint64_t version, AlarmTable& table) {
    const auto slot_index = static_cast<std::uint32_t>(version % kAlarmSlotCount);
    const AlarmSlotHeader& slot = segment.slot_header(slot_index);
    const std::uint64_t sequence_before = slot.sequence.load(std::memory_order_acquire);
    if (sequence_before % 2 != 0) {
        return SlotCopy::torn;
    }
    const std::uint64_t held = slot.version.load(std::memory_order_relaxed);
    AlarmPublication& info = table.info;
    info.frame_number = slot.frame_number.load(std::memory_order_relaxed);
    info.frame_publish_monotonic_ns =
        slot.frame_publish_monotonic_ns.load(std::memory_order_relaxed);
    table.published_monotonic_ns = slot.published_monotonic_ns.load(std::memory_order_relaxed);
    table.published_realtime_ns = slot.published_realtime_ns.load(std::memory_order_relaxed);
    info.telemetry_generation = slot.telemetry_generation.load(std::memory_order_relaxed);
    const std::uint32_t count = slot.record_count.load(std::memory_order_relaxed);
    info.records_left_out = slot.records_left_out.load(std::memory_order_relaxed);
    info.raised_total = slot.raised_total.load(std::memory_order_relaxed);
    info.annunciated_total = slot.annunciated_total.load(std::memory_order_relaxed);
    info.monitor_start_realtime_ns = slot.monitor_start_realtime_ns.load(std::memory_order_relaxed);
    // A count beyond the slot is never copied: it would read past it.
    const bool count_fits = count <= segment.layout().record_capacity;
    if (count_fits) {
        table.records.resize(count);
        copy_from_shared(table.records.data(), segment.slot_records(slot_index),
                         std::size_t{count} * sizeof(AlarmRecord));
    }
    // Orders every relaxed load above before the re-check below.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (slot.sequence.load(std::memory_order_relaxed) != sequence_before) {
        return SlotCopy::torn;
    }
    // Past the end of a shrunk file the copy read zero pages, not a table.
    if (segment.truncated()) {
        return SlotCopy::truncated;
    }
    if (!count_fits) {
        return SlotCopy::bad_count;
    }
    if (held != version) {
        return SlotCopy::other_version;
    }
    table.version = version;
    return SlotCopy::ok;
}

}  // namespace

AlarmReadOutcome read_latest_alarm_table(const MappedAlarmSegment& segment, AlarmTable& table,
                                         std::string& problem) {
    if (!segment.is_open()) {
        problem = "not attached";
        return AlarmReadOutcome::no_segment;
    }
    const AlarmSegmentHeader& header = segment.header();
    std::uint64_t latest = 0;
    SlotCopy copy = SlotCopy::torn;
    for (int attempt = 0; attempt < kMaxReadAttempts; ++attempt) {
        latest = header.latest_version.load(std::memory_order_acquire);
        if (segment.truncated()) {
            copy = SlotCopy::truncated;
            break;
        }
        if (latest == 0) {
            problem = "no alarm table published yet";
            return AlarmReadOutcome::no_publication;
        }
        copy = copy_slot(segment, latest, table);
        if (copy == SlotCopy::ok) {
            problem.clear();
            return AlarmReadOutcome::ok;
        }
        if (copy == SlotCopy::truncated) {
            break;
        }
        // A slot that holds another version is either overwritten (the writer
        // published twice since `latest` was loaded: the next attempt takes
        // the newer one) or damage (latest_version has not moved).
        if (copy != SlotCopy::torn &&
            header.latest_version.load(std::memory_order_acquire) == latest) {
            break;
        }
        std::this_thread::yield();
    }
    switch (copy) {
        case SlotCopy::truncated:
            problem = alarm_truncation_message(segment);
            return AlarmReadOutcome::no_segment;
        case SlotCopy::bad_count:
            problem = segment_message::format(
                "alarm table {} claims more records than its slot holds ({}); the alarm "
                "segment is damaged",
                latest, segment.layout().record_capacity);
            return AlarmReadOutcome::malformed;
        case SlotCopy::other_version:
            problem = segment_message::format(
                "alarm table {} is not in its slot (latest_version is ahead of the slots); the "
                "alarm segment is damaged",
                latest);
            return AlarmReadOutcome::malformed;
        case SlotCopy::ok:
        case SlotCopy::torn:
            break;
    }
    problem = segment_message::format(
        "alarm table {} cannot be read: its slot stayed mid-write (the monitor is stuck "
        "mid-publication, or died writing it)",
        latest);
    return AlarmReadOutcome::busy;
}

}  // namespace brt
