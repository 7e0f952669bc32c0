#include "segment_writer.hpp"

#include "message.hpp"

#include <unistd.h>

#include <atomic>
#include <bit>
#include <stdexcept>
#include <string>

#include "atomic_copy.hpp"
#include "clock.hpp"
#include "errors.hpp"
#include "futex.hpp"
#include "shm_name.hpp"
#include "writer_lock.hpp"

namespace brt {

SegmentWriter SegmentWriter::acquire(const std::string& name, std::uint64_t publish_period_ns) {
    MappedSegment segment = open_segment(name, SegmentAccess::writer);
    // Other users could read the telemetry and post commands; not a segment
    // brt-shm-init makes, so someone widened it.
    refuse_world_accessible(
        segment.fd(), "segment", name,
        segment_message::format("fix it with 'chmod 0660 {}' or 'brt-shm-init --shm-name {} "
                                "--force' (which repairs it), then start the writer again",
                                shm_path(name), name));
    if (const auto holder = lock_or_find_holder(
            segment.fd(), segment.header().writer_pid.load(std::memory_order_relaxed))) {
        const pid_t pid = *holder;
        throw SegmentError(
            SegmentErrorKind::writer_present,
            segment_message::format("another writer (pid {}) holds segment '{}'; only one "
                                    "simulator may write to a segment: stop pid {} first, or "
                                    "use another --shm-name",
                                    pid, name, pid));
    }
    SegmentHeader& header = segment.header();
    header.writer_pid.store(getpid(), std::memory_order_relaxed);
    header.writer_start_realtime_ns.store(realtime_ns(), std::memory_order_relaxed);
    header.publish_period_ns.store(publish_period_ns, std::memory_order_relaxed);
    header.heartbeat_ns.store(monotonic_ns(), std::memory_order_relaxed);
    header.writer_generation.fetch_add(1, std::memory_order_relaxed);
    header.writer_state.store(static_cast<std::uint32_t>(WriterState::running),
                              std::memory_order_release);
    SegmentWriter writer(std::move(segment));
    // Frame numbers continue across writer restarts so readers can count gaps.
    writer.next_frame_ = header.latest_frame.load(std::memory_order_acquire) + 1;
    writer.wake_readers();  // sleepers see the new writer now, not at their timeout
    return writer;
}

SegmentWriter::~SegmentWriter() {
    if (segment_.is_open() && !finished_) {
        finish(WriterState::stopped);
    }
}

SlotHeader& SegmentWriter::slot_header(std::uint32_t slot_index) const {
    return *segment_.at<SlotHeader>(layout().slot_offset(slot_index));
}

SlotWrite SegmentWriter::begin_frame() {
    SlotWrite write;
    write.frame_number = next_frame_;
    write.slot_index = static_cast<std::uint32_t>(next_frame_ % layout().slot_count);
    write.slot = segment_.bytes() + layout().slot_offset(write.slot_index);
    SlotHeader& slot = slot_header(write.slot_index);
    // A writer killed mid-write leaves an odd sequence behind; step past it.
    const std::uint64_t sequence = slot.sequence.load(std::memory_order_relaxed);
    write.sequence_odd = (sequence % 2 == 0) ? sequence + 1 : sequence + 2;
    slot.sequence.store(write.sequence_odd, std::memory_order_relaxed);
    // Orders the odd sequence before every data store that follows: a reader
    // that sees any new data also sees the sequence has moved.
    std::atomic_thread_fence(std::memory_order_release);
    return write;
}

std::byte* SegmentWriter::column(const SlotWrite& write, Field field) const {
    return write.slot + layout().column_offset_in_slot[static_cast<std::uint32_t>(field)];
}

RackRecord* SegmentWriter::rack_table(const SlotWrite& write) const {
    return reinterpret_cast<RackRecord*>(write.slot + layout().rack_table_offset_in_slot);
}

std::uint64_t SegmentWriter::commit_frame(const SlotWrite& write, std::uint64_t sim_time_ns,
                                          float ambient_temperature_c) {
    SlotHeader& slot = slot_header(write.slot_index);
    const std::uint64_t now_monotonic = monotonic_ns();
    slot.frame_number.store(write.frame_number, std::memory_order_relaxed);
    slot.sim_time_ns.store(sim_time_ns, std::memory_order_relaxed);
    slot.wall_time_ns.store(realtime_ns(), std::memory_order_relaxed);
    slot.publish_monotonic_ns.store(now_monotonic, std::memory_order_relaxed);
    slot.ambient_temperature_c.store(std::bit_cast<std::uint32_t>(ambient_temperature_c),
                                     std::memory_order_relaxed);
    slot.sequence.store(write.sequence_odd + 1, std::memory_order_release);

    SegmentHeader& header = segment_.header();
    header.latest_frame.store(write.frame_number, std::memory_order_release);
    header.heartbeat_ns.store(now_monotonic, std::memory_order_relaxed);
    wake_readers();
    next_frame_ = write.frame_number + 1;
    // The stores above went to zero pages if the file was shrunk meanwhile.
    if (segment_.truncated()) {
        fail_truncated();
    }
    return write.frame_number;
}

void SegmentWriter::abort_frame(const SlotWrite& write) {
    SlotHeader& slot = slot_header(write.slot_index);
    // The slot's old frame is partly overwritten: it must not be found under
    // its old number, so the closed slot holds frame 0 (never published).
    slot.frame_number.store(0, std::memory_order_relaxed);
    slot.sequence.store(write.sequence_odd + 1, std::memory_order_release);
    heartbeat();
    next_frame_ = write.frame_number;
    if (segment_.truncated()) {
        fail_truncated();
    }
}

void SegmentWriter::check_intact() {
    if (segment_.shrunk()) {
        fail_truncated();
    }
}

void SegmentWriter::fail_truncated() {
    const std::string name = segment_.name();
    const std::uint64_t file_size = segment_.file_size_now();
    // Where the header page is still in the file, readers see "failed".
    finish(WriterState::failed);
    throw SegmentError(
        SegmentErrorKind::truncated,
        truncation_message("segment", name, file_size, segment_.size(),
                           segment_message::format(
                               "this writer stops (state failed). Re-create it with "
                               "'brt-shm-init --shm-name {} --force', then start the writer again",
                               name)));
}

std::span<std::byte> SegmentWriter::slot_memory() const {
    const SegmentLayout& l = layout();
    return {segment_.bytes() + l.slots_offset, l.slot_stride * l.slot_count};
}

SegmentWriter::ColumnRun SegmentWriter::column_run() const {
    const SegmentLayout& l = layout();
    // compute_layout places the columns back to back, and open_segment
    // refuses a header whose field offsets differ from compute_layout's.
    return {l.column_offset_in_slot[0], l.column_stride, kFieldCount * l.column_stride};
}

std::uint64_t SegmentWriter::publish_frame(const FrameData& frame) {
    const SegmentLayout& l = layout();
    const std::uint64_t cells = l.geometry.cell_count();
    for (const auto& column : frame.columns) {
        if (column.size() != cells) {
            throw std::invalid_argument(segment_message::format(
                "publish_frame: a column has {} values, the segment {}", column.size(), cells));
        }
    }
    if (frame.status.size() != cells || frame.racks.size() != l.geometry.racks) {
        throw std::invalid_argument("publish_frame: status or rack table has the wrong size");
    }
    const SlotWrite write = begin_frame();
    copy_to_shared(rack_table(write), frame.racks.data(), frame.racks.size_bytes());
    for (std::uint32_t field = 0; field < 6; ++field) {
        copy_to_shared(column(write, static_cast<Field>(field)), frame.columns[field].data(),
                       frame.columns[field].size_bytes());
    }
    copy_to_shared(column(write, Field::status), frame.status.data(), frame.status.size_bytes());
    return commit_frame(write, frame.sim_time_ns, frame.ambient_temperature_c);
}

void SegmentWriter::heartbeat() {
    segment_.header().heartbeat_ns.store(monotonic_ns(), std::memory_order_relaxed);
}

void SegmentWriter::wake_readers() {
    SegmentHeader& header = segment_.header();
    futex_bump_and_wake(header.frame_futex, header.futex_waiters);
}

void SegmentWriter::set_state(WriterState state) {
    heartbeat();
    segment_.header().writer_state.store(static_cast<std::uint32_t>(state),
                                         std::memory_order_release);
    wake_readers();  // sleepers notice a pause or a stop now, not at their timeout
}

void SegmentWriter::finish(WriterState final_state) {
    set_state(final_state);
    finished_ = true;
}

}  // namespace brt
