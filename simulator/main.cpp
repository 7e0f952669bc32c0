// brt-simulator: the segment's single writer. Models every cell of the racks
// and publishes frames; `brt-simulator ctl` sends it commands.
#include <fmt/format.h>

#include <cmath>
#include <thread>

#include "common/cli/cli_common.hpp"
#include "common/cli/exit_codes.hpp"
#include "common/config/config_file.hpp"
#include "common/control/scenario.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/shm_name.hpp"
#include "simulator/ctl.hpp"
#include "simulator/run_loop.hpp"

namespace brt {
namespace {

// The magnitude ranges a scenario has: one, none, or (sensor_fault's offset)
// one per sensor.
struct NamedRange {
    std::string_view applies_to;
    MagnitudeRange range;
};
std::vector<NamedRange> magnitude_ranges(ScenarioKind kind) {
    if (kind == ScenarioKind::sensor_fault) {
        return {{"kind=offset,sensor=voltage",
                 scenario_magnitude_range(kind, FaultKind::offset, FaultSensor::voltage)},
                {"kind=offset,sensor=temperature",
                 scenario_magnitude_range(kind, FaultKind::offset, FaultSensor::temperature)}};
    }
    const MagnitudeRange range = scenario_magnitude_range(kind);
    if (!range.used) {
        return {};
    }
    return {{"", range}};
}

int list_scenarios(bool json) {
    if (json) {
        JsonWriter out;
        out.begin_array();
        for (const ScenarioInfo& info : scenario_catalogue()) {
            out.begin_object()
                .key("name")
                .value(info.name)
                .key("code")
                .value(static_cast<std::uint32_t>(info.kind))
                .key("description")
                .value(info.description)
                .key("magnitude")
                .value(info.magnitude_meaning)
                .key("default_magnitude")
                .value(info.default_magnitude)
                .key("magnitude_ranges")
                .begin_array();
            for (const NamedRange& named : magnitude_ranges(info.kind)) {
                out.begin_object()
                    .key("applies_to")
                    .value(named.applies_to)
                    .key("min")
                    .value(named.range.min)
                    .key("max")
                    .value(named.range.max)
                    .key("unit")
                    .value(named.range.unit)
                    .end_object();
            }
            out.end_array()
                .key("start_s_max")
                .value(kMaxScenarioStartS)
                .key("duration_s_max")
                .value(kMaxScenarioDurationS)
                .end_object();
        }
        out.end_array();
        fmt::print("{}\n", out.str());
        return kExitOk;
    }
    for (const ScenarioInfo& info : scenario_catalogue()) {
        fmt::print("{:<24} {}\n", info.name, info.description);
        if (info.magnitude_meaning != "-") {
            fmt::print("{:<24} magnitude: {} (default {})\n", "", info.magnitude_meaning,
                       info.default_magnitude);
        }
        for (const NamedRange& named : magnitude_ranges(info.kind)) {
            fmt::print("{:<24} range: {}{}{} ({})\n", "", magnitude_range_text(named.range),
                       named.applies_to.empty() ? "" : " with ", named.applies_to, named.range.why);
        }
    }
    fmt::print(
        "\nTargets: rack=R [module=M [cell=C]], or the whole system. Timing: start=S (seconds, "
        "0..{}), duration=S (0: until cleared; at most {}).\nExample: --scenario "
        "thermal_runaway:rack=3,module=2,cell=5,start=60\n",
        kMaxScenarioStartS, kMaxScenarioDurationS);
    return kExitOk;
}

void check_positive(const char* option, double value) {
    if (!(value > 0) || !std::isfinite(value)) {
        throw UsageError(fmt::format("{} must be a positive number, got {}", option, value));
    }
}

}  // namespace
}  // namespace brt

