// The alarm segment: what the monitor publishes, readers get back field by
// field; one monitor at a time; a restarted monitor finds its predecessor's
// table; readers reach the monitor through the segment's command ring.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <thread>
#include <vector>

#include "alarm_test_support.hpp"
#include "common/alarm_segment/alarm_segment_reader.hpp"
#include "common/alarm_segment/alarm_segment_writer.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/shm_name.hpp"

using namespace brt;
using namespace std::chrono_literals;

namespace {

std::vector<AlarmRecord> derived_records(std::uint64_t first, std::size_t count) {
    std::vector<AlarmRecord> records;
    for (std::size_t i = 0; i < count; ++i) {
        records.push_back(test::derived_record(first + i));
    }
    return records;
}

AlarmSegmentOptions small_segment(std::uint32_t record_capacity = 16) {
    AlarmSegmentOptions options;
    options.record_capacity = record_capacity;
    return options;
}

}  // namespace

TEST_CASE("the alarm segment is named after the telemetry segment", "[alarm_segment]") {
    CHECK(alarm_segment_name("brt_telemetry") == "brt_telemetry.alarms");
    CHECK(alarm_segment_name("/rack7") == "rack7.alarms");
    CHECK(alarm_segment_name(std::string(193, 'a')) == std::string(193, 'a') + ".alarms");
    // 200 characters are a valid telemetry name, but leave no room for ".alarms".
    try {
        alarm_segment_name(std::string(200, 'a'));
        FAIL("a name without room for the suffix was accepted");
    } catch (const UsageError& error) {
        CHECK_THAT(error.what(), Catch::Contains("leaves no room for its alarm segment"));
        CHECK_THAT(error.what(), Catch::Contains("200"));
    }
    CHECK_THROWS_AS(alarm_segment_name("bad/name"), UsageError);
}

TEST_CASE("a reader gets back every field the monitor published", "[alarm_segment]") {
    test::ScopedAlarmName scoped("alarm-roundtrip");
    AlarmSegmentWriter writer = AlarmSegmentWriter::open_or_create(scoped.name(), small_segment());
    CHECK_FALSE(writer.previous_table());
    writer.start(100'000'000);

    AlarmSegmentReader reader(scoped.name());
    REQUIRE(reader.try_attach());
    AlarmTable table;
    CHECK(reader.read(table) == AlarmSegmentReader::ReadOutcome::no_publication);

    AlarmPublication info;
    info.frame_number = 4242;
    info.frame_publish_monotonic_ns = 123456789;
    info.telemetry_generation = 0xABCDEF;
    info.raised_total = 9;
    info.annunciated_total = 7;
    info.monitor_start_realtime_ns = 1'700'000'000'000'000'000ull;
    std::vector<AlarmRecord> records = derived_records(1, 5);
    records[2].value = std::nanf("");  // "no value" survives the trip
    const std::uint64_t first = writer.publish(info, records);
    CHECK(first == 1);

    REQUIRE(reader.read(table) == AlarmSegmentReader::ReadOutcome::ok);
    CHECK(table.version == first);
    CHECK(table.info.frame_number == 4242);
    CHECK(table.info.frame_publish_monotonic_ns == 123456789);
    CHECK(table.info.telemetry_generation == 0xABCDEF);
    CHECK(table.info.raised_total == 9);
    CHECK(table.info.annunciated_total == 7);
    CHECK(table.info.monitor_start_realtime_ns == 1'700'000'000'000'000'000ull);
    CHECK(table.info.records_left_out == 0);
    CHECK(table.published_monotonic_ns > 0);
    CHECK(table.published_realtime_ns > 0);
    REQUIRE(table.records.size() == 5);
    CHECK(std::isnan(table.records[2].value));
    table.records[2].value = records[2].value = 0.0f;  // NaN != NaN; compare the rest
    for (std::size_t i = 0; i < records.size(); ++i) {
        CHECK(test::same_record(table.records[i], records[i]));
    }

    // The next publication has the next version, and fewer records replace more.
    const std::uint64_t second = writer.publish(AlarmPublication{}, derived_records(100, 1));
    CHECK(second == first + 1);
    CHECK(reader.latest_version() == second);
    REQUIRE(reader.read(table) == AlarmSegmentReader::ReadOutcome::ok);
    CHECK(table.version == second);
    REQUIRE(table.records.size() == 1);
    CHECK(table.records[0].id == 100);
    CHECK(table.info.frame_number == 0);

    // An empty table is a publication too: every alarm cleared.
    CHECK(writer.publish(AlarmPublication{}, {}) == second + 1);
    REQUIRE(reader.read(table) == AlarmSegmentReader::ReadOutcome::ok);
    CHECK(table.records.empty());
}

