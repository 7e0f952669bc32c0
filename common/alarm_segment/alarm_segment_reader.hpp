// A reader's side of the alarm segment (bridge, viewer, ctl): attach by
// name, follow a re-created segment, sleep until the next publication, copy
// the newest alarm table, judge the monitor's liveness, post commands.
//
//   AlarmSegmentReader reader(alarm_segment_name(telemetry_name));
//   AlarmTable table;
//   for (;;) {
//       reader.try_attach();  // attaches, or re-attaches after a re-creation
//       if (reader.read(table) == AlarmSegmentReader::ReadOutcome::ok) { show(table); }
//       reader.wait_for_publication(table.version, std::chrono::milliseconds(500));
//   }
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "alarm_segment_file.hpp"
#include "alarm_table.hpp"
#include "common/segment/liveness.hpp"

namespace brt {

class AlarmSegmentReader {
  public:
    using ReadOutcome = AlarmReadOutcome;

    // Does not touch the segment yet: call try_attach().
    explicit AlarmSegmentReader(std::string name);

    // Attaches when the segment exists and is complete; when attached, checks
    // that the name still points to the mapped file (same inode and
    // generation) and re-attaches when it was re-created, or detaches when
    // it was removed. Cheap (an open and an fstat): call it when a wait
    // times out, or about once a second. Returns attached(). False when
    // there is no segment or it is still being created; throws SegmentError
    // when it is broken (malformed, truncated, bad magic, another ABI,
    // permission), with a message that says what to do.
    bool try_attach();
    bool attached() const { return segment_.is_open(); }
    const std::string& name() const { return name_; }
    const MappedAlarmSegment& segment() const { return segment_; }

    // The newest complete publication (no_segment when not attached). On
    // anything but ok, problem() says why and `table` is unspecified.
    ReadOutcome read(AlarmTable& table);
    const std::string& problem() const { return problem_; }
    // latest_version, one atomic load (0: none yet, or not attached).
    std::uint64_t latest_version() const;

    // The monitor's liveness by the telemetry writer's rules (judge_writer);
    // latest_frame holds latest_version. Liveness::no_segment when not attached.
    WriterStatus writer_status() const;

    // Sleeps until a publication newer than `after_version` exists (true),
    // the monitor changes state, or `timeout` passes (false).
    bool wait_for_publication(std::uint64_t after_version, std::chrono::milliseconds timeout);

    // Producer side of the monitor's command ring. Throws SegmentError
    // (no_segment) when not attached.
    CommandRing& commands();

  private:
    bool same_file_as_mapped() const;

    std::string name_;
    MappedAlarmSegment segment_;
    std::optional<CommandRing> commands_;
    std::uint64_t generation_ = 0;
    std::string problem_;
};

}  // namespace brt
