#include "ws_bridge/alarm_commands.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/alarm/alarm_board.hpp"
#include "common/control/command_status_key.hpp"
#include "common/json/json_writer.hpp"
#include "ws_bridge/views.hpp"

namespace brt::bridge {

namespace {

using nlohmann::json;

// Alarm ids count up from 1 and, like every counter in the segments, stay
// below 2^63 (docs/alarm-segment.md).
constexpr std::uint64_t kMaxAlarmId = std::numeric_limits<std::int64_t>::max();

HttpReply bad_request(std::string message) {
    return HttpReply::json(400, error_json(message));
}

std::optional<std::uint64_t> parse_alarm_id(std::string_view text) {
    if (text.empty() || text.size() > 19 ||
        text.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    std::uint64_t id = 0;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), id);
    if (result.ec != std::errc() || result.ptr != text.data() + text.size() || id == 0 ||
        id > kMaxAlarmId) {
        return std::nullopt;
    }
    return id;
}

std::string shelve_range_text() {
    return fmt::format("more than 0 and at most {} s (a day)", kMaxShelveS);
}

}  // namespace

bool is_alarm_command_path(const std::vector<std::string_view>& parts) {
    if (parts.size() < 4 || parts[0] != "api" || parts[1] != "v1" || parts[2] != "alarms") {
        return false;
    }
    if (parts.size() == 4) {
        return parts[3] == "acknowledge";
    }
    return parts.size() == 5 &&
           (parts[4] == "acknowledge" || parts[4] == "shelve" || parts[4] == "unshelve");
}

std::variant<AlarmRequest, HttpReply> alarm_request(const std::vector<std::string_view>& parts,
                                                    std::string_view body_text,
                                                    std::string_view peer) {
    AlarmRequest request;
    std::string_view action = parts.size() == 4 ? parts[3] : parts[4];
    if (parts.size() == 5) {
        const auto id = parse_alarm_id(parts[3]);
        if (!id) {
            return bad_request(fmt::format(
                "'{}' is not an alarm id: ids are whole numbers from 1 to {} (GET "
                "/api/v1/alarms lists them; POST /api/v1/alarms/acknowledge acknowledges all)",
                std::string(parts[3].substr(0, 40)), kMaxAlarmId));
        }
        request.command.target_id = *id;
    }
    const json body = body_text.empty() ? json::object() : json::parse(body_text, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        return bad_request(action == "shelve"
                               ? "the body must be one JSON object: {\"seconds\": 600}"
                               : "the body must be empty or one JSON object ({})");
    }
    const std::string id_text = request.command.target_id == 0
                                    ? std::string("every unacknowledged alarm")
                                    : fmt::format("alarm {}", request.command.target_id);
    if (action == "acknowledge") {
        request.command.kind = CommandKind::alarm_acknowledge;
        request.what = "acknowledge " + id_text;
    } else if (action == "unshelve") {
        request.command.kind = CommandKind::alarm_unshelve;
        request.what = "unshelve " + id_text;
    } else {
        const auto seconds = body.find("seconds");
        // nlohmann's parser refuses NaN and infinities in the text; a number
        // too large for a double arrives as infinity and is refused here.
        if (seconds == body.end() || !seconds->is_number() ||
            !std::isfinite(seconds->get<double>()) || seconds->get<double>() <= 0 ||
            seconds->get<double>() > kMaxShelveS) {
            return bad_request(fmt::format(
                "\"seconds\" must be a number, {}, e.g. {{\"seconds\": 600}}; got {}",
                shelve_range_text(),
                seconds == body.end() ? std::string("none") : seconds->dump().substr(0, 40)));
        }
        request.command.kind = CommandKind::alarm_shelve;
        request.command.args[0] = seconds->get<double>();
        request.what = fmt::format("shelve {} for {} s", id_text, seconds->get<double>());
    }
    set_command_origin(request.command, fmt::format("rest {}", peer));
    return request;
}

HttpReply alarm_answer(const std::string& what, std::uint64_t alarm_id, std::uint64_t position,
                       CommandStatus status) {
    unsigned code = 503;
    std::string error;
    switch (status) {
        case CommandStatus::applied:
            code = 200;
            break;
        case CommandStatus::rejected_target:
            code = 404;
            error = fmt::format(
                "no alarm {} in the alarm monitor's list (GET /api/v1/alarms lists them)",
                alarm_id);
            break;
        case CommandStatus::rejected_argument:
            code = 400;
            error = "the shelve duration must be " + shelve_range_text();
            break;
        case CommandStatus::rejected_unknown:
            code = 501;
            error =
                "the alarm monitor does not know this command: is brt-anomaly-monitor older "
                "than this bridge?";
            break;
        case CommandStatus::rejected_condition:  // the simulator's answer, never the monitor's
            code = 409;
            error = "the alarm monitor refused the command in its present state";
            break;
        case CommandStatus::pending:
        case CommandStatus::abandoned:
            error = "the alarm monitor skipped the command: try again";
            break;
    }
    JsonWriter json;
    json.begin_object();
    if (!error.empty()) {
        json.key("type").value("error");
        json.key("error").value(error);
    }
    json.key("command").value(what);
    json.key("alarm").value(alarm_id);
    json.key("position").value(position);
    json.key("status").value(command_status_key(status));
    json.end_object();
    return HttpReply::json(code, json.str());
}

HttpReply alarm_monitor_unavailable(std::string_view why, bool sent) {
    HttpReply reply =
        HttpReply::json(503, error_json(fmt::format("the alarm monitor is not running ({}): start "
                                                    "brt-anomaly-monitor{}",
                                                    why, sent ? "" : "; nothing was sent")));
    reply.headers.emplace_back("Retry-After", "5");
    return reply;
}

}  // namespace brt::bridge
