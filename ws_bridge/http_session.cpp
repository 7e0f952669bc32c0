#include "ws_bridge/http_session.hpp"

#include <fmt/format.h>

#include "brt_config.h"
#include "ws_bridge/rest_api.hpp"
#include "ws_bridge/views.hpp"
#include "ws_bridge/ws_session.hpp"

namespace brt::bridge {

namespace {

// How long a control request waits for the simulator's or the alarm
// monitor's answer; each runs a command within one frame, so two seconds
// covers a 1 Hz writer (ControlService::no_answer's message says "2 s").
constexpr auto kCommandAnswerWait = std::chrono::seconds(2);
constexpr auto kCommandPoll = std::chrono::milliseconds(10);

bool is_websocket_path(std::string_view path) {
    path = path.substr(0, path.find('?'));
    return path == "/api/v1/ws" || path == "/updates";
}

}  // namespace

std::string peer_address(const tcp::socket& socket) {
    beast::error_code error;
    const tcp::endpoint peer = socket.remote_endpoint(error);
    if (error) {
        return "unknown";
    }
    const asio::ip::address address = peer.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
    }
    return address.to_string();
}

HttpSession::HttpSession(tcp::socket&& socket, ServerContext& context, PeerSlot peer_slot)
    : peer_(peer_address(socket)),
      stream_(std::move(socket)),
      context_(context),
      connection_guard_(context.stats.open_connections),
      peer_slot_(std::move(peer_slot)),
      timer_(stream_.get_executor()) {}

void HttpSession::run() {
    context_.hub.add(shared_from_this());
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void HttpSession::do_read() {
    if (closed_) {
        return;
    }
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(context_.limits.http_header_max_bytes));
    parser_->body_limit(context_.limits.http_body_max_bytes);
    // The whole request within the timeout: a client trickling bytes is cut off.
    stream_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(context_.limits.http_request_timeout_s)));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(beast::error_code error, std::size_t) {
    if (error == http::error::header_limit) {
        reply_and_close(431, fmt::format("request header over {} bytes",
                                         context_.limits.http_header_max_bytes));
        return;
    }
    if (error == http::error::body_limit) {
        reply_and_close(
            413, fmt::format("request body over {} bytes", context_.limits.http_body_max_bytes));
        return;
    }
    if (error == http::error::end_of_stream || error == beast::error::timeout ||
        error == asio::error::operation_aborted || error == asio::error::connection_reset ||
        error == asio::error::eof) {
        close();
        return;
    }
    if (error) {
        reply_and_close(400, fmt::format("malformed HTTP request: {}", error.message()));
        return;
    }
    handle(parser_->release());
}

void HttpSession::handle(http::request<http::string_body>&& request) {
    BridgeStats::bump(context_.stats.http_requests_total);
    const std::string target(request.target());
    const std::string_view path = std::string_view(target).substr(0, target.find('?'));
    const bool keep_alive = request.keep_alive();
    head_ = request.method() == http::verb::head;

    // Before anything is read or upgraded: a page on another site reaching
    // the bridge by its own name (DNS rebinding) or opening a WebSocket.
    const auto host = request.find(http::field::host);
    const std::string_view host_text =
        host == request.end() ? std::string_view()
                              : std::string_view(host->value().data(), host->value().size());
    if (std::string problem = context_.access.host_problem(host_text, host != request.end());
        !problem.empty()) {
        reply(HttpReply::json(403, error_json(problem)), false);
        return;
    }

    if (is_websocket_path(path)) {
        if (!websocket::is_upgrade(request)) {
            HttpReply upgrade = HttpReply::json(
                426, error_json("this is the WebSocket endpoint: connect with a WebSocket client"));
            upgrade.headers.emplace_back("Upgrade", "websocket");
            reply(upgrade, false);
            return;
        }
        const auto origin = request.find(http::field::origin);
        if (std::string problem = context_.access.origin_problem(
                origin == request.end()
                    ? std::string_view()
                    : std::string_view(origin->value().data(), origin->value().size()),
                origin != request.end(), host_text);
            !problem.empty()) {
            reply(HttpReply::json(403, error_json(problem)), false);
            return;
        }
        timer_.cancel();
        std::make_shared<WsSession>(std::move(stream_), context_, std::move(peer_slot_), peer_)
            ->run(std::move(request));
        closed_ = true;
        return;
    }
    if (ControlService::is_control_path(path)) {
        if (request.method() != http::verb::post) {
            HttpReply refused = HttpReply::json(405, error_json("use POST"));
            refused.headers.emplace_back("Allow", "POST");
            reply(refused, keep_alive);
            return;
        }
        const auto authorization = request[http::field::authorization];
        auto outcome = context_.control.submit(
            path, request.body(), std::string_view(authorization.data(), authorization.size()),
            peer_);
        if (auto* immediate = std::get_if<HttpReply>(&outcome)) {
            reply(*immediate, keep_alive);
            return;
        }
        wait_for_command(std::get<PendingCommand>(std::move(outcome)), keep_alive,
                         std::chrono::steady_clock::now() + kCommandAnswerWait);
        return;
    }
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
        HttpReply refused = HttpReply::json(405, error_json("use GET"));
        refused.headers.emplace_back("Allow", "GET, HEAD");
        reply(refused, keep_alive);
        return;
    }
    reply(handle_get(target, context_.hub.latest(), context_.stats, context_.hub.history()),
          keep_alive);
}

void HttpSession::wait_for_command(PendingCommand pending, bool keep_alive,
                                   std::chrono::steady_clock::time_point deadline) {
    if (auto answer = context_.control.poll(pending)) {
        reply(*answer, keep_alive);
        return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
        reply(context_.control.no_answer(pending), keep_alive);
        return;
    }
    timer_.expires_after(kCommandPoll);
    timer_.async_wait([self = shared_from_this(), pending = std::move(pending), keep_alive,
                       deadline](beast::error_code error) mutable {
        if (error || self->closed_) {
            return;
        }
        self->wait_for_command(std::move(pending), keep_alive, deadline);
    });
}

void HttpSession::reply(const HttpReply& reply, bool keep_alive) {
    if (reply.status >= 400) {
        BridgeStats::bump(context_.stats.http_errors_total);
    }
    response_ = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), 11);
    response_->set(http::field::server, std::string("brt-ws-bridge/") + BRT_VERSION);
    response_->set(http::field::content_type, reply.content_type);
    response_->set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : reply.headers) {
        response_->set(name, value);
    }
    if (reply.body) {
        response_->body() = *reply.body;
    }
    response_->keep_alive(keep_alive);
    response_->prepare_payload();
    if (head_) {
        // Content-Length stays that of the GET answer; the body is not sent.
        response_->body().clear();
        response_->content_length(reply.body ? reply.body->size() : 0);
    }
    stream_.expires_after(std::chrono::seconds(30));
    http::async_write(
        stream_, *response_,
        beast::bind_front_handler(&HttpSession::on_write, shared_from_this(), !keep_alive));
}

void HttpSession::reply_and_close(unsigned status, const std::string& message) {
    reply(HttpReply::json(status, error_json(message)), false);
}

void HttpSession::on_write(bool close_after, beast::error_code error, std::size_t) {
    response_.reset();
    if (error || close_after) {
        close();
        return;
    }
    do_read();
}

void HttpSession::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    timer_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
}

void HttpSession::close_for_shutdown() {
    // The timer shares the strand; the stream may have gone to a WsSession.
    asio::post(timer_.get_executor(), [self = shared_from_this()] { self->close(); });
}

}  // namespace brt::bridge
