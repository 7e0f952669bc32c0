#include "alarm_segment_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <functional>
#include <thread>
#include <utility>

#include "common/segment/clock.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/message.hpp"
#include "common/segment/segment_file.hpp"
#include "common/segment/shm_file.hpp"
#include "common/segment/shm_name.hpp"

namespace brt {

namespace {

constexpr std::string_view kAlarmSuffix = ".alarms";
// A file with a zero magic younger than this is being created (the monitor
// creates it in microseconds); an older one was left by a creator that died.
constexpr std::uint64_t kInitialisingAgeNs = 1'000'000'000;

std::string hint_remove(const std::string& name) {
    return segment_message::format(
        "to start afresh, stop brt-anomaly-monitor and remove {} (or run "
        "'brt-anomaly-monitor --reset-alarms'); the monitor re-creates it",
        shm_path(name));
}

[[noreturn]] void throw_malformed(const std::string& name, const std::string& what) {
    throw SegmentError(SegmentErrorKind::malformed,
                       segment_message::format("alarm segment '{}' is malformed: {}; {}", name,
                                               what, hint_remove(name)));
}

void check_field(const std::string& name, const char* field, std::uint64_t stored,
                 std::uint64_t expected) {
    if (stored != expected) {
        throw_malformed(name, segment_message::format("header field {} is {}, expected {}", field,
                                                      stored, expected));
    }
}

void check_capacities(std::uint32_t record_capacity, std::uint32_t ring_capacity,
                      const std::function<void(const std::string&)>& refuse) {
    if (record_capacity == 0 || record_capacity > kMaxAlarmRecordCapacity) {
        refuse(segment_message::format("record capacity {} is outside 1..{}", record_capacity,
                                       kMaxAlarmRecordCapacity));
    }
    if (ring_capacity == 0 || ring_capacity > kMaxAlarmRingCapacity ||
        !std::has_single_bit(ring_capacity)) {
        refuse(segment_message::format("ring capacity {} is not a power of two in 1..{}",
                                       ring_capacity, kMaxAlarmRingCapacity));
    }
}

std::uint64_t file_age_ns(const struct stat& file_status) {
    const std::uint64_t changed =
        static_cast<std::uint64_t>(file_status.st_ctim.tv_sec) * 1'000'000'000ull +
        static_cast<std::uint64_t>(file_status.st_ctim.tv_nsec);
    const std::uint64_t now = realtime_ns();
    return now > changed ? now - changed : 0;
}

}  // namespace

std::string alarm_segment_name(const std::string& telemetry_name) {
    const std::string telemetry = normalize_shm_name(telemetry_name);
    const std::string name = telemetry + std::string(kAlarmSuffix);
    try {
        return normalize_shm_name(name);
    } catch (const UsageError& error) {
        throw UsageError(segment_message::format(
            "segment name '{}' leaves no room for its alarm segment '{}' ({}); use a name "
            "at most {} characters shorter",
            telemetry, name, error.what(), kAlarmSuffix.size()));
    }
}

AlarmSlotHeader& MappedAlarmSegment::slot_header(std::uint32_t slot) const {
    return *reinterpret_cast<AlarmSlotHeader*>(mapping_.bytes() + layout_.slot_offset(slot));
}

AlarmRecord* MappedAlarmSegment::slot_records(std::uint32_t slot) const {
    return reinterpret_cast<AlarmRecord*>(mapping_.bytes() + layout_.slot_offset(slot) +
                                          kAlarmSlotHeaderSize);
}

CommandRing MappedAlarmSegment::command_ring() const {
    std::byte* bytes = mapping_.bytes();
    return CommandRing(header().ring_enqueue_position, header().ring_dequeue_position,
                       reinterpret_cast<CommandEntry*>(bytes + layout_.ring_offset),
                       reinterpret_cast<CommandResult*>(bytes + layout_.ring_results_offset),
                       layout_.ring_capacity);
}

std::string alarm_truncation_message(const MappedAlarmSegment& segment) {
    return truncation_message(
        "alarm segment", segment.name(), segment.file_size_now(), segment.layout().segment_size,
        "its writer stops (state failed) and readers detach; " + hint_remove(segment.name()));
}

AlarmSegmentLayout validate_alarm_header(const AlarmSegmentHeader& header, std::uint64_t file_size,
                                         const std::string& name) {
    const std::uint64_t magic = header.magic.load(std::memory_order_acquire);
    if (magic == 0) {
        throw SegmentError(
            SegmentErrorKind::initialising,
            segment_message::format("alarm segment '{}' is not initialised yet (its creator is "
                                    "still writing it)",
                                    name));
    }
    if (magic != kAlarmSegmentMagic) {
        throw SegmentError(
            SegmentErrorKind::bad_magic,
            segment_message::format("{} is not a battery-rack alarm segment (magic {}, expected "
                                    "{}); check --shm-name; {}",
                                    shm_path(name), segment_message::hex64(magic),
                                    segment_message::hex64(kAlarmSegmentMagic), hint_remove(name)));
    }
    if (header.abi_version != kAlarmAbiVersion) {
        throw SegmentError(
            SegmentErrorKind::abi_mismatch,
            segment_message::format("alarm segment '{}' has ABI version {}, but this tool speaks "
                                    "alarm segment ABI version {}; run tools from the same "
                                    "release as brt-anomaly-monitor; {}",
                                    name, header.abi_version, kAlarmAbiVersion, hint_remove(name)));
    }
    check_field(name, "header_size", header.header_size, kPageSize);
    check_field(name, "record_size", header.record_size, kAlarmRecordSize);
    check_field(name, "slot_count", header.slot_count, kAlarmSlotCount);
    check_field(name, "slot_header_size", header.slot_header_size, kAlarmSlotHeaderSize);
    check_field(name, "ring_entry_size", header.ring_entry_size, sizeof(CommandEntry));
    if (header.generation == 0) {
        throw_malformed(name, "its generation is 0");
    }
    if (const std::uint64_t latest = header.latest_version.load(std::memory_order_acquire);
        latest > kMaxAlarmVersion) {
        throw_malformed(
            name, segment_message::format("latest_version is {}, beyond the largest version {}",
                                          latest, kMaxAlarmVersion));
    }
    check_capacities(header.record_capacity, header.ring_capacity,
                     [&](const std::string& what) { throw_malformed(name, what); });
    const AlarmSegmentLayout layout =
        compute_alarm_layout(header.record_capacity, header.ring_capacity);
    check_field(name, "ring_offset", header.ring_offset, layout.ring_offset);
    check_field(name, "ring_results_offset", header.ring_results_offset,
                layout.ring_results_offset);
    check_field(name, "slots_offset", header.slots_offset, layout.slots_offset);
    check_field(name, "slot_stride", header.slot_stride, layout.slot_stride);
    check_field(name, "segment_size", header.segment_size, layout.segment_size);
    if (file_size < layout.segment_size) {
        throw SegmentError(
            SegmentErrorKind::truncated,
            segment_message::format("alarm segment '{}' is truncated: {} bytes, but its header "
                                    "describes {} bytes; {}",
                                    name, file_size, layout.segment_size, hint_remove(name)));
    }
    if (file_size > layout.segment_size) {
        throw_malformed(name, segment_message::format("the file is {} bytes, its header "
                                                      "describes {} bytes",
                                                      file_size, layout.segment_size));
    }
    return layout;
}

MappedAlarmSegment open_alarm_segment(const std::string& name, AlarmSegmentAccess access,
                                      std::chrono::milliseconds initialising_grace) {
    const auto deadline = std::chrono::steady_clock::now() + initialising_grace;
    for (;;) {
        try {
            MappedAlarmSegment segment;
            segment.mapping_ = map_validated_shm(
                name, "alarm segment",
                "brt-anomaly-monitor creates it when it starts: is it running with the same "
                "--shm-name?",
                hint_remove(name), [&](const std::byte* first_page, std::uint64_t file_size) {
                    segment.layout_ = validate_alarm_header(
                        *reinterpret_cast<const AlarmSegmentHeader*>(first_page), file_size, name);
                    return segment.layout_.segment_size;
                });
            if (access == AlarmSegmentAccess::reader) {
                // Readers never write the alarm state: make that a hardware fact.
                const AlarmSegmentLayout& layout = segment.layout_;
                mprotect(segment.mapping_.bytes() + layout.slots_offset,
                         layout.segment_size - layout.slots_offset, PROT_READ);
            }
            return segment;
        } catch (const SegmentError& error) {
            if (error.kind() != SegmentErrorKind::initialising) {
                throw;
            }
            // The monitor creates its segment in microseconds: one still not
            // initialised after a second was left by a creator that died.
            struct stat file_status {};
            if (stat(shm_path(name).c_str(), &file_status) == 0 &&
                file_age_ns(file_status) > kInitialisingAgeNs) {
                throw_malformed(name, segment_message::format(
                                          "it has stayed uninitialised for {} s (its creator "
                                          "died while creating it)",
                                          file_age_ns(file_status) / 1'000'000'000));
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                throw;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

bool create_alarm_segment(const std::string& name, const AlarmSegmentOptions& options) {
    check_capacities(options.record_capacity, options.ring_capacity,
                     [](const std::string& what) { throw UsageError("alarm segment: " + what); });
    const AlarmSegmentLayout layout =
        compute_alarm_layout(options.record_capacity, options.ring_capacity);
    std::optional<NewShmFile> file =
        create_shm_file(name, layout.segment_size, options.mode, options.group,
                        "enlarge /dev/shm or lower the alarm record capacity");
    if (!file) {
        return false;
    }
    std::byte* bytes = file->bytes();
    auto& header = *reinterpret_cast<AlarmSegmentHeader*>(bytes);
    // ftruncate zero-fills: every counter, sequence, position and state starts at 0.
    header.abi_version = kAlarmAbiVersion;
    header.header_size = kPageSize;
    header.segment_size = layout.segment_size;
    header.generation = random_generation();
    header.created_realtime_ns = realtime_ns();
    header.record_capacity = layout.record_capacity;
    header.record_size = kAlarmRecordSize;
    header.slot_count = kAlarmSlotCount;
    header.slot_header_size = kAlarmSlotHeaderSize;
    header.slots_offset = layout.slots_offset;
    header.slot_stride = layout.slot_stride;
    header.ring_offset = layout.ring_offset;
    header.ring_capacity = layout.ring_capacity;
    header.ring_entry_size = sizeof(CommandEntry);
    header.ring_results_offset = layout.ring_results_offset;
    // Vyukov ring: entry i starts with sequence i (free for position i).
    auto* entries = reinterpret_cast<CommandEntry*>(bytes + layout.ring_offset);
    init_command_entries(entries, layout.ring_capacity);
    header.magic.store(kAlarmSegmentMagic, std::memory_order_release);
    file->keep();
    return true;
}

bool remove_alarm_segment(const std::string& name) {
    return remove_segment(name);
}

}  // namespace brt
