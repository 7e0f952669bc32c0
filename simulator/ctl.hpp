// `brt-simulator ctl ...`: posts a command to the segment's command ring and
// waits for the simulator's answer.
#pragma once

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdint>
#include <string>

namespace brt {

struct CtlOptions {
    std::string scenario;  // apply / clear
    std::int64_t rack = -1;
    std::int64_t module = -1;
    std::int64_t cell = -1;
    double start_s = 0;
    double duration_s = 0;
    double magnitude = NAN;
    std::string fault_kind = "dropout";
    std::string sensor = "voltage";
    std::string mode;  // mode
    double current_a = 0;
    double power_w = 0;
    double ambient_c = 25;
    double timeout_s = 2;
    bool json = false;

    CLI::App* apply = nullptr;
    CLI::App* clear = nullptr;
    CLI::App* set_mode = nullptr;
    CLI::App* ambient = nullptr;
    CLI::App* pause = nullptr;
    CLI::App* resume = nullptr;
};

CLI::App* add_ctl_subcommand(CLI::App& app, CtlOptions& options);
int run_ctl(const std::string& shm_name, const CtlOptions& options);

}  // namespace brt
