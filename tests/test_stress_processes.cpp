// The cross-process proof: a writer process publishes as fast as it can,
// reader processes copy frames for some seconds, and any torn or mixed frame
// fails the test.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "common/segment/segment_reader.hpp"
#include "common/segment/segment_writer.hpp"
#include "support/run_command.hpp"
#include "support/test_frames.hpp"
#include "support/test_segment.hpp"

using namespace brt;

namespace {

struct ReaderReport {
    std::uint64_t frames_read = 0;
    std::uint64_t torn = 0;
    std::uint64_t busy = 0;
};

[[noreturn]] void run_writer(const std::string& name, const Geometry& geometry) {
    SegmentWriter writer = SegmentWriter::acquire(name, 0);
    test::EncodedFrameSource source(geometry);
    for (std::uint64_t frame = 1;; ++frame) {
        writer.publish_frame(source.make(frame));
    }
}

[[noreturn]] void run_reader(const std::string& name, const Geometry& geometry, int index,
                             std::chrono::milliseconds duration, int report_fd) {
    SegmentReader reader(name);
    reader.require_attached();
    FrameBuffer buffer;
    ReaderReport report;
    const CellRange range = index % 2 == 0 ? whole_frame(geometry) : rack_range(geometry, 1);
    const auto deadline = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < deadline) {
        switch (reader.read_latest(buffer, range)) {
            case ReadOutcome::ok:
                ++report.frames_read;
                if (!test::frame_is_consistent(buffer)) {
                    ++report.torn;
                }
                break;
            case ReadOutcome::busy:
                ++report.busy;
                break;
            default:
                break;
        }
    }
    [[maybe_unused]] const auto written = write(report_fd, &report, sizeof report);
    _exit(0);
}

void stress(const Geometry& geometry, std::uint32_t slots, int reader_count,
            std::chrono::milliseconds duration, std::uint64_t minimum_frames_per_reader) {
    test::ScopedSegment scoped("stress", geometry, slots);
    int report_pipe[2];
    REQUIRE(pipe(report_pipe) == 0);
    test::KillOnExit children;
    const pid_t writer_pid = fork();
    REQUIRE(writer_pid >= 0);
    if (writer_pid == 0) {
        run_writer(scoped.name(), geometry);
    }
    children.pids.push_back(writer_pid);
    // Readers start once frames flow. wait_for_frame also returns when the
    // writer's state changes (here: when it starts), so wait in a loop.
    SegmentReader probe(scoped.name());
    probe.require_attached();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (probe.header().latest_frame.load() == 0 && std::chrono::steady_clock::now() < deadline) {
        probe.wait_for_frame(0, std::chrono::milliseconds(100));
    }
    REQUIRE(probe.header().latest_frame.load() > 0);

    std::vector<pid_t> readers;
    for (int i = 0; i < reader_count; ++i) {
        const pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            run_reader(scoped.name(), geometry, i, duration, report_pipe[1]);
        }
        readers.push_back(pid);
    }
    for (pid_t pid : readers) {
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status));
    }
    const std::uint64_t published = probe.header().latest_frame.load();
    close(report_pipe[1]);
    for (int i = 0; i < reader_count; ++i) {
        ReaderReport report;
        REQUIRE(read(report_pipe[0], &report, sizeof report) == sizeof report);
        INFO("reader " << i << ": " << report.frames_read << " frames, " << report.busy
                       << " busy, writer published " << published);
        CHECK(report.torn == 0);
        CHECK(report.frames_read >= minimum_frames_per_reader);
    }
    close(report_pipe[0]);
}

}  // namespace

TEST_CASE("cross-process readers never see a torn frame (6,400 cells)", "[stress]") {
    stress(Geometry{20, 10, 32}, 3, 3, std::chrono::milliseconds(3000), 100);
}

TEST_CASE("cross-process readers of a 1-million-cell frame never see a torn frame",
          "[stress][large]") {
    // Copying 28 MB takes longer than the writer needs to publish a frame:
    // the writer overtakes readers mid-copy, so reads retry, but with eight
    // slots it must lap them all to tear a copy, and a torn copy is never
    // returned.
    // At least one verified frame per reader: under a sanitizer the writer is slow.
    stress(Geometry{100, 10, 1000}, 8, 2, std::chrono::milliseconds(4000), 1);
}
