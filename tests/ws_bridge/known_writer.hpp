// A writer for the bridge's tests: publishes CellIndexFrame frames (cell c's
// value in column f is c + f * 1000, its status word is c) at a steady rate
// from a thread, so every value the bridge serves can be checked exactly.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "common/segment/segment_writer.hpp"
#include "support/test_frames.hpp"

namespace brt::test {

inline constexpr float kFieldStep = 1000.0f;

class KnownWriter {
  public:
    // `edit` changes the frame before the first publish (e.g. a NaN reading),
    // never while the thread publishes it.
    KnownWriter(const std::string& shm_name, const Geometry& geometry,
                std::chrono::milliseconds period = std::chrono::milliseconds(50),
                const std::function<void(CellIndexFrame&)>& edit = {})
        : frame_(geometry, kFieldStep),
          writer_(SegmentWriter::acquire(
              shm_name,
              static_cast<std::uint64_t>(
                  std::chrono::duration_cast<std::chrono::nanoseconds>(period).count()))) {
        for (std::uint32_t rack = 0; rack < geometry.racks; ++rack) {
            frame_.racks[rack].current_a = 10.0f + static_cast<float>(rack);
            frame_.racks[rack].air_temperature_c = 25.0f;
            frame_.racks[rack].mode = 1;  // charge
        }
        if (edit) {
            edit(frame_);
        }
        thread_ = std::thread([this, period] {
            while (!stop_.load()) {
                writer_.publish_frame(frame_.view());
                published_.fetch_add(1);
                std::this_thread::sleep_for(period);
            }
        });
    }
    ~KnownWriter() { stop(); }
    // Stops publishing; the writer stays attached (its heartbeat goes stale).
    void stop() {
        stop_.store(true);
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    std::uint64_t published() const { return published_.load(); }

  private:
    CellIndexFrame frame_;
    SegmentWriter writer_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> published_{0};
    std::thread thread_;
};

}  // namespace brt::test
