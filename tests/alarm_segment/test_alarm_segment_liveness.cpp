// Readers tell a running monitor from a stopped one and from one that died
// without saying so, by the telemetry writer's rules.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "alarm_test_support.hpp"
#include "common/alarm_segment/alarm_segment_reader.hpp"
#include "common/alarm_segment/alarm_segment_writer.hpp"

using namespace brt;
using namespace std::chrono_literals;

namespace {

AlarmSegmentOptions small_segment() {
    AlarmSegmentOptions options;
    options.record_capacity = 8;
    return options;
}

// Polls until the verdict is `wanted` or a second has passed.
Liveness wait_for_liveness(const AlarmSegmentReader& reader, Liveness wanted) {
    for (int i = 0; i < 100 && reader.writer_status().liveness != wanted; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    return reader.writer_status().liveness;
}

}  // namespace

TEST_CASE("a running monitor is live, a stopped one stopped", "[alarm_liveness]") {
    test::ScopedAlarmName scoped("alarm-live");
    AlarmSegmentWriter writer = AlarmSegmentWriter::open_or_create(scoped.name(), small_segment());
    AlarmSegmentReader reader(scoped.name());
    REQUIRE(reader.try_attach());
    CHECK(reader.writer_status().liveness == Liveness::no_writer);  // created, not started

    writer.start(100'000'000);
    WriterStatus status = reader.writer_status();
    CHECK(status.liveness == Liveness::live);
    CHECK(status.pid == getpid());
    CHECK(status.publish_period_ns == 100'000'000);
    writer.publish(AlarmPublication{}, {});
    CHECK(reader.writer_status().latest_frame == 1);  // the latest version

    // The lock is held: a heartbeat a little late is still live.
    std::this_thread::sleep_for(150ms);
    CHECK(reader.writer_status().liveness == Liveness::live);
    writer.heartbeat();

    writer.stop(false);
    status = reader.writer_status();
    CHECK(status.liveness == Liveness::stopped);
    CHECK_THAT(status.detail, Catch::Contains("stopped cleanly"));
    writer.stop(true);
    CHECK_THAT(reader.writer_status().detail, Catch::Contains("stopped on an error"));
}

TEST_CASE("a monitor that dies without stopping is stale", "[alarm_liveness]") {
    test::ScopedAlarmName scoped("alarm-crash");
    const pid_t child = fork();
    if (child == 0) {
        // A crash: the writer is never destroyed, so it never says it stopped.
        try {
            auto* writer = new AlarmSegmentWriter(
                AlarmSegmentWriter::open_or_create(scoped.name(), small_segment()));
            writer->start(10'000'000);
            writer->publish(AlarmPublication{}, {});
        } catch (...) {
            _exit(1);
        }
        _exit(0);
    }
    int wait_status = 0;
    REQUIRE(waitpid(child, &wait_status, 0) == child);
    REQUIRE(WIFEXITED(wait_status));
    REQUIRE(WEXITSTATUS(wait_status) == 0);

    AlarmSegmentReader reader(scoped.name());
    REQUIRE(reader.try_attach());
    CHECK(wait_for_liveness(reader, Liveness::stale) == Liveness::stale);
    const WriterStatus status = reader.writer_status();
    CHECK(status.state == WriterState::running);  // what it left behind
    CHECK(status.pid == child);
    CHECK_THAT(status.detail, Catch::Contains("its lock is free"));

    // Its successor takes over the same segment and is live again.
    AlarmSegmentWriter successor =
        AlarmSegmentWriter::open_or_create(scoped.name(), small_segment());
    REQUIRE(successor.previous_table());
    CHECK(successor.previous_table()->version == 1);
    successor.start(10'000'000);
    CHECK(reader.writer_status().liveness == Liveness::live);
}
