// Cross-process wake-up: a reader asleep in another process wakes when a
// frame is published, and a timeout returns so it can notice a dead writer.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/segment/clock.hpp"
#include "common/segment/segment_reader.hpp"
#include "common/segment/segment_writer.hpp"
#include "support/test_frames.hpp"
#include "support/test_segment.hpp"

using namespace brt;
using namespace std::chrono_literals;

TEST_CASE("a sleeping reader in another process wakes on publish", "[wait]") {
    const Geometry geometry{2, 2, 4};
    test::ScopedSegment scoped("wake", geometry);
    SegmentWriter writer = SegmentWriter::acquire(scoped.name(), 0);
    test::EncodedFrameSource source(geometry);
    int report_pipe[2];
    REQUIRE(pipe(report_pipe) == 0);

    const pid_t child = fork();
    if (child == 0) {
        SegmentReader reader(scoped.name());
        reader.require_attached();
        const bool woke = reader.wait_for_frame(0, 10s);
        const std::uint64_t woke_at = monotonic_ns();
        FrameBuffer buffer;
        const bool read_ok = reader.read_latest(buffer) == ReadOutcome::ok &&
                             test::frame_is_consistent(buffer) && buffer.frame_number == 1;
        const std::uint64_t report[3] = {woke, read_ok, woke_at - buffer.publish_monotonic_ns};
        [[maybe_unused]] const auto written = write(report_pipe[1], report, sizeof report);
        _exit(0);
    }
    // Publish only once the child is really asleep in the futex.
    for (int i = 0; i < 1000 && writer.segment().header().futex_waiters.load() == 0; ++i) {
        std::this_thread::sleep_for(1ms);
    }
    REQUIRE(writer.segment().header().futex_waiters.load() == 1);
    writer.publish_frame(source.make(1));
    std::uint64_t report[3] = {};
    REQUIRE(read(report_pipe[0], report, sizeof report) == sizeof report);
    waitpid(child, nullptr, 0);
    CHECK(report[0] == 1);
    CHECK(report[1] == 1);
    INFO("publish-to-wake " << report[2] / 1000 << " us");
    // Far below the 10 s timeout: the futex woke it, not the timer.
    CHECK(report[2] < 1'000'000'000ull);
}

TEST_CASE("waiting times out when nothing is published", "[wait]") {
    test::ScopedSegment scoped("timeout", Geometry{1, 1, 1});
    SegmentReader reader(scoped.name());
    reader.require_attached();
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(reader.wait_for_frame(0, 100ms));
    const auto waited = std::chrono::steady_clock::now() - start;
    CHECK(waited >= 100ms);
    CHECK(waited < 2s);
    CHECK(reader.header().futex_waiters.load() == 0);
}

TEST_CASE("a waiting reader returns when the writer stops", "[wait]") {
    test::ScopedSegment scoped("stop-wake", Geometry{1, 1, 1});
    SegmentReader reader(scoped.name());
    reader.require_attached();
    auto writer = std::make_unique<SegmentWriter>(SegmentWriter::acquire(scoped.name(), 0));
    std::thread stopper([&] {
        std::this_thread::sleep_for(50ms);
        writer.reset();  // marks the segment stopped and wakes sleepers
    });
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(reader.wait_for_frame(0, 10s));
    stopper.join();
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    CHECK(reader.writer_status().liveness == Liveness::stopped);
}