int main(int argc, char** argv) {
    using namespace brt;
    std::string shm_name;
    SimulationConfig config;
    RunOptions run;
    std::vector<std::string> scenario_texts;
    std::string scenario_file;
    std::string initial_mode = "profile";
    bool list = false;
    std::int64_t threads = 0;
    std::string backend = "auto";

    CLI::App app{
        "Simulate every cell of the battery racks and publish frames into the shared-memory "
        "segment (the single writer).",
        tool_name("simulator")};
    add_common_options(app, shm_name);
    add_config_option(app);
    app.add_option("--seed", config.seed, "Random seed: same seed, same frames")
        ->capture_default_str();
    app.add_option("--physics-dt", config.physics_dt_s, "Physics step, s")->capture_default_str();
    app.add_option("--rate", run.rate_hz, "Frames published per second")->capture_default_str();
    app.add_option("--speed", run.speed, "Simulated seconds per wall-clock second")
        ->capture_default_str();
    app.add_flag("--max-speed", run.max_speed, "Run as fast as possible (benchmarks)");
    app.add_option("--duration", run.duration_s,
                   "Stop after this many simulated seconds (0: never)")
        ->capture_default_str();
    app.add_option("--threads", threads, "CPU threads (0: every core)")->capture_default_str();
    app.add_option("--backend", backend,
                   "Where the model runs: auto (the GPU when one is usable, else the CPU), cpu, "
                   "cuda (fails without a usable GPU)")
        ->capture_default_str();
    app.add_option("--mode", initial_mode,
                   "Initial mode of every rack: idle, charge, float, discharge, equalize, profile")
        ->capture_default_str();
    app.add_option("--ambient", config.ambient_c, "Ambient temperature, C")->capture_default_str();
    app.add_option("--soc", config.initial_soc_mean, "Mean initial state of charge, 0..1")
        ->capture_default_str();
    app.add_option("--soc-sigma", config.initial_soc_sigma,
                   "Spread (standard deviation) of the initial state of charge")
        ->capture_default_str();
    app.add_option("--capacity-sigma", config.capacity_sigma,
                   "Relative spread of the cells' capacity")
        ->capture_default_str();
    app.add_option("--resistance-sigma", config.resistance_sigma,
                   "Relative spread of the cells' resistance")
        ->capture_default_str();
    app.add_option("--ageing-speedup", config.ageing_speedup,
                   "Ageing clock multiplier (e.g. 100000 shows SoH moving within minutes)")
        ->capture_default_str();
    app.add_option("--profile-period", config.profile_period_s,
                   "Length of the built-in daily duty cycle, s")
        ->capture_default_str();
    app.add_option("--load-profile", config.load_profile_csv,
                   "CSV load profile: time_s,current_a or time_s,power_w");
    app.add_option("--scenario", scenario_texts,
                   "Scenario at start, e.g. thermal_runaway:rack=3,module=2,cell=5,start=60 "
                   "(repeatable)");
    app.add_option("--scenario-file", scenario_file, "File with one scenario per line");
    app.add_flag("--list-scenarios", list, "Describe the scenarios and exit");
    app.add_flag("--json", run.json, "JSON output (summary, --list-scenarios, ctl)");
    CtlOptions ctl_options;
    CLI::App* ctl = add_ctl_subcommand(app, ctl_options);
    app.footer(fmt::format(
        "Examples:\n"
        "  {0}                                   run in real time, 10 frames/s\n"
        "  {0} --speed 60 --scenario hvac_failure:rack=2\n"
        "  {0} --backend cpu                     never use the GPU\n"
        "  {0} ctl apply thermal_runaway --rack 3 --module 2 --cell 5\n"
        "  {0} ctl mode charge --rack 0\n"
        "Create the segment first with brt-shm-init. Exit codes: 0 success, 1 runtime failure, "
        "2 bad usage.",
        tool_name("simulator")));

    return run_tool(app, argc, argv, [&]() -> int {
        if (list) {
            return list_scenarios(run.json);
        }
        const std::string name = normalize_shm_name(shm_name);
        if (ctl->parsed()) {
            ctl_options.json = ctl_options.json || run.json;
            return run_ctl(name, ctl_options);
        }
        check_positive("--physics-dt", config.physics_dt_s);
        if (!(run.rate_hz >= kMinRateHz && run.rate_hz <= kMaxRateHz)) {  // NaN too
            throw UsageError(fmt::format("--rate {} is out of range: use {} to {} frames/s",
                                         run.rate_hz, kMinRateHz, kMaxRateHz));
        }
        check_positive("--speed", run.speed);
        check_positive("--profile-period", config.profile_period_s);
        if (config.physics_dt_s > 1.0) {
            throw UsageError("--physics-dt above 1 s makes the thermal model unstable");
        }
        if (run.duration_s < 0 || config.ageing_speedup < 0) {
            throw UsageError("--duration and --ageing-speedup must not be negative");
        }
        if (threads < 0 || threads > 4096) {
            throw UsageError(fmt::format("--threads {}: use 0 (every core) to 4096", threads));
        }
        if (!ambient_in_range(config.ambient_c)) {
            throw UsageError(fmt::format("--ambient {} C is outside {}..{} C", config.ambient_c,
                                         kMinAmbientC, kMaxAmbientC));
        }
        if (!(config.initial_soc_mean >= 0 && config.initial_soc_mean <= 1)) {
            throw UsageError("--soc must be between 0 and 1");
        }
        for (const auto& [option, sigma] :
             {std::pair{"--soc-sigma", config.initial_soc_sigma},
              std::pair{"--capacity-sigma", config.capacity_sigma},
              std::pair{"--resistance-sigma", config.resistance_sigma}}) {
            if (!(sigma >= 0.0f && sigma <= 0.5f)) {
                throw UsageError(
                    fmt::format("{} must be between 0 and 0.5, got {}", option, sigma));
            }
        }
        config.threads = static_cast<unsigned>(threads);
        const auto mode = parse_rack_mode(initial_mode);
        if (!mode) {
            throw UsageError(
                fmt::format("--mode {}: use idle, charge, float, discharge, "
                            "equalize or profile",
                            initial_mode));
        }
        config.initial_mode = *mode;
        const auto backend_request = parse_backend(backend);
        if (!backend_request) {
            throw UsageError(fmt::format("--backend {}: use auto, cpu or cuda", backend));
        }
        run.backend = *backend_request;
        std::vector<ScenarioSpec> scenarios;
        for (const auto& text : scenario_texts) {
            scenarios.push_back(parse_scenario_spec(text));
        }
        if (!scenario_file.empty()) {
            for (auto& spec : load_scenario_file(scenario_file)) {
                scenarios.push_back(spec);
            }
        }
        return run_simulator(name, config, run, scenarios);
    });
}
