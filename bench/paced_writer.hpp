// A writer thread for the readers' benchmarks: publishes a frame every
// `period` until destroyed, never bursting to catch up when it is late.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/segment/segment_writer.hpp"

namespace brt::bench {

class PacedWriter {
  public:
    using Columns = std::array<std::vector<float>, 6>;  // voltage_v .. soh
    // `initial(field, cell)` fills the columns once; `edit(frame, columns)`,
    // when given, changes them before each frame is published.
    PacedWriter(const std::string& name, const Geometry& geometry, std::chrono::nanoseconds period,
                const std::function<float(int field, std::uint64_t cell)>& initial,
                const RackRecord& rack, std::function<void(std::uint64_t, Columns&)> edit = {})
        : writer_(SegmentWriter::acquire(name, static_cast<std::uint64_t>(period.count()))),
          period_(period),
          edit_(std::move(edit)) {
        const std::uint64_t cells = geometry.cell_count();
        for (int field = 0; field < 6; ++field) {
            columns_[field].resize(cells);
            for (std::uint64_t cell = 0; cell < cells; ++cell) {
                columns_[field][cell] = initial(field, cell);
            }
        }
        status_.assign(cells, 0);
        racks_.assign(geometry.racks, rack);
        thread_ = std::thread([this] { run(); });
    }
    ~PacedWriter() {
        stop_ = true;
        thread_.join();
    }
    PacedWriter(const PacedWriter&) = delete;
    PacedWriter& operator=(const PacedWriter&) = delete;

    std::uint64_t published() const { return published_.load(); }
    // Deadlines missed (the frame went out late and the schedule restarted).
    std::uint64_t late() const { return late_.load(); }

  private:
    void run() {
        auto deadline = std::chrono::steady_clock::now();
        for (std::uint64_t frame = 1; !stop_; ++frame) {
            if (edit_) {
                edit_(frame, columns_);
            }
            FrameData data;
            for (int field = 0; field < 6; ++field) {
                data.columns[field] = columns_[field];
            }
            data.status = status_;
            data.racks = racks_;
            data.sim_time_ns = frame * static_cast<std::uint64_t>(period_.count());
            writer_.publish_frame(data);
            published_ = frame;
            deadline += period_;
            const auto now = std::chrono::steady_clock::now();
            if (now > deadline) {
                ++late_;
                deadline = now;  // no burst to catch up
            } else {
                std::this_thread::sleep_until(deadline);
            }
        }
    }

    SegmentWriter writer_;
    std::chrono::nanoseconds period_;
    std::function<void(std::uint64_t, Columns&)> edit_;
    Columns columns_;
    std::vector<std::uint32_t> status_;
    std::vector<RackRecord> racks_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> published_{0};
    std::atomic<std::uint64_t> late_{0};
    std::thread thread_;
};

}  // namespace brt::bench
