// A broken alarm segment is refused with a message that says what is wrong
// and how to start afresh, before any offset from it is used: never a
// crash, never a SIGBUS, never removed behind the user's back.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <thread>

#include "alarm_test_support.hpp"
#include "common/alarm_segment/alarm_segment_reader.hpp"
#include "common/alarm_segment/alarm_segment_writer.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/shm_name.hpp"

using namespace brt;
using namespace std::chrono_literals;

namespace {

// Applies `corrupt` to the raw bytes of the named file, `bytes` of them mapped.
void corrupt_file(const std::string& name, std::uint64_t bytes,
                  const std::function<void(std::byte*)>& corrupt) {
    const int fd = shm_open(shm_open_name(name).c_str(), O_RDWR, 0);
    REQUIRE(fd >= 0);
    void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    REQUIRE(base != MAP_FAILED);
    corrupt(static_cast<std::byte*>(base));
    munmap(base, bytes);
    close(fd);
}

void corrupt_header(const std::string& name,
                    const std::function<void(AlarmSegmentHeader&)>& corrupt) {
    corrupt_file(name, kPageSize,
                 [&](std::byte* bytes) { corrupt(*reinterpret_cast<AlarmSegmentHeader*>(bytes)); });
}

void resize_file(const std::string& name, std::uint64_t bytes) {
    const int fd = shm_open(shm_open_name(name).c_str(), O_RDWR | O_CREAT, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, static_cast<off_t>(bytes)) == 0);
    close(fd);
}

struct Refusal {
    SegmentErrorKind kind = SegmentErrorKind::system;
    std::string message;
};

// What a reader says about the segment; FAILs if it attaches.
Refusal reader_refusal(const std::string& name) {
    AlarmSegmentReader reader(name);
    try {
        reader.try_attach();
    } catch (const SegmentError& error) {
        return {error.kind(), error.what()};
    }
    FAIL("the reader accepted a broken alarm segment");
    return {};
}

AlarmSegmentOptions small_segment() {
    AlarmSegmentOptions options;
    options.record_capacity = 8;
    return options;
}

}  // namespace

