#include "ws_bridge/reader_loop.hpp"

#include "common/chemistry.hpp"

namespace brt::bridge {

namespace {

using Clock = std::chrono::steady_clock;
// A reader notices a re-created or removed segment by looking the name up
// again; once a second is cheap (an open and an fstat).
constexpr auto kRefreshInterval = std::chrono::seconds(1);
// Without frames, clients still get the writer's state this often.
constexpr auto kStatusInterval = std::chrono::milliseconds(500);
// The publish rate is measured over this much of the writer's time.
constexpr std::uint64_t kRateWindowNs = 3'000'000'000;

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

ReaderLoop::ReaderLoop(std::string normalized_shm_name, Publish publish)
    : reader_(std::move(normalized_shm_name)), publish_(std::move(publish)) {}

void ReaderLoop::step(std::chrono::milliseconds wait) {
    auto now = Clock::now();
    bool changed = false;
    if (!reader_.attached() || now - last_refresh_ >= kRefreshInterval) {
        last_refresh_ = now;
        const AttachChange change = reader_.refresh();
        if (change != AttachChange::unchanged) {
            // Another segment (or none): the old frame and rate mean nothing now.
            frames_missed_before_ += reader_.frames_missed();
            recent_frames_.clear();
            frame_rate_hz_ = 0;
            changed = true;
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
            frame_rate_hz_ = frame_rate_hz(buffer.frame_number, buffer.publish_monotonic_ns);
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
    if (reader_.attached()) {
        snapshot->geometry = reader_.layout().geometry;
        snapshot->rack_chemistry = rack_chemistry(reader_.segment());
    }
    if (snapshot->writer.liveness != Liveness::live) {
        frame_rate_hz_ = 0;
        recent_frames_.clear();
    }
    snapshot->view = std::move(view);
    snapshot->frames_seen = frames_seen_;
    snapshot->frames_missed = frames_missed_before_ + reader_.frames_missed();
    snapshot->frame_rate_hz = frame_rate_hz_;
    last_publish_ = snapshot->made_at;
    latest_ = snapshot;
    publish_(std::move(snapshot));
}

double ReaderLoop::frame_rate_hz(std::uint64_t frame_number, std::uint64_t publish_ns) {
    recent_frames_.emplace_back(frame_number, publish_ns);
    while (recent_frames_.size() > 2 &&
           publish_ns - recent_frames_.front().second > kRateWindowNs) {
        recent_frames_.pop_front();
    }
    const auto& [first_frame, first_ns] = recent_frames_.front();
    if (recent_frames_.size() < 2 || publish_ns <= first_ns) {
        return frame_rate_hz_;
    }
    return static_cast<double>(frame_number - first_frame) * 1e9 /
           static_cast<double>(publish_ns - first_ns);
}

}  // namespace brt::bridge
