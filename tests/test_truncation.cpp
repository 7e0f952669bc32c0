// A segment file shrunk under running tools (`truncate -s 8192
// /dev/shm/NAME`, issue 20 item 1): no tool may die of SIGBUS. Readers
// detach saying "truncated" and re-attach to a re-created segment; writers
// stop with exit 1 and writer state failed. Every case here died of SIGBUS
// before the segment library guarded its mappings (truncation_guard.hpp).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <thread>

#include "common/alarm_segment/alarm_segment_reader.hpp"
#include "common/alarm_segment/alarm_segment_writer.hpp"
#include "common/reader/reader_loop.hpp"
#include "common/segment/futex.hpp"
#include "common/segment/segment_reader.hpp"
#include "common/segment/segment_writer.hpp"
#include "common/segment/shm_name.hpp"
#include "support/run_command.hpp"
#include "support/test_frames.hpp"
#include "support/test_segment.hpp"

using namespace brt;
using namespace std::chrono_literals;

namespace {

// What every test truncates to: the header page and one more survive.
constexpr off_t kTruncatedBytes = 8192;
// Small, but with every frame slot past kTruncatedBytes.
const Geometry kGeometry{2, 2, 8};

void truncate_segment(const std::string& name, off_t bytes = kTruncatedBytes) {
    REQUIRE(truncate(shm_path(name).c_str(), bytes) == 0);
}

// A header field read with pread: the file, not a mapping, so it works
// whatever happened to this process's mappings.
template <typename Field>
Field read_header_field(const std::string& name, std::size_t offset) {
    Field value{};
    const int fd = open(shm_path(name).c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(pread(fd, &value, sizeof value, static_cast<off_t>(offset)) ==
            static_cast<ssize_t>(sizeof value));
    close(fd);
    return value;
}

std::uint32_t telemetry_writer_state(const std::string& name) {
    return read_header_field<std::uint32_t>(name, offsetof(SegmentHeader, writer_state));
}

std::uint32_t alarm_writer_state(const std::string& name) {
    return read_header_field<std::uint32_t>(name, offsetof(AlarmSegmentHeader, writer_state));
}

constexpr auto kFailed = static_cast<std::uint32_t>(WriterState::failed);

// After a truncation the test plays a writer that still bumps latest_frame
// (the header page is still in the file): a reader then copies a slot that
// lies past the end of the file, which used to kill it.
void announce_frames_past_the_end(SegmentHeader& header, std::chrono::milliseconds how_long) {
    const auto until = std::chrono::steady_clock::now() + how_long;
    while (std::chrono::steady_clock::now() < until) {
        header.latest_frame.fetch_add(1, std::memory_order_release);
        futex_bump_and_wake(header.frame_futex, header.futex_waiters);
        std::this_thread::sleep_for(20ms);
    }
}

// A tool's log file, removed however the test ends.
struct ScopedLog {
    std::string path;
    explicit ScopedLog(const std::string& segment) : path("/tmp/" + segment + ".log") {}
    ~ScopedLog() { unlink(path.c_str()); }
};

bool killed_by_signal(int exit_code) {
    return exit_code > 128;
}

// Publishes frames from a thread every `period` until stopped; a writer
// that finds its segment truncated (SegmentError) stops and keeps the message.
class PublishingThread {
  public:
    PublishingThread(const std::string& name, std::chrono::milliseconds period)
        : writer_(SegmentWriter::acquire(name, 10'000'000)), source_(kGeometry) {
        writer_.publish_frame(source_.make(frame_++));
        thread_ = std::thread([this, period] {
            while (!stop_.load()) {
                std::this_thread::sleep_for(period);
                try {
                    writer_.publish_frame(source_.make(frame_++));
                } catch (const SegmentError& error) {
                    failure_ = error.what();
                    failure_kind_ = error.kind();
                    stopped_by_failure_.store(true);
                    return;
                }
            }
        });
    }
    ~PublishingThread() { stop(); }
    void stop() {
        stop_.store(true);
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    SegmentWriter& writer() { return writer_; }
    bool failed() const { return stopped_by_failure_.load(); }
    // Read after failed() or stop().
    const std::string& failure() const { return failure_; }
    std::optional<SegmentErrorKind> failure_kind() const { return failure_kind_; }

  private:
    SegmentWriter writer_;
    test::EncodedFrameSource source_;
    std::uint64_t frame_ = 1;
    std::atomic<bool> stop_{false};
    std::atomic<bool> stopped_by_failure_{false};
    std::string failure_;
    std::optional<SegmentErrorKind> failure_kind_;
    std::thread thread_;
};

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(10ms);
    }
    return condition();
}

bool running(pid_t pid) {
    int status = 0;
    return waitpid(pid, &status, WNOHANG) == 0;
}

}  // namespace

