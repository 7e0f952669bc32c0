// The publish rate a reader sees: frames per second from frame numbers and
// the writer's publish times (CLOCK_MONOTONIC) over a sliding window, so a
// reader that looks at 2 Hz still reports a 10 Hz writer as 10 frames/s.
#pragma once

#include <cstdint>
#include <deque>

namespace brt {

class RateMeter {
  public:
    explicit RateMeter(std::uint64_t window_ns = 5'000'000'000) : window_ns_(window_ns) {}

    // A frame read; a frame number or time going backwards (a new segment, a
    // restarted writer) starts the window again.
    void add(std::uint64_t frame_number, std::uint64_t publish_monotonic_ns);
    void reset() { samples_.clear(); }
    // Frames per second over the window; 0 once nothing has been published
    // for a whole window before `now_ns`; NaN before two frames were seen.
    double frames_per_second(std::uint64_t now_ns) const;

  private:
    struct Sample {
        std::uint64_t frame_number;
        std::uint64_t ns;
    };
    std::uint64_t window_ns_;
    std::deque<Sample> samples_;
};

}  // namespace brt
