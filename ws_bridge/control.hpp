// Run-time control over HTTP: POST /api/v1/scenarios/apply,
// /api/v1/scenarios/clear, /api/v1/racks/{r}/mode, /api/v1/simulation/pause,
// /api/v1/simulation/resume and /api/v1/ambient post commands to the
// segment's command ring, and POST /api/v1/alarms/.../acknowledge, shelve
// and unshelve (alarm_commands.hpp) to the alarm monitor's, for requests
// that carry the configured token.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/alarm_segment/alarm_segment_file.hpp"
#include "common/segment/segment_file.hpp"
#include "ws_bridge/bridge_stats.hpp"
#include "ws_bridge/http_reply.hpp"

namespace brt::bridge {

// A command in the ring whose answer the HTTP session is waiting for.
// Exactly one of the two segments is set: the ring it went to.
struct PendingCommand {
    std::shared_ptr<const MappedSegment> segment;             // the simulator's
    std::shared_ptr<const MappedAlarmSegment> alarm_segment;  // the alarm monitor's
    std::uint64_t position = 0;
    std::string what;
    std::uint64_t alarm_id = 0;  // an alarm command's target (0: all)
};

class ControlService {
  public:
    // `token` empty: control is disabled and every request gets 403.
    // Throws UsageError when the name leaves no room for its alarm
    // segment's (alarm_segment_name).
    ControlService(std::string normalized_shm_name, std::string token, BridgeStats& stats);

    static bool is_control_path(std::string_view path);
    bool enabled() const { return !token_.empty(); }

    // Checks the token and the body, posts the command. A reply when it ends
    // here (refused, malformed, ring full, no alarm monitor), else the
    // command to wait for. `peer` (the client's address) becomes an alarm
    // command's origin, "rest <peer>".
    std::variant<HttpReply, PendingCommand> submit(std::string_view path, std::string_view body,
                                                   std::string_view authorization,
                                                   std::string_view peer = {}) const;
    // The reply once the writer answered, empty while it is pending.
    std::optional<HttpReply> poll(const PendingCommand& pending) const;
    // The reply when the writer did not answer in time: 202 for the
    // simulator (its next run acts on it), 503 for the alarm monitor.
    HttpReply no_answer(const PendingCommand& pending) const;

  private:
    std::variant<HttpReply, PendingCommand> submit_alarm(const std::vector<std::string_view>& parts,
                                                         std::string_view body,
                                                         std::string_view peer) const;

    std::string shm_name_;
    std::string alarm_name_;
    std::string token_;
    BridgeStats& stats_;
};

// The token in a --control-token-file: its first line, without surrounding
// blanks. Throws UsageError when the file cannot be read or holds no token.
std::string read_token_file(const std::string& path);

}  // namespace brt::bridge
