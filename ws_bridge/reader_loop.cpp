#include "ws_bridge/reader_loop.hpp"

#include <cmath>

#include "common/alarm/alarm_event_format.hpp"
#include "common/segment/chemistry.hpp"
#include "common/segment/clock.hpp"

namespace brt::bridge {

namespace {

using Clock = std::chrono::steady_clock;
// A reader notices a re-created or removed segment by looking the name up
// again; once a second is cheap (an open and an fstat).
constexpr auto kRefreshInterval = std::chrono::seconds(1);
// Without frames, clients still get the writer's state this often.
constexpr auto kStatusInterval = std::chrono::milliseconds(500);
// The publish rate is measured over this much of the writer's time.
// Raise and clear events kept for the page's alarm history.
constexpr std::size_t kRecentAlarmEvents = 100;

std::vector<Chemistry> rack_chemistry(const MappedSegment& segment) {
    const SegmentLayout& layout = segment.layout();
    const auto* codes = segment.at<const std::uint32_t>(layout.rack_chemistry_offset);
    std::vector<Chemistry> out;
    out.reserve(layout.geometry.racks);
    for (std::uint32_t rack = 0; rack < layout.geometry.racks; ++rack) {
        out.push_back(static_cast<Chemistry>(codes[rack]));
    }
    return out;
}

}  // namespace

ReaderLoop::ReaderLoop(std::string normalized_shm_name, AlarmConfig alarm_config, Publish publish)
    : reader_(std::move(normalized_shm_name)),
      publish_(std::move(publish)),
      alarm_config_(std::make_shared<const AlarmConfig>(std::move(alarm_config))) {
    alarm_config_->validate();
    auto empty = std::make_shared<AlarmView>();
    empty->config = alarm_config_;
    alarms_ = std::move(empty);
}

void ReaderLoop::record_alarm_events(const std::vector<AlarmEvent>& events, bool rebuild) {
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

void ReaderLoop::step(std::chrono::milliseconds wait) {
    auto now = Clock::now();
    bool changed = false;
    if (!reader_.attached() || now - last_refresh_ >= kRefreshInterval) {
        last_refresh_ = now;
        const AttachChange change = reader_.refresh();
        if (change != AttachChange::unchanged) {
            // Another segment (or none): the old frame and rate mean nothing now.
            frames_missed_before_ += reader_.frames_missed();
            rate_.reset();
            changed = true;
            if (reader_.attached()) {
                // A new segment: new geometry and chemistry, fresh alarm state.
                engine_.emplace(AlarmEngine::for_segment(*alarm_config_, reader_.segment()));
                record_alarm_events(
                    engine_->evaluate_liveness(reader_.writer_status(), realtime_ns()), true);
            }
        }
    }
    std::shared_ptr<const FrameView> view = latest_ ? latest_->view : nullptr;
    if (changed) {
        view = nullptr;
    }
    if (reader_.wait_for_frame(reader_.last_frame_read(), wait)) {
        FrameBuffer buffer;
        if (reader_.read_latest(buffer) == ReadOutcome::ok) {
            ++frames_seen_;
            rate_.add(buffer.frame_number, buffer.publish_monotonic_ns);
            if (engine_ && buffer.frame_number != engine_->last_frame_evaluated()) {
                record_alarm_events(engine_->evaluate(buffer, realtime_ns()));
            }
            publish(make_frame_view(std::move(buffer), reader_.layout().geometry));
            return;
        }
    }
    now = Clock::now();
    const Liveness previous = latest_ ? latest_->writer.liveness : Liveness::no_segment;
    if (!latest_ || changed || now - last_publish_ >= kStatusInterval ||
        reader_.writer_status().liveness != previous) {
        publish(view);
    }
}

void ReaderLoop::publish(std::shared_ptr<const FrameView> view) {
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->sequence = ++sequence_;
    snapshot->made_at = Clock::now();
    snapshot->writer = reader_.writer_status();
    if (engine_) {
        record_alarm_events(engine_->evaluate_liveness(snapshot->writer, realtime_ns()));
    }
    snapshot->alarms = alarms_;
    if (reader_.attached()) {
        snapshot->geometry = reader_.layout().geometry;
        snapshot->rack_chemistry = rack_chemistry(reader_.segment());
    }
    if (snapshot->writer.liveness != Liveness::live) {
        rate_.reset();
    }
    snapshot->view = std::move(view);
    snapshot->frames_seen = frames_seen_;
    snapshot->frames_missed = frames_missed_before_ + reader_.frames_missed();
    const double rate_hz = rate_.frames_per_second(monotonic_ns());
    snapshot->frame_rate_hz = std::isnan(rate_hz) ? 0.0 : rate_hz;  // 0 until two frames
    last_publish_ = snapshot->made_at;
    latest_ = snapshot;
    publish_(std::move(snapshot));
}

}  // namespace brt::bridge
