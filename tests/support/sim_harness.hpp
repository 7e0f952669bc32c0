// An in-process simulation on a private segment, stepped by the CPU backend
// exactly as the simulator's run loop steps it, without pacing.
#pragma once

#include <cmath>
#include <memory>

#include "simulator/cpu_stepper.hpp"
#include "simulator/frame_builder.hpp"
#include "simulator/rack_control.hpp"
#include "simulator/simulation.hpp"
#include "support/test_segment.hpp"

namespace brt::test {

class SimHarness {
  public:
    explicit SimHarness(const std::string& tag, Geometry geometry = {4, 2, 8},
                        SimulationConfig config = default_config(),
                        std::vector<Chemistry> chemistry = {Chemistry::nmc})
        : name_(unique_segment_name(tag)) {
        CreateOptions options;
        options.geometry = geometry;
        options.rack_chemistry = std::move(chemistry);
        create_segment(name_, options);
        segment_ = open_segment(name_, SegmentAccess::reader);
        simulation_ = std::make_unique<Simulation>(segment_, config);
        pool_ = std::make_unique<WorkerPool>(config.threads);
        stepper_ = std::make_unique<CpuStepper>(*simulation_, *pool_);
        builder_ = std::make_unique<FrameBuilder>(geometry);
    }
    ~SimHarness() { remove_test_segments(name_); }

    static SimulationConfig default_config() {
        SimulationConfig config;
        config.initial_mode = RackMode::idle;
        config.threads = 1;
        return config;
    }

    // Runs `seconds` of simulated time in publish intervals of `interval_s`.
    void run_for(double seconds, double interval_s = 0.1) {
        const std::uint64_t steps =
            steps_per_interval(interval_s, simulation_->config().physics_dt_s);
        const auto intervals = static_cast<std::uint64_t>(std::llround(seconds / interval_s));
        for (std::uint64_t i = 0; i < intervals; ++i) {
            simulation_->prepare_interval();
            stepper_->run(steps);
        }
    }
    FrameData frame() { return builder_->build(*simulation_, *pool_); }

    Simulation& sim() { return *simulation_; }
    CpuStepper& stepper() { return *stepper_; }
    const Geometry& geometry() const { return simulation_->geometry(); }
    const std::string& name() const { return name_; }

  private:
    std::string name_;
    MappedSegment segment_;
    std::unique_ptr<Simulation> simulation_;
    std::unique_ptr<WorkerPool> pool_;
    std::unique_ptr<CpuStepper> stepper_;
    std::unique_ptr<FrameBuilder> builder_;
};

}  // namespace brt::test
