#include "simulator/ctl.hpp"

#include <fmt/format.h>

#include <optional>

#include "common/cli/exit_codes.hpp"
#include "common/control/control_command.hpp"
#include "common/control/scenario.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/command_ring.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/liveness.hpp"
#include "common/segment/segment_file.hpp"
#include "simulator/simulation_config.hpp"

namespace brt {

namespace {

void add_index_option(CLI::App* command, const char* name, std::optional<std::int64_t>& index,
                      const char* help) {
    // A callback rather than a sentinel value, so that "not given" (all) and
    // a negative index (a mistake) stay apart.
    command->add_option_function<std::int64_t>(
        name, [&index](const std::int64_t& value) { index = value; }, help);
}

void add_target_options(CLI::App* command, CtlOptions& options) {
    add_index_option(command, "--rack", options.rack, "Rack (default: all)");
    add_index_option(command, "--module", options.module, "Module within the rack");
    add_index_option(command, "--cell", options.cell, "Cell within the module");
}

// `count`: how many the segment has (the error names the range); an index
// beyond it is refused later, by target_cells, with the same range.
std::uint32_t index_or_all(const char* option, const char* what,
                           const std::optional<std::int64_t>& value, std::uint32_t count) {
    if (!value) {
        return kAllTargets;
    }
    if (*value < 0) {
        throw UsageError(
            fmt::format("{} {} is out of range: this segment has {} 0..{} (leave {} "
                        "out for all of them)",
                        option, *value, what, count - 1, option));
    }
    if (*value >= kAllTargets) {  // not an index any segment can have
        throw UsageError(fmt::format("{} {} is out of range: this segment has {} 0..{}", option,
                                     *value, what, count - 1));
    }
    return static_cast<std::uint32_t>(*value);
}

Target target_of(const CtlOptions& options, const Geometry& geometry) {
    return {index_or_all("--rack", "racks", options.rack, geometry.racks),
            index_or_all("--module", "modules", options.module, geometry.modules_per_rack),
            index_or_all("--cell", "cells", options.cell, geometry.cells_per_module)};
}

void check_timeout(double timeout_s) {
    if (!(timeout_s >= 0 && timeout_s <= kMaxCtlTimeoutS)) {  // NaN fails both
        throw UsageError(
            fmt::format("--timeout {} is out of range: use 0 (post without waiting) to {} seconds",
                        timeout_s, kMaxCtlTimeoutS));
    }
}

ControlCommand build_command(const CtlOptions& options, const Geometry& geometry) {
    const Target target = target_of(options, geometry);
    if (options.apply->parsed()) {
        const ScenarioInfo* info = find_scenario(options.scenario);
        if (info == nullptr) {
            throw UsageError(fmt::format(
                "unknown scenario '{}' (see brt-simulator --list-scenarios)", options.scenario));
        }
        const auto fault = parse_fault_kind(options.fault_kind);
        if (!fault) {
            throw UsageError(fmt::format("--kind {}: use stuck, offset, dropout or open_wire",
                                         options.fault_kind));
        }
        ScenarioSpec spec;
        spec.kind = info->kind;
        spec.target = target;
        spec.start_s = options.start_s;
        spec.duration_s = options.duration_s;
        spec.magnitude = options.magnitude;
        spec.fault = *fault;
        spec.sensor = parse_fault_sensor(options.sensor);
        return make_apply_command(spec, geometry);
    }
    if (options.clear->parsed()) {
        return make_clear_command(options.scenario, target, geometry);
    }
    if (options.set_mode->parsed()) {
        if (options.module || options.cell) {
            throw UsageError("a mode applies to a whole rack: give --rack only");
        }
        return make_mode_command(target.rack, options.mode, options.current_a, options.power_w,
                                 geometry);
    }
    if (options.reset->parsed()) {
        if (options.module || options.cell) {
            throw UsageError("a protection reset applies to a whole rack: give --rack only");
        }
        if (target.rack != kAllTargets && target.rack >= geometry.racks) {
            throw UsageError(fmt::format("--rack {} is out of range: this segment has racks 0..{}",
                                         target.rack, geometry.racks - 1));
        }
        return make_reset_command(target.rack, geometry);
    }
    if (options.ambient->parsed()) {
        return make_ambient_command(options.ambient_c);
    }
    return options.pause->parsed() ? make_pause_command() : make_resume_command();
}

}  // namespace

CLI::App* add_ctl_subcommand(CLI::App& app, CtlOptions& options) {
    CLI::App* ctl = app.add_subcommand(
        "ctl", "Send a command to the running simulator through the segment's command ring");
    ctl->require_subcommand(1);
    ctl->fallthrough();  // --shm-name and --json may come after `ctl`
    ctl->add_option("--timeout", options.timeout_s, "Seconds to wait for the answer")
        ->capture_default_str();
    ctl->add_flag("--json", options.json, "Print the answer as JSON");

    options.apply = ctl->add_subcommand("apply", "Apply a scenario");
    options.apply->add_option("scenario", options.scenario, "Scenario name (--list-scenarios)")
        ->required();
    add_target_options(options.apply, options);
    options.apply->add_option("--start", options.start_s, "Seconds from now");
    options.apply->add_option("--duration", options.duration_s, "Seconds; 0 until cleared");
    options.apply->add_option("--magnitude", options.magnitude, "See --list-scenarios");
    options.apply
        ->add_option("--kind", options.fault_kind,
                     "sensor_fault kind: stuck, offset, dropout, open_wire")
        ->capture_default_str();
    options.apply
        ->add_option("--sensor", options.sensor, "sensor_fault sensor: voltage, temperature")
        ->capture_default_str();

    options.clear = ctl->add_subcommand("clear", "Clear scenarios (all, or one by name)");
    options.clear->add_option("scenario", options.scenario, "Scenario name, or all");
    add_target_options(options.clear, options);

    options.set_mode = ctl->add_subcommand("mode", "Set a rack's operating mode");
    options.set_mode
        ->add_option("mode", options.mode, "idle, charge, float, discharge, equalize, profile")
        ->required();
    add_target_options(options.set_mode, options);
    options.set_mode->add_option("--current", options.current_a, "Discharge demand, A");
    options.set_mode->add_option("--power", options.power_w, "Discharge demand, W");

    options.ambient = ctl->add_subcommand("ambient", "Set the ambient temperature");
    options.ambient->add_option("temperature_c", options.ambient_c, "Degrees Celsius")->required();
    options.pause = ctl->add_subcommand("pause", "Pause the simulation (the writer stays live)");
    options.resume = ctl->add_subcommand("resume", "Resume a paused simulation");
    options.reset = ctl->add_subcommand(
        "reset",
        "Close a rack's contactor after its protection tripped (refused while the "
        "fault holds)");
    add_target_options(options.reset, options);
    for (CLI::App* command : {options.apply, options.clear, options.set_mode, options.ambient,
                              options.pause, options.resume, options.reset}) {
        command->fallthrough();  // --json and --timeout after the command
    }
    return ctl;
}

namespace {

// One line of text, or one JSON object: the command, its ring position, the
// writer's status (or "posted", "no answer") and whether it was applied
// (null when not waited for).
void print_answer(const CtlOptions& options, const std::string& what, std::uint64_t position,
                  std::string_view status, std::optional<bool> applied, const std::string& text) {
    if (!options.json) {
        fmt::print("{}: {}\n", what, text);
        return;
    }
    JsonWriter json;
    json.begin_object().key("command").value(what).key("position").value(position);
    json.key("status").value(status).key("applied");
    if (applied) {
        json.value(*applied);
    } else {
        json.null();
    }
    json.end_object();
    fmt::print("{}\n", json.str());
}

}  // namespace

int run_ctl(const std::string& shm_name, const CtlOptions& options) {
    check_timeout(options.timeout_s);
    const MappedSegment segment = open_segment(shm_name, SegmentAccess::reader);
    const ControlCommand built = build_command(options, segment.layout().geometry);
    const std::string& what = built.what;
    const std::uint64_t position = post_command(segment, built.command);
    if (options.timeout_s == 0) {
        // Fire and forget: the command is in the ring, which is all this run
        // promises; whether the simulator applies it is not known here.
        print_answer(options, what, position, "posted", std::nullopt,
                     "posted, not waiting for the answer");
        return kExitOk;
    }
    CommandRing ring(segment);
    const auto timeout = std::chrono::milliseconds(static_cast<long>(options.timeout_s * 1000));
    const auto status = ring.wait_for_result(position, timeout);
    if (!status) {
        const WriterStatus writer = read_writer_status(segment);
        print_answer(options, what, position, "no answer", false,
                     fmt::format("no answer within {} s: the simulator is {} ({}); the command "
                                 "stays queued for the next simulator",
                                 options.timeout_s, liveness_name(writer.liveness), writer.detail));
        return kExitRuntimeFailure;
    }
    const bool applied = *status == CommandStatus::applied;
    const std::string name(command_status_name(*status));
    print_answer(options, what, position, name, applied, name);
    return applied ? kExitOk : kExitRuntimeFailure;
}

}  // namespace brt
