// The last hour (by default) of per-rack aggregates, so that a page opened
// now shows full trends at once: min, mean and max of every float metric of
// every rack, one point per interval. The reader thread adds each frame's
// rack summaries; I/O threads read copies. The memory is fixed when the
// geometry is known and bounded by `max_bytes`: a bigger system gets a
// longer interval (coarser points), never a shorter span or more memory.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/frames/frame_stats.hpp"

namespace brt::bridge {

struct RackHistoryOptions {
    double span_s = 3600;                   // how far back the history reaches
    std::uint64_t max_bytes = 64ull << 20;  // at most this much memory for it
};

// What one rack's history holds, for one reader: one entry per point,
// oldest first; values[f] has 3 floats per point (min, mean, max).
struct RackHistorySeries {
    std::uint32_t rack = 0;
    double interval_s = 0;
    double span_s = 0;
    std::vector<double> time_unix_s;  // each point's interval start, wall clock
    std::array<std::vector<float>, kFloatFieldCount> values;
};

class RackHistory {
  public:
    explicit RackHistory(RackHistoryOptions options = {});

    // Reader thread: the summaries of one frame of `racks.size()` racks,
    // written at `wall_time_ns`. Frames within one interval merge into one
    // point; a point is kept once its interval is over.
    void add(std::uint64_t wall_time_ns, std::span<const GroupSummary> racks);
    // Another segment (or none): its history is not this one's.
    void clear();

    // One rack's points (those of the fields in `field_mask`, bit f for
    // Field f); nullopt when the rack is not in the history.
    std::optional<RackHistorySeries> series(std::uint32_t rack, std::uint32_t field_mask) const;

    struct Usage {
        std::uint64_t bytes = 0;  // reserved for points
        std::uint64_t points = 0;
        std::uint64_t capacity = 0;
        double interval_s = 0;
    };
    Usage usage() const;

  private:
    static constexpr std::size_t kValuesPerRack = kFloatFieldCount * 3;
    void allocate(std::size_t racks);
    void close_bucket();

    RackHistoryOptions options_;
    mutable std::mutex mutex_;
    std::size_t racks_ = 0;
    double interval_s_ = 1;
    std::size_t capacity_ = 0;  // points
    std::size_t head_ = 0;      // next point to write
    std::size_t count_ = 0;
    std::vector<double> times_;  // capacity_
    std::vector<float> values_;  // capacity_ x racks_ x kValuesPerRack
    // The interval being filled.
    std::int64_t bucket_ = -1;  // floor(time / interval), -1: none
    std::vector<float> bucket_min_, bucket_max_;
    std::vector<double> bucket_sum_;
    std::vector<std::uint32_t> bucket_frames_;
};

// {"type":"history","rack":R,"interval_s":..,"span_s":..,"time_unix_s":[..],
//  "voltage_v":{"min":[..],"mean":[..],"max":[..]},...}: docs/ws-bridge.md.
std::string history_json(const RackHistorySeries& series, std::uint32_t field_mask);
// The same for one rack of `history` (field_mask 0: every float field);
// nullopt when the history has no such rack (no frame yet, or no such rack).
std::optional<std::string> rack_history_json(const RackHistory& history, std::uint32_t rack,
                                             std::uint32_t field_mask);

}  // namespace brt::bridge
