#include "ws_bridge/control.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/alarm_segment/alarm_segment_file.hpp"
#include "common/control/control_command.hpp"
#include "common/control/scenario.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/command_ring.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/liveness.hpp"
#include "ws_bridge/alarm_commands.hpp"
#include "ws_bridge/rest_api.hpp"
#include "ws_bridge/views.hpp"

namespace brt::bridge {

namespace {

using nlohmann::json;

struct BadRequest {
    unsigned status;
    std::string message;
};

// Compares without an early exit, so the time taken does not tell an
// attacker how many leading characters of a guess were right.
bool same_secret(std::string_view a, std::string_view b) {
    unsigned char difference = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size(); ++i) {
        difference |= static_cast<unsigned char>(a[i] ^ b[i % std::max<std::size_t>(b.size(), 1)]);
    }
    return difference == 0 && !b.empty();
}

std::uint32_t target_index(const json& body, const char* key) {
    const auto found = body.find(key);
    if (found == body.end() || found->is_null() ||
        (found->is_string() && found->get<std::string>() == "all")) {
        return kAllTargets;
    }
    if (found->is_number_unsigned() && found->get<std::uint64_t>() < kAllTargets) {
        return static_cast<std::uint32_t>(found->get<std::uint64_t>());
    }
    throw BadRequest{400, fmt::format("\"{}\" must be a non-negative integer or \"all\", got {}",
                                      key, found->dump())};
}

double number_field(const json& body, const char* key, double fallback) {
    const auto found = body.find(key);
    if (found == body.end() || found->is_null()) {
        return fallback;
    }
    if (!found->is_number() || !std::isfinite(found->get<double>())) {
        throw BadRequest{400, fmt::format("\"{}\" must be a number, got {}", key, found->dump())};
    }
    return found->get<double>();
}

std::string string_field(const json& body, const char* key, const std::string& fallback) {
    const auto found = body.find(key);
    if (found == body.end() || found->is_null()) {
        return fallback;
    }
    if (!found->is_string()) {
        throw BadRequest{400, fmt::format("\"{}\" must be a string, got {}", key, found->dump())};
    }
    return found->get<std::string>();
}

Target body_target(const json& body) {
    return {target_index(body, "rack"), target_index(body, "module"), target_index(body, "cell")};
}

// The shared makers check everything else and name what is wrong.
ControlCommand apply_command(const json& body, const Geometry& geometry) {
    ScenarioSpec spec;
    if (const auto text = body.find("spec"); text != body.end()) {
        // The simulator's own spec syntax, e.g. "thermal_runaway:rack=3,module=2".
        if (!text->is_string()) {
            throw BadRequest{400, "\"spec\" must be a string like \"hvac_failure:rack=2\""};
        }
        spec = parse_scenario_spec(text->get<std::string>());
    } else {
        const std::string name = string_field(body, "scenario", "");
        const ScenarioInfo* info = find_scenario(name);
        if (info == nullptr) {
            throw BadRequest{400, fmt::format("unknown scenario \"{}\": GET /api/v1/scenarios "
                                              "lists them",
                                              name)};
        }
        spec.kind = info->kind;
        spec.target = body_target(body);
        spec.start_s = number_field(body, "start_s", 0);
        spec.duration_s = number_field(body, "duration_s", 0);
        spec.magnitude = number_field(body, "magnitude", NAN);
        const auto fault = parse_fault_kind(string_field(body, "kind", "dropout"));
        if (!fault) {
            throw BadRequest{400, "\"kind\" must be stuck, offset, dropout or open_wire"};
        }
        spec.fault = *fault;
        spec.sensor = parse_fault_sensor(string_field(body, "sensor", "voltage"));
    }
    return make_apply_command(spec, geometry);
}

ControlCommand clear_command(const json& body, const Geometry& geometry) {
    return make_clear_command(string_field(body, "scenario", "all"), body_target(body), geometry);
}

ControlCommand mode_command(std::uint32_t rack, const json& body, const Geometry& geometry) {
    try {
        rack_range(geometry, rack);
    } catch (const UsageError& error) {
        throw BadRequest{404, error.what()};  // the rack is in the path: no such resource
    }
    return make_mode_command(rack, string_field(body, "mode", ""),
                             number_field(body, "current_a", 0), number_field(body, "power_w", 0),
                             geometry);
}

ControlCommand ambient_command(const json& body) {
    const auto found = body.find("temperature_c");
    if (found == body.end() || !found->is_number()) {
        throw BadRequest{400,
                         "the body must name the ambient temperature, e.g. "
                         "{\"temperature_c\":35}"};
    }
    return make_ambient_command(found->get<double>());
}

// POST /api/v1/racks/R/reset: close the contactor the rack's protection opened.
ControlCommand reset_command(std::uint32_t rack, const Geometry& geometry) {
    try {
        return make_reset_command(rack, geometry);
    } catch (const UsageError& error) {
        throw BadRequest{404, error.what()};  // the rack is in the path: no such resource
    }
}

std::string answer_json(const PendingCommand& pending, std::string_view status) {
    JsonWriter json;
    json.begin_object();
    json.key("command").value(pending.what);
    json.key("position").value(pending.position);
    json.key("status").value(status);
    json.end_object();
    return json.str();
}

}  // namespace

