// Turns the true state into what the sensors report: noise, quantisation and
// injected faults on top, plus the per-cell status word. The true state is
// never touched, so a faulted sensor changes what is published and nothing else.
#pragma once

#include <cstdint>
#include <vector>

#include "common/segment/segment_writer.hpp"
#include "simulator/frame_cell.hpp"
#include "simulator/simulation.hpp"
#include "simulator/worker_pool.hpp"

namespace brt {

class FrameBuilder {
  public:
    explicit FrameBuilder(const Geometry& geometry);
    // The view stays valid until the next build().
    FrameData build(Simulation& simulation, WorkerPool& pool);

  private:
    // Measures every cell of racks [first_rack, last_rack) with healthy
    // sensors (faulted ones are redone after).
    void measure_racks(const Simulation& simulation, std::uint64_t first_rack,
                       std::uint64_t last_rack);

    FrameColumns frame_columns();

    std::vector<float> columns_[6];
    std::vector<std::uint32_t> status_;
    std::vector<RackRecord> racks_;
};

// A rack's entry in the frame's rack table.
RackRecord rack_record(const RackState& rack, bool paused);
// The frame's simulated time stamp.
std::uint64_t frame_sim_time_ns(const Simulation& simulation);

}  // namespace brt
