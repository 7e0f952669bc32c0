#include "segment_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <thread>

#include "atomic_copy.hpp"
#include "clock.hpp"
#include "futex.hpp"
#include "message.hpp"
#include "shm_name.hpp"

namespace brt {

namespace {

// A copy that keeps losing the race against the writer gives up after this
// many attempts; with several slots the writer must lap all of them to win.
constexpr int kMaxReadAttempts = 64;

}  // namespace

SegmentReader::SegmentReader(std::string normalized_name) : name_(std::move(normalized_name)) {}

AttachChange SegmentReader::refresh() {
    // A file shrunk under the mapping is never "unchanged", even under the
    // same inode and generation: detach, or follow a re-created segment.
    bool shrunk = segment_.is_open() && segment_.truncated();
    if (segment_.is_open() && !shrunk) {
        // Same name, same file, same generation, whole: nothing to do.
        const int fd = shm_open(shm_open_name(name_).c_str(), O_RDONLY | O_CLOEXEC, 0);
        if (fd >= 0) {
            struct stat file_status {};
            std::uint64_t generation = 0;
            const bool same_file =
                fstat(fd, &file_status) == 0 && file_status.st_ino == segment_.inode() &&
                file_status.st_dev == segment_.device() &&
                pread(fd, &generation, sizeof generation, offsetof(SegmentHeader, generation)) ==
                    static_cast<ssize_t>(sizeof generation);
            close(fd);
            shrunk = same_file && static_cast<std::uint64_t>(file_status.st_size) < segment_.size();
            if (same_file && !shrunk && generation == generation_) {
                return AttachChange::unchanged;
            }
        }
    }
    const bool was_attached = segment_.is_open();
    const std::uint64_t shrunk_to = shrunk ? segment_.file_size_now() : 0;
    const std::uint64_t mapped_size = segment_.size();
    try {
        MappedSegment fresh = open_segment(name_, SegmentAccess::reader);
        generation_ = fresh.header().generation;
        segment_ = std::move(fresh);
        last_error_.reset();
        // Frame numbers of a new segment start again from 1.
        last_frame_read_ = 0;
        unreadable_frame_ = 0;
        unreadable_reason_.clear();
        return was_attached ? AttachChange::reattached : AttachChange::attached;
    } catch (const SegmentError& error) {
        segment_ = MappedSegment();
        // The shrink is the news; later refreshes say what open_segment finds.
        last_error_ = shrunk ? SegmentError(SegmentErrorKind::truncated,
                                            truncation_message(
                                                "segment", name_, shrunk_to, mapped_size,
                                                segment_message::format(
                                                    "re-create it with 'brt-shm-init --shm-name {} "
                                                    "--force'; readers re-attach by themselves",
                                                    name_)))
                             : error;
        return was_attached ? AttachChange::detached : AttachChange::unchanged;
    }
}

void SegmentReader::require_attached() {
    refresh();
    if (!attached()) {
        throw *last_error_;
    }
}

std::uint64_t SegmentReader::latest_frame() const {
    return attached() ? header().latest_frame.load(std::memory_order_acquire) : 0;
}

WriterStatus SegmentReader::writer_status() const {
    if (!attached()) {
        WriterStatus status;
        status.liveness = Liveness::no_segment;
        status.detail = last_error_ ? last_error_->what() : "not attached";
        return status;
    }
    WriterStatus status = read_writer_status(segment_);
    if (segment_.truncated()) {
        // Whatever the header said may be zeros now.
        status = WriterStatus{};
        status.liveness = Liveness::no_segment;
        status.detail = truncation_message(
            "segment", name_, segment_.file_size_now(), segment_.size(),
            segment_message::format("re-create it with 'brt-shm-init --shm-name {} --force'",
                                    name_));
        return status;
    }
    if (!unreadable_reason_.empty()) {
        status.detail += "; " + unreadable_reason_;
    }
    return status;
}

bool SegmentReader::wait_for_frame(std::uint64_t after_frame, std::chrono::nanoseconds timeout) {
    if (!attached()) {
        std::this_thread::sleep_for(timeout);
        return false;
    }
    if (segment_.truncated()) {
        return false;  // nothing to wait for: the caller refreshes
    }
    SegmentHeader& header = segment_.header();
    return futex_wait_for_news(
        header.frame_futex, header.futex_waiters, header.writer_state, timeout, [&] {
            const std::uint64_t latest = header.latest_frame.load(std::memory_order_acquire);
            // A frame that could not be read is not news until
            // the writer publishes again (the futex word moves):
            // sleep, do not spin on it.
            return latest > after_frame && latest != unreadable_frame_;
        });
}

void SegmentReader::prepare(FrameBuffer& out, CellRange range) const {
    if (range.first_cell + range.cell_count > layout().geometry.cell_count()) {
        throw UsageError("read: cell range outside the segment");
    }
    out.range = range;
    for (auto& column : out.columns) {
        column.resize(range.cell_count);
    }
    out.status.resize(range.cell_count);
    out.racks.resize(layout().geometry.racks);
}

SegmentReader::SlotCopy SegmentReader::copy_slot(FrameBuffer& out, std::uint64_t frame) const {
    const SegmentLayout& l = layout();
    const std::uint32_t slot_index = static_cast<std::uint32_t>(frame % l.slot_count);
    const std::byte* slot = segment_.bytes() + l.slot_offset(slot_index);
    const auto& slot_header = *reinterpret_cast<const SlotHeader*>(slot);
    const std::uint64_t range_offset = out.range.first_cell * 4;
    const std::uint64_t range_bytes = out.range.cell_count * 4;

    const std::uint64_t sequence_before = slot_header.sequence.load(std::memory_order_acquire);
    if (sequence_before % 2 != 0) {
        return SlotCopy::torn;
    }
    const std::uint64_t frame_number = slot_header.frame_number.load(std::memory_order_relaxed);
    out.sim_time_ns = slot_header.sim_time_ns.load(std::memory_order_relaxed);
    out.wall_time_ns = slot_header.wall_time_ns.load(std::memory_order_relaxed);
    out.publish_monotonic_ns = slot_header.publish_monotonic_ns.load(std::memory_order_relaxed);
    out.ambient_temperature_c =
        std::bit_cast<float>(slot_header.ambient_temperature_c.load(std::memory_order_relaxed));
    copy_from_shared(out.racks.data(), slot + l.rack_table_offset_in_slot,
                     out.racks.size() * sizeof(RackRecord));
    for (std::uint32_t field = 0; field < 6; ++field) {
        copy_from_shared(out.columns[field].data(),
                         slot + l.column_offset_in_slot[field] + range_offset, range_bytes);
    }
    copy_from_shared(
        out.status.data(),
        slot + l.column_offset_in_slot[static_cast<std::uint32_t>(Field::status)] + range_offset,
        range_bytes);
    // Orders every relaxed load above before the re-check below.
    std::atomic_thread_fence(std::memory_order_acquire);
    const std::uint64_t sequence_after = slot_header.sequence.load(std::memory_order_relaxed);
    if (sequence_after != sequence_before) {
        return SlotCopy::torn;
    }
    // Past the end of a shrunk file the copy read zero pages, not a frame.
    if (segment_.truncated()) {
        return SlotCopy::truncated;
    }
    if (frame_number != frame) {
        return SlotCopy::overwritten;
    }
    out.frame_number = frame_number;
    return SlotCopy::ok;
}

void SegmentReader::count_read(std::uint64_t frame_number) {
    if (last_frame_read_ != 0 && frame_number > last_frame_read_ + 1) {
        frames_missed_ += frame_number - last_frame_read_ - 1;
    }
    last_frame_read_ = frame_number;
}

ReadOutcome SegmentReader::read_latest(FrameBuffer& out, CellRange range) {
    if (!attached()) {
        return ReadOutcome::detached;
    }
    prepare(out, range);
    return copy_newest(out);
}

ReadOutcome SegmentReader::copy_newest(FrameBuffer& out) {
    const SegmentHeader& header = segment_.header();
    for (int attempt = 0; attempt < kMaxReadAttempts; ++attempt) {
        const std::uint64_t latest = header.latest_frame.load(std::memory_order_acquire);
        if (latest == 0) {
            return segment_.truncated() ? ReadOutcome::detached : ReadOutcome::no_frame_yet;
        }
        // Overwritten: the writer went round the ring since `latest` was
        // loaded; the next attempt takes the newer latest frame.
        const SlotCopy copy = copy_slot(out, latest);
        if (copy == SlotCopy::ok) {
            count_read(latest);
            unreadable_frame_ = 0;
            unreadable_reason_.clear();
            return ReadOutcome::ok;
        }
        if (copy == SlotCopy::truncated || segment_.truncated()) {
            return ReadOutcome::detached;
        }
        ++read_retries_;
        std::this_thread::yield();
    }
    note_unreadable(header.latest_frame.load(std::memory_order_acquire));
    return segment_.truncated() ? ReadOutcome::detached : ReadOutcome::busy;
}

void SegmentReader::note_unreadable(std::uint64_t frame) {
    const SegmentLayout& l = layout();
    const auto& slot = *segment_.at<const SlotHeader>(
        l.slot_offset(static_cast<std::uint32_t>(frame % l.slot_count)));
    const std::uint64_t sequence = slot.sequence.load(std::memory_order_acquire);
    const std::uint64_t held = slot.frame_number.load(std::memory_order_relaxed);
    unreadable_frame_ = frame;
    unreadable_reason_ = sequence % 2 != 0
                             ? segment_message::format(
                                   "frame {} cannot be read: its slot has stayed mid-write "
                                   "(the writer is stuck mid-frame, or died writing it)",
                                   frame)
                             : segment_message::format(
                                   "frame {} cannot be read: its slot holds frame {} "
                                   "(latest_frame is ahead of the frame slots)",
                                   frame, held);
}

ReadOutcome SegmentReader::read_next(FrameBuffer& out, CellRange range) {
    if (!attached()) {
        return ReadOutcome::detached;
    }
    prepare(out, range);
    const std::uint64_t latest = segment_.header().latest_frame.load(std::memory_order_acquire);
    const std::uint64_t next = last_frame_read_ + 1;
    // Behind: an older frame is tried once. Torn or overwritten means the
    // writer is at its slot already, and the frames up to the newest are
    // lost. The first read, or caught up: the newest frame is the next one.
    if (last_frame_read_ != 0 && next < latest && copy_slot(out, next) == SlotCopy::ok) {
        count_read(next);
        return ReadOutcome::ok;
    }
    return copy_newest(out);
}

}  // namespace brt
