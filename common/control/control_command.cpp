#include "common/control/control_command.hpp"

#include <fmt/format.h>

#include <cmath>

#include "common/control/rack_mode.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/liveness.hpp"

namespace brt {

namespace {

void set_target(Command& command, const Target& target) {
    command.rack = target.rack;
    command.module = target.module;
    command.cell = target.cell;
}

}  // namespace

ControlCommand make_apply_command(const ScenarioSpec& spec, const Geometry& geometry) {
    validate_scenario_spec(spec);
    target_cells(geometry, spec.target);  // names a target that does not exist
    return {
        encode_apply_command(spec),
        fmt::format("apply {} at {}", find_scenario(spec.kind)->name, target_text(spec.target))};
}

ControlCommand make_clear_command(std::string_view scenario, const Target& target,
                                  const Geometry& geometry) {
    target_cells(geometry, target);
    ControlCommand out;
    out.command.kind = CommandKind::clear_scenario;
    set_target(out.command, target);
    const bool all = scenario.empty() || scenario == "all";
    if (!all) {
        const ScenarioInfo* info = find_scenario(scenario);
        if (info == nullptr) {
            throw UsageError(fmt::format("unknown scenario '{}'", scenario));
        }
        out.command.code = static_cast<std::uint32_t>(info->kind);
    }
    out.what = fmt::format("clear {} at {}", all ? "all" : scenario, target_text(target));
    return out;
}

ControlCommand make_mode_command(std::uint32_t rack, std::string_view mode, double current_a,
                                 double power_w, const Geometry& geometry) {
    const Target target{rack, kAllTargets, kAllTargets};
    target_cells(geometry, target);
    const auto parsed = parse_rack_mode(mode);
    if (!parsed) {
        throw UsageError(fmt::format(
            "unknown mode '{}'; known: idle, charge, float, discharge, equalize, profile", mode));
    }
    if (!(current_a >= 0 && power_w >= 0 && std::isfinite(current_a) && std::isfinite(power_w))) {
        throw UsageError("the discharge current and power demands must be finite and not negative");
    }
    ControlCommand out;
    out.command.kind = CommandKind::set_rack_mode;
    set_target(out.command, target);
    out.command.code = static_cast<std::uint32_t>(*parsed);
    out.command.args[0] = current_a;
    out.command.args[1] = power_w;
    out.what = fmt::format("mode {} at {}", mode, target_text(target));
    return out;
}

ControlCommand make_ambient_command(double ambient_c) {
    if (!ambient_in_range(ambient_c)) {
        throw UsageError(
            fmt::format("ambient {} C is outside {}..{} C", ambient_c, kMinAmbientC, kMaxAmbientC));
    }
    ControlCommand out;
    out.command.kind = CommandKind::set_ambient;
    out.command.args[0] = ambient_c;
    out.what = fmt::format("ambient {} C", ambient_c);
    return out;
}

ControlCommand make_pause_command() {
    ControlCommand out;
    out.command.kind = CommandKind::pause;
    out.what = "pause";
    return out;
}

ControlCommand make_resume_command() {
    ControlCommand out;
    out.command.kind = CommandKind::resume;
    out.what = "resume";
    return out;
}

std::uint64_t post_command(const MappedSegment& segment, const Command& command) {
    const auto position = CommandRing(segment).post(command);
    if (!position) {
        const WriterStatus writer = read_writer_status(segment);
        throw SegmentError(SegmentErrorKind::system,
                           fmt::format("the command ring is full: the simulator is not taking "
                                       "commands ({}: {})",
                                       liveness_name(writer.liveness), writer.detail));
    }
    return *position;
}

}  // namespace brt
