// Writer and readers as threads of one process, so ThreadSanitizer can check
// the seqlock against the C++ memory model (it cannot see across processes).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "common/segment/segment_reader.hpp"
#include "common/segment/segment_writer.hpp"
#include "support/test_frames.hpp"
#include "support/test_segment.hpp"

using namespace brt;

TEST_CASE("readers racing a writer never see a torn frame", "[seqlock]") {
    const Geometry geometry{4, 4, 64};
    // Three slots, the minimum, make the writer lap readers as often as possible.
    test::ScopedSegment scoped("threads", geometry, 3);
    SegmentWriter writer = SegmentWriter::acquire(scoped.name(), 0);

    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> torn{0};
    std::atomic<std::uint64_t> frames_read{0};
    std::vector<std::thread> readers;
    // Readers 0..2 take the newest frame, reader 3 the next in order
    // (read_next), which reads slots the writer is about to reuse.
    for (int r = 0; r < 4; ++r) {
        readers.emplace_back([&, r] {
            SegmentReader reader(scoped.name());
            reader.require_attached();
            FrameBuffer buffer;
            const CellRange range = r == 0 || r == 3 ? whole_frame(geometry)
                                                     : (r == 1 ? rack_range(geometry, 2)
                                                               : module_range(geometry, 3, 1));
            std::uint64_t previous = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                const ReadOutcome outcome =
                    r == 3 ? reader.read_next(buffer, range) : reader.read_latest(buffer, range);
                if (outcome != ReadOutcome::ok) {
                    continue;
                }
                if (!test::frame_is_consistent(buffer) || buffer.frame_number < previous) {
                    torn.fetch_add(1);
                }
                previous = buffer.frame_number;
                frames_read.fetch_add(1, std::memory_order_relaxed);
            }
        });
    }
    test::EncodedFrameSource source(geometry);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    std::uint64_t published = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        writer.publish_frame(source.make(published + 1));
        ++published;
    }
    stop = true;
    for (auto& thread : readers) {
        thread.join();
    }
    INFO("published " << published << ", read " << frames_read.load());
    CHECK(torn.load() == 0);
    CHECK(published > 100);
    CHECK(frames_read.load() > 100);
}

TEST_CASE("a reader counts the frames it missed", "[seqlock]") {
    const Geometry geometry{2, 2, 8};
    test::ScopedSegment scoped("missed", geometry);
    SegmentWriter writer = SegmentWriter::acquire(scoped.name(), 0);
    SegmentReader reader(scoped.name());
    reader.require_attached();
    test::EncodedFrameSource source(geometry);
    FrameBuffer buffer;

    CHECK(reader.read_latest(buffer) == ReadOutcome::no_frame_yet);
    writer.publish_frame(source.make(1));
    REQUIRE(reader.read_latest(buffer) == ReadOutcome::ok);
    CHECK(buffer.frame_number == 1);
    for (std::uint64_t frame = 2; frame <= 6; ++frame) {
        writer.publish_frame(source.make(frame));
    }
    REQUIRE(reader.read_latest(buffer) == ReadOutcome::ok);
    CHECK(buffer.frame_number == 6);
    CHECK(reader.frames_missed() == 4);
    CHECK(test::frame_is_consistent(buffer));
}

