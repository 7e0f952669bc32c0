// `brt-simulator ctl ...`: posts a command to the segment's command ring and
// waits for the simulator's answer (or, with --timeout 0, does not wait).
#pragma once

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

namespace brt {

struct CtlOptions {
    std::string scenario;  // apply / clear
    // Not given: every rack (module, cell) of the target. A given index must
    // exist; a negative one is refused rather than read as "all".
    std::optional<std::int64_t> rack;
    std::optional<std::int64_t> module;
    std::optional<std::int64_t> cell;
    double start_s = 0;
    double duration_s = 0;
    double magnitude = NAN;
    std::string fault_kind = "dropout";
    std::string sensor = "voltage";
    std::string mode;  // mode
    double current_a = 0;
    double power_w = 0;
    double ambient_c = 25;
    // Seconds to wait for the simulator's answer; 0 posts without waiting.
    double timeout_s = 2;
    bool json = false;

    CLI::App* apply = nullptr;
    CLI::App* clear = nullptr;
    CLI::App* set_mode = nullptr;
    CLI::App* ambient = nullptr;
    CLI::App* pause = nullptr;
    CLI::App* resume = nullptr;
    CLI::App* reset = nullptr;
};

// The longest --timeout: a command is answered between frames, and the
// slowest allowed rate publishes every 10 s.
inline constexpr double kMaxCtlTimeoutS = 3600;

CLI::App* add_ctl_subcommand(CLI::App& app, CtlOptions& options);
int run_ctl(const std::string& shm_name, const CtlOptions& options);

}  // namespace brt
