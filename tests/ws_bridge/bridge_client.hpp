// A small HTTP and WebSocket client for the bridge's tests (Boost.Beast
// underneath, kept out of this header so test files compile quickly), and
// brt-ws-bridge started as a user would start it.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/test_segment.hpp"

namespace brt::test {

using Json = nlohmann::json;
using namespace std::chrono_literals;

struct HttpResult {
    unsigned status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // names in lower case
    Json json() const { return Json::parse(body); }
};

HttpResult http_request(unsigned short port, const std::string& method, const std::string& target,
                        const std::string& body = {},
                        const std::vector<std::pair<std::string, std::string>>& headers = {},
                        std::chrono::milliseconds timeout = 10s);
inline HttpResult http_get(unsigned short port, const std::string& target) {
    return http_request(port, "GET", target);
}
// Sends `bytes` as they are and returns what came back until the server
// closed the connection (or the timeout).
std::string raw_exchange(unsigned short port, const std::string& bytes,
                         std::chrono::milliseconds timeout = 10s);

// What came back on a raw connection, and whether the server ended it: the
// idle-timeout tests tell "closed by the bridge" from "our own timeout".
struct RawReply {
    std::string bytes;
    bool closed_by_server = false;  // false: `timeout` passed with the connection open
};
RawReply raw_exchange_until_closed(unsigned short port, const std::string& bytes,
                                   std::chrono::milliseconds timeout);

// A WebSocket client without a WebSocket library: the handshake on
// `path`, then each of `texts` as a client text frame (masked with the key
// 0, so its payload reads as it is); returns the bytes that came back after
// the handshake response, as they were on the wire, until the timeout. Throws
// when the server does not switch protocols.
std::string raw_websocket_exchange(unsigned short port, const std::string& path,
                                   const std::vector<std::string>& texts,
                                   std::chrono::milliseconds timeout);
// The same, saying whether the server closed the connection. The client
// reads everything but never writes again, so it never answers a ping.
RawReply raw_websocket_until_closed(unsigned short port, const std::string& path,
                                    const std::vector<std::string>& texts,
                                    std::chrono::milliseconds timeout);

struct WsMessage {
    bool binary = false;
    std::string data;
    Json json() const { return Json::parse(data); }
};

class WsClient {
  public:
    // Connects and completes the handshake; throws std::runtime_error with
    // the server's HTTP status in the message when it refuses.
    explicit WsClient(unsigned short port, const std::string& path = "/api/v1/ws");
    ~WsClient();
    WsClient(const WsClient&) = delete;
    WsClient& operator=(const WsClient&) = delete;

    void send(const std::string& text);
    void send(const char* text) { send(std::string(text)); }
    void send(const Json& message) { send(message.dump()); }
    // The next message, or empty on timeout or once the connection closed.
    std::optional<WsMessage> read(std::chrono::milliseconds timeout = 10s);
    // Reads until a JSON message of this "type" (skipping others), or empty.
    std::optional<Json> read_type(const std::string& type, std::chrono::milliseconds timeout = 10s);
    // Reads until a binary message, or empty.
    std::optional<WsMessage> read_binary(std::chrono::milliseconds timeout = 10s);
    bool closed() const;
    // The close code the server sent (0 when none, e.g. the TCP connection just ended).
    unsigned close_code() const;
    // Pings the server sent that this client saw (and answered: Beast
    // answers while reading, i.e. during read()).
    unsigned pings_received() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// brt-ws-bridge on an ephemeral port; SIGTERM and reaped when destroyed.
class BridgeProcess {
  public:
    // `extra_env` entries ("NAME=value") are added to the bridge's environment.
    BridgeProcess(const std::string& shm_name, const std::vector<std::string>& extra_args = {},
                  const std::vector<std::string>& extra_env = {});
    ~BridgeProcess();
    BridgeProcess(const BridgeProcess&) = delete;
    BridgeProcess& operator=(const BridgeProcess&) = delete;

    unsigned short port() const { return port_; }
    pid_t pid() const { return pid_; }
    std::string log() const;
    // Sends SIGTERM and returns the exit code.
    int stop(int timeout_ms = 10000);

  private:
    pid_t pid_ = -1;
    unsigned short port_ = 0;
    std::string log_path_;
};

// Polls `condition` every 20 ms until it holds or `timeout` passes.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return condition();
}

// Whether the bridge soon serves frames from a live writer (/health 200).
inline bool becomes_live(const BridgeProcess& bridge) {
    return eventually([&] { return http_get(bridge.port(), "/health").status == 200; });
}

// A --control-token-file holding `token`, readable by its owner only;
// removed with the object.
struct TokenFile {
    std::string path = "/tmp/" + unique_segment_name("token");
    explicit TokenFile(const std::string& token) {
        std::ofstream(path) << token << "\n";
        chmod(path.c_str(), 0600);
    }
    TokenFile(const TokenFile&) = delete;
    TokenFile& operator=(const TokenFile&) = delete;
    ~TokenFile() { unlink(path.c_str()); }
};

// The headers of a control request with `token`.
inline std::vector<std::pair<std::string, std::string>> bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
}

}  // namespace brt::test
