// Run-time control over HTTP: POST /api/v1/scenarios/apply,
// /api/v1/scenarios/clear and /api/v1/racks/{r}/mode post commands to the
// segment's command ring, for requests that carry the configured token.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/segment/segment_file.hpp"
#include "ws_bridge/bridge_stats.hpp"
#include "ws_bridge/http_reply.hpp"

namespace brt::bridge {

// A command in the ring whose answer the HTTP session is waiting for.
struct PendingCommand {
    std::shared_ptr<const MappedSegment> segment;
    std::uint64_t position = 0;
    std::string what;
};

class ControlService {
  public:
    // `token` empty: control is disabled and every request gets 403.
    ControlService(std::string normalized_shm_name, std::string token, BridgeStats& stats);

    static bool is_control_path(std::string_view path);
    bool enabled() const { return !token_.empty(); }

    // Checks the token and the body, posts the command. A reply when it ends
    // here (refused, malformed, ring full), else the command to wait for.
    std::variant<HttpReply, PendingCommand> submit(std::string_view path, std::string_view body,
                                                   std::string_view authorization) const;
    // The reply once the writer answered, empty while it is pending.
    std::optional<HttpReply> poll(const PendingCommand& pending) const;
    // The reply when the writer did not answer in time.
    HttpReply no_answer(const PendingCommand& pending) const;

  private:
    std::string shm_name_;
    std::string token_;
    BridgeStats& stats_;
};

// The token in a --control-token-file: its first line, without surrounding
// blanks. Throws UsageError when the file cannot be read or holds no token.
std::string read_token_file(const std::string& path);

}  // namespace brt::bridge