TEST_CASE("each inconsistent header field is refused, naming it", "[alarm_validation]") {
    struct Case {
        const char* what;
        std::function<void(AlarmSegmentHeader&)> corrupt;
        SegmentErrorKind kind;
        std::string text;
    };
    const std::vector<Case> cases = {
        {"magic", [](auto& h) { h.magic.store(0x4e4f544f55525321ull); },
         SegmentErrorKind::bad_magic, "not a battery-rack alarm segment"},
        {"abi", [](auto& h) { h.abi_version = kAlarmAbiVersion + 1; },
         SegmentErrorKind::abi_mismatch, "ABI version " + std::to_string(kAlarmAbiVersion + 1)},
        {"header_size", [](auto& h) { h.header_size = 8192; }, SegmentErrorKind::malformed,
         "header_size is 8192"},
        {"record_size", [](auto& h) { h.record_size = 64; }, SegmentErrorKind::malformed,
         "record_size is 64"},
        {"slot_header_size", [](auto& h) { h.slot_header_size = 0; }, SegmentErrorKind::malformed,
         "slot_header_size is 0"},
        {"slot_count", [](auto& h) { h.slot_count = 3; }, SegmentErrorKind::malformed,
         "slot_count is 3"},
        {"ring_entry_size", [](auto& h) { h.ring_entry_size = 64; }, SegmentErrorKind::malformed,
         "ring_entry_size is 64"},
        {"generation", [](auto& h) { h.generation = 0; }, SegmentErrorKind::malformed,
         "generation is 0"},
        {"latest_version", [](auto& h) { h.latest_version.store(~0ull); },
         SegmentErrorKind::malformed, "latest_version is"},
        {"record_capacity 0", [](auto& h) { h.record_capacity = 0; }, SegmentErrorKind::malformed,
         "record capacity 0 is outside 1..65536"},
        {"record_capacity huge", [](auto& h) { h.record_capacity = 65537; },
         SegmentErrorKind::malformed, "record capacity 65537"},
        {"ring_capacity 0", [](auto& h) { h.ring_capacity = 0; }, SegmentErrorKind::malformed,
         "ring capacity 0 is not a power of two"},
        {"ring_capacity odd", [](auto& h) { h.ring_capacity = 48; }, SegmentErrorKind::malformed,
         "ring capacity 48"},
        {"ring_capacity huge", [](auto& h) { h.ring_capacity = 8192; }, SegmentErrorKind::malformed,
         "ring capacity 8192"},
        {"ring_offset", [](auto& h) { h.ring_offset = 0; }, SegmentErrorKind::malformed,
         "ring_offset is 0"},
        {"ring_results_offset", [](auto& h) { h.ring_results_offset += 16; },
         SegmentErrorKind::malformed, "ring_results_offset"},
        {"slots_offset", [](auto& h) { h.slots_offset = 1ull << 40; }, SegmentErrorKind::malformed,
         "slots_offset"},
        {"slot_stride", [](auto& h) { h.slot_stride = 8192; }, SegmentErrorKind::malformed,
         "slot_stride is 8192"},
        // A larger record capacity describes a larger file than there is.
        {"capacity beyond the file", [](auto& h) { h.record_capacity = 1024; },
         SegmentErrorKind::malformed, "slot_stride is 4096, expected 135168"},
        {"segment_size", [](auto& h) { h.segment_size += kPageSize; }, SegmentErrorKind::malformed,
         "segment_size"},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        test::ScopedAlarmName scoped("alarm-hdr");
        REQUIRE(create_alarm_segment(scoped.name(), small_segment()));
        corrupt_header(scoped.name(), c.corrupt);
        const Refusal refusal = reader_refusal(scoped.name());
        CHECK(refusal.kind == c.kind);
        CHECK_THAT(refusal.message, Catch::Contains(c.text));
        CHECK_THAT(refusal.message, Catch::Contains("--reset-alarms"));
    }
}

TEST_CASE("another ABI version is refused naming both versions", "[alarm_validation]") {
    test::ScopedAlarmName scoped("alarm-abi");
    REQUIRE(create_alarm_segment(scoped.name(), small_segment()));
    corrupt_header(scoped.name(), [](AlarmSegmentHeader& h) { h.abi_version = 7; });
    const Refusal refusal = reader_refusal(scoped.name());
    CHECK(refusal.kind == SegmentErrorKind::abi_mismatch);
    CHECK_THAT(refusal.message, Catch::Contains("ABI version 7"));
    CHECK_THAT(refusal.message, Catch::Contains("ABI version " + std::to_string(kAlarmAbiVersion)));
}

TEST_CASE("a file shorter or longer than its header says is refused without a SIGBUS",
          "[alarm_validation]") {
    test::ScopedAlarmName scoped("alarm-size");
    REQUIRE(create_alarm_segment(scoped.name(), small_segment()));
    const std::uint64_t size = compute_alarm_layout(8, kDefaultRingCapacity).segment_size;

    resize_file(scoped.name(), size - kPageSize);
    Refusal refusal = reader_refusal(scoped.name());
    CHECK(refusal.kind == SegmentErrorKind::truncated);
    CHECK_THAT(refusal.message, Catch::Contains("truncated"));

    resize_file(scoped.name(), 100);  // not even a header
    refusal = reader_refusal(scoped.name());
    CHECK(refusal.kind == SegmentErrorKind::truncated);
    CHECK_THAT(refusal.message, Catch::Contains("smaller than its 4096-byte header"));

    resize_file(scoped.name(), size + kPageSize);
    refusal = reader_refusal(scoped.name());
    CHECK(refusal.kind == SegmentErrorKind::malformed);
    CHECK_THAT(refusal.message, Catch::Contains("bytes, its header describes"));
}

