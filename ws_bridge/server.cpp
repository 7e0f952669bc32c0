#include "ws_bridge/server.hpp"

#include <fmt/format.h>

#include <array>

#include "common/json/json_writer.hpp"
#include "common/segment/errors.hpp"
#include "ws_bridge/http_session.hpp"
#include "ws_bridge/message_memory.hpp"
#include "ws_bridge/views.hpp"

namespace brt::bridge {

tcp::endpoint parse_listen_address(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
        throw UsageError(
            fmt::format("--listen {}: use ADDRESS:PORT, e.g. 127.0.0.1:8080 or [::1]:8080", text));
    }
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    const std::string port_text = text.substr(colon + 1);
    unsigned long port = 70000;
    if (port_text.find_first_not_of("0123456789") == std::string::npos && port_text.size() <= 5) {
        port = std::stoul(port_text);
    }
    if (port > 65535) {
        throw UsageError(
            fmt::format("--listen {}: the port must be 0..65535 (0: any free port)", text));
    }
    beast::error_code error;
    const auto address = asio::ip::make_address(host, error);
    if (error) {
        throw UsageError(
            fmt::format("--listen {}: '{}' is not an IP address (use 127.0.0.1, 0.0.0.0, ::1 ...)",
                        text, host));
    }
    return {address, static_cast<unsigned short>(port)};
}

Server::Server(BridgeStats& stats, const BridgeLimits& limits, const ControlService& control,
               const AccessPolicy& access)
    : stats_(stats),
      acceptor_(io_),
      release_timer_(io_),
      hub_(io_, {limits.history_span_s, limits.history_max_bytes}),
      context_{hub_, stats_, limits, control, access} {}

Server::~Server() {
    stop(std::chrono::milliseconds(0));
}

tcp::endpoint Server::listen(const tcp::endpoint& endpoint) {
    beast::error_code error;
    const auto fail = [&](const char* what) {
        throw std::runtime_error(fmt::format("cannot listen on {}:{}: {} failed: {}",
                                             endpoint.address().to_string(), endpoint.port(), what,
                                             error.message()));
    };
    acceptor_.open(endpoint.protocol(), error);
    if (error) {
        fail("socket");
    }
    acceptor_.set_option(asio::socket_base::reuse_address(true), error);
    acceptor_.bind(endpoint, error);
    if (error) {
        fail("bind (another process on that port? pick another with --listen)");
    }
    acceptor_.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
        fail("listen");
    }
    return acceptor_.local_endpoint();
}

void Server::start(unsigned thread_count) {
    do_accept();
    schedule_memory_release();
    for (unsigned i = 0; i < thread_count; ++i) {
        threads_.emplace_back([this] { io_.run(); });
    }
}

void Server::do_accept() {
    // Each connection gets its own strand: its handlers never run concurrently.
    acceptor_.async_accept(asio::make_strand(io_),
                           beast::bind_front_handler(&Server::on_accept, this));
}

void Server::on_accept(beast::error_code error, tcp::socket socket) {
    if (error == asio::error::operation_aborted || !acceptor_.is_open()) {
        return;
    }
    if (!error) {
        BridgeStats::bump(stats_.connections_total);
        if (hub_.closing()) {
            socket.close(error);
        } else if (BridgeStats::get(stats_.open_connections) >= context_.limits.max_connections) {
            BridgeStats::bump(stats_.connections_rejected_total);
            refuse(socket, 503, "too_many_connections",
                   fmt::format("too many connections: the bridge serves at most {} "
                               "(--max-connections); try again later",
                               context_.limits.max_connections));
        } else if (const std::string peer = peer_address(socket);
                   auto slot =
                       peers_->try_acquire(peer, context_.limits.max_connections_per_peer)) {
            // Messages go out whole and at once: without this, Nagle's
            // algorithm holds a message's last segment until the client's
            // delayed ACK (up to 40 ms on Linux).
            socket.set_option(tcp::no_delay(true), error);
            std::make_shared<HttpSession>(std::move(socket), context_, std::move(slot))->run();
        } else {
            BridgeStats::bump(stats_.peer_connections_rejected_total);
            refuse(socket, 429, "too_many_connections_from_peer",
                   fmt::format("too many connections from {}: one address may hold at most {} "
                               "(--max-connections-per-peer); close some or try again later",
                               peer, context_.limits.max_connections_per_peer));
        }
    }
    // EMFILE and the like: keep accepting; the next attempt may succeed.
    do_accept();
}

void Server::refuse(tcp::socket& socket, unsigned status, const std::string& reason,
                    const std::string& message) {
    constexpr int kRetryAfterS = 5;
    // Not the writer-down 503 of /health ({"status": "unavailable", ...}):
    // a client can tell "the bridge is full" from "the data is stale".
    JsonWriter json;
    json.begin_object();
    json.key("type").value("error");
    json.key("error").value(message);
    json.key("reason").value(reason);
    json.key("retry_after_s").value(std::int64_t{kRetryAfterS});
    json.end_object();
    const std::string body = json.str();
    const std::string response = fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nRetry-After: {}\r\n"
        "Connection: close\r\nContent-Length: {}\r\n\r\n{}",
        status, status == 429 ? "Too Many Requests" : "Service Unavailable", kRetryAfterS,
        body.size(), body);
    // A fresh socket's send buffer takes this at once; never block the acceptor.
    beast::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(response), ignored);
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    // Unread request bytes would make close() send a reset, which can destroy
    // the answer in the client's buffer before it reads it: read what came.
    std::array<char, 4096> discard{};
    socket.read_some(asio::buffer(discard), ignored);
    socket.close(ignored);
}

void Server::schedule_memory_release() {
    release_timer_.expires_after(std::chrono::seconds(1));
    release_timer_.async_wait([this](beast::error_code error) {
        if (error) {
            return;
        }
        release_memory_if_requested();
        schedule_memory_release();
    });
}

bool Server::io_responsive() {
    const std::uint64_t posted = io_ticks_posted_.load();
    const bool previous_ran = io_ticks_run_.load() == posted;
    if (previous_ran) {
        io_ticks_posted_.store(posted + 1);
        asio::post(io_, [this] { io_ticks_run_.fetch_add(1); });
    }
    return previous_ran;
}

void Server::stop(std::chrono::milliseconds grace) {
    if (stopped_) {
        return;
    }
    stopped_ = true;
    asio::post(io_, [this] {
        beast::error_code ignored;
        acceptor_.close(ignored);
        release_timer_.cancel();
    });
    hub_.close_all();
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (BridgeStats::get(stats_.open_connections) > 0 &&
           std::chrono::steady_clock::now() < deadline && !threads_.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    io_.stop();
    for (auto& thread : threads_) {
        thread.join();
    }
    threads_.clear();
}

}  // namespace brt::bridge