TEST_CASE("read_next catches up frame by frame while the ring holds them", "[seqlock]") {
    const Geometry geometry{2, 2, 8};
    test::ScopedSegment scoped("next", geometry, 4);
    SegmentWriter writer = SegmentWriter::acquire(scoped.name(), 0);
    SegmentReader reader(scoped.name());
    reader.require_attached();
    test::EncodedFrameSource source(geometry);
    FrameBuffer buffer;
    const CellRange all = whole_frame(geometry);

    CHECK(reader.read_next(buffer, all) == ReadOutcome::no_frame_yet);
    writer.publish_frame(source.make(1));
    REQUIRE(reader.read_next(buffer, all) == ReadOutcome::ok);
    CHECK(buffer.frame_number == 1);
    // Three frames behind with four slots: every one of them, in order.
    for (std::uint64_t frame = 2; frame <= 4; ++frame) {
        writer.publish_frame(source.make(frame));
    }
    for (std::uint64_t frame = 2; frame <= 4; ++frame) {
        REQUIRE(reader.read_next(buffer, all) == ReadOutcome::ok);
        CHECK(buffer.frame_number == frame);
        CHECK(test::frame_is_consistent(buffer));
    }
    CHECK(reader.frames_missed() == 0);
    // Caught up: the same frame again, nothing counted.
    REQUIRE(reader.read_next(buffer, all) == ReadOutcome::ok);
    CHECK(buffer.frame_number == 4);

    // Six behind: frame 5's slot now holds frame 9, so the reader jumps to
    // the newest (10) and counts the five it lost.
    for (std::uint64_t frame = 5; frame <= 10; ++frame) {
        writer.publish_frame(source.make(frame));
    }
    REQUIRE(reader.read_next(buffer, all) == ReadOutcome::ok);
    CHECK(buffer.frame_number == 10);
    CHECK(reader.frames_missed() == 5);
    CHECK(test::frame_is_consistent(buffer));
}

TEST_CASE("one rack or one module is copied without the rest", "[seqlock]") {
    const Geometry geometry{3, 2, 4};
    test::ScopedSegment scoped("partial", geometry);
    SegmentWriter writer = SegmentWriter::acquire(scoped.name(), 0);
    // Distinct values per cell so a wrong offset shows.
    const test::CellIndexFrame values(geometry, 1000.0f);
    const FrameData frame = values.view();
    writer.publish_frame(frame);

    SegmentReader reader(scoped.name());
    reader.require_attached();
    FrameBuffer buffer;
    REQUIRE(reader.read_latest(buffer, module_range(geometry, 2, 1)) == ReadOutcome::ok);
    REQUIRE(buffer.status.size() == 4);
    // Rack 2, module 1: cells (2*2+1)*4 = 20..23.
    CHECK(buffer.status[0] == 20);
    CHECK(buffer.status[3] == 23);
    CHECK(buffer.column(Field::temperature_c)[1] == 2021.0f);
    REQUIRE(reader.read_latest(buffer, rack_range(geometry, 1)) == ReadOutcome::ok);
    CHECK(buffer.status.size() == 8);
    CHECK(buffer.column(Field::soh)[0] == 5008.0f);
}

TEST_CASE("a slot given back with abort_frame is never read, and its number is reused",
          "[seqlock][abort]") {
    const Geometry geometry{2, 2, 8};
    test::ScopedSegment scoped("abort", geometry, 3);
    SegmentWriter writer = SegmentWriter::acquire(scoped.name(), 0);
    test::EncodedFrameSource source(geometry);
    writer.publish_frame(source.make(1));
    // A reader in order that has read frame 1 asks for frame 2 next.
    SegmentReader behind(scoped.name());
    behind.require_attached();
    FrameBuffer buffer;
    REQUIRE(behind.read_next(buffer, whole_frame(geometry)) == ReadOutcome::ok);
    REQUIRE(buffer.frame_number == 1);
    for (std::uint64_t frame = 2; frame <= 4; ++frame) {
        writer.publish_frame(source.make(frame));
    }
    SegmentReader reader(scoped.name());
    reader.require_attached();
    REQUIRE(reader.read_latest(buffer) == ReadOutcome::ok);
    REQUIRE(buffer.frame_number == 4);

    // Frame 5 goes to the slot that held frame 2; half of it is written when
    // the copy "fails".
    const SlotWrite write = writer.begin_frame();
    REQUIRE(write.frame_number == 5);
    std::memset(writer.column(write, Field::voltage_v), 0xFF, 4 * geometry.cell_count() / 2);
    writer.abort_frame(write);

    // Readers never wait on it and never take it for frame 2 or 5.
    CHECK(reader.latest_frame() == 4);
    REQUIRE(reader.read_latest(buffer) == ReadOutcome::ok);
    CHECK(buffer.frame_number == 4);
    CHECK(test::frame_is_consistent(buffer));
    // Frame 2's slot now holds frame 0: the reader in order does not take
    // it for frame 2, it falls forward to the newest and counts 2 and 3.
    REQUIRE(behind.read_next(buffer, whole_frame(geometry)) == ReadOutcome::ok);
    CHECK(buffer.frame_number == 4);
    CHECK(test::frame_is_consistent(buffer));
    CHECK(behind.frames_missed() == 2);

    // The next frame is 5 again, complete.
    CHECK(writer.publish_frame(source.make(5)) == 5);
    REQUIRE(reader.read_next(buffer, whole_frame(geometry)) == ReadOutcome::ok);
    CHECK(buffer.frame_number == 5);
    CHECK(test::frame_is_consistent(buffer));
    CHECK(reader.frames_missed() == 0);
}