TEST_CASE("alarms beyond the capacity are counted as left out", "[alarm_segment]") {
    test::ScopedAlarmName scoped("alarm-capacity");
    AlarmSegmentWriter writer = AlarmSegmentWriter::open_or_create(scoped.name(), small_segment(4));
    CHECK(writer.record_capacity() == 4);
    writer.start(0);
    AlarmPublication info;
    info.records_left_out = 2;  // the caller left some out already
    writer.publish(info, derived_records(1, 7));

    AlarmSegmentReader reader(scoped.name());
    REQUIRE(reader.try_attach());
    AlarmTable table;
    REQUIRE(reader.read(table) == AlarmSegmentReader::ReadOutcome::ok);
    REQUIRE(table.records.size() == 4);
    CHECK(table.records.front().id == 1);
    CHECK(table.records.back().id == 4);  // the first ones are kept, in order
    CHECK(table.info.records_left_out == 2 + 3);
}

TEST_CASE("the segment is created with the requested mode, never for others", "[alarm_segment]") {
    test::ScopedAlarmName scoped("alarm-mode");
    AlarmSegmentOptions options = small_segment();
    options.mode = 0640;
    AlarmSegmentWriter writer = AlarmSegmentWriter::open_or_create(scoped.name(), options);
    struct stat file_status {};
    REQUIRE(stat(shm_path(scoped.name()).c_str(), &file_status) == 0);
    CHECK((file_status.st_mode & 0777) == 0640);
}

TEST_CASE("a second monitor is refused naming the first; a restart adopts the last table",
          "[alarm_segment]") {
    test::ScopedAlarmName scoped("alarm-single-writer");
    std::uint64_t last_version = 0;
    std::uint64_t generation = 0;
    {
        AlarmSegmentWriter first =
            AlarmSegmentWriter::open_or_create(scoped.name(), small_segment());
        first.start(100'000'000);
        first.publish(AlarmPublication{}, derived_records(1, 2));
        AlarmPublication info;
        info.raised_total = 3;
        last_version = first.publish(info, derived_records(10, 3));
        try {
            AlarmSegmentWriter::open_or_create(scoped.name(), small_segment());
            FAIL("a second monitor was allowed");
        } catch (const SegmentError& error) {
            CHECK(error.kind() == SegmentErrorKind::writer_present);
            CHECK_THAT(error.what(), Catch::Contains("pid " + std::to_string(getpid())));
        }
        AlarmSegmentReader reader(scoped.name());
        REQUIRE(reader.try_attach());
        generation = reader.segment().header().generation;
    }
    // Another capacity asked for: the existing segment (and its table) wins.
    AlarmSegmentWriter second = AlarmSegmentWriter::open_or_create(scoped.name(), small_segment(8));
    CHECK(second.record_capacity() == 16);
    REQUIRE(second.previous_table());
    const AlarmTable& previous = *second.previous_table();
    CHECK(previous.version == last_version);
    CHECK(previous.info.raised_total == 3);
    REQUIRE(previous.records.size() == 3);
    CHECK(test::same_record(previous.records[2], test::derived_record(12)));
    second.start(100'000'000);
    // Versions go on from the predecessor's, in the same segment.
    CHECK(second.publish(AlarmPublication{}, previous.records) == last_version + 1);
    AlarmSegmentReader reader(scoped.name());
    REQUIRE(reader.try_attach());
    CHECK(reader.segment().header().generation == generation);
    CHECK(reader.segment().header().writer_generation.load() == 2);
}

