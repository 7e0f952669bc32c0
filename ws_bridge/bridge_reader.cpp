#include "ws_bridge/bridge_reader.hpp"

#include <cmath>

#include "common/alarm/alarm_event_format.hpp"
#include "common/segment/clock.hpp"

namespace brt::bridge {

namespace {

// Without frames, clients still get the writer's state this often.
constexpr auto kStatusInterval = std::chrono::milliseconds(500);
// Raise and clear events kept for the page's alarm history.
constexpr std::size_t kRecentAlarmEvents = 100;

}  // namespace

BridgeReader::BridgeReader(AlarmConfig alarm_config, Hooks hooks)
    : hooks_(std::move(hooks)),
      alarm_config_(std::make_shared<const AlarmConfig>(std::move(alarm_config))) {
    alarm_config_->validate();
    auto empty = std::make_shared<AlarmView>();
    empty->config = alarm_config_;
    alarms_ = std::move(empty);
}

void BridgeReader::record_alarm_events(const std::vector<AlarmEvent>& events, bool rebuild) {
    if (events.empty() && !rebuild) {
        return;
    }
    for (const AlarmEvent& event : events) {
        recent_events_.push_back(alarm_event_json(event));
        if (recent_events_.size() > kRecentAlarmEvents) {
            recent_events_.pop_front();
        }
    }
    auto view = std::make_shared<AlarmView>();
    view->version = alarms_->version + 1;
    view->config = alarm_config_;
    view->recent_events.assign(recent_events_.begin(), recent_events_.end());
    if (engine_) {
        view->active = engine_->active_alarms();
        view->active_counts = engine_->active_counts();
        view->raised_counts = engine_->raised_counts();
    }
    alarms_ = std::move(view);
}

void BridgeReader::publish_initial(SegmentReader& reader) {
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
    // A new segment: new geometry and chemistry, fresh alarm state.
    engine_.emplace(AlarmEngine::for_segment(*alarm_config_, reader.segment()));
    record_alarm_events(engine_->evaluate_liveness(reader.writer_status(), realtime_ns()), true);
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
    if (engine_ && buffer.frame_number != engine_->last_frame_evaluated()) {
        record_alarm_events(engine_->evaluate(buffer, realtime_ns()));
    }
    publish(reader, make_frame_view(std::move(buffer), reader.layout().geometry));
    return true;
}

StepResult BridgeReader::on_tick(SegmentReader& reader, const WriterStatus& writer,
                                 Clock::time_point now) {
    if (!latest_ || now - last_publish_ >= kStatusInterval ||
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
    if (engine_) {
        record_alarm_events(engine_->evaluate_liveness(snapshot->writer, realtime_ns()));
    }
    snapshot->alarms = alarms_;
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
