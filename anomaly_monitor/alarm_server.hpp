// The monitor as the alarm server: owns the alarm board (the ISA-18.2
// list) and the alarm segment it publishes it in, adopts the list a
// previous monitor left, and applies the operators' commands from the
// segment's ring (docs/alarm-segment.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/alarm/alarm_board.hpp"
#include "common/alarm_segment/alarm_segment_writer.hpp"

namespace brt {

class AlarmServer {
  public:
    // Opens or creates the alarm segment of telemetry segment `shm_name`,
    // removing it first with `reset`. Throws SegmentError (another monitor
    // runs: writer_present; a broken segment) and UsageError (a name with no
    // room for ".alarms").
    AlarmServer(const std::string& shm_name, bool reset);

    AlarmBoard& board() { return board_; }
    const std::string& name() const { return writer_.name(); }

    // A telemetry segment was attached. The first time, a predecessor's
    // list of the same telemetry segment (generation) is adopted; after
    // that, or for another segment, the list starts over. Returns how many
    // alarms were adopted.
    std::size_t attach(std::uint64_t telemetry_generation);
    // The engine has now seen enough simulated time to re-raise every alarm
    // the predecessor had: the adopted ones it did not confirm return to normal.
    void settle_adopted(std::uint64_t now_ns, std::vector<AlarmEvent>& out);
    bool adoption_pending() const { return board_.adopted_pending() != 0; }

    // The newest frame evaluated (for the publication).
    void frame_evaluated(std::uint64_t frame_number, std::uint64_t publish_monotonic_ns);
    // Something in the board changed: publish at the next tick.
    void mark_changed() { changed_ = true; }

    // Applies queued commands (events to `out`), and publishes when
    // anything changed; heartbeats otherwise. Call every loop pass.
    void tick(std::uint64_t now_ns, std::vector<AlarmEvent>& out);
    // Marks the monitor stopped (or failed) in the segment.
    void stop(bool failed);

  private:
    void publish();

    AlarmSegmentWriter writer_;
    AlarmBoard board_;
    std::optional<AlarmTable> previous_;  // until the first attach
    std::uint64_t telemetry_generation_ = 0;
    std::uint64_t frame_number_ = 0;
    std::uint64_t frame_publish_monotonic_ns_ = 0;
    std::uint64_t start_realtime_ns_ = 0;
    bool changed_ = true;
};

}  // namespace brt
