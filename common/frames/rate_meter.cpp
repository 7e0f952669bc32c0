#include "common/frames/rate_meter.hpp"

#include <cmath>

namespace brt {

void RateMeter::add(std::uint64_t frame_number, std::uint64_t publish_monotonic_ns) {
    if (!samples_.empty() && (frame_number < samples_.back().frame_number ||
                              publish_monotonic_ns < samples_.back().ns)) {
        samples_.clear();  // a new segment or a restarted writer: start again
    }
    if (!samples_.empty() && frame_number == samples_.back().frame_number) {
        return;
    }
    samples_.push_back({frame_number, publish_monotonic_ns});
    while (samples_.size() > 2 && publish_monotonic_ns - samples_.front().ns > window_ns_) {
        samples_.pop_front();
    }
}

double RateMeter::frames_per_second(std::uint64_t now_ns) const {
    if (!samples_.empty() && now_ns > samples_.back().ns + window_ns_) {
        return 0.0;
    }
    if (samples_.size() < 2 || samples_.back().ns == samples_.front().ns) {
        return NAN;
    }
    return static_cast<double>(samples_.back().frame_number - samples_.front().frame_number) * 1e9 /
           static_cast<double>(samples_.back().ns - samples_.front().ns);
}

}  // namespace brt