TEST_CASE("a telemetry segment given as the alarm segment is refused as not one",
          "[alarm_validation]") {
    test::ScopedSegment telemetry("alarm-not-telemetry", Geometry{1, 1, 1});
    const Refusal refusal = reader_refusal(telemetry.name());
    CHECK(refusal.kind == SegmentErrorKind::bad_magic);
    CHECK_THAT(refusal.message, Catch::Contains("not a battery-rack alarm segment"));
}

TEST_CASE("a segment being created is not there yet; one abandoned while created is malformed",
          "[alarm_validation]") {
    test::ScopedAlarmName scoped("alarm-init");
    REQUIRE(create_alarm_segment(scoped.name(), small_segment()));
    corrupt_header(scoped.name(), [](AlarmSegmentHeader& h) { h.magic.store(0); });
    AlarmSegmentReader reader(scoped.name());
    CHECK_FALSE(reader.try_attach());  // young: its creator may still be writing it
    CHECK_THAT(reader.problem(), Catch::Contains("not initialised"));

    std::this_thread::sleep_for(1100ms);
    const Refusal refusal = reader_refusal(scoped.name());
    CHECK(refusal.kind == SegmentErrorKind::malformed);
    CHECK_THAT(refusal.message, Catch::Contains("creator died while creating it"));
}

TEST_CASE("a monitor refuses a broken segment and leaves it for the user", "[alarm_validation]") {
    test::ScopedAlarmName scoped("alarm-writer-refuses");
    REQUIRE(create_alarm_segment(scoped.name(), small_segment()));
    corrupt_header(scoped.name(), [](AlarmSegmentHeader& h) { h.abi_version = 9; });
    try {
        AlarmSegmentWriter::open_or_create(scoped.name(), small_segment());
        FAIL("the monitor accepted a segment of another ABI");
    } catch (const SegmentError& error) {
        CHECK(error.kind() == SegmentErrorKind::abi_mismatch);
        CHECK_THAT(error.what(), Catch::Contains(shm_path(scoped.name())));
        CHECK_THAT(error.what(), Catch::Contains("--reset-alarms"));
    }
    struct stat file_status {};
    CHECK(stat(shm_path(scoped.name()).c_str(), &file_status) == 0);  // still there
}

TEST_CASE("a slot claiming more records than it holds is a malformed publication",
          "[alarm_validation]") {
    test::ScopedAlarmName scoped("alarm-count");
    AlarmSegmentWriter writer = AlarmSegmentWriter::open_or_create(scoped.name(), small_segment());
    writer.start(0);
    const std::uint64_t version = writer.publish(AlarmPublication{}, {});
    const AlarmSegmentLayout layout = compute_alarm_layout(8, kDefaultRingCapacity);
    corrupt_file(scoped.name(), layout.segment_size, [&](std::byte* bytes) {
        auto& slot = *reinterpret_cast<AlarmSlotHeader*>(
            bytes + layout.slot_offset(static_cast<std::uint32_t>(version % kAlarmSlotCount)));
        slot.record_count.store(1'000'000);  // past the slot and the file
    });
    AlarmSegmentReader reader(scoped.name());
    REQUIRE(reader.try_attach());
    AlarmTable table;
    CHECK(reader.read(table) == AlarmSegmentReader::ReadOutcome::malformed);
    CHECK_THAT(reader.problem(), Catch::Contains("more records than its slot holds"));

    // The monitor's next publication goes to the other slot and is read again.
    writer.publish(AlarmPublication{}, {});
    CHECK(reader.read(table) == AlarmSegmentReader::ReadOutcome::ok);
}

TEST_CASE("capacities out of range are refused at creation", "[alarm_validation]") {
    test::ScopedAlarmName scoped("alarm-options");
    AlarmSegmentOptions options;
    options.record_capacity = 0;
    CHECK_THROWS_AS(create_alarm_segment(scoped.name(), options), UsageError);
    options.record_capacity = 8;
    options.ring_capacity = 100;
    CHECK_THROWS_AS(create_alarm_segment(scoped.name(), options), UsageError);
    struct stat file_status {};
    CHECK(stat(shm_path(scoped.name()).c_str(), &file_status) != 0);  // nothing left behind
}
