// Alarm segment validation on a file of arbitrary bytes and size, as
// fuzz_segment_header does for the telemetry segment: 8 bytes of file size,
// then the contents. A header validate_alarm_header accepts is written to a
// real /dev/shm file and read as the readers do: read_latest_alarm_table,
// and read_alarm_list (the viewer's and the bridge's list, which decodes
// every record into an alarm). With the size's top bit set, the static part
// is first made consistent for small capacities taken from the input (as
// fuzz_segment_header does), so the fuzzer works on the live part, the
// slots and the records.
#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "common/alarm/alarm_list.hpp"
#include "common/alarm_segment/alarm_segment_reader.hpp"
#include "common/alarm_segment/alarm_table.hpp"
#include "common/segment/errors.hpp"
#include "fuzz/fuzz_support.hpp"

namespace {

constexpr std::uint64_t kMaxFileBytes = 16u << 20;
constexpr std::uint64_t kMaxMappedBytes = 4u << 20;

const std::string& scratch() {
    static const std::string name = [] {
        std::string scratch_name = brt::fuzz::scratch_name("alarms") + ".alarms";
        brt::fuzz::remove_at_exit(scratch_name);
        return scratch_name;
    }();
    return name;
}

std::uint64_t make_consistent(brt::AlarmSegmentHeader& header) {
    using namespace brt;
    const std::uint32_t record_capacity = 1 + header.record_capacity % 8;
    const std::uint32_t ring_capacity = 1u << (header.ring_capacity % 4);
    const AlarmSegmentLayout layout = compute_alarm_layout(record_capacity, ring_capacity);
    header.magic.store(kAlarmSegmentMagic);
    header.abi_version = kAlarmAbiVersion;
    header.header_size = kPageSize;
    header.segment_size = layout.segment_size;
    header.generation |= 1;
    header.record_capacity = record_capacity;
    header.record_size = kAlarmRecordSize;
    header.slot_count = kAlarmSlotCount;
    header.slot_header_size = kAlarmSlotHeaderSize;
    header.slots_offset = layout.slots_offset;
    header.slot_stride = layout.slot_stride;
    header.ring_offset = layout.ring_offset;
    header.ring_capacity = ring_capacity;
    header.ring_entry_size = sizeof(CommandEntry);
    header.ring_results_offset = layout.ring_results_offset;
    return layout.segment_size;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    brt::fuzz::silence_stdout();
    return 0;
}

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
        file_size = make_consistent(*reinterpret_cast<AlarmSegmentHeader*>(page.data()));
        contents.assign(data, data + size);
        contents.resize(std::max<std::size_t>(contents.size(), page.size()));
        std::memcpy(contents.data(), page.data(), page.size());
        data = contents.data();
        size = contents.size();
    }
    AlarmSegmentLayout layout;
    try {
        layout = validate_alarm_header(*reinterpret_cast<const AlarmSegmentHeader*>(page.data()),
                                       file_size, scratch());
    } catch (const SegmentError&) {
        return 0;
    }
    if (layout.segment_size > kMaxMappedBytes) {
        return 0;
    }
    fuzz::write_shm_file(scratch(), data, size, file_size);
    try {
        const MappedAlarmSegment segment =
            open_alarm_segment(scratch(), AlarmSegmentAccess::reader, std::chrono::milliseconds(0));
        AlarmTable table;
        std::string problem;
        (void)read_latest_alarm_table(segment, table, problem);
    } catch (const SegmentError&) {
        return 0;
    }
    AlarmSegmentReader reader(scratch());
    const AlarmList list = read_alarm_list(reader, true, 1'000'000'000'000'000'000ull);
    (void)alarm_list_text(list, true);
    return 0;
}
