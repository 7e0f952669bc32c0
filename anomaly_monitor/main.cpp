// brt-anomaly-monitor: checks every frame the simulator publishes against
// layered safety limits, plausibility and trend rules (the alarm engine in
// common/), and writes one line per raised or cleared alarm.
#include <fmt/format.h>

#include <map>
#include <string>

#include "anomaly_monitor/ctl.hpp"
#include "anomaly_monitor/monitor.hpp"
#include "common/alarm/alarm_config_cli.hpp"
#include "common/cli/cli_common.hpp"
#include "common/cli/stop_signal.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/shm_name.hpp"

int main(int argc, char** argv) {
    using namespace brt;
    MonitorOptions options;
    std::string format = "text";
    std::string min_severity = "info";
    std::string exit_on;
    std::int64_t rack = -1;
    CLI::App app{
        "Watch every frame of the battery-rack telemetry segment and raise alarms: cell "
        "voltage, temperature (charge and discharge limits), rack current, SoC and SoH in three "
        "levels (MOL info, RSL warning, MSL critical) per chemistry; plausibility, stuck and "
        "dropped-out sensors; dT/dt and thermal runaway confirmation; module imbalance; "
        "resistance and self-discharge outliers; the writer's liveness.\nOne line per raise or "
        "clear event on stdout; a summary on stderr at exit.",
        tool_name("anomaly_monitor")};
    add_common_options(app, options.shm_name);
    AlarmConfigOptions alarm_options(app);
    app.add_option("--format", format, "Event lines: text or json (JSON lines)")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    app.add_option("--rack", rack, "Watch only this rack (0-based)");
    app.add_option("--min-severity", min_severity, "Print events of this severity and above")
        ->check(CLI::IsMember({"info", "warning", "critical"}))
        ->capture_default_str();
    app.add_option("--exit-on", exit_on,
                   "Exit with code 3 at the first raise of this severity or above")
        ->check(CLI::IsMember({"info", "warning", "critical"}));
    app.add_option("--duration", options.duration_s,
                   "Stop after this many wall-clock seconds (0: run until stopped)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--frames", options.frames,
                   "Stop after checking this many frames (0: no limit)");
    app.add_option("--startup-grace", options.startup_grace_s,
                   "Judge the writer's liveness only this many seconds after the start, so a "
                   "pipeline started in any order raises nothing")
        ->check(CLI::Range(0.0, 3600.0))
        ->capture_default_str();
    app.add_flag("--reset-alarms", options.reset_alarms,
                 "Remove the alarm segment first: start with an empty alarm list, forgetting "
                 "acknowledgements and shelving (and a broken alarm segment)");
    app.add_option("--on-critical", options.on_critical,
                   "Run this command (split into words, no shell) at every critical raise, with "
                   "the event in BRT_* environment variables");
    MonitorCtlOptions ctl_options;
    CLI::App* ctl = add_monitor_ctl(app, ctl_options);
    app.footer(fmt::format(
        "Examples:\n"
        "  {0}                               watch everything, text events\n"
        "  {0} ctl list                      the alarm list of the running monitor\n"
        "  {0} ctl ack 12                    acknowledge alarm #12 (ctl ack all: every one)\n"
        "  {0} ctl shelve 7 --for 1800       shelve alarm #7 for half an hour\n"
        "  {0} --format json --min-severity warning\n"
        "  {0} --rack 3 --exit-on critical   for scripts: exit 3 at the first critical alarm\n"
        "  {0} --config /etc/brt/brt_telemetry/anomaly-monitor.conf --nmc-voltage-max "
        "4.1,4.15,4.2\n"
        "Exit codes: 0 stopped (SIGINT/SIGTERM, --duration, --frames), 1 runtime failure "
        "(no segment...), 2 bad usage or config file, 3 an alarm matched --exit-on.\n"
        "Details: docs/anomaly-monitor.md",
        tool_name("anomaly_monitor")));

    return run_tool(app, argc, argv, [&]() {
        options.shm_name = normalize_shm_name(options.shm_name);
        if (ctl->parsed()) {
            return run_monitor_ctl(options.shm_name, ctl_options);
        }
        options.config = alarm_options.config();
        options.format = format == "json" ? OutputFormat::json : OutputFormat::text;
        options.min_severity = *parse_severity(min_severity);
        if (!exit_on.empty()) {
            options.exit_on = parse_severity(exit_on);
        }
        if (rack >= 0) {
            options.rack = static_cast<std::uint32_t>(rack);
        } else if (rack != -1 || app.count("--rack") > 0) {
            throw UsageError(fmt::format("--rack must be 0 or more, got {}", rack));
        }
        install_stop_signal_handlers();
        return run_monitor(options);
    });
}
