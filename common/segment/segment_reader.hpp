// A reader's side of the segment: attach by name, sleep until the next frame,
// copy the newest frame or the next one in order (or one rack or module of
// it), count what was missed,
// tell live from stale, and follow the segment when it is re-created.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "errors.hpp"
#include "liveness.hpp"
#include "segment_file.hpp"

namespace brt {

// A reader's private copy of (part of) one frame.
struct FrameBuffer {
    CellRange range;
    std::uint64_t frame_number = 0;
    std::uint64_t sim_time_ns = 0;
    std::uint64_t wall_time_ns = 0;
    std::uint64_t publish_monotonic_ns = 0;
    float ambient_temperature_c = 0.0f;
    std::array<std::vector<float>, 6> columns;  // indexed by Field, range.cell_count each
    std::vector<std::uint32_t> status;
    std::vector<RackRecord> racks;  // always every rack

    std::span<const float> column(Field field) const {
        return columns.at(static_cast<std::size_t>(field));
    }
};

enum class ReadOutcome {
    ok,
    no_frame_yet,  // attached, but nothing published since the segment was created
    detached,      // no segment to read, or its file was shrunk under the reader
    busy,          // the writer kept overwriting the slot; try again
};

enum class AttachChange {
    unchanged,
    attached,    // a segment appeared (or the first attach succeeded)
    reattached,  // the name now points to a re-created segment
    detached,    // the segment was removed or became unreadable
};

class SegmentReader {
  public:
    // Does not touch the segment yet: call refresh() (or require_attached()).
    explicit SegmentReader(std::string normalized_name);

    // Looks the name up again: attaches, re-attaches after re-creation (new
    // inode or generation), or detaches when the segment went away or its
    // file was shrunk (truncated(), or found shorter by the fstat). Cheap
    // (an open and an fstat); call it when a wait times out or every second,
    // and at once when truncated() turns true.
    AttachChange refresh();
    // refresh(), then throw the SegmentError explaining why when not attached.
    void require_attached();

    bool attached() const { return segment_.is_open(); }
    // The file was shrunk under the mapping (a read ran past its end): the
    // last copy may be zeros, reads return detached and writer_status() says
    // no_segment until refresh() detaches or follows a re-created segment.
    bool truncated() const { return attached() && segment_.truncated(); }
    // Why the last refresh() left the reader detached.
    const std::optional<SegmentError>& last_error() const { return last_error_; }
    const std::string& name() const { return name_; }
    const MappedSegment& segment() const { return segment_; }
    const SegmentLayout& layout() const { return segment_.layout(); }
    const SegmentHeader& header() const { return segment_.header(); }

    WriterStatus writer_status() const;
    // Number of the newest complete frame (0: none yet, or not attached).
    // One atomic load: cheap enough to ask before deciding to copy.
    std::uint64_t latest_frame() const;

    // Sleeps until a frame newer than `after_frame` is published, the writer
    // changes state, or `timeout` passes. True when a newer frame exists.
    bool wait_for_frame(std::uint64_t after_frame, std::chrono::nanoseconds timeout);

    // Copies the newest complete frame's cells in `range` (see geometry.hpp)
    // into `out`. Consistent by the seqlock: never a torn or mixed frame.
    ReadOutcome read_latest(FrameBuffer& out, CellRange range);
    ReadOutcome read_latest(FrameBuffer& out) {
        return read_latest(out, whole_frame(layout().geometry));
    }
    // Copies the frame after the last one read while the ring still holds it
    // (a reader up to slot_count - 1 frames behind catches up frame by frame,
    // missing none), otherwise the newest one, counting those skipped. For a
    // reader that must see every frame (the anomaly monitor); a display wants
    // read_latest.
    ReadOutcome read_next(FrameBuffer& out, CellRange range);

    // Frames published between two successful reads that this reader never saw.
    std::uint64_t frames_missed() const { return frames_missed_; }
    std::uint64_t last_frame_read() const { return last_frame_read_; }
    // Times a read found its slot being overwritten and started again.
    std::uint64_t read_retries() const { return read_retries_; }
    // Why the newest frame could not be read at the last try (busy), for
    // people: its slot has stayed mid-write (a writer stuck or killed
    // mid-frame) or does not hold it (latest_frame ahead of the slots).
    // Empty once a read succeeds. Until the writer publishes again,
    // wait_for_frame does not count that frame as new, so a reader loop
    // sleeps instead of retrying it at full speed; writer_status() adds
    // this to its detail.
    const std::string& unreadable_reason() const { return unreadable_reason_; }

  private:
    enum class SlotCopy { ok, torn, overwritten, truncated };
    void prepare(FrameBuffer& out, CellRange range) const;
    // The newest complete frame into a prepared `out`, retrying torn copies.
    ReadOutcome copy_newest(FrameBuffer& out);
    // Copies the slot that holds (or held) `frame` under the seqlock.
    SlotCopy copy_slot(FrameBuffer& out, std::uint64_t frame) const;
    void count_read(std::uint64_t frame_number);
    // Records why `frame` (the newest) could not be read.
    void note_unreadable(std::uint64_t frame);

    std::string name_;
    MappedSegment segment_;
    std::uint64_t generation_ = 0;
    std::optional<SegmentError> last_error_;
    std::uint64_t last_frame_read_ = 0;
    std::uint64_t frames_missed_ = 0;
    std::uint64_t read_retries_ = 0;
    std::uint64_t unreadable_frame_ = 0;  // the newest frame when a read gave up on it
    std::string unreadable_reason_;
};

}  // namespace brt
