// The simulator's life as the segment's writer: take the lock, step and
// publish at the chosen rate, apply commands between frames, tell systemd how
// it is doing, and on SIGINT/SIGTERM finish the frame and mark itself stopped.
#pragma once

#include <string>
#include <vector>

#include "common/control/scenario.hpp"
#include "simulator/backend.hpp"
#include "simulator/simulation_config.hpp"

namespace brt {

// The --rate range, frames per second: below 0.1 a frame's interval is
// too long to be telemetry; above 10000 the period (100 us) is shorter than
// a frame takes to publish at any useful size.
inline constexpr double kMinRateHz = 0.1;
inline constexpr double kMaxRateHz = 10000;

struct RunOptions {
    double rate_hz = 10.0;    // frames per second of wall time
    double speed = 1.0;       // simulated seconds per wall second
    bool max_speed = false;   // no pacing: as fast as the CPU goes
    double duration_s = 0.0;  // simulated seconds; 0 runs until stopped
    bool json = false;        // summary on stdout as JSON
    BackendRequest backend = BackendRequest::automatic;
};

// Returns the exit code. Throws SegmentError / UsageError for the caller to report.
int run_simulator(const std::string& shm_name, const SimulationConfig& config,
                  const RunOptions& options, const std::vector<ScenarioSpec>& scenarios);

}  // namespace brt
