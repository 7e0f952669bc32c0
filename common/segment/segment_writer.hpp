// The single writer's side of the segment: lock, publish, heartbeat, stop.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "segment_file.hpp"

namespace brt {

// One frame in the writer's private memory, structure-of-arrays.
struct FrameData {
    // Indexed by Field for the six float32 columns; each spans every cell.
    std::span<const float> columns[6];
    std::span<const std::uint32_t> status;
    std::span<const RackRecord> racks;
    std::uint64_t sim_time_ns = 0;
    float ambient_temperature_c = 0.0f;
};

// A slot opened for writing (sequence odd). Data may be stored into it by any
// means, including a device-to-host DMA, until commit_frame.
struct SlotWrite {
    std::uint64_t frame_number = 0;
    std::uint32_t slot_index = 0;
    std::byte* slot = nullptr;
    std::uint64_t sequence_odd = 0;
};

class SegmentWriter {
  public:
    // Opens the segment and takes the writer lock. Throws SegmentError; a
    // second writer gets writer_present with the holder's pid.
    static SegmentWriter acquire(const std::string& name, std::uint64_t publish_period_ns);

    SegmentWriter(SegmentWriter&&) noexcept = default;
    SegmentWriter& operator=(SegmentWriter&&) noexcept = default;
    // Marks the writer stopped unless finish() already said how it ended.
    ~SegmentWriter();

    const SegmentLayout& layout() const { return segment_.layout(); }
    const MappedSegment& segment() const { return segment_; }

    // Publishes one frame under the slot's seqlock and wakes sleeping readers.
    // Returns the frame number. Spans must hold exactly cell_count / racks
    // items. Throws SegmentError (truncated) as check_intact() does when the
    // file was found shrunk while publishing.
    std::uint64_t publish_frame(const FrameData& frame);

    // Three-step form of publish_frame for writers that fill the slot
    // themselves (a DMA from a GPU, say): begin_frame opens the next slot
    // (its sequence odd, so no reader takes it), the writer stores the data
    // through column() and rack_table(), then either commit_frame publishes
    // it or abort_frame gives the half-written slot back.
    SlotWrite begin_frame();
    std::byte* column(const SlotWrite& write, Field field) const;
    RackRecord* rack_table(const SlotWrite& write) const;
    std::uint64_t commit_frame(const SlotWrite& write, std::uint64_t sim_time_ns,
                               float ambient_temperature_c);
    // For a slot that could not be completed (a failed copy): closes it with
    // frame number 0, which no reader ever asks for, so readers go on reading
    // the frames before it and never wait on an odd sequence. latest_frame is
    // unchanged and the next begin_frame reuses the frame number.
    void abort_frame(const SlotWrite& write);

    // Every frame slot as one block of memory, slot_count * slot_stride
    // bytes: what a writer registers with a DMA engine (cudaHostRegister) so
    // that a device copies straight into the slots.
    std::span<std::byte> slot_memory() const;
    // Where a frame's seven columns are in a slot: one contiguous run in
    // Field order, each column `column_stride` bytes after the one before
    // (docs/segment-format.md), so a device that holds its frame the same
    // way copies it with one transfer to column(write, Field::voltage_v).
    struct ColumnRun {
        std::uint64_t offset_in_slot = 0;
        std::uint64_t column_stride = 0;
        std::uint64_t bytes = 0;  // kFieldCount * column_stride
    };
    ColumnRun column_run() const;

    // Keeps the writer live while it publishes nothing (paused, slow start).
    // Never throws: a helper thread may call it.
    void heartbeat();
    // Throws SegmentError (truncated) when the segment's file was shrunk
    // under this writer (see truncation_guard.hpp), after marking the writer
    // failed in the header (where the header is still in the file, readers
    // see it). commit_frame and abort_frame check the flag a fault set;
    // this also looks at the file's size (an fstat), so a writer that
    // publishes nothing (paused) notices too: call it from the thread that
    // owns the writer, about once per heartbeat.
    void check_intact();
    void set_state(WriterState state);
    void finish(WriterState final_state);

  private:
    explicit SegmentWriter(MappedSegment segment) : segment_(std::move(segment)) {}
    SlotHeader& slot_header(std::uint32_t slot_index) const;
    void wake_readers();
    [[noreturn]] void fail_truncated();

    MappedSegment segment_;
    std::uint64_t next_frame_ = 1;
    bool finished_ = false;
};

}  // namespace brt