TEST_CASE("the test geometry puts every frame slot past the truncation", "[truncation]") {
    const SegmentLayout layout = compute_layout(kGeometry, kDefaultSlots);
    CHECK(layout.slots_offset >= static_cast<std::uint64_t>(kTruncatedBytes));
}

TEST_CASE("a reader whose segment is truncated under it detaches, saying so, and re-attaches",
          "[truncation]") {
    test::ScopedSegment scoped("trunc-reader", kGeometry);
    const std::string& name = scoped.name();
    test::EncodedFrameSource source(kGeometry);
    SegmentWriter writer = SegmentWriter::acquire(name, 10'000'000);
    writer.publish_frame(source.make(1));

    SegmentReader reader(name);
    reader.require_attached();
    FrameBuffer frame;
    REQUIRE(reader.read_latest(frame) == ReadOutcome::ok);
    writer.publish_frame(source.make(2));

    truncate_segment(name);
    // The copy runs past the end of the file: no SIGBUS, no frame.
    CHECK(reader.read_latest(frame) != ReadOutcome::ok);
    const WriterStatus status = reader.writer_status();
    CHECK(status.liveness == Liveness::no_segment);
    CHECK_THAT(status.detail, Catch::Contains("truncated"));
    CHECK(reader.refresh() == AttachChange::detached);
    REQUIRE(reader.last_error());
    CHECK(reader.last_error()->kind() == SegmentErrorKind::truncated);
    CHECK_THAT(reader.last_error()->what(),
               Catch::Contains("truncated") && Catch::Contains("brt-shm-init --shm-name " + name));

    // The writer's next frame runs past the end too: it stops, failed.
    try {
        writer.publish_frame(source.make(3));
        FAIL("publish_frame went on into a truncated segment");
    } catch (const SegmentError& error) {
        CHECK(error.kind() == SegmentErrorKind::truncated);
        CHECK_THAT(error.what(), Catch::Contains("truncated"));
    }
    CHECK(telemetry_writer_state(name) == kFailed);

    // A re-created segment is followed as after a removal.
    remove_segment(name);
    CreateOptions options;
    options.geometry = kGeometry;
    create_segment(name, options);
    SegmentWriter next_writer = SegmentWriter::acquire(name, 10'000'000);
    next_writer.publish_frame(source.make(7));
    CHECK(reader.refresh() == AttachChange::attached);
    REQUIRE(reader.read_latest(frame) == ReadOutcome::ok);
    CHECK(frame.frame_number == 1);
    CHECK(frame.column(Field::voltage_v)[0] == test::encoded_value(7, 0));
}

TEST_CASE("a file truncated to nothing or below its header is survived as well", "[truncation]") {
    for (const off_t bytes : {off_t{0}, off_t{100}, off_t{4096}}) {
        INFO("truncated to " << bytes << " bytes");
        test::ScopedSegment scoped("trunc-small", kGeometry);
        test::EncodedFrameSource source(kGeometry);
        SegmentWriter writer = SegmentWriter::acquire(scoped.name(), 10'000'000);
        writer.publish_frame(source.make(1));
        SegmentReader reader(scoped.name());
        reader.require_attached();
        truncate_segment(scoped.name(), bytes);
        FrameBuffer frame;
        CHECK(reader.read_latest(frame) != ReadOutcome::ok);
        // Within the header's page nothing faults (the rest of a file's last
        // page reads as zeros): the size check of the next refresh detaches.
        CHECK(reader.refresh() == AttachChange::detached);
        CHECK(reader.writer_status().liveness == Liveness::no_segment);
        CHECK_THROWS_AS(writer.publish_frame(source.make(2)), SegmentError);
    }
}

