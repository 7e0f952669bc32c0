// The shared-memory segment, byte by byte. This file and
// docs/segment-format.md describe the same thing; change them together and
// bump kAbiVersion whenever a reader written against the old layout would
// misread the new one.
//
//   [ header: 4096 bytes ][ metadata ][ command ring ][ slot 0 ][ slot 1 ] ...
//
// Every region starts on a 4096-byte boundary; every column on a 64-byte one.
// All integers are little-endian (the only byte order of x86-64 and aarch64).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "geometry.hpp"

namespace brt {

inline constexpr std::uint64_t kPageSize = 4096;
inline constexpr std::uint64_t kColumnAlignment = 64;
inline constexpr std::uint32_t kAbiVersion = 1;
// The 8 ASCII bytes "BRT-SHM1" read as a little-endian 64-bit integer.
inline constexpr std::uint64_t kSegmentMagic = 0x314d48532d545242ull;

constexpr std::uint64_t round_up(std::uint64_t value, std::uint64_t alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

// Frame numbers run from 1 to this (2^63 - 1) and never wrap; a segment whose
// latest_frame is beyond it is refused as malformed (docs/segment-format.md).
inline constexpr std::uint64_t kMaxFrameNumber = (1ull << 63) - 1;

// Atomics shared between processes must never fall back to a lock.
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::int32_t>::is_always_lock_free);

enum class WriterState : std::uint32_t {
    never_started = 0,  // segment created, no writer has attached yet
    running = 1,        // a writer holds the lock and publishes
    paused = 2,         // a writer holds the lock, heartbeats, publishes nothing new
    stopped = 3,        // the writer exited cleanly
    failed = 4,         // the writer exited on an error
};

enum class FieldType : std::uint32_t { float32 = 1, uint32 = 2 };

// One column of a frame slot.
enum class Field : std::uint32_t {
    // Measured: the model's value with sensor noise, quantisation and faults.
    voltage_v = 0,
    current_a = 1,  // the cell's current, discharge positive
    temperature_c = 2,
    // Model truth: the model's own values, no noise, no sensor faults.
    soc = 3,             // state of charge, fraction 0..1
    resistance_ohm = 4,  // internal resistance R0 the model steps with
    soh = 5,             // state of health, fraction of nominal capacity 0..1
    status = 6,          // bit set, see CellStatus
};
inline constexpr std::uint32_t kFieldCount = 7;

struct FieldDescriptor {
    char name[16];                 // NUL-padded ASCII, e.g. "voltage_v"
    std::uint32_t element_type;    // FieldType
    std::uint32_t element_size;    // bytes per cell
    std::uint64_t offset_in_slot;  // column start, from the slot's first byte
};
static_assert(sizeof(FieldDescriptor) == 32);

// Per-cell status word bits (Field::status).
namespace cell_status {
inline constexpr std::uint32_t voltage_sensor_fault = 1u << 0;
inline constexpr std::uint32_t temperature_sensor_fault = 1u << 1;
inline constexpr std::uint32_t current_sensor_fault = 1u << 2;
inline constexpr std::uint32_t dropout = 1u << 3;  // a published value is NaN
inline constexpr std::uint32_t open_wire = 1u << 4;
inline constexpr std::uint32_t stuck = 1u << 5;
inline constexpr std::uint32_t offset_drift = 1u << 6;
inline constexpr std::uint32_t balancing = 1u << 8;  // passive balancing resistor on
inline constexpr std::uint32_t self_heating = 1u << 9;
inline constexpr std::uint32_t venting = 1u << 10;
inline constexpr std::uint32_t thermal_runaway = 1u << 11;
}  // namespace cell_status

// Header, 4096 bytes at offset 0. The static part is written once by
// shm_init; `magic` is stored last (release) so a reader that sees it sees a
// complete header. The live part is on its own cache lines.
struct alignas(64) SegmentHeader {
    // -- static part --
    std::atomic<std::uint64_t> magic;         // 0
    std::uint32_t abi_version;                // 8
    std::uint32_t header_size;                // 12
    std::uint64_t segment_size;               // 16
    std::uint64_t generation;                 // 24: random, new at every creation
    std::uint64_t created_realtime_ns;        // 32
    std::uint32_t racks;                      // 40
    std::uint32_t modules_per_rack;           // 44
    std::uint32_t cells_per_module;           // 48
    std::uint32_t slot_count;                 // 52
    std::uint64_t cell_count;                 // 56
    std::uint64_t metadata_offset;            // 64
    std::uint64_t metadata_size;              // 72
    std::uint64_t rack_chemistry_offset;      // 80: uint32[racks]
    std::uint64_t cell_chemistry_offset;      // 88: uint8[cells]
    std::uint64_t cell_capacity_offset;       // 96: float32[cells], Ah
    std::uint64_t ring_offset;                // 104
    std::uint32_t ring_capacity;              // 112: entries, a power of two
    std::uint32_t ring_entry_size;            // 116
    std::uint64_t ring_results_offset;        // 120
    std::uint64_t slots_offset;               // 128
    std::uint64_t slot_stride;                // 136
    std::uint64_t rack_table_offset_in_slot;  // 144
    std::uint32_t rack_record_size;           // 152
    std::uint32_t field_count;                // 156
    std::uint64_t column_stride;              // 160
    std::uint8_t reserved0[192 - 168];        // 168
    FieldDescriptor fields[8];                // 192..447
    std::uint8_t reserved1[512 - 448];        // 448

