// The alarm segment, byte by byte: the alarm state brt-anomaly-monitor
// publishes beside the telemetry segment, in /dev/shm/<telemetry name>.alarms.
// This file and docs/alarm-segment.md describe the same thing; change them
// together and bump kAlarmAbiVersion whenever a reader written against the
// old layout would misread the new one.
//
//   [ header: 4096 ][ command ring, rounded up to 4096 ][ slot 0 ][ slot 1 ]
//
// The writer-state part of the header has the telemetry header's offsets and
// meaning, so the same liveness rules (liveness.hpp) judge the monitor.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "common/segment/segment_layout.hpp"

namespace brt {

inline constexpr std::uint32_t kAlarmAbiVersion = 1;
// The 8 ASCII bytes "BRT-ALM1" read as a little-endian 64-bit integer.
inline constexpr std::uint64_t kAlarmSegmentMagic = 0x314d4c412d545242ull;
inline constexpr std::uint32_t kAlarmSlotCount = 2;
inline constexpr std::uint32_t kAlarmRecordSize = 128;
inline constexpr std::uint32_t kAlarmSlotHeaderSize = 128;
inline constexpr std::uint32_t kDefaultAlarmRecordCapacity = 1024;
inline constexpr std::uint32_t kMaxAlarmRecordCapacity = 65536;
inline constexpr std::uint32_t kMaxAlarmRingCapacity = 4096;
// Publication versions run from 1 and never wrap, like frame numbers.
inline constexpr std::uint64_t kMaxAlarmVersion = (1ull << 63) - 1;

struct alignas(64) AlarmSegmentHeader {
    // -- static part, written once at creation; magic last (release) --
    std::atomic<std::uint64_t> magic;   // 0
    std::uint32_t abi_version;          // 8
    std::uint32_t header_size;          // 12
    std::uint64_t segment_size;         // 16
    std::uint64_t generation;           // 24: random, new at every creation
    std::uint64_t created_realtime_ns;  // 32
    std::uint32_t record_capacity;      // 40: records per slot
    std::uint32_t record_size;          // 44
    std::uint32_t slot_count;           // 48
    std::uint32_t slot_header_size;     // 52
    std::uint64_t slots_offset;         // 56
    std::uint64_t slot_stride;          // 64
    std::uint64_t ring_offset;          // 72
    std::uint32_t ring_capacity;        // 80: a power of two
    std::uint32_t ring_entry_size;      // 84
    std::uint64_t ring_results_offset;  // 88
    std::uint8_t reserved0[512 - 96];   // 96

    // -- writer state: the telemetry header's offsets and meaning --
    std::atomic<std::uint32_t> writer_state;              // 512: WriterState
    std::atomic<std::int32_t> writer_pid;                 // 516
    std::atomic<std::uint64_t> writer_start_realtime_ns;  // 520
    std::atomic<std::uint64_t> heartbeat_ns;              // 528: CLOCK_MONOTONIC
    std::atomic<std::uint64_t> publish_period_ns;         // 536: nominal
    std::atomic<std::uint64_t> writer_generation;         // 544: +1 per monitor start
    std::uint8_t reserved1[576 - 552];                    // 552

    std::atomic<std::uint64_t> latest_version;  // 576: newest complete publication, 0 = none
    std::uint8_t reserved2[640 - 584];          // 584

    // Bumped after every publication and state change; readers sleep on it.
    std::atomic<std::uint32_t> publish_futex;  // 640
    std::atomic<std::uint32_t> futex_waiters;  // 644
    std::uint8_t reserved3[704 - 648];         // 648

