// `brt-anomaly-monitor ctl ...`: the operator's side of the alarm server.
// `list` prints the alarm list from the alarm segment; `ack`, `shelve` and
// `unshelve` post a command to the running monitor and wait for its answer.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace brt {

struct MonitorCtlOptions {
    std::string alarm;  // an id, or "all" (ack only)
    double shelve_s = 3600;
    double timeout_s = 2;
    bool json = false;
    bool show_suppressed = false;

    CLI::App* list = nullptr;
    CLI::App* ack = nullptr;
    CLI::App* shelve = nullptr;
    CLI::App* unshelve = nullptr;
};

CLI::App* add_monitor_ctl(CLI::App& app, MonitorCtlOptions& options);
int run_monitor_ctl(const std::string& shm_name, const MonitorCtlOptions& options);

}  // namespace brt
