#include "anomaly_monitor/ctl.hpp"

#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

#include <charconv>
#include <chrono>

#include "common/alarm/alarm_board.hpp"
#include "common/alarm/alarm_list.hpp"
#include "common/cli/exit_codes.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/clock.hpp"
#include "common/segment/command_ring.hpp"
#include "common/segment/errors.hpp"

namespace brt {

namespace {

// The longest wait for the monitor's answer: it answers every 50 ms.
constexpr double kMaxTimeoutS = 60;

std::uint64_t parse_alarm_id(const std::string& text, bool all_allowed) {
    if (all_allowed && text == "all") {
        return 0;
    }
    std::uint64_t id = 0;
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, id);
    if (text.empty() || error != std::errc() || stop != end || id == 0) {
        throw UsageError(
            fmt::format("alarm '{}': expected an alarm number from `ctl list` (1, 2, "
                        "...){}",
                        text, all_allowed ? " or all" : ""));
    }
    return id;
}

// "ctl alice": who acknowledged, as the list and the event line show it.
std::string ctl_origin() {
    const passwd* user = getpwuid(getuid());
    return user != nullptr ? fmt::format("ctl {}", user->pw_name)
                           : fmt::format("ctl uid {}", getuid());
}

int list(AlarmSegmentReader& reader, const MonitorCtlOptions& options) {
    const AlarmList alarms = read_alarm_list(reader, true, realtime_ns());
    if (options.json) {
        JsonWriter json;
        write_alarm_list_json(json, alarms, options.show_suppressed);
        fmt::print("{}\n", json.str());
    } else {
        fmt::print("{}", alarm_list_text(alarms, options.show_suppressed));
    }
    return kExitOk;
}

void print_answer(const MonitorCtlOptions& options, const std::string& what,
                  std::string_view status, bool applied, const std::string& text) {
    if (!options.json) {
        fmt::print("{}: {}\n", what, text);
        return;
    }
    JsonWriter json;
    json.begin_object().key("command").value(what).key("status").value(status);
    json.key("applied").value(applied).end_object();
    fmt::print("{}\n", json.str());
}

}  // namespace

CLI::App* add_monitor_ctl(CLI::App& app, MonitorCtlOptions& options) {
    CLI::App* ctl = app.add_subcommand(
        "ctl", "Work the alarm list of the running monitor: list, acknowledge, shelve");
    ctl->require_subcommand(1);
    ctl->add_flag("--json", options.json, "JSON output");
    ctl->add_option("--timeout", options.timeout_s, "Seconds to wait for the monitor's answer")
        ->check(CLI::Range(0.1, kMaxTimeoutS))
        ->capture_default_str();
    options.list = ctl->add_subcommand("list", "Print the alarm list");
    options.list->add_flag("--show-suppressed", options.show_suppressed,
                           "Also the consequential alarms suppressed by design");
    options.ack = ctl->add_subcommand(
        "ack", "Acknowledge an alarm (its number in `ctl list`), or all of them");
    options.ack->add_option("alarm", options.alarm, "Alarm number, or all")->required();
    options.shelve = ctl->add_subcommand(
        "shelve", "Shelve an alarm for a while: not annunciated, also when it comes back");
    options.shelve->add_option("alarm", options.alarm, "Alarm number")->required();
    options.shelve->add_option("--for", options.shelve_s, "Seconds to shelve it (at most a day)")
        ->check(CLI::Range(1.0, kMaxShelveS))
        ->capture_default_str();
    options.unshelve = ctl->add_subcommand("unshelve", "Unshelve an alarm now");
    options.unshelve->add_option("alarm", options.alarm, "Alarm number")->required();
    // `ctl list --json` as well as `ctl --json list`.
    for (CLI::App* command : {options.list, options.ack, options.shelve, options.unshelve}) {
        command->fallthrough();
    }
    return ctl;
}

int run_monitor_ctl(const std::string& shm_name, const MonitorCtlOptions& options) {
    AlarmSegmentReader reader(alarm_segment_name(shm_name));
    if (options.list->parsed()) {
        return list(reader, options);
    }
    Command command;
    std::string what;
    if (options.ack->parsed()) {
        command.kind = CommandKind::alarm_acknowledge;
        command.target_id = parse_alarm_id(options.alarm, true);
        what = command.target_id == 0 ? "acknowledge all" : "acknowledge #" + options.alarm;
    } else if (options.shelve->parsed()) {
        command.kind = CommandKind::alarm_shelve;
        command.target_id = parse_alarm_id(options.alarm, false);
        command.args[0] = options.shelve_s;
        what = fmt::format("shelve #{} for {} s", options.alarm, options.shelve_s);
    } else {
        command.kind = CommandKind::alarm_unshelve;
        command.target_id = parse_alarm_id(options.alarm, false);
        what = "unshelve #" + options.alarm;
    }
    set_command_origin(command, ctl_origin());
    if (!reader.try_attach()) {
        throw SegmentError(SegmentErrorKind::no_segment,
                           fmt::format("no alarm segment {}: the alarm monitor is not running "
                                       "(start brt-anomaly-monitor)",
                                       reader.name()));
    }
    const WriterStatus monitor = reader.writer_status();
    if (monitor.liveness != Liveness::live) {
        print_answer(options, what, "no monitor", false,
                     fmt::format("the alarm monitor is not running ({}: {}): nothing was sent",
                                 liveness_name(monitor.liveness), monitor.detail));
        return kExitRuntimeFailure;
    }
    CommandRing& ring = reader.commands();
    const auto position = ring.post(command);
    if (!position) {
        print_answer(options, what, "ring full", false,
                     "the monitor's command ring is full: it is not taking commands");
        return kExitRuntimeFailure;
    }
    const auto timeout = std::chrono::milliseconds(static_cast<long>(options.timeout_s * 1000));
    const auto status = ring.wait_for_result(*position, timeout);
    if (!status) {
        print_answer(
            options, what, "no answer", false,
            fmt::format("no answer within {} s from the alarm monitor", options.timeout_s));
        return kExitRuntimeFailure;
    }
    const bool applied = *status == CommandStatus::applied;
    std::string text(command_status_name(*status));
    if (*status == CommandStatus::rejected_target) {
        text = fmt::format("no alarm #{} in the list (see `ctl list`)", options.alarm);
    }
    print_answer(options, what, command_status_name(*status), applied, text);
    return applied ? kExitOk : kExitRuntimeFailure;
}

}  // namespace brt