    std::atomic<std::uint64_t> ring_enqueue_position;  // 704: producers
    std::uint8_t reserved4[768 - 712];                 // 712
    std::atomic<std::uint64_t> ring_dequeue_position;  // 768: the monitor
    std::uint8_t reserved5[4096 - 776];                // 776
};
static_assert(sizeof(AlarmSegmentHeader) == kPageSize);
static_assert(offsetof(AlarmSegmentHeader, abi_version) == 8);
static_assert(offsetof(AlarmSegmentHeader, generation) == 24);
static_assert(offsetof(AlarmSegmentHeader, record_capacity) == 40);
static_assert(offsetof(AlarmSegmentHeader, slot_count) == 48);
static_assert(offsetof(AlarmSegmentHeader, slots_offset) == 56);
static_assert(offsetof(AlarmSegmentHeader, ring_offset) == 72);
static_assert(offsetof(AlarmSegmentHeader, ring_capacity) == 80);
static_assert(offsetof(AlarmSegmentHeader, ring_results_offset) == 88);
// The writer-state fields where the telemetry header has them.
static_assert(offsetof(AlarmSegmentHeader, writer_state) == offsetof(SegmentHeader, writer_state));
static_assert(offsetof(AlarmSegmentHeader, heartbeat_ns) == offsetof(SegmentHeader, heartbeat_ns));
static_assert(offsetof(AlarmSegmentHeader, writer_generation) ==
              offsetof(SegmentHeader, writer_generation));
static_assert(offsetof(AlarmSegmentHeader, latest_version) ==
              offsetof(SegmentHeader, latest_frame));
static_assert(offsetof(AlarmSegmentHeader, publish_futex) == offsetof(SegmentHeader, frame_futex));
static_assert(offsetof(AlarmSegmentHeader, futex_waiters) == 644);
static_assert(offsetof(AlarmSegmentHeader, ring_enqueue_position) == 704);
static_assert(offsetof(AlarmSegmentHeader, ring_dequeue_position) == 768);

// Start of each of the two slots. Every field after `sequence` is covered by it.
struct alignas(64) AlarmSlotHeader {
    std::atomic<std::uint64_t> sequence;                    // 0: odd while being written
    std::atomic<std::uint64_t> version;                     // 8: the publication held
    std::atomic<std::uint64_t> frame_number;                // 16: telemetry frame evaluated
    std::atomic<std::uint64_t> frame_publish_monotonic_ns;  // 24: that frame's publish time
    std::atomic<std::uint64_t> published_monotonic_ns;      // 32
    std::atomic<std::uint64_t> published_realtime_ns;       // 40
    std::atomic<std::uint64_t> telemetry_generation;        // 48: 0 = none attached
    std::atomic<std::uint32_t> record_count;                // 56
    std::atomic<std::uint32_t> records_left_out;            // 60: active, did not fit
    std::atomic<std::uint64_t> raised_total;                // 64: since the monitor started
    std::atomic<std::uint64_t> annunciated_total;           // 72: not suppressed nor shelved
    std::atomic<std::uint64_t> monitor_start_realtime_ns;   // 80
    std::uint8_t reserved[128 - 88];                        // 88
};
static_assert(sizeof(AlarmSlotHeader) == kAlarmSlotHeaderSize);
static_assert(offsetof(AlarmSlotHeader, telemetry_generation) == 48);
static_assert(offsetof(AlarmSlotHeader, record_count) == 56);
static_assert(offsetof(AlarmSlotHeader, raised_total) == 64);
static_assert(offsetof(AlarmSlotHeader, monitor_start_realtime_ns) == 80);

// ISA-18.2 states of an alarm record.
enum class AlarmState : std::uint8_t {
    normal = 0,  // never in a record: an event's state when the alarm left the list
    unacknowledged = 1,
    acknowledged = 2,
    returned_unacknowledged = 3,  // the condition cleared before anyone acknowledged it
};

// AlarmRecord::flags bits; the others are 0.
namespace alarm_flags {
inline constexpr std::uint32_t active = 1u << 0;  // the condition is present now
inline constexpr std::uint32_t latching = 1u << 1;
inline constexpr std::uint32_t shelved = 1u << 2;
inline constexpr std::uint32_t suppressed_by_design = 1u << 3;
inline constexpr std::uint32_t first_out = 1u << 4;  // the first alarm of its module
}  // namespace alarm_flags

// "Not applicable" in a rack, module or cell field.
inline constexpr std::uint32_t kNoLocation = 0xFFFFFFFFu;

// One alarm, plain data copied word by word under the slot's seqlock. Its
// identity is (key_rule, severity, key_rack, key_module, key_cell).
struct AlarmRecord {
    std::uint64_t id = 0;                  // 0: 1, 2, 3, ... unique within the segment's life
    std::uint64_t first_out_id = 0;        // 8: consequential alarm: its module's first-out; 0 none
    std::uint8_t key_rule = 0;             // 16: Rule code (common/alarm/alarm_rules.hpp order)
    std::uint8_t rule = 0;                 // 17: the rule code that applies now (the label)
    std::uint8_t severity = 0;             // 18: 0 info (MOL), 1 warning (RSL), 2 critical (MSL)
    std::uint8_t state = 0;                // 19: AlarmState
    std::uint32_t flags = 0;               // 20: alarm_flags
    std::uint32_t key_rack = kNoLocation;  // 24
    std::uint32_t key_module = kNoLocation;  // 28
    std::uint32_t key_cell = kNoLocation;    // 32
    std::uint32_t rack = kNoLocation;        // 36: where it is now
    std::uint32_t module = kNoLocation;      // 40
    std::uint32_t cell = kNoLocation;        // 44
    float value = 0.0f;          // 48: now (or at the return to normal), rule's unit; NaN none
    float worst_value = 0.0f;    // 52: the worst since the raise
    float limit = 0.0f;          // 56: the limit crossed (now)
    std::uint32_t reserved = 0;  // 60
    std::uint64_t raised_realtime_ns = 0;         // 64
    std::uint64_t changed_realtime_ns = 0;        // 72: the last state transition
    std::uint64_t shelved_until_realtime_ns = 0;  // 80: 0 = not shelved
    std::uint64_t raised_frame = 0;               // 88
    char acknowledged_by[32] = {};                // 96: NUL-padded origin of the acknowledgement
};
static_assert(sizeof(AlarmRecord) == kAlarmRecordSize);
static_assert(offsetof(AlarmRecord, key_rule) == 16);
static_assert(offsetof(AlarmRecord, state) == 19);
static_assert(offsetof(AlarmRecord, flags) == 20);
static_assert(offsetof(AlarmRecord, key_rack) == 24);
static_assert(offsetof(AlarmRecord, cell) == 44);
static_assert(offsetof(AlarmRecord, value) == 48);
static_assert(offsetof(AlarmRecord, limit) == 56);
static_assert(offsetof(AlarmRecord, raised_realtime_ns) == 64);
static_assert(offsetof(AlarmRecord, shelved_until_realtime_ns) == 80);
static_assert(offsetof(AlarmRecord, raised_frame) == 88);
static_assert(offsetof(AlarmRecord, acknowledged_by) == 96);

// Every offset of an alarm segment, derived from its two capacities alone.
struct AlarmSegmentLayout {
    std::uint32_t record_capacity = kDefaultAlarmRecordCapacity;
    std::uint32_t ring_capacity = kDefaultRingCapacity;
    std::uint64_t ring_offset = 0;
    std::uint64_t ring_results_offset = 0;
    std::uint64_t slots_offset = 0;
    std::uint64_t slot_stride = 0;
    std::uint64_t segment_size = 0;

    std::uint64_t slot_offset(std::uint32_t slot) const {
        return slots_offset + slot * slot_stride;
    }
};

// Capacities must be in range (validate_alarm_capacities).
constexpr AlarmSegmentLayout compute_alarm_layout(std::uint32_t record_capacity,
                                                  std::uint32_t ring_capacity) {
    AlarmSegmentLayout layout;
    layout.record_capacity = record_capacity;
    layout.ring_capacity = ring_capacity;
    layout.ring_offset = kPageSize;
    layout.ring_results_offset = layout.ring_offset + std::uint64_t{ring_capacity} * 128;
    layout.slots_offset =
        round_up(layout.ring_results_offset + std::uint64_t{ring_capacity} * 16, kPageSize);
    layout.slot_stride = round_up(
        kAlarmSlotHeaderSize + std::uint64_t{record_capacity} * kAlarmRecordSize, kPageSize);
    layout.segment_size = layout.slots_offset + kAlarmSlotCount * layout.slot_stride;
    return layout;
}
static_assert(compute_alarm_layout(1024, 64).segment_size == 4096 + 12288 + 2 * 135168);

}  // namespace brt
