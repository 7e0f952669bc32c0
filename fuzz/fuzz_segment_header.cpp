// Telemetry segment validation on a file of arbitrary bytes and size: the
// first 8 bytes of the input are the file's size (little-endian, at most
// kMaxFileBytes; its top bit chooses the mode below), the rest its contents
// (zeros after them). The header page goes through validate_header; a
// header it accepts is written to a real /dev/shm file and read as every
// reader does (SegmentReader: open, validate, map, read_latest, read_next,
// writer_status).
//
// Random bytes seldom make a header that passes step 7 (the layout
// recomputed from the geometry), so with the size's top bit set the target
// first writes a consistent static part for a small geometry taken from the
// input (as brt-shm-init would) and the file's exact size: the fuzzer then
// works on what a live segment holds (writer state, frame counter, slots,
// ring, chemistry codes).
#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "common/segment/errors.hpp"
#include "common/segment/segment_reader.hpp"
#include "fuzz/fuzz_support.hpp"

namespace {

constexpr std::uint64_t kMaxFileBytes = 16u << 20;
// Segments beyond this are validated but not created: tmpfs would have to
// hold them, and reading them is the same code as reading a small one.
constexpr std::uint64_t kMaxMappedBytes = 4u << 20;

const std::string& scratch() {
    static const std::string name = [] {
        std::string scratch_name = brt::fuzz::scratch_name("segment");
        brt::fuzz::remove_at_exit(scratch_name);
        return scratch_name;
    }();
    return name;
}

// A static part brt-shm-init could have written, for a geometry of at most
// 4 x 4 x 8 cells and 3..6 slots taken from the header's own fields, and
// the file size it describes. The rest of the header stays the input's.
std::uint64_t make_consistent(brt::SegmentHeader& header) {
    using namespace brt;
    const Geometry geometry{1 + header.racks % 4, 1 + header.modules_per_rack % 4,
                            1 + header.cells_per_module % 8};
    const std::uint32_t slots = 3 + header.slot_count % 4;
    const SegmentLayout layout = compute_layout(geometry, slots);
    header.magic.store(kSegmentMagic);
    header.abi_version = kAbiVersion;
    header.header_size = kPageSize;
    header.segment_size = layout.segment_size;
    header.generation |= 1;
    header.racks = geometry.racks;
    header.modules_per_rack = geometry.modules_per_rack;
    header.cells_per_module = geometry.cells_per_module;
    header.slot_count = slots;
    header.cell_count = geometry.cell_count();
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
        std::memset(descriptor.name, 0, sizeof descriptor.name);
        std::strncpy(descriptor.name, info.name, sizeof descriptor.name - 1);
        descriptor.element_type = static_cast<std::uint32_t>(info.type);
        descriptor.element_size = 4;
        descriptor.offset_in_slot = layout.column_offset_in_slot[field];
    }
    return layout.segment_size;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace brt;
    if (size < 8) {
        return 0;
    }
    std::uint64_t file_size = 0;
    std::memcpy(&file_size, data, 8);
    const bool consistent_header = (file_size >> 63) != 0;
    file_size %= kMaxFileBytes + 1;
    data += 8;
    size -= 8;

    alignas(4096) static std::array<std::uint8_t, kPageSize> page;
    page.fill(0);
    std::memcpy(page.data(), data, std::min<std::size_t>(size, page.size()));
    static std::vector<std::uint8_t> contents;
    if (consistent_header) {
        file_size = make_consistent(*reinterpret_cast<SegmentHeader*>(page.data()));
        contents.assign(data, data + size);
        contents.resize(std::max<std::size_t>(contents.size(), page.size()));
        std::memcpy(contents.data(), page.data(), page.size());
        data = contents.data();
        size = contents.size();
    }
    SegmentLayout layout;
    try {
        layout = validate_header(*reinterpret_cast<const SegmentHeader*>(page.data()), file_size,
                                 scratch());
    } catch (const SegmentError&) {
        return 0;  // refused, with a message: what validation is for
    }
    if (layout.segment_size > kMaxMappedBytes) {
        return 0;
    }
    fuzz::write_shm_file(scratch(), data, size, file_size);
    SegmentReader reader(scratch());
    reader.refresh();
    if (!reader.attached()) {
        return 0;  // refused at open (the metadata), as validation step 10 says
    }
    (void)reader.writer_status();
    (void)reader.segment().rack_chemistries();
    FrameBuffer frame;
    (void)reader.read_latest(frame);
    (void)reader.read_next(frame, whole_frame(reader.layout().geometry));
    (void)reader.read_next(frame, rack_range(reader.layout().geometry, 0));
    (void)reader.unreadable_reason();
    return 0;
}
