// An in-process writer for the viewer's tests: publishes a known frame (or
// only heartbeats) from a thread every 100 ms until destroyed.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include "common/segment/segment_writer.hpp"
#include "support/test_frames.hpp"

namespace brt::test {

class BackgroundWriter {
  public:
    // With `publish` false it publishes one frame, then only heartbeats, so
    // the frame (and the screen) never changes while the writer stays live.
    BackgroundWriter(const std::string& name, const CellIndexFrame& values, bool publish = true)
        : writer_(SegmentWriter::acquire(name, 100'000'000)), frame_(values.view()) {
        writer_.publish_frame(frame_);
        thread_ = std::thread([this, publish] {
            while (!stop_.load()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                if (publish) {
                    writer_.publish_frame(frame_);
                } else {
                    writer_.heartbeat();
                }
            }
        });
    }
    ~BackgroundWriter() {
        stop_.store(true);
        thread_.join();
    }

  private:
    SegmentWriter writer_;
    FrameData frame_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// Known values for a frame: field f of cell c is c + 100 f (see CellIndexFrame),
// rack 1 charging at 12.5 A, one NaN temperature at cell 13.
inline CellIndexFrame known_frame(const Geometry& geometry) {
    CellIndexFrame values(geometry, 100.0f);
    for (std::uint32_t rack = 0; rack < geometry.racks; ++rack) {
        values.racks[rack].mode = 0;  // idle
        values.racks[rack].current_a = 0.0f;
        values.racks[rack].air_temperature_c = 25.0f;
    }
    if (geometry.racks > 1) {
        values.racks[1].mode = 1;  // charge
        values.racks[1].current_a = 12.5f;
    }
    if (geometry.cell_count() > 13) {
        values.columns[2][13] = std::numeric_limits<float>::quiet_NaN();
    }
    return values;
}

}  // namespace brt::test
