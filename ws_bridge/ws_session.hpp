// One WebSocket client. Its subscriptions decide what each snapshot becomes
// (shared, pre-serialized messages); its send queue is bounded, so a client
// that reads slowly loses old messages (counted) and is disconnected if it
// stays behind, while every other client and the reader loop go on.
#pragma once

#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "ws_bridge/beast.hpp"
#include "ws_bridge/client_protocol.hpp"
#include "ws_bridge/peer_limit.hpp"
#include "ws_bridge/server_context.hpp"

namespace brt::bridge {

class WsSession : public std::enable_shared_from_this<WsSession>, public Connection {
  public:
    // `peer_slot`: the connection's place in its peer's count; `peer`: the
    // client's address, for the log.
    WsSession(beast::tcp_stream&& stream, ServerContext& context, PeerSlot peer_slot,
              std::string peer);
    ~WsSession() override;

    // Completes the handshake of the upgrade request, then serves.
    void run(http::request<http::string_body> request);

    void deliver(const SnapshotPtr& snapshot) override;
    void close_for_shutdown() override;

  private:
    using Clock = std::chrono::steady_clock;
    struct Subscription {
        SubscribeRequest request;
        Clock::duration period{};
        Clock::time_point next_due{};
        Clock::time_point last_sent{};
        std::uint64_t last_frame = 0;
        std::uint64_t last_snapshot = 0;
        std::uint64_t last_alarm_version = 0;
    };
    struct Outgoing {
        std::shared_ptr<const std::string> bytes;
        bool binary = false;
    };

    void on_accept(beast::error_code error);
    void do_read();
    void on_read(beast::error_code error, std::size_t bytes);
    void handle_message(const std::string& text);
    void subscribe(const SubscribeRequest& request);
    void on_snapshot(const SnapshotPtr& snapshot);
    void push(Subscription& subscription, const SnapshotPtr& snapshot, bool force);
    std::shared_ptr<const std::string> message_for(const Subscription& subscription,
                                                   const Snapshot& snapshot, bool& binary) const;
    void send_text(std::string text);
    void enqueue(Outgoing message);
    void write_next();
    void on_write(beast::error_code error, std::size_t bytes);
    void drop_connection();
    // Over --max-queued-mib a client still sending an earlier snapshot's
    // messages is disconnected (logged, counted) before more is built for it.
    bool behind_over_memory_cap() const;
    void drop_for_memory();

    websocket::stream<beast::tcp_stream> ws_;
    ServerContext& context_;
    ConnectionGuard connection_guard_;
    PeerSlot peer_slot_;
    std::string peer_;
    std::optional<ConnectionGuard> client_guard_;  // once the handshake succeeded
    beast::flat_buffer read_buffer_;
    std::array<std::optional<Subscription>, kViewCount> subscriptions_;
    SnapshotPtr latest_;
    std::deque<Outgoing> queue_;
    Outgoing in_flight_;
    bool writing_ = false;
    bool closing_ = false;
    std::optional<Clock::time_point> behind_since_;  // dropping since, not caught up
};

}  // namespace brt::bridge
