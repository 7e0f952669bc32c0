#include "alarm_segment_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "common/segment/errors.hpp"
#include "common/segment/futex.hpp"
#include "common/segment/message.hpp"
#include "common/segment/shm_file.hpp"
#include "common/segment/shm_name.hpp"

namespace brt {

AlarmSegmentReader::AlarmSegmentReader(std::string name)
    : name_(normalize_shm_name(std::move(name))) {}

bool AlarmSegmentReader::same_file_as_mapped() const {
    const FileDescriptor fd(shm_open(shm_open_name(name_).c_str(), O_RDONLY | O_CLOEXEC, 0));
    if (fd.get() < 0) {
        return false;
    }
    struct stat file_status {};
    std::uint64_t generation = 0;
    return fstat(fd.get(), &file_status) == 0 && file_status.st_ino == segment_.inode() &&
           file_status.st_dev == segment_.device() &&
           static_cast<std::uint64_t>(file_status.st_size) >= segment_.layout().segment_size &&
           pread(fd.get(), &generation, sizeof generation,
                 offsetof(AlarmSegmentHeader, generation)) ==
               static_cast<ssize_t>(sizeof generation) &&
           generation == generation_;
}

bool AlarmSegmentReader::try_attach() {
    if (attached() && !segment_.truncated() && same_file_as_mapped()) {
        return true;
    }
    // A file shrunk under the mapping: say so, whatever is at the name now.
    std::string shrunk;
    if (attached() && segment_.shrunk()) {
        shrunk = alarm_truncation_message(segment_);
    }
    commands_.reset();
    segment_ = MappedAlarmSegment();
    try {
        // No grace: a segment being created is simply not there yet.
        segment_ =
            open_alarm_segment(name_, AlarmSegmentAccess::reader, std::chrono::milliseconds(0));
    } catch (const SegmentError& error) {
        problem_ = shrunk.empty() ? error.what() : shrunk;
        if (error.kind() == SegmentErrorKind::no_segment ||
            error.kind() == SegmentErrorKind::initialising) {
            return false;
        }
        if (!shrunk.empty()) {
            throw SegmentError(SegmentErrorKind::truncated, shrunk);
        }
        throw;
    }
    generation_ = segment_.header().generation;
    commands_.emplace(segment_.command_ring());
    problem_.clear();
    return true;
}

AlarmSegmentReader::ReadOutcome AlarmSegmentReader::read(AlarmTable& table) {
    return read_latest_alarm_table(segment_, table, problem_);
}

std::uint64_t AlarmSegmentReader::latest_version() const {
    return attached() ? segment_.header().latest_version.load(std::memory_order_acquire) : 0;
}

WriterStatus AlarmSegmentReader::writer_status() const {
    if (!attached()) {
        WriterStatus status;
        status.liveness = Liveness::no_segment;
        status.detail = problem_.empty() ? "not attached to the alarm segment" : problem_;
        return status;
    }
    const AlarmSegmentHeader& header = segment_.header();
    WriterStatus status = judge_header_writer(
        header, header.latest_version.load(std::memory_order_acquire), segment_.fd());
    if (segment_.truncated()) {
        // Whatever the header said may be zeros now.
        status = WriterStatus{};
        status.liveness = Liveness::no_segment;
        status.detail = alarm_truncation_message(segment_);
    }
    return status;
}

bool AlarmSegmentReader::wait_for_publication(std::uint64_t after_version,
                                              std::chrono::milliseconds timeout) {
    if (!attached()) {
        std::this_thread::sleep_for(timeout);
        return false;
    }
    if (segment_.truncated()) {
        return false;  // nothing to wait for: the caller's try_attach detaches
    }
    AlarmSegmentHeader& header = segment_.header();
    return futex_wait_for_news(
        header.publish_futex, header.futex_waiters, header.writer_state, timeout,
        [&] { return header.latest_version.load(std::memory_order_acquire) > after_version; });
}

CommandRing& AlarmSegmentReader::commands() {
    if (!commands_) {
        throw SegmentError(SegmentErrorKind::no_segment,
                           segment_message::format("not attached to alarm segment '{}': {}", name_,
                                                   problem_.empty() ? "no segment" : problem_));
    }
    return *commands_;
}

}  // namespace brt