TEST_CASE(
    "the reader loop survives a truncation while another thread publishes, and follows "
    "the re-created segment",
    "[truncation][threads]") {
    test::ScopedSegment scoped("trunc-loop", kGeometry);
    const std::string name = scoped.name();

    // Counts frames, notes the detach and the re-attach, and stops once
    // frames come from the re-created segment.
    class Tool : public ReaderTool {
      public:
        std::atomic<int> frames{0};
        std::atomic<bool> detached{false};
        std::atomic<int> frames_after_reattach{0};
        std::string detach_reason;  // read after the loop
        bool reattached = false;

        StepResult on_frame(SegmentReader& reader) override {
            if (reader.read_latest(frame_) == ReadOutcome::ok) {
                ++frames;
                if (reattached) {
                    ++frames_after_reattach;
                }
            }
            return keep_going;
        }
        void on_detach(SegmentReader& reader) override {
            if (reader.last_error()) {
                detach_reason = reader.last_error()->what();
            }
            detached.store(true);
        }
        StepResult on_attach(SegmentReader&, AttachChange) override {
            reattached = detached.load();
            return keep_going;
        }
        StepResult on_tick(SegmentReader&, const WriterStatus&, Clock::time_point) override {
            return frames_after_reattach.load() >= 3 ? StepResult(0) : keep_going;
        }

      private:
        FrameBuffer frame_;
    };

    Tool tool;
    std::optional<PublishingThread> writer(std::in_place, name, 1ms);
    std::optional<PublishingThread> next_writer;
    std::thread controller([&] {
        eventually([&] { return tool.frames.load() >= 20; });
        truncate_segment(name);
        eventually([&] { return writer->failed(); });
        eventually([&] { return tool.detached.load(); });
        remove_segment(name);
        CreateOptions options;
        options.geometry = kGeometry;
        create_segment(name, options);
        next_writer.emplace(name, 5ms);
    });
    SegmentReader reader(name);
    ReaderLoopOptions loop;
    loop.wait_slice = 10ms;
    loop.duration_s = 8;
    const int exit_code = run_reader_loop(reader, tool, loop);
    controller.join();

    CHECK(exit_code == 0);
    CHECK(tool.detached.load());
    CHECK_THAT(tool.detach_reason, Catch::Contains("truncated"));
    CHECK(tool.frames_after_reattach.load() >= 3);
    // The publishing thread stopped on the truncation with a message, and
    // left state failed (in the old file, which the re-creation removed).
    CHECK(writer->failed());
    CHECK(writer->failure_kind() == SegmentErrorKind::truncated);
    CHECK_THAT(writer->failure(), Catch::Contains("truncated") && Catch::Contains("--force"));
}

