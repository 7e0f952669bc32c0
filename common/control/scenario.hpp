// Scenarios: what can happen to a battery system, applied to the whole
// system, a rack, a module or one cell, from a start time for a duration or
// until cleared. Scenario codes are ABI (the `code` of apply_scenario and
// clear_scenario commands, docs/simulator.md).
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/segment/command_ring.hpp"
#include "common/segment/geometry.hpp"
#include "common/segment/segment_layout.hpp"

namespace brt {

enum class ScenarioKind : std::uint32_t {
    normal = 1,  // applying it clears every scenario at its target
    high_ambient = 2,
    power_outage = 3,
    hvac_failure = 4,
    accelerated_degradation = 5,
    thermal_runaway = 6,
    internal_short = 7,
    cell_imbalance = 8,
    overcharge = 9,
    sensor_fault = 10,
};

enum class FaultKind : std::uint32_t { stuck = 1, offset = 2, dropout = 3, open_wire = 4 };
enum class FaultSensor : std::uint32_t { voltage = 0, temperature = 1 };

struct ScenarioInfo {
    ScenarioKind kind;
    std::string_view name;
    std::string_view description;
    std::string_view magnitude_meaning;  // what --magnitude sets, with its unit
    double default_magnitude;
};

const std::vector<ScenarioInfo>& scenario_catalogue();
const ScenarioInfo* find_scenario(std::string_view name);
const ScenarioInfo* find_scenario(ScenarioKind kind);

std::string_view fault_kind_name(FaultKind kind);
std::optional<FaultKind> parse_fault_kind(std::string_view name);

struct Target {
    std::uint32_t rack = kAllTargets;
    std::uint32_t module = kAllTargets;
    std::uint32_t cell = kAllTargets;
};

// Throws UsageError when the target names a rack, module or cell that does
// not exist, or a module without a rack (or a cell without a module).
CellRange target_cells(const Geometry& geometry, const Target& target);
std::string target_text(const Target& target);

struct ScenarioSpec {
    ScenarioKind kind = ScenarioKind::normal;
    Target target;
    double start_s = 0;      // from when it is given (for a file: from simulation start)
    double duration_s = 0;   // 0: until cleared
    double magnitude = NAN;  // NaN: the scenario's default
    FaultKind fault = FaultKind::dropout;
    FaultSensor sensor = FaultSensor::voltage;

    double magnitude_or_default() const;
};

// The physical ranges of a scenario's arguments (docs/simulator.md), checked
// by scenario_spec_problem wherever a spec is made or received: the
// simulator's command ring (rejected_argument), ctl, --scenario, scenario
// files and the bridge. Start and duration in seconds of simulated time.
inline constexpr double kMaxScenarioStartS = 31'557'600;     // one year (365.25 days)
inline constexpr double kMaxScenarioDurationS = 31'557'600;  // one year; 0 = until cleared
struct MagnitudeRange {
    bool used = false;  // false: the scenario (or this fault kind) ignores its magnitude
    double min = 0;
    double max = 0;
    std::string_view unit;  // as the catalogue's magnitude_meaning gives it
    std::string_view why;   // what bounds it, in a few words
};
// The range of `kind`'s magnitude; sensor_fault's depends on the fault kind
// (only offset reads it) and the sensor (V or K).
MagnitudeRange scenario_magnitude_range(ScenarioKind kind, FaultKind fault = FaultKind::offset,
                                        FaultSensor sensor = FaultSensor::voltage);
// "0..35 K" for --list-scenarios and messages.
std::string magnitude_range_text(const MagnitudeRange& range);

// "voltage" or "temperature"; throws UsageError otherwise.
FaultSensor parse_fault_sensor(std::string_view name);

// Why `spec` cannot be applied (a start or duration outside 0..one year or
// not a number, a magnitude outside its scenario's range or infinite); empty
// when it can. A NaN magnitude asks for the default and is always accepted;
// a scenario that ignores its magnitude accepts any finite value.
// validate_scenario_spec throws UsageError with it.
std::string scenario_spec_problem(const ScenarioSpec& spec);
void validate_scenario_spec(const ScenarioSpec& spec);

// "thermal_runaway:rack=3,module=2,cell=5,start=60" (commas or spaces).
// Keys: rack, module, cell, start, duration, magnitude, kind, sensor.
// Throws UsageError naming the bad part.
ScenarioSpec parse_scenario_spec(std::string_view text);
// The apply_scenario command that asks the simulator for `spec`, and back
// (argument layout: docs/segment-format.md). Decoding returns empty when the
// code is not a scenario or an argument it reads is out of range
// (scenario_spec_problem); the fault kind and sensor (args[3], args[4]) are
// read for sensor_fault only.
Command encode_apply_command(const ScenarioSpec& spec);
std::optional<ScenarioSpec> decode_apply_command(const Command& command);

// One spec per line, '#' starts a comment. Errors name the line.
std::vector<ScenarioSpec> load_scenario_file(const std::string& path);

}  // namespace brt
