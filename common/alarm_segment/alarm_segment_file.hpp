// Naming, creating, opening, validating and mapping the alarm segment.
// Validation happens here, once, before any other code touches an offset
// from its header; the file size is checked with fstat before anything past
// the header is mapped, so a truncated file is an error, never a SIGBUS.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "alarm_segment_layout.hpp"
#include "common/segment/command_ring.hpp"
#include "common/segment/shm_file.hpp"

namespace brt {

// "<normalized telemetry name>.alarms". Throws UsageError when the telemetry
// name is not a valid segment name, or is too long to leave room for the
// suffix (the limit of normalize_shm_name applies to the result).
std::string alarm_segment_name(const std::string& telemetry_name);

struct AlarmSegmentOptions {
    std::uint32_t record_capacity = kDefaultAlarmRecordCapacity;  // 1..65536
    std::uint32_t ring_capacity = kDefaultRingCapacity;           // power of two, 1..4096
    mode_t mode = 0660;
    std::optional<gid_t> group;
};

enum class AlarmSegmentAccess {
    reader,  // the slots mapped read-only; header and ring writable (futex, commands)
    writer,  // everything writable
};

// One mapping of a validated alarm segment. Move-only; unmaps and closes
// (dropping a writer's flock) on destruction.
class MappedAlarmSegment {
  public:
    bool is_open() const { return mapping_.is_open(); }
    const std::string& name() const { return mapping_.name(); }
    int fd() const { return mapping_.fd(); }
    dev_t device() const { return mapping_.device(); }
    ino_t inode() const { return mapping_.inode(); }
    const AlarmSegmentLayout& layout() const { return layout_; }
    // The file was shrunk under this mapping (see ShmMapping): what was read
    // from it may be zeros. truncated() is one atomic load; shrunk() adds an
    // fstat, and also sees a shrink no access has run into yet.
    bool truncated() const { return mapping_.truncated(); }
    bool shrunk() const { return mapping_.shrunk(); }
    std::uint64_t file_size_now() const { return mapping_.file_size_now(); }
    AlarmSegmentHeader& header() const {
        return *reinterpret_cast<AlarmSegmentHeader*>(mapping_.bytes());
    }
    AlarmSlotHeader& slot_header(std::uint32_t slot) const;
    AlarmRecord* slot_records(std::uint32_t slot) const;
    // The command ring of this mapping; the mapping must outlive it.
    CommandRing command_ring() const;

  private:
    friend MappedAlarmSegment open_alarm_segment(const std::string&, AlarmSegmentAccess,
                                                 std::chrono::milliseconds);
    ShmMapping mapping_;
    AlarmSegmentLayout layout_;
};

// What a process says when the file under `segment` was shrunk (its
// truncated() or shrunk()): the sizes, and how to start afresh.
std::string alarm_truncation_message(const MappedAlarmSegment& segment);

// Checks the header against the constants, the recomputed layout and the
// file size; throws SegmentError (initialising, bad_magic, abi_mismatch,
// truncated, malformed) with a message that says what to do. Exposed so that
// tests can check each corruption case directly.
AlarmSegmentLayout validate_alarm_header(const AlarmSegmentHeader& header, std::uint64_t file_size,
                                         const std::string& name);

// Opens and validates an existing alarm segment (`name` normalized). A file
// still being created (size 0 or magic 0, and younger than a second) is
// retried for `initialising_grace`, then reported as kind initialising; an
// older one was abandoned by a creator that died, and is malformed. Throws
// SegmentError: no_segment, initialising, bad_magic, abi_mismatch, truncated,
// malformed, permission, system.
MappedAlarmSegment open_alarm_segment(
    const std::string& name, AlarmSegmentAccess access,
    std::chrono::milliseconds initialising_grace = std::chrono::milliseconds(500));

// Creates a new alarm segment, the magic stored last; false when the name
// already exists. Throws UsageError for capacities out of range, SegmentError
// (no_space, permission, system) otherwise. On failure nothing is left behind.
bool create_alarm_segment(const std::string& name, const AlarmSegmentOptions& options);

// Removes the name (what `brt-anomaly-monitor --reset-alarms` does); mappings
// stay valid until unmapped. False when there was nothing to remove.
bool remove_alarm_segment(const std::string& name);

}  // namespace brt
