// The commands a controller sends to the simulator (`brt-simulator ctl`, the
// bridge's control API), built and checked in one place. Each maker throws
// UsageError naming what is wrong; `what` says what the command does, for
// the controller's answer ("apply thermal_runaway at rack 3 module 2").
#pragma once

#include <string>
#include <string_view>

#include "common/control/scenario.hpp"
#include "common/segment/command_ring.hpp"
#include "common/segment/geometry.hpp"

namespace brt {

struct ControlCommand {
    Command command;
    std::string what;
};

// The spec's target must exist in `geometry`; start, duration and magnitude
// as validate_scenario_spec checks them.
ControlCommand make_apply_command(const ScenarioSpec& spec, const Geometry& geometry);
// `scenario`: a scenario name, or "" / "all" for every scenario at the target.
ControlCommand make_clear_command(std::string_view scenario, const Target& target,
                                  const Geometry& geometry);
// A mode for one rack (or every rack: kAllTargets) with its discharge demands
// (0 = the simulator's default).
ControlCommand make_mode_command(std::uint32_t rack, std::string_view mode, double current_a,
                                 double power_w, const Geometry& geometry);

// The ambient temperatures the model is made for (the simulator's start-up
// value and every `set_ambient` command).
inline constexpr double kMinAmbientC = -50;
inline constexpr double kMaxAmbientC = 70;
inline bool ambient_in_range(double ambient_c) {
    return ambient_c >= kMinAmbientC && ambient_c <= kMaxAmbientC;  // false for NaN
}
// The ambient temperature of every rack, in kMinAmbientC..kMaxAmbientC.
ControlCommand make_ambient_command(double ambient_c);
// Pause and resume the simulation (the writer stays live while paused).
ControlCommand make_pause_command();
ControlCommand make_resume_command();

// Posts `command` to the segment's command ring and returns its position;
// throws SegmentError when the ring is full (the simulator is not consuming).
std::uint64_t post_command(const MappedSegment& segment, const Command& command);

}  // namespace brt