ControlService::ControlService(std::string normalized_shm_name, std::string token,
                               BridgeStats& stats)
    : shm_name_(std::move(normalized_shm_name)),
      alarm_name_(alarm_segment_name(shm_name_)),
      token_(std::move(token)),
      stats_(stats) {}

bool ControlService::is_control_path(std::string_view path) {
    const auto parts = split_path(path);
    if (parts.size() < 3 || parts[0] != "api" || parts[1] != "v1") {
        return false;
    }
    return (parts.size() == 4 && parts[2] == "scenarios" &&
            (parts[3] == "apply" || parts[3] == "clear")) ||
           (parts.size() == 5 && parts[2] == "racks" &&
            (parts[4] == "mode" || parts[4] == "reset")) ||
           (parts.size() == 4 && parts[2] == "simulation" &&
            (parts[3] == "pause" || parts[3] == "resume")) ||
           (parts.size() == 3 && parts[2] == "ambient") || is_alarm_command_path(parts);
}

std::variant<HttpReply, PendingCommand> ControlService::submit(std::string_view path,
                                                               std::string_view body_text,
                                                               std::string_view authorization,
                                                               std::string_view peer) const {
    if (token_.empty()) {
        return HttpReply::json(
            403, error_json("control is disabled: start the bridge with --control-token-file "
                            "FILE (a file holding a secret token) and send the token as "
                            "'Authorization: Bearer TOKEN'"));
    }
    constexpr std::string_view kBearer = "Bearer ";
    const std::string_view given = authorization.starts_with(kBearer)
                                       ? authorization.substr(kBearer.size())
                                       : std::string_view{};
    if (!same_secret(given, token_)) {
        return HttpReply::json(
            403, error_json(authorization.empty()
                                ? "control needs the token: send 'Authorization: Bearer TOKEN' "
                                  "with the token from the bridge's --control-token-file"
                                : "wrong token: send 'Authorization: Bearer TOKEN' with the "
                                  "token from the bridge's --control-token-file"));
    }
    if (const auto parts = split_path(path); is_alarm_command_path(parts)) {
        return submit_alarm(parts, body_text, peer);
    }
    try {
        const json body =
            body_text.empty() ? json::object() : json::parse(body_text, nullptr, false);
        if (body.is_discarded() || !body.is_object()) {
            throw BadRequest{400,
                             "the body must be one JSON object, e.g. "
                             "{\"scenario\":\"hvac_failure\",\"rack\":2}"};
        }
        auto segment = std::make_shared<const MappedSegment>([&] {
            try {
                return open_segment(shm_name_, SegmentAccess::reader);
            } catch (const SegmentError& error) {
                throw BadRequest{503, error.what()};
            }
        }());
        const Geometry& geometry = segment->layout().geometry;
        const auto parts = split_path(path);
        ControlCommand built;
        try {
            if (parts[2] == "scenarios" && parts[3] == "apply") {
                built = apply_command(body, geometry);
            } else if (parts[2] == "scenarios") {
                built = clear_command(body, geometry);
            } else if (parts[2] == "simulation") {
                built = parts[3] == "pause" ? make_pause_command() : make_resume_command();
            } else if (parts[2] == "ambient") {
                built = ambient_command(body);
            } else {
                const auto rack = parse_index(parts[3]);
                if (!rack) {
                    throw BadRequest{400, "racks are numbered from 0"};
                }
                if (parts[4] == "reset") {
                    built = reset_command(*rack, geometry);
                } else {
                    built = mode_command(*rack, body, geometry);
                }
            }
        } catch (const UsageError& error) {
            throw BadRequest{
                400,
                fmt::format("{} (this segment has {} racks x {} modules x {} cells)", error.what(),
                            geometry.racks, geometry.modules_per_rack, geometry.cells_per_module)};
        }
        const std::uint64_t position = [&] {
            try {
                return post_command(*segment, built.command);
            } catch (const SegmentError& error) {
                throw BadRequest{503, error.what()};
            }
        }();
        BridgeStats::bump(stats_.control_commands_total);
        return PendingCommand{std::move(segment), nullptr, position, std::move(built.what), 0};
    } catch (const BadRequest& bad) {
        return HttpReply::json(bad.status, error_json(bad.message));
    }
}