TEST_CASE("an alarm segment truncated under its reader and its writer", "[truncation]") {
    test::ScopedSegment telemetry("trunc-alarms", kGeometry);
    const std::string name = alarm_segment_name(telemetry.name());
    AlarmSegmentWriter writer = AlarmSegmentWriter::open_or_create(name, AlarmSegmentOptions{});
    writer.start(100'000'000);
    writer.publish(AlarmPublication{}, {});

    AlarmSegmentReader reader(name);
    REQUIRE(reader.try_attach());
    AlarmTable table;
    REQUIRE(reader.read(table) == AlarmReadOutcome::ok);
    writer.publish(AlarmPublication{}, {});

    truncate_segment(name);
    // The copy runs past the end of the file: no SIGBUS, no table.
    CHECK(reader.read(table) != AlarmReadOutcome::ok);
    CHECK_THAT(reader.problem(), Catch::Contains("truncated"));
    CHECK(reader.writer_status().liveness == Liveness::no_segment);
    CHECK_THROWS_WITH(reader.try_attach(), Catch::Contains("truncated"));
    CHECK_FALSE(reader.attached());

    try {
        writer.publish(AlarmPublication{}, {});
        FAIL("publish went on into a truncated alarm segment");
    } catch (const SegmentError& error) {
        CHECK(error.kind() == SegmentErrorKind::truncated);
        CHECK_THAT(error.what(), Catch::Contains("truncated") && Catch::Contains("--reset-alarms"));
    }
    CHECK(alarm_writer_state(name) == kFailed);

    // The viewer's alarm list says the alarm system is down, and why.
    const auto listing = test::run_command(
        {test::tool_path("BRT_VIEWER"), "--shm-name", telemetry.name(), "--alarms", "--once"});
    CHECK(listing.exit_code == 0);
    CHECK_THAT(listing.out, Catch::Contains("alarm_system") && Catch::Contains("truncated"));
}

TEST_CASE("an alarm writer with nothing to publish notices a truncation at its heartbeat",
          "[truncation]") {
    test::ScopedSegment telemetry("trunc-alarm-hb", kGeometry);
    const std::string name = alarm_segment_name(telemetry.name());
    AlarmSegmentWriter writer = AlarmSegmentWriter::open_or_create(name, AlarmSegmentOptions{});
    writer.start(100'000'000);
    writer.publish(AlarmPublication{}, {});
    writer.heartbeat();
    truncate_segment(name);
    CHECK_THROWS_WITH(writer.heartbeat(), Catch::Contains("truncated"));
    CHECK(alarm_writer_state(name) == kFailed);
}

TEST_CASE("the simulator stops with exit 1 and state failed when its segment is truncated",
          "[truncation]") {
    const ScopedLog scoped_log(test::unique_segment_name("trunc-sim"));
    const std::string& log = scoped_log.path;
    // As fast as it goes (the truncation is met by a publish), and at one
    // frame a second (met by the size check between frames).
    for (const std::vector<std::string>& pace :
         {std::vector<std::string>{"--max-speed"}, std::vector<std::string>{"--rate", "1"}}) {
        INFO(pace[0]);
        test::ScopedSegment scoped("trunc-sim", kGeometry);
        test::KillOnExit cleanup;
        std::vector<std::string> argv = {test::tool_path("BRT_SIMULATOR"), "--shm-name",
                                         scoped.name(), "--duration", "600"};
        argv.insert(argv.end(), pace.begin(), pace.end());
        const pid_t simulator = test::spawn_background(argv, log);
        cleanup.pids.push_back(simulator);
        SegmentReader reader(scoped.name());
        reader.require_attached();
        REQUIRE(eventually([&] { return reader.latest_frame() >= 1; }));
        truncate_segment(scoped.name());
        const int exit_code = test::wait_for_exit(simulator, 10000);
        const std::string output = test::read_file(log);
        INFO(output);
        CHECK_FALSE(killed_by_signal(exit_code));
        CHECK(exit_code == 1);
        CHECK_THAT(output, Catch::Contains("truncated") && Catch::Contains("--force"));
        CHECK(telemetry_writer_state(scoped.name()) == kFailed);
    }
}

