// A uniquely named segment for one test, removed when the test ends.
#pragma once

#include <unistd.h>

#include <atomic>
#include <string>

#include "common/alarm_segment/alarm_segment_file.hpp"
#include "common/segment/segment_file.hpp"

namespace brt::test {

// The test's segment and the alarm segment a monitor made beside it.
inline void remove_test_segments(const std::string& name) {
    remove_segment(name);
    remove_alarm_segment(alarm_segment_name(name));
}

inline std::string unique_segment_name(const std::string& tag) {
    static std::atomic<int> counter{0};
    return "brt_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" + tag;
}

class ScopedSegment {
  public:
    explicit ScopedSegment(const std::string& tag, Geometry geometry = {},
                           std::uint32_t slots = kDefaultSlots)
        : name_(unique_segment_name(tag)) {
        CreateOptions options;
        options.geometry = geometry;
        options.slot_count = slots;
        create_segment(name_, options);
    }
    ~ScopedSegment() { remove_test_segments(name_); }
    ScopedSegment(const ScopedSegment&) = delete;
    ScopedSegment& operator=(const ScopedSegment&) = delete;
    const std::string& name() const { return name_; }

  private:
    std::string name_;
};

}  // namespace brt::test
