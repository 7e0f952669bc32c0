// Acknowledge, shelve and unshelve over HTTP: the requests of
//   POST /api/v1/alarms/acknowledge          every unacknowledged alarm
//   POST /api/v1/alarms/{id}/acknowledge
//   POST /api/v1/alarms/{id}/shelve          body {"seconds": N}, 0 < N <= 86400
//   POST /api/v1/alarms/{id}/unshelve
// checked and turned into commands for brt-anomaly-monitor's command ring
// (docs/alarm-segment.md), and the monitor's answers turned into HTTP
// answers. ControlService (control.hpp) checks the token and waits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/segment/command_ring.hpp"
#include "ws_bridge/http_reply.hpp"

namespace brt::bridge {

// A path of the list above, whatever its id looks like (a bad id is a 400
// from alarm_request, not a 404).
bool is_alarm_command_path(const std::vector<std::string_view>& parts);

struct AlarmRequest {
    Command command;   // kind, target_id, args[0] = seconds, origin
    std::string what;  // for people: "acknowledge alarm 3", "shelve alarm 3 for 600 s"
};

// The command for `parts` (split_path of a path is_alarm_command_path
// accepts) and the request body, with origin "rest <peer>". An HttpReply
// (400 with what is wrong and what is allowed) when the id or the body is
// not acceptable.
std::variant<AlarmRequest, HttpReply> alarm_request(const std::vector<std::string_view>& parts,
                                                    std::string_view body, std::string_view peer);

// The monitor's answer as an HTTP answer: applied 200, rejected_target 404,
// rejected_argument 400, anything else 503 (or 501 for a monitor that does
// not know the command).
HttpReply alarm_answer(const std::string& what, std::uint64_t alarm_id, std::uint64_t position,
                       CommandStatus status);
// 503 for a monitor that is not running (`why` says how it was found);
// `sent`: the command is in its ring nonetheless.
HttpReply alarm_monitor_unavailable(std::string_view why, bool sent = false);

}  // namespace brt::bridge
