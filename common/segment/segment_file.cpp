#include "segment_file.hpp"

#include "message.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

#include "clock.hpp"
#include "command_ring.hpp"
#include "errors.hpp"
#include "shm_file.hpp"
#include "shm_name.hpp"

namespace brt {

namespace {

// A segment whose magic is still zero is being created; give its creator this
// long before calling it broken.
constexpr auto kInitialisingGrace = std::chrono::milliseconds(500);

std::string hint_recreate(const std::string& name) {
    return segment_message::format("re-create it with 'brt-shm-init --shm-name {} --force'", name);
}

[[noreturn]] void throw_malformed(const std::string& name, const std::string& what) {
    throw SegmentError(SegmentErrorKind::malformed,
                       segment_message::format("segment '{}' is malformed: {}; {}", name, what,
                                               hint_recreate(name)));
}

void check_field(const std::string& name, const char* field, std::uint64_t stored,
                 std::uint64_t expected) {
    if (stored != expected) {
        throw_malformed(
            name, segment_message::format("header field {} is {}, expected {} for its geometry",
                                          field, stored, expected));
    }
}

// The metadata's chemistry codes, once the whole segment is mapped (they lie
// past the header page). Every rack's code must be one this library knows:
// readers and the simulator pick a chemistry's limits and model by it.
std::vector<Chemistry> checked_rack_chemistry(const std::byte* bytes, const SegmentLayout& layout,
                                              const std::string& name) {
    const auto* codes =
        reinterpret_cast<const std::uint32_t*>(bytes + layout.rack_chemistry_offset);
    std::vector<Chemistry> chemistry;
    chemistry.reserve(layout.geometry.racks);
    for (std::uint32_t rack = 0; rack < layout.geometry.racks; ++rack) {
        const auto known = chemistry_from_code(codes[rack]);
        if (!known) {
            throw_malformed(name, segment_message::format(
                                      "rack {} has chemistry code {}, which is not known (1 = "
                                      "NMC, 2 = LFP)",
                                      rack, codes[rack]));
        }
        chemistry.push_back(*known);
    }
    return chemistry;
}

}  // namespace

Chemistry MappedSegment::rack_chemistry(std::uint32_t rack) const {
    if (rack >= rack_chemistry_.size()) {
        throw std::out_of_range(
            segment_message::format("rack {} outside 0..{}", rack, layout_.geometry.racks - 1));
    }
    return rack_chemistry_[rack];
}

std::vector<Chemistry> MappedSegment::rack_chemistries() const {
    return rack_chemistry_;
}

std::span<const float> MappedSegment::cell_capacity_ah() const {
    return {at<const float>(layout_.cell_capacity_offset), layout_.geometry.cell_count()};
}

SegmentLayout validate_header(const SegmentHeader& header, std::uint64_t file_size,
                              const std::string& name) {
    const std::uint64_t magic = header.magic.load(std::memory_order_acquire);
    if (magic == 0) {
        throw SegmentError(
            SegmentErrorKind::initialising,
            segment_message::format("segment '{}' is not initialised (its creator is still "
                                    "writing it, or died while doing so); wait, or {}",
                                    name, hint_recreate(name)));
    }
    if (magic != kSegmentMagic) {
        throw SegmentError(
            SegmentErrorKind::bad_magic,
            segment_message::format("{} is not a battery-rack telemetry segment (magic "
                                    "{}, expected {}); check --shm-name, or {}",
                                    shm_path(name), segment_message::hex64(magic),
                                    segment_message::hex64(kSegmentMagic), hint_recreate(name)));
    }
    if (header.abi_version != kAbiVersion) {
        throw SegmentError(
            SegmentErrorKind::abi_mismatch,
            segment_message::format(
                "segment '{}' has ABI version {}, but this tool speaks ABI version {}; "
                "run tools from the same release as the segment's creator, or {}",
                name, header.abi_version, kAbiVersion, hint_recreate(name)));
    }
    if (header.header_size != kPageSize) {
        throw_malformed(name, segment_message::format("header size {} (expected {})",
                                                      header.header_size, kPageSize));
    }
    if (header.generation == 0) {
        // A creator always stores a random non-zero generation; readers use
        // it to tell a re-created segment.
        throw_malformed(name, "its generation is 0");
    }
    // Frame numbers never wrap: at a million frames a second a writer needs
    // 290,000 years to reach 2^63, so a counter beyond it is damage, and a
    // writer that went on from it would wrap to 0 and freeze its readers.
    if (const std::uint64_t latest = header.latest_frame.load(std::memory_order_acquire);
        latest > kMaxFrameNumber) {
        throw_malformed(
            name, segment_message::format("latest_frame is {}, beyond the largest frame number {}",
                                          latest, kMaxFrameNumber));
    }
    const Geometry geometry{header.racks, header.modules_per_rack, header.cells_per_module};
    try {
        validate_geometry(geometry, header.slot_count);
    } catch (const UsageError& error) {
        throw_malformed(name, std::string("bad geometry in header: ") + error.what());
    }
    const SegmentLayout layout = compute_layout(geometry, header.slot_count);
    check_field(name, "cell_count", header.cell_count, geometry.cell_count());
    check_field(name, "segment_size", header.segment_size, layout.segment_size);
    check_field(name, "metadata_offset", header.metadata_offset, layout.metadata_offset);
    check_field(name, "metadata_size", header.metadata_size, layout.metadata_size);
    check_field(name, "rack_chemistry_offset", header.rack_chemistry_offset,
                layout.rack_chemistry_offset);
    check_field(name, "cell_chemistry_offset", header.cell_chemistry_offset,
                layout.cell_chemistry_offset);
    check_field(name, "cell_capacity_offset", header.cell_capacity_offset,
                layout.cell_capacity_offset);
    check_field(name, "ring_offset", header.ring_offset, layout.ring_offset);
    check_field(name, "ring_capacity", header.ring_capacity, layout.ring_capacity);
    check_field(name, "ring_entry_size", header.ring_entry_size, sizeof(CommandEntry));
    check_field(name, "ring_results_offset", header.ring_results_offset,
                layout.ring_results_offset);
    check_field(name, "slots_offset", header.slots_offset, layout.slots_offset);
    check_field(name, "slot_stride", header.slot_stride, layout.slot_stride);
    check_field(name, "rack_table_offset_in_slot", header.rack_table_offset_in_slot,
                layout.rack_table_offset_in_slot);
    check_field(name, "rack_record_size", header.rack_record_size, sizeof(RackRecord));
    check_field(name, "column_stride", header.column_stride, layout.column_stride);
    check_field(name, "field_count", header.field_count, kFieldCount);
    for (std::uint32_t field = 0; field < kFieldCount; ++field) {
        const FieldDescriptor& descriptor = header.fields[field];
        const FieldInfo& expected = field_info(static_cast<Field>(field));
        if (std::strncmp(descriptor.name, expected.name, sizeof descriptor.name) != 0 ||
            descriptor.element_type != static_cast<std::uint32_t>(expected.type) ||
            descriptor.element_size != 4) {
            throw_malformed(name, segment_message::format("field descriptor {} is not '{}'", field,
                                                          expected.name));
        }
        check_field(name, "fields[].offset_in_slot", descriptor.offset_in_slot,
                    layout.column_offset_in_slot[field]);
    }
    if (file_size < layout.segment_size) {
        throw SegmentError(
            SegmentErrorKind::truncated,
            segment_message::format("segment '{}' is truncated: {} bytes, but its header "
                                    "describes {} bytes; {}",
                                    name, file_size, layout.segment_size, hint_recreate(name)));
    }
    return layout;
}

MappedSegment open_segment(const std::string& name, SegmentAccess access) {
    const auto deadline = std::chrono::steady_clock::now() + kInitialisingGrace;
    for (;;) {
        try {
            SegmentLayout layout;
            MappedSegment segment;
            segment.mapping_ = map_validated_shm(
                name, "segment",
                segment_message::format("create it with 'brt-shm-init --shm-name {}'", name),
                hint_recreate(name), [&](const std::byte* first_page, std::uint64_t file_size) {
                    layout = validate_header(*reinterpret_cast<const SegmentHeader*>(first_page),
                                             file_size, name);
                    return layout.segment_size;
                });
            segment.layout_ = layout;
            if (access == SegmentAccess::reader) {
                // Readers never write telemetry: make that a hardware fact.
                std::byte* bytes = segment.bytes();
                mprotect(bytes + layout.metadata_offset, layout.metadata_size, PROT_READ);
                mprotect(bytes + layout.slots_offset, layout.segment_size - layout.slots_offset,
                         PROT_READ);
            }
            // On a throw, `segment` unmaps.
            segment.rack_chemistry_ = checked_rack_chemistry(segment.bytes(), layout, name);
            if (segment.truncated()) {
                // Shrunk while being opened: what was checked may be zeros.
                throw SegmentError(SegmentErrorKind::truncated,
                                   truncation_message("segment", name, segment.file_size_now(),
                                                      layout.segment_size, hint_recreate(name)));
            }
            return segment;
        } catch (const SegmentError& error) {
            if (error.kind() != SegmentErrorKind::initialising ||
                std::chrono::steady_clock::now() >= deadline) {
                throw;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

std::optional<std::uint64_t> shm_bytes_free() {
    struct statvfs filesystem {};
    if (statvfs("/dev/shm", &filesystem) != 0) {
        return std::nullopt;
    }
    return std::uint64_t{filesystem.f_bavail} * filesystem.f_frsize;
}

void create_segment(const std::string& name, const CreateOptions& options) {
    validate_geometry(options.geometry, options.slot_count);
    const SegmentLayout layout = compute_layout(options.geometry, options.slot_count);
    if (const auto free_bytes = shm_bytes_free(); free_bytes && *free_bytes < layout.segment_size) {
        throw SegmentError(SegmentErrorKind::no_space,
                           segment_message::format(
                               "segment needs {} MiB but /dev/shm has {} MiB free; choose a "
                               "smaller geometry or fewer slots, or enlarge /dev/shm (mount -o "
                               "remount,size=...; in a container, --shm-size)",
                               segment_message::one_decimal(layout.segment_size / 1048576.0),
                               segment_message::one_decimal(*free_bytes / 1048576.0)));
    }

    std::optional<NewShmFile> file =
        create_shm_file(name, layout.segment_size, options.mode, options.group,
                        "enlarge /dev/shm or choose a smaller geometry");
    if (!file) {
        throw SegmentError(SegmentErrorKind::system,
                           segment_message::format("segment '{}' already exists", name));
    }
    std::byte* bytes = file->bytes();
    auto& header = *reinterpret_cast<SegmentHeader*>(bytes);
    // ftruncate zero-fills: every counter, sequence and state starts at 0.
    header.abi_version = kAbiVersion;
    header.header_size = kPageSize;
    header.segment_size = layout.segment_size;
    header.generation = random_generation();
    header.created_realtime_ns = realtime_ns();
    header.racks = options.geometry.racks;
    header.modules_per_rack = options.geometry.modules_per_rack;
    header.cells_per_module = options.geometry.cells_per_module;
    header.slot_count = options.slot_count;
    header.cell_count = options.geometry.cell_count();
    header.metadata_offset = layout.metadata_offset;
    header.metadata_size = layout.metadata_size;
    header.rack_chemistry_offset = layout.rack_chemistry_offset;
    header.cell_chemistry_offset = layout.cell_chemistry_offset;
    header.cell_capacity_offset = layout.cell_capacity_offset;
    header.ring_offset = layout.ring_offset;
    header.ring_capacity = layout.ring_capacity;
    header.ring_entry_size = sizeof(CommandEntry);
    header.ring_results_offset = layout.ring_results_offset;
    header.slots_offset = layout.slots_offset;
    header.slot_stride = layout.slot_stride;
    header.rack_table_offset_in_slot = layout.rack_table_offset_in_slot;
    header.rack_record_size = sizeof(RackRecord);
    header.field_count = kFieldCount;
    header.column_stride = layout.column_stride;
    for (std::uint32_t field = 0; field < kFieldCount; ++field) {
        const FieldInfo& info = field_info(static_cast<Field>(field));
        FieldDescriptor& descriptor = header.fields[field];
        std::strncpy(descriptor.name, info.name, sizeof descriptor.name - 1);
        descriptor.element_type = static_cast<std::uint32_t>(info.type);
        descriptor.element_size = 4;
        descriptor.offset_in_slot = layout.column_offset_in_slot[field];
    }

    const Geometry& geometry = options.geometry;
    auto* rack_chemistry = reinterpret_cast<std::uint32_t*>(bytes + layout.rack_chemistry_offset);
    auto* cell_chemistry = reinterpret_cast<std::uint8_t*>(bytes + layout.cell_chemistry_offset);
    auto* cell_capacity = reinterpret_cast<float*>(bytes + layout.cell_capacity_offset);
    for (std::uint32_t rack = 0; rack < geometry.racks; ++rack) {
        const Chemistry chemistry = options.rack_chemistry.empty() ? Chemistry::nmc
                                    : options.rack_chemistry.size() == 1
                                        ? options.rack_chemistry.front()
                                        : options.rack_chemistry.at(rack);
        rack_chemistry[rack] = static_cast<std::uint32_t>(chemistry);
        const CellRange cells = rack_range(geometry, rack);
        for (std::uint64_t cell = cells.first_cell; cell < cells.first_cell + cells.cell_count;
             ++cell) {
            cell_chemistry[cell] = static_cast<std::uint8_t>(chemistry);
            cell_capacity[cell] = default_nominal_capacity_ah(chemistry);
        }
    }
    // Vyukov ring: slot i starts with sequence i (free for position i).
    auto* entries = reinterpret_cast<CommandEntry*>(bytes + layout.ring_offset);
    init_command_entries(entries, layout.ring_capacity);
    header.magic.store(kSegmentMagic, std::memory_order_release);
    file->keep();
}

bool remove_segment(const std::string& name) {
    if (shm_unlink(shm_open_name(name).c_str()) == 0) {
        return true;
    }
    if (errno == ENOENT) {
        return false;
    }
    throw SegmentError(
        errno == EACCES ? SegmentErrorKind::permission : SegmentErrorKind::system,
        segment_message::format("cannot remove {}: {}", shm_path(name), errno_text(errno)));
}

}  // namespace brt
