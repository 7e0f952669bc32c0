// One writer, enforced by the kernel; readers tell live, stale and stopped
// apart, follow a re-created segment, and a dying reader harms nobody.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/segment/errors.hpp"
#include "common/segment/segment_reader.hpp"
#include "common/segment/segment_writer.hpp"
#include "support/test_frames.hpp"
#include "support/test_segment.hpp"

using namespace brt;
using namespace std::chrono_literals;

namespace {

const Geometry kSmall{2, 2, 4};

// A child process that takes the writer role and publishes every 10 ms.
pid_t start_writer_process(const std::string& name) {
    const pid_t pid = fork();
    if (pid == 0) {
        SegmentWriter writer = SegmentWriter::acquire(name, 10'000'000);
        test::EncodedFrameSource source(kSmall);
        for (std::uint64_t frame = 1;; ++frame) {
            writer.publish_frame(source.make(frame));
            std::this_thread::sleep_for(10ms);
        }
    }
    return pid;
}

void wait_until_live(SegmentReader& reader) {
    for (int i = 0; i < 500 && reader.writer_status().liveness != Liveness::live; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    REQUIRE(reader.writer_status().liveness == Liveness::live);
}

}  // namespace

TEST_CASE("a second writer is refused with the holder's pid", "[liveness]") {
    test::ScopedSegment scoped("exclusion", kSmall);
    const pid_t first = start_writer_process(scoped.name());
    SegmentReader reader(scoped.name());
    reader.require_attached();
    wait_until_live(reader);

    try {
        SegmentWriter::acquire(scoped.name(), 0);
        FAIL("a second writer was allowed");
    } catch (const SegmentError& error) {
        CHECK(error.kind() == SegmentErrorKind::writer_present);
        CHECK_THAT(error.what(), Catch::Contains("pid " + std::to_string(first)));
    }
    kill(first, SIGKILL);
    waitpid(first, nullptr, 0);
    // The kernel released the dead writer's lock: a new writer may start.
    CHECK_NOTHROW(SegmentWriter::acquire(scoped.name(), 0));
}

TEST_CASE("a writer killed with SIGKILL is reported stale within a publish period", "[liveness]") {
    test::ScopedSegment scoped("sigkill", kSmall);
    const pid_t writer = start_writer_process(scoped.name());
    SegmentReader reader(scoped.name());
    reader.require_attached();
    wait_until_live(reader);
    CHECK(reader.writer_status().pid == writer);

    kill(writer, SIGKILL);
    waitpid(writer, nullptr, 0);
    // Its last heartbeat is fresh for one period (10 ms here, at least
    // 20 ms); after that the free lock says it is gone, long before the
    // stale threshold (250 ms) would.
    std::this_thread::sleep_for(40ms);
    const WriterStatus status = reader.writer_status();
    CHECK(status.liveness == Liveness::stale);
    CHECK(status.heartbeat_age_ns < stale_after_ns(status.publish_period_ns));
    CHECK_THAT(status.detail, Catch::Contains("gone"));
    CHECK(status.state == WriterState::running);  // it never got to say otherwise
}

TEST_CASE("a hung writer goes stale when its heartbeat ages", "[liveness]") {
    test::ScopedSegment scoped("hung", kSmall);
    const pid_t writer = start_writer_process(scoped.name());
    SegmentReader reader(scoped.name());
    reader.require_attached();
    wait_until_live(reader);
    kill(writer, SIGSTOP);  // still holds the lock, publishes nothing
    std::this_thread::sleep_for(std::chrono::nanoseconds(stale_after_ns(10'000'000)) + 100ms);
    const WriterStatus status = reader.writer_status();
    kill(writer, SIGKILL);
    waitpid(writer, nullptr, 0);
    CHECK(status.liveness == Liveness::stale);
    CHECK_THAT(status.detail, Catch::Contains("heartbeat"));
}

TEST_CASE("a slow publish period never stretches the liveness thresholds", "[liveness]") {
    // Up to 100 ms (10 frames/s) the heartbeat comes with every frame.
    CHECK(stale_after_ns(0) == 250'000'000);
    CHECK(stale_after_ns(10'000'000) == 250'000'000);
    CHECK(stale_after_ns(100'000'000) == 400'000'000);
    // Slower writers heartbeat every 100 ms between frames: a reader's
    // verdict is as quick as for a 10 frames/s writer, never minutes.
    for (const std::uint64_t period_ns :
         {std::uint64_t{1'000'000'000}, std::uint64_t{10'000'000'000}, ~std::uint64_t{0}}) {
        INFO(period_ns);
        CHECK(stale_after_ns(period_ns) == 400'000'000);
    }
}

TEST_CASE("a slow writer that heartbeats between frames stays live, and goes stale when hung",
          "[liveness]") {
    test::ScopedSegment scoped("slow-hung", kSmall);
    const pid_t pid = fork();
    if (pid == 0) {
        // Publishes once (period 10 s), then only heartbeats, as the
        // simulator does between slow frames.
        SegmentWriter writer = SegmentWriter::acquire(scoped.name(), 10'000'000'000);
        test::EncodedFrameSource source(kSmall);
        writer.publish_frame(source.make(1));
        for (;;) {
            std::this_thread::sleep_for(100ms);  // kMaxHeartbeatIntervalNs
            writer.heartbeat();
        }
    }
    SegmentReader reader(scoped.name());
    reader.require_attached();
    wait_until_live(reader);
    std::this_thread::sleep_for(300ms);
    CHECK(reader.writer_status().liveness == Liveness::live);
    kill(pid, SIGSTOP);  // holds the lock, heartbeats no more
    // Hung for 600 ms: stale (the threshold is at most 400 ms), not live
    // until four publish periods (40 s) have passed.
    std::this_thread::sleep_for(600ms);
    const WriterStatus status = reader.writer_status();
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    CHECK(status.liveness == Liveness::stale);
    CHECK_THAT(status.detail, Catch::Contains("heartbeat"));
}

TEST_CASE("a writer that exits cleanly is reported stopped", "[liveness]") {
    test::ScopedSegment scoped("stopped", kSmall);
    SegmentReader reader(scoped.name());
    reader.require_attached();
    CHECK(reader.writer_status().liveness == Liveness::no_writer);
    {
        SegmentWriter writer = SegmentWriter::acquire(scoped.name(), 100'000'000);
        CHECK(reader.writer_status().liveness == Liveness::live);
    }
    CHECK(reader.writer_status().liveness == Liveness::stopped);
    CHECK(reader.writer_status().state == WriterState::stopped);
}

TEST_CASE("readers re-attach when the segment is re-created", "[liveness]") {
    const std::string name = test::unique_segment_name("recreate");
    CreateOptions options;
    options.geometry = kSmall;
    create_segment(name, options);
    SegmentReader reader(name);
    CHECK(reader.refresh() == AttachChange::attached);
    CHECK(reader.refresh() == AttachChange::unchanged);
    const std::uint64_t first_generation = reader.header().generation;

    // What `brt-shm-init --force` does: unlink, then create anew.
    remove_segment(name);
    CHECK(reader.refresh() == AttachChange::detached);
    CHECK(reader.writer_status().liveness == Liveness::no_segment);
    options.geometry = Geometry{3, 2, 4};
    create_segment(name, options);
    CHECK(reader.refresh() == AttachChange::attached);
    CHECK(reader.header().generation != first_generation);
    CHECK(reader.layout().geometry.racks == 3);

    // Re-created between two refreshes: seen as a re-attach.
    remove_segment(name);
    create_segment(name, options);
    CHECK(reader.refresh() == AttachChange::reattached);
    remove_segment(name);
}

TEST_CASE("a reader killed while asleep leaves the writer and other readers unaffected",
          "[liveness]") {
    test::ScopedSegment scoped("reader-kill", kSmall);
    SegmentWriter writer = SegmentWriter::acquire(scoped.name(), 0);
    test::EncodedFrameSource source(kSmall);
    writer.publish_frame(source.make(1));

    const pid_t victim = fork();
    if (victim == 0) {
        SegmentReader reader(scoped.name());
        reader.require_attached();
        reader.wait_for_frame(1, 60s);  // asleep in the futex when killed
        _exit(0);
    }
    SegmentReader observer(scoped.name());
    observer.require_attached();
    for (int i = 0; i < 200 && observer.header().futex_waiters.load() == 0; ++i) {
        std::this_thread::sleep_for(5ms);
    }
    REQUIRE(observer.header().futex_waiters.load() == 1);
    kill(victim, SIGKILL);
    waitpid(victim, nullptr, 0);

    // The writer still publishes (it only pays a spare FUTEX_WAKE), and a
    // live reader still receives every frame.
    FrameBuffer buffer;
    for (std::uint64_t frame = 2; frame <= 20; ++frame) {
        std::thread publisher([&] {
            std::this_thread::sleep_for(2ms);
            writer.publish_frame(source.make(frame));
        });
        CHECK(observer.wait_for_frame(frame - 1, 5s));
        publisher.join();
        REQUIRE(observer.read_latest(buffer) == ReadOutcome::ok);
        CHECK(buffer.frame_number == frame);
        CHECK(test::frame_is_consistent(buffer));
    }
}