TEST_CASE("a DMA writer gets the slots as one block and the columns as one run",
          "[seqlock][abort]") {
    const Geometry geometry{3, 2, 5};
    test::ScopedSegment scoped("column_run", geometry, 4);
    SegmentWriter writer = SegmentWriter::acquire(scoped.name(), 0);
    const SegmentLayout& layout = writer.layout();
    const std::span<std::byte> slots = writer.slot_memory();
    CHECK(slots.data() == writer.segment().bytes() + layout.slots_offset);
    CHECK(slots.size() == layout.slot_count * layout.slot_stride);
    const SegmentWriter::ColumnRun run = writer.column_run();
    CHECK(run.bytes == kFieldCount * run.column_stride);
    const SlotWrite write = writer.begin_frame();
    for (std::uint32_t field = 0; field < kFieldCount; ++field) {
        CHECK(writer.column(write, static_cast<Field>(field)) ==
              write.slot + run.offset_in_slot + field * run.column_stride);
    }
    CHECK(write.slot + run.offset_in_slot + run.bytes <= slots.data() + slots.size());
    writer.abort_frame(write);
}

namespace {

// Marks every slot mid-write, as a writer killed inside begin/commit of each
// would leave them, or (`ahead`) points latest_frame past what the slots hold.
void break_slots(const std::string& name, bool ahead) {
    MappedSegment segment = open_segment(name, SegmentAccess::writer);
    const SegmentLayout& layout = segment.layout();
    if (ahead) {
        segment.header().latest_frame.fetch_add(layout.slot_count * 10);
        return;
    }
    for (std::uint32_t slot = 0; slot < layout.slot_count; ++slot) {
        segment.at<SlotHeader>(layout.slot_offset(slot))->sequence.fetch_or(1);
    }
}

}  // namespace

TEST_CASE("a frame that cannot be read is named, and readers sleep instead of spinning",
          "[seqlock][stuck]") {
    const Geometry geometry{2, 2, 8};
    test::ScopedSegment scoped("stuck", geometry, 3);
    {
        SegmentWriter writer = SegmentWriter::acquire(scoped.name(), 0);
        test::EncodedFrameSource source(geometry);
        for (std::uint64_t frame = 1; frame <= 5; ++frame) {
            writer.publish_frame(source.make(frame));
        }
    }
    const bool ahead = GENERATE(false, true);
    break_slots(scoped.name(), ahead);
    SegmentReader reader(scoped.name());
    reader.require_attached();
    FrameBuffer buffer;
    CHECK(reader.read_latest(buffer) == ReadOutcome::busy);
    CHECK_THAT(reader.unreadable_reason(),
               Catch::Contains(ahead ? "latest_frame is ahead of the frame slots"
                                     : "the writer is stuck mid-frame"));
    CHECK_THAT(reader.writer_status().detail, Catch::Contains("cannot be read"));

    // A reader loop waits, reads, waits: for half a second it must sleep
    // through its waits, not retry millions of times.
    const std::uint64_t retries_before = reader.read_retries();
    const auto start = std::chrono::steady_clock::now();
    int waits_that_said_new = 0;
    while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500)) {
        if (reader.wait_for_frame(reader.last_frame_read(), std::chrono::milliseconds(50))) {
            ++waits_that_said_new;
            reader.read_latest(buffer);
        }
    }
    CHECK(waits_that_said_new == 0);
    CHECK(reader.read_retries() - retries_before < 1000);
}
