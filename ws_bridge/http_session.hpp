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
#include "ws_bridge/server_context.hpp"

namespace brt::bridge {

class HttpSession : public std::enable_shared_from_this<HttpSession>, public Connection {
  public:
    HttpSession(tcp::socket&& socket, ServerContext& context);
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
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::shared_ptr<http::response<http::string_body>> response_;
    asio::steady_timer timer_;
    bool head_ = false;
    bool closed_ = false;
};

}  // namespace brt::bridge