std::variant<HttpReply, PendingCommand> ControlService::submit_alarm(
    const std::vector<std::string_view>& parts, std::string_view body,
    std::string_view peer) const {
    auto request = alarm_request(parts, body, peer);
    if (auto* refused = std::get_if<HttpReply>(&request)) {
        return std::move(*refused);
    }
    AlarmRequest& alarm = std::get<AlarmRequest>(request);
    std::shared_ptr<const MappedAlarmSegment> segment;
    try {
        segment = std::make_shared<const MappedAlarmSegment>(open_alarm_segment(
            alarm_name_, AlarmSegmentAccess::reader, std::chrono::milliseconds(0)));
    } catch (const SegmentError& error) {
        return alarm_monitor_unavailable(error.what());
    }
    // A command left in a dead monitor's ring would be applied by the next
    // monitor, minutes or days later: only a live one gets it.
    const AlarmSegmentHeader& header = segment->header();
    const WriterStatus monitor = judge_header_writer(
        header, header.latest_version.load(std::memory_order_acquire), segment->fd());
    if (monitor.liveness != Liveness::live) {
        return alarm_monitor_unavailable(
            fmt::format("{}: {}", liveness_name(monitor.liveness), monitor.detail));
    }
    const auto position = segment->command_ring().post(alarm.command);
    if (!position) {
        return alarm_monitor_unavailable("its command ring is full: it is not taking commands");
    }
    BridgeStats::bump(stats_.alarm_commands_total);
    return PendingCommand{nullptr, std::move(segment), *position, std::move(alarm.what),
                          alarm.command.target_id};
}

std::optional<HttpReply> ControlService::poll(const PendingCommand& pending) const {
    if (pending.alarm_segment) {
        const auto status = pending.alarm_segment->command_ring().result(pending.position);
        if (!status) {
            return std::nullopt;
        }
        return alarm_answer(pending.what, pending.alarm_id, pending.position, *status);
    }
    const auto status = CommandRing(*pending.segment).result(pending.position);
    if (!status) {
        return std::nullopt;
    }
    const unsigned code = *status == CommandStatus::applied ? 200 : 422;
    return HttpReply::json(code, answer_json(pending, command_status_name(*status)));
}

HttpReply ControlService::no_answer(const PendingCommand& pending) const {
    if (pending.alarm_segment) {
        return alarm_monitor_unavailable(
            "it did not answer within 2 s: stopped or hung; it may still act on the command when "
            "it resumes",
            true);
    }
    // Accepted into the ring: the next simulator to run will act on it.
    return HttpReply::json(202, answer_json(pending, "pending"));
}

std::string read_token_file(const std::string& path) {
    std::ifstream file(path);
    if (!file) {
        throw UsageError(
            fmt::format("--control-token-file {}: cannot read it ({})", path, errno_text(errno)));
    }
    std::string token;
    std::getline(file, token);
    const auto first = token.find_first_not_of(" \t\r");
    const auto last = token.find_last_not_of(" \t\r");
    token = first == std::string::npos ? "" : token.substr(first, last - first + 1);
    if (token.size() < 8) {
        throw UsageError(fmt::format(
            "--control-token-file {}: its first line must hold a token of at least 8 characters "
            "(e.g. from 'head -c 24 /dev/urandom | base64')",
            path));
    }
    struct stat file_status {};
    if (stat(path.c_str(), &file_status) == 0 && (file_status.st_mode & 0007) != 0) {
        throw UsageError(fmt::format(
            "--control-token-file {}: other users can read it; chmod o-rwx {} first", path, path));
    }
    return token;
}

}  // namespace brt::bridge