TEST_CASE("a reader follows the segment when it is re-created", "[alarm_segment]") {
    test::ScopedAlarmName scoped("alarm-reattach");
    AlarmSegmentReader reader(scoped.name());
    CHECK_FALSE(reader.try_attach());  // no monitor yet: absent, not an error
    CHECK(reader.writer_status().liveness == Liveness::no_segment);
    CHECK_THROWS_AS(reader.commands(), SegmentError);
    std::uint64_t old_generation = 0;
    {
        AlarmSegmentWriter writer =
            AlarmSegmentWriter::open_or_create(scoped.name(), small_segment());
        writer.start(0);
        writer.publish(AlarmPublication{}, derived_records(1, 1));
        REQUIRE(reader.try_attach());
        old_generation = reader.segment().header().generation;
    }
    REQUIRE(remove_alarm_segment(scoped.name()));
    CHECK_FALSE(reader.try_attach());  // removed: detached
    CHECK_FALSE(reader.attached());
    AlarmSegmentWriter writer = AlarmSegmentWriter::open_or_create(scoped.name(), small_segment());
    writer.start(0);
    REQUIRE(reader.try_attach());
    CHECK(reader.segment().header().generation != old_generation);
    AlarmTable table;
    CHECK(reader.read(table) == AlarmSegmentReader::ReadOutcome::no_publication);
}

TEST_CASE("an acknowledge posted by a reader reaches the monitor with its target and origin",
          "[alarm_segment]") {
    test::ScopedAlarmName scoped("alarm-commands");
    AlarmSegmentWriter writer = AlarmSegmentWriter::open_or_create(scoped.name(), small_segment());
    writer.start(0);
    AlarmSegmentReader reader(scoped.name());
    REQUIRE(reader.try_attach());

    Command acknowledge;
    acknowledge.kind = CommandKind::alarm_acknowledge;
    acknowledge.target_id = 42;
    set_command_origin(acknowledge, "rest 127.0.0.1");
    const auto acknowledge_position = reader.commands().post(acknowledge);
    Command shelve;
    shelve.kind = CommandKind::alarm_shelve;
    shelve.target_id = 43;
    shelve.args[0] = 3600;
    const auto shelve_position = reader.commands().post(shelve);
    REQUIRE(acknowledge_position);
    REQUIRE(shelve_position);

    auto received = writer.commands().try_consume();
    REQUIRE(received);
    CHECK(received->command.kind == CommandKind::alarm_acknowledge);
    CHECK(received->command.target_id == 42);
    CHECK(std::string(received->command.origin.data()) == "rest 127.0.0.1");
    CHECK(received->sender_pid == getpid());
    writer.commands().complete(received->position, CommandStatus::applied);

    received = writer.commands().try_consume();
    REQUIRE(received);
    CHECK(received->command.kind == CommandKind::alarm_shelve);
    CHECK(received->command.target_id == 43);
    CHECK(received->command.args[0] == 3600);
    CHECK(std::string(received->command.origin.data()).empty());
    writer.commands().complete(received->position, CommandStatus::rejected_target);
    CHECK_FALSE(writer.commands().try_consume());

    CHECK(reader.commands().wait_for_result(*acknowledge_position, 100ms) ==
          CommandStatus::applied);
    CHECK(reader.commands().wait_for_result(*shelve_position, 100ms) ==
          CommandStatus::rejected_target);
}

TEST_CASE("a reader sleeping for a publication wakes when it comes", "[alarm_segment]") {
    test::ScopedAlarmName scoped("alarm-wait");
    AlarmSegmentWriter writer = AlarmSegmentWriter::open_or_create(scoped.name(), small_segment());
    writer.start(0);
    AlarmSegmentReader reader(scoped.name());
    REQUIRE(reader.try_attach());
    CHECK_FALSE(reader.wait_for_publication(0, 20ms));  // nothing yet: times out

    std::thread publisher([&] {
        std::this_thread::sleep_for(50ms);
        writer.publish(AlarmPublication{}, derived_records(1, 1));
    });
    const auto start = std::chrono::steady_clock::now();
    CHECK(reader.wait_for_publication(0, 5s));
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    publisher.join();
}
