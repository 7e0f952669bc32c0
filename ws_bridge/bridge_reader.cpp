#include "ws_bridge/bridge_reader.hpp"

#include <cmath>

#include "common/segment/clock.hpp"

namespace brt::bridge {

namespace {

// Without frames, clients still get the writer's state this often.
constexpr auto kStatusInterval = std::chrono::milliseconds(500);

}  // namespace

BridgeReader::BridgeReader(AlarmFeedOptions alarm_feed, Hooks hooks)
    : hooks_(std::move(hooks)), alarm_feed_(std::move(alarm_feed), Clock::now()) {}

void BridgeReader::publish_initial(SegmentReader& reader) {
    alarm_feed_.poll(Clock::now(), realtime_ns());
    reader.refresh();
    if (reader.attached()) {
        on_attach(reader, AttachChange::attached);
    } else {
        publish(reader, nullptr);
    }
}

void BridgeReader::forget_segment(SegmentReader& reader) {
    frames_missed_before_ += reader.frames_missed();
    rate_.reset();
}

StepResult BridgeReader::on_attach(SegmentReader& reader, AttachChange) {
    forget_segment(reader);
    // The old segment's frame means nothing now. Clients get the new
    // segment's newest frame at once where there is one, so that no
    // snapshot says "live" without a frame; an empty view otherwise.
    if (!publish_newest(reader)) {
        publish(reader, nullptr);
    }
    return keep_going;
}

void BridgeReader::on_detach(SegmentReader& reader) {
    forget_segment(reader);
    publish(reader, nullptr);
}

StepResult BridgeReader::on_frame(SegmentReader& reader) {
    alarm_feed_.poll(Clock::now(), realtime_ns());
    publish_newest(reader);
    return keep_going;
}

bool BridgeReader::publish_newest(SegmentReader& reader) {
    FrameBuffer buffer;
    if (reader.read_latest(buffer) != ReadOutcome::ok) {
        return false;
    }
    ++frames_seen_;
    rate_.add(buffer.frame_number, buffer.publish_monotonic_ns);
    publish(reader, make_frame_view(std::move(buffer), reader.layout().geometry));
    return true;
}

StepResult BridgeReader::on_tick(SegmentReader& reader, const WriterStatus& writer,
                                 Clock::time_point now) {
    const bool alarms_changed = alarm_feed_.poll(now, realtime_ns());
    if (!latest_ || alarms_changed || now - last_publish_ >= kStatusInterval ||
        writer.liveness != latest_->writer.liveness) {
        publish(reader, latest_ ? latest_->view : nullptr);
    }
    return keep_going;
}

void BridgeReader::publish(SegmentReader& reader, std::shared_ptr<const FrameView> view) {
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->sequence = ++sequence_;
    snapshot->made_at = Clock::now();
    snapshot->writer = reader.writer_status();
    snapshot->alarms = alarm_feed_.view();
    if (reader.attached()) {
        snapshot->geometry = reader.layout().geometry;
        snapshot->rack_chemistry = reader.segment().rack_chemistries();
    }
    if (snapshot->writer.liveness != Liveness::live) {
        rate_.reset();
    }
    snapshot->view = std::move(view);
    snapshot->frames_seen = frames_seen_;
    snapshot->frames_missed = frames_missed_before_ + reader.frames_missed();
    const double rate_hz = rate_.frames_per_second(monotonic_ns());
    snapshot->frame_rate_hz = std::isnan(rate_hz) ? 0.0 : rate_hz;  // 0 until two frames
    last_publish_ = snapshot->made_at;
    latest_ = snapshot;
    hooks_.publish(std::move(snapshot));
}

}  // namespace brt::bridge
