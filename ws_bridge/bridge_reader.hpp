// The bridge's only contact with the segment, run by the common reader loop
// (common/reader/reader_loop.hpp): when a frame comes it copies it,
// summarizes it once and hands the result on as an immutable snapshot. It
// never waits for a client: `publish` must only queue the snapshot
// (Hub::publish posts it to the I/O threads). The alarms come from
// brt-anomaly-monitor's alarm segment (AlarmFeed), followed in the same loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "common/frames/rate_meter.hpp"
#include "common/reader/reader_loop.hpp"
#include "common/segment/segment_reader.hpp"
#include "common/alarm/alarm_feed.hpp"
#include "ws_bridge/snapshot.hpp"

namespace brt::bridge {

class BridgeReader : public ReaderTool {
  public:
    // What the rest of the bridge gives the reader.
    struct Hooks {
        std::function<void(SnapshotPtr)> publish;                // queue it for the clients
        std::function<void(const WriterStatus&)> writer_change;  // the liveness changed
        std::function<bool()> healthy;  // the server still serves (else no watchdog pings)
        std::function<std::string(const Snapshot&)> status;  // systemd STATUS=
    };

    // The alarm list is read from the monitor's alarm segment `alarm_feed`
    // names; the start-up grace counts from now.
    BridgeReader(AlarmFeedOptions alarm_feed, Hooks hooks);

    // Attaches where the segment exists and publishes a first snapshot (the
    // newest frame, or the writer's state), before the loop runs and before
    // the first client connects.
    void publish_initial(SegmentReader& reader);
    const SnapshotPtr& latest() const { return latest_; }

    StepResult on_attach(SegmentReader& reader, AttachChange change) override;
    void on_detach(SegmentReader& reader) override;
    void on_writer_change(const WriterStatus& writer) override { hooks_.writer_change(writer); }
    // Publishes a snapshot of the newest frame.
    StepResult on_frame(SegmentReader& reader) override;
    // Without frames, a snapshot when the writer's state or the alarm list
    // changed, or the last one is older than the status interval (so clients
    // see a stalled writer age).
    StepResult on_tick(SegmentReader& reader, const WriterStatus& writer,
                       Clock::time_point now) override;
    bool healthy() const override { return hooks_.healthy(); }
    std::string status_text() const override {
        return latest_ ? hooks_.status(*latest_) : std::string();
    }

  private:
    // Another segment (or none): the old frame and rate mean nothing now.
    void forget_segment(SegmentReader& reader);
    // Reads the newest frame and publishes it; false when there is none.
    bool publish_newest(SegmentReader& reader);
    void publish(SegmentReader& reader, std::shared_ptr<const FrameView> view);

    Hooks hooks_;
    AlarmFeed alarm_feed_;
    SnapshotPtr latest_;
    std::uint64_t sequence_ = 0;
    std::uint64_t frames_seen_ = 0;
    std::uint64_t frames_missed_before_ = 0;  // of earlier attachments
    RateMeter rate_;
    Clock::time_point last_publish_{};
};

}  // namespace brt::bridge
