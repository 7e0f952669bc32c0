// One HTTP connection: reads requests within the header and body limits,
// answers GETs from the latest snapshot, runs control POSTs, and hands
// WebSocket upgrades to a WsSession.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "ws_bridge/beast.hpp"
#include "ws_bridge/control.hpp"
#include "ws_bridge/peer_limit.hpp"
#include "ws_bridge/server_context.hpp"

namespace brt::bridge {

// The client's address as people write it: an IPv4 client of a dual-stack
// socket as 127.0.0.1, not ::ffff:127.0.0.1; "unknown" when it has gone.
std::string peer_address(const tcp::socket& socket);

class HttpSession : public std::enable_shared_from_this<HttpSession>, public Connection {
  public:
    // `peer_slot` counts the connection against its peer's limit for as long
    // as it is open (passed on to the WebSocket session it may become).
    HttpSession(tcp::socket&& socket, ServerContext& context, PeerSlot peer_slot);
    void run();

    void deliver(const SnapshotPtr&) override {}
    void close_for_shutdown() override;

  private:
    void do_read();
    void on_read(beast::error_code error, std::size_t bytes);
    void handle(http::request<http::string_body>&& request);
    void reply(const HttpReply& reply, bool keep_alive);
    void reply_and_close(unsigned status, const std::string& message);
    void on_write(bool close, beast::error_code error, std::size_t bytes);
    void wait_for_command(PendingCommand pending, bool keep_alive,
                          std::chrono::steady_clock::time_point deadline);
    void close();

    std::string peer_;  // the client's address, for the origin of alarm commands
    beast::tcp_stream stream_;
    ServerContext& context_;
    ConnectionGuard connection_guard_;
    PeerSlot peer_slot_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::shared_ptr<http::response<http::string_body>> response_;
    asio::steady_timer timer_;
    bool head_ = false;
    bool closed_ = false;
};

}  // namespace brt::bridge
