// `brt-viewer --alarms`: the alarm list the monitor publishes, printed once
// (the same text and JSON as `brt-anomaly-monitor ctl list`).
#pragma once

#include <string>

namespace brt::viewer {

// Prints the list of telemetry segment `shm_name` (normalized); 0.
int print_alarm_list(const std::string& shm_name, bool json, bool show_suppressed);

}  // namespace brt::viewer