    // -- writer state (written by the writer) --
    std::atomic<std::uint32_t> writer_state;              // 512: WriterState
    std::atomic<std::int32_t> writer_pid;                 // 516
    std::atomic<std::uint64_t> writer_start_realtime_ns;  // 520
    std::atomic<std::uint64_t> heartbeat_ns;              // 528: CLOCK_MONOTONIC
    std::atomic<std::uint64_t> publish_period_ns;         // 536: nominal
    std::atomic<std::uint64_t> writer_generation;         // 544: +1 per writer start
    std::uint8_t reserved2[576 - 552];                    // 552

    std::atomic<std::uint64_t> latest_frame;  // 576: newest complete frame, 0 = none
    std::uint8_t reserved3[640 - 584];        // 584

    // futex word: a counter the writer bumps after every publish and every
    // state change; readers sleep while it keeps the value they saw.
    std::atomic<std::uint32_t> frame_futex;    // 640
    std::atomic<std::uint32_t> futex_waiters;  // 644: readers about to sleep
    std::uint8_t reserved4[704 - 648];         // 648

    std::atomic<std::uint64_t> ring_enqueue_position;  // 704: producers
    std::uint8_t reserved5[768 - 712];                 // 712
    std::atomic<std::uint64_t> ring_dequeue_position;  // 768: the writer
    std::uint8_t reserved6[4096 - 776];                // 776
};
static_assert(sizeof(SegmentHeader) == kPageSize);
static_assert(offsetof(SegmentHeader, abi_version) == 8);
static_assert(offsetof(SegmentHeader, generation) == 24);
static_assert(offsetof(SegmentHeader, racks) == 40);
static_assert(offsetof(SegmentHeader, cell_count) == 56);
static_assert(offsetof(SegmentHeader, ring_offset) == 104);
static_assert(offsetof(SegmentHeader, slots_offset) == 128);
static_assert(offsetof(SegmentHeader, column_stride) == 160);
static_assert(offsetof(SegmentHeader, fields) == 192);
static_assert(offsetof(SegmentHeader, writer_state) == 512);
static_assert(offsetof(SegmentHeader, heartbeat_ns) == 528);
static_assert(offsetof(SegmentHeader, writer_generation) == 544);
static_assert(offsetof(SegmentHeader, latest_frame) == 576);
static_assert(offsetof(SegmentHeader, frame_futex) == 640);
static_assert(offsetof(SegmentHeader, futex_waiters) == 644);
static_assert(offsetof(SegmentHeader, ring_enqueue_position) == 704);
static_assert(offsetof(SegmentHeader, ring_dequeue_position) == 768);

// Start of every frame slot. Fields after `sequence` are covered by it.
struct alignas(64) SlotHeader {
    std::atomic<std::uint64_t> sequence;               // 0: odd while being written
    std::atomic<std::uint64_t> frame_number;           // 8: 1, 2, 3, ...
    std::atomic<std::uint64_t> sim_time_ns;            // 16: simulated time since start
    std::atomic<std::uint64_t> wall_time_ns;           // 24: CLOCK_REALTIME at publish
    std::atomic<std::uint64_t> publish_monotonic_ns;   // 32: CLOCK_MONOTONIC at publish
    std::atomic<std::uint32_t> ambient_temperature_c;  // 40: float32 bits
    std::atomic<std::uint32_t> flags;                  // 44: reserved, 0
    std::uint8_t reserved[128 - 48];
};
static_assert(sizeof(SlotHeader) == 128);
static_assert(offsetof(SlotHeader, ambient_temperature_c) == 40);

// Per-rack quantities of a frame, an array of `racks` records after SlotHeader.
struct RackRecord {
    float current_a;          // string current, discharge positive
    float air_temperature_c;  // rack air
    std::uint32_t mode;       // operating mode, defined by the simulator
    // Bit set defined by the simulator (rack_flags in common/control/rack_mode.hpp,
    // listed in docs/segment-format.md): 0 HVAC on, 1 constant voltage, 2 grid
    // outage, 3 charger fault, 4 discharge cut-off, 5 paused (never in a published
    // frame: a paused writer publishes none). Bits 6..31 are zero.
    std::uint32_t flags;
};
static_assert(sizeof(RackRecord) == 16);

// One command in the ring. The producer fills it, then publishes `sequence`.
struct alignas(64) CommandEntry {
    std::atomic<std::uint64_t> sequence;  // 0: ring protocol, docs/segment-format.md
    std::uint32_t kind;                   // 8: CommandKind
    std::int32_t sender_pid;              // 12
    std::uint32_t rack;                   // 16: kAllTargets = whole system
    std::uint32_t module;                 // 20
    std::uint32_t cell;                   // 24
    std::uint32_t code;                   // 28: scenario / mode / fault kind
    double args[6];                       // 32: meaning per kind
    // Added inside ABI 1's reserved bytes: a producer that does not set them
    // leaves zeros, which mean "none", and an older reader ignores them.
    std::uint64_t target_id;           // 80: an alarm id for alarm commands; 0 = none
    char origin[32];                   // 88: NUL-padded UTF-8, who sent it; empty = unknown
    std::uint8_t reserved[128 - 120];  // 120: zero
};
static_assert(sizeof(CommandEntry) == 128);
static_assert(offsetof(CommandEntry, kind) == 8);
static_assert(offsetof(CommandEntry, args) == 32);
static_assert(offsetof(CommandEntry, target_id) == 80);
static_assert(offsetof(CommandEntry, origin) == 88);
static_assert(offsetof(CommandEntry, reserved) == 120);
inline constexpr std::uint32_t kAllTargets = 0xFFFFFFFFu;
inline constexpr std::uint32_t kDefaultRingCapacity = 64;

// The writer's answer to command N, at index N % capacity.
struct alignas(16) CommandResult {
    std::atomic<std::uint64_t> position;  // 0: which command this answers (+1; 0 = none)
    std::atomic<std::uint32_t> status;    // 8: CommandStatus
    std::uint32_t reserved;
};
static_assert(sizeof(CommandResult) == 16);

// Every offset of a segment, derived from its geometry alone.
struct SegmentLayout {
    Geometry geometry;
    std::uint32_t slot_count = kDefaultSlots;
    std::uint64_t metadata_offset = 0;
    std::uint64_t metadata_size = 0;
    std::uint64_t rack_chemistry_offset = 0;
    std::uint64_t cell_chemistry_offset = 0;
    std::uint64_t cell_capacity_offset = 0;
    std::uint64_t ring_offset = 0;
    std::uint32_t ring_capacity = kDefaultRingCapacity;
    std::uint64_t ring_results_offset = 0;
    std::uint64_t slots_offset = 0;
    std::uint64_t rack_table_offset_in_slot = 0;
    std::uint64_t column_stride = 0;
    std::uint64_t column_offset_in_slot[kFieldCount] = {};
    std::uint64_t slot_stride = 0;
    std::uint64_t segment_size = 0;

    std::uint64_t slot_offset(std::uint32_t slot) const {
        return slots_offset + slot * slot_stride;
    }
};

SegmentLayout compute_layout(const Geometry& geometry, std::uint32_t slot_count);

// Name, type and size of each field, in Field order.
struct FieldInfo {
    const char* name;
    FieldType type;
};
const FieldInfo& field_info(Field field);

}  // namespace brt
