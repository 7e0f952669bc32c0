// brt-anomaly-monitor's main loop: sleep until the writer publishes, copy
// the frame (or the one rack asked for), run the alarm engine on it, write
// the events; watch the writer's liveness between frames; count what was
// missed; keep systemd informed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "anomaly_monitor/event_output.hpp"
#include "common/alarm/alarm_rules.hpp"

namespace brt {

// Exit code of --exit-on: a raise event at or above that severity.
inline constexpr int kExitAlarm = 3;

struct MonitorOptions {
    std::string shm_name;  // normalized
    AlarmConfig config;
    OutputFormat format = OutputFormat::text;
    std::optional<std::uint32_t> rack;
    Severity min_severity = Severity::info;
    std::optional<Severity> exit_on;
    double duration_s = 0;     // wall-clock seconds; 0: until stopped
    std::uint64_t frames = 0;  // frames checked; 0: until stopped
    std::string on_critical;   // command line, empty: none
    // Liveness is judged this long after the start (wall-clock seconds), so
    // a pipeline started in any order raises nothing.
    double startup_grace_s = 5.0;
    // Remove the alarm segment before starting: the list starts empty.
    bool reset_alarms = false;
};

// Returns the tool's exit code (0, or kExitAlarm); throws SegmentError when
// there is no segment at start and UsageError for a rack that does not exist.
int run_monitor(const MonitorOptions& options);

}  // namespace brt