TEST_CASE("the viewer keeps running through a truncation and says why it has nothing to show",
          "[truncation]") {
    test::ScopedSegment scoped("trunc-viewer", kGeometry);
    const ScopedLog scoped_log(scoped.name());
    const std::string& log = scoped_log.path;
    test::KillOnExit cleanup;
    test::EncodedFrameSource source(kGeometry);
    SegmentWriter writer = SegmentWriter::acquire(scoped.name(), 10'000'000);
    writer.publish_frame(source.make(1));
    const pid_t viewer =
        test::spawn_background({test::tool_path("BRT_VIEWER"), "--shm-name", scoped.name(), "-b",
                                "-n", "40", "-d", "0.05", "--format", "csv"},
                               log);
    cleanup.pids.push_back(viewer);
    REQUIRE(eventually([&] { return test::read_file(log).find("voltage") != std::string::npos; }));
    truncate_segment(scoped.name());
    announce_frames_past_the_end(writer.segment().header(), 1000ms);
    CHECK(running(viewer));
    const int exit_code = test::wait_for_exit(viewer, 10000);
    const std::string output = test::read_file(log);
    INFO(output);
    CHECK_FALSE(killed_by_signal(exit_code));
    CHECK(exit_code == 0);
    CHECK_THAT(output, Catch::Contains("truncated") && Catch::Contains("skipped"));
}

TEST_CASE("the monitor survives its telemetry segment being truncated", "[truncation]") {
    test::ScopedSegment scoped("trunc-monitor", kGeometry);
    const ScopedLog scoped_log(scoped.name());
    const std::string& log = scoped_log.path;
    test::KillOnExit cleanup;
    test::EncodedFrameSource source(kGeometry);
    SegmentWriter writer = SegmentWriter::acquire(scoped.name(), 10'000'000);
    writer.publish_frame(source.make(1));
    const pid_t monitor = test::spawn_background(
        {test::tool_path("BRT_ANOMALY_MONITOR"), "--shm-name", scoped.name(), "--duration", "3"},
        log);
    cleanup.pids.push_back(monitor);
    // Attached once its alarm segment is up.
    REQUIRE(eventually(
        [&] { return access(shm_path(alarm_segment_name(scoped.name())).c_str(), F_OK) == 0; }));
    std::this_thread::sleep_for(200ms);
    truncate_segment(scoped.name());
    announce_frames_past_the_end(writer.segment().header(), 1000ms);
    CHECK(running(monitor));
    const int exit_code = test::wait_for_exit(monitor, 10000);
    const std::string output = test::read_file(log);
    INFO(output);
    CHECK_FALSE(killed_by_signal(exit_code));
    CHECK(exit_code == 0);
    CHECK_THAT(output, Catch::Contains("went away"));
}

TEST_CASE("the monitor stops with exit 1 and state failed when its alarm segment is truncated",
          "[truncation]") {
    // Publishing (telemetry frames keep its table changing), and idle (it
    // only heartbeats: no telemetry writer, no liveness judged yet).
    for (const bool frames : {true, false}) {
        INFO((frames ? "publishing" : "heartbeating"));
        test::ScopedSegment scoped("trunc-mon-alarms", kGeometry);
        const std::string alarms = alarm_segment_name(scoped.name());
        const ScopedLog scoped_log(scoped.name());
        const std::string& log = scoped_log.path;
        test::KillOnExit cleanup;
        std::optional<PublishingThread> writer;
        if (frames) {
            writer.emplace(scoped.name(), 20ms);
        }
        const pid_t monitor =
            test::spawn_background({test::tool_path("BRT_ANOMALY_MONITOR"), "--shm-name",
                                    scoped.name(), "--duration", "20", "--startup-grace", "60"},
                                   log);
        cleanup.pids.push_back(monitor);
        AlarmSegmentReader reader(alarms);
        REQUIRE(eventually([&] {
            try {
                return reader.try_attach() && reader.latest_version() >= (frames ? 3u : 1u);
            } catch (const SegmentError&) {
                return false;
            }
        }));
        truncate_segment(alarms);
        const int exit_code = test::wait_for_exit(monitor, 10000);
        const std::string output = test::read_file(log);
        INFO(output);
        CHECK_FALSE(killed_by_signal(exit_code));
        CHECK(exit_code == 1);
        CHECK_THAT(output, Catch::Contains("truncated") && Catch::Contains("--reset-alarms"));
        CHECK(alarm_writer_state(alarms) == kFailed);
    }
}
