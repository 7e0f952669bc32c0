// The common reader loop (common/reader/reader_loop.hpp) with a writer
// thread beside it: every frame reaches the tool, a re-created segment is
// followed, liveness changes are heard, and the loop ends when a hook, the
// duration or a missing segment says so. Runs under ThreadSanitizer in CI.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "common/reader/reader_loop.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/segment_writer.hpp"
#include "support/test_frames.hpp"
#include "support/test_segment.hpp"

using namespace brt;
using namespace std::chrono_literals;

namespace {

const Geometry kSmall{2, 2, 4};

// Records what the loop tells it; stops with `stop_code` once it has read
// frame `last_frame`.
class RecordingTool : public ReaderTool {
  public:
    explicit RecordingTool(std::uint64_t last_frame = 0, int stop_code = 0)
        : last_frame_(last_frame), stop_code_(stop_code) {}

    StepResult on_attach(SegmentReader& reader, AttachChange change) override {
        attaches.push_back(change);
        racks_seen.push_back(reader.layout().geometry.racks);
        return keep_going;
    }
    void on_detach(SegmentReader&) override { ++detaches; }
    void on_writer_change(const WriterStatus& writer) override {
        liveness.push_back(writer.liveness);
    }
    StepResult on_frame(SegmentReader& reader) override {
        if (reader.read_next(frame_, whole_frame(reader.layout().geometry)) != ReadOutcome::ok) {
            return keep_going;
        }
        if (!test::frame_is_consistent(frame_)) {
            ++torn;
        }
        frames.push_back(frame_.frame_number);
        missed = reader.frames_missed();
        if (last_frame_ != 0 && frame_.frame_number >= last_frame_) {
            return stop_code_;
        }
        return keep_going;
    }

    std::vector<AttachChange> attaches;
    std::vector<std::uint32_t> racks_seen;
    std::vector<Liveness> liveness;
    std::vector<std::uint64_t> frames;
    std::uint64_t missed = 0;
    int detaches = 0;
    int torn = 0;

  private:
    std::uint64_t last_frame_;
    int stop_code_;
    FrameBuffer frame_;
};

}  // namespace

TEST_CASE("every frame a writer publishes reaches the tool, in order, untorn", "[reader_loop]") {
    test::ScopedSegment segment("loop_frames", kSmall);
    constexpr std::uint64_t kFrames = 300;
    SegmentReader reader(segment.name());
    RecordingTool tool(kFrames, 5);
    std::thread writer_thread([&] {
        SegmentWriter writer = SegmentWriter::acquire(segment.name(), 1'000'000);
        test::EncodedFrameSource source(kSmall);
        for (std::uint64_t frame = 1; frame <= kFrames; ++frame) {
            writer.publish_frame(source.make(frame));
            std::this_thread::sleep_for(200us);
        }
        // Stay the writer until the reader has seen the last frame.
        std::this_thread::sleep_for(500ms);
    });
    const int exit_code = run_reader_loop(reader, tool, {});
    writer_thread.join();

    CHECK(exit_code == 5);  // the hook's code, not 0
    REQUIRE(!tool.frames.empty());
    CHECK(tool.frames.back() == kFrames);
    CHECK(tool.torn == 0);
    // In order, none twice, and every frame from the first one read on is
    // either read or counted as missed.
    for (std::size_t i = 1; i < tool.frames.size(); ++i) {
        CHECK(tool.frames[i] > tool.frames[i - 1]);
    }
    CHECK(tool.frames.size() + tool.missed == kFrames - tool.frames.front() + 1);
    REQUIRE(tool.attaches.size() == 1);
    CHECK(tool.attaches[0] == AttachChange::attached);
}

TEST_CASE("the loop follows a segment that appears, goes and comes back re-created",
          "[reader_loop]") {
    const std::string name = test::unique_segment_name("loop_follow");
    SegmentReader reader(name);
    RecordingTool tool;
    ReaderLoopOptions options;
    options.require_segment = false;
    options.refresh_every = 20ms;
    options.duration_s = 2.0;
    std::atomic<bool> done{false};
    std::thread changer([&] {
        std::this_thread::sleep_for(200ms);
        CreateOptions create;
        create.geometry = kSmall;
        create_segment(name, create);
        std::this_thread::sleep_for(300ms);
        remove_segment(name);
        std::this_thread::sleep_for(300ms);
        create.geometry = Geometry{3, 2, 4};
        create_segment(name, create);
        done = true;
    });
    const int exit_code = run_reader_loop(reader, tool, options);
    changer.join();
    remove_segment(name);

    CHECK(done);
    CHECK(exit_code == 0);  // the duration ended it
    CHECK(tool.detaches == 1);
    REQUIRE(tool.attaches.size() == 2);
    CHECK(tool.racks_seen == std::vector<std::uint32_t>{2, 3});
    // No segment, then a segment without a writer: liveness changes are heard.
    REQUIRE(!tool.liveness.empty());
    CHECK(tool.liveness.front() == Liveness::no_segment);
    CHECK(tool.liveness.size() >= 3);
}

TEST_CASE("the writer stopping is a liveness change; the duration ends the loop", "[reader_loop]") {
    test::ScopedSegment segment("loop_liveness", kSmall);
    SegmentReader reader(segment.name());
    RecordingTool tool;
    ReaderLoopOptions options;
    options.duration_s = 1.0;
    std::thread writer_thread([&] {
        SegmentWriter writer = SegmentWriter::acquire(segment.name(), 10'000'000);
        test::EncodedFrameSource source(kSmall);
        for (std::uint64_t frame = 1; frame <= 20; ++frame) {
            writer.publish_frame(source.make(frame));
            std::this_thread::sleep_for(10ms);
        }
        writer.finish(WriterState::stopped);
    });
    const auto started = std::chrono::steady_clock::now();
    const int exit_code = run_reader_loop(reader, tool, options);
    const auto ran = std::chrono::steady_clock::now() - started;
    writer_thread.join();

    CHECK(exit_code == 0);
    CHECK(ran >= 1s);
    CHECK(std::find(tool.liveness.begin(), tool.liveness.end(), Liveness::live) !=
          tool.liveness.end());
    CHECK(tool.liveness.back() != Liveness::live);
    CHECK(!tool.frames.empty());
}

TEST_CASE("a missing segment at start is the SegmentError that says to create it",
          "[reader_loop]") {
    SegmentReader reader(test::unique_segment_name("loop_missing"));
    RecordingTool tool;
    try {
        run_reader_loop(reader, tool, {});
        FAIL("no error");
    } catch (const SegmentError& error) {
        CHECK(error.kind() == SegmentErrorKind::no_segment);
        CHECK_THAT(error.what(), Catch::Contains("brt-shm-init"));
    }
    CHECK(tool.attaches.empty());
}
