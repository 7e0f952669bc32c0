// What the bridge serves: one immutable picture of the segment (the newest
// frame with its aggregates, and the writer's state), shared by every client
// that reads it. The reader loop makes a new one per frame and a status-only
// one while no frames come; sessions never touch the segment themselves.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/frames/frame_stats.hpp"
#include "common/segment/chemistry.hpp"
#include "common/segment/geometry.hpp"
#include "common/segment/liveness.hpp"
#include "common/segment/segment_reader.hpp"
#include "common/alarm/alarm_feed.hpp"

namespace brt::bridge {

// One frame and everything derived from it, shared between the snapshots
// that carry it (status-only snapshots reuse the last frame).
struct FrameView {
    FrameBuffer frame;  // whole frame
    GroupSummary system;
    std::vector<GroupSummary> racks;
    std::vector<GroupSummary> modules;  // rack-major
};

struct Snapshot {
    std::uint64_t sequence = 0;  // +1 per snapshot published
    std::chrono::steady_clock::time_point made_at{};
    WriterStatus writer;
    std::optional<Geometry> geometry;  // when attached
    std::vector<Chemistry> rack_chemistry;
    std::shared_ptr<const FrameView> view;    // empty until a frame was read
    std::shared_ptr<const AlarmView> alarms;  // never null once published
    std::uint64_t frames_seen = 0;            // frames this bridge read
    std::uint64_t frames_missed = 0;          // published frames it never saw
    double frame_rate_hz = 0;                 // the writer's recent publish rate

    bool live() const { return writer.liveness == Liveness::live; }
    std::uint64_t frame_number() const { return view ? view->frame.frame_number : 0; }

    // Memoized serializations: many clients ask for the same bytes of the
    // same snapshot; the first builds them, the others share them.
    std::shared_ptr<const std::string> cached(const std::string& key,
                                              const std::function<std::string()>& build) const;

  private:
    mutable std::mutex cache_mutex_;
    mutable std::unordered_map<std::string, std::shared_ptr<const std::string>> cache_;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

// Summaries of a freshly read whole frame.
std::shared_ptr<const FrameView> make_frame_view(FrameBuffer frame, const Geometry& geometry);

}  // namespace brt::bridge
