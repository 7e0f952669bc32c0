// The bridge's only contact with the segment: sleeps until a frame comes,
// copies it, summarizes it once and hands the result on as an immutable
// snapshot. It never waits for a client: `publish` must only queue the
// snapshot (Hub::publish posts it to the I/O threads).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "common/alarm/alarm_engine.hpp"
#include "common/frames/rate_meter.hpp"
#include "common/segment/segment_reader.hpp"
#include "ws_bridge/snapshot.hpp"

namespace brt::bridge {

class ReaderLoop {
  public:
    using Publish = std::function<void(SnapshotPtr)>;
    // Every frame read goes through an alarm engine with `alarm_config`
    // (validated), the same rules brt-anomaly-monitor applies.
    ReaderLoop(std::string normalized_shm_name, AlarmConfig alarm_config, Publish publish);

    // One turn: waits up to `wait` for a frame and publishes a snapshot when
    // a frame came, the writer's state changed, or the last one is older
    // than the status interval (so clients see a stalled writer age).
    void step(std::chrono::milliseconds wait);

    const SnapshotPtr& latest() const { return latest_; }

  private:
    void publish(std::shared_ptr<const FrameView> view);
    // Keeps the events for the page and rebuilds the alarm view when there
    // are any (or when `rebuild`: a new engine).
    void record_alarm_events(const std::vector<AlarmEvent>& events, bool rebuild = false);
    SegmentReader reader_;
    Publish publish_;
    std::shared_ptr<const AlarmConfig> alarm_config_;
    std::optional<AlarmEngine> engine_;  // for the attached segment
    std::shared_ptr<const AlarmView> alarms_;
    std::deque<std::string> recent_events_;
    SnapshotPtr latest_;
    std::uint64_t sequence_ = 0;
    std::uint64_t frames_seen_ = 0;
    std::uint64_t frames_missed_before_ = 0;  // of earlier attachments
    RateMeter rate_;
    std::chrono::steady_clock::time_point last_refresh_{};
    std::chrono::steady_clock::time_point last_publish_{};
};

}  // namespace brt::bridge
