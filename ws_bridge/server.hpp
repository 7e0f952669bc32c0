// The listening socket, the I/O threads and the connections: a small fixed
// number of threads serve every client; the reader loop feeds them through
// the hub.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ws_bridge/beast.hpp"
#include "ws_bridge/peer_limit.hpp"
#include "ws_bridge/server_context.hpp"

namespace brt::bridge {

// "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:0". Throws UsageError.
tcp::endpoint parse_listen_address(const std::string& text);

class Server {
  public:
    // `stats`, `limits`, `control` and `access` must outlive the server.
    Server(BridgeStats& stats, const BridgeLimits& limits, const ControlService& control,
           const AccessPolicy& access);
    ~Server();

    // Binds and listens; returns the bound address (the port when 0 was asked).
    // Throws std::runtime_error saying why (address in use, no permission).
    tcp::endpoint listen(const tcp::endpoint& endpoint);
    void start(unsigned thread_count);

    Hub& hub() { return hub_; }

    // Main thread: posts a no-op to the I/O threads and reports whether the
    // previous one ran, so the systemd watchdog stops if they are stuck.
    bool io_responsive();

    // Stops accepting, closes every connection (WebSocket clients get a
    // going-away close frame), waits up to `grace` for them, stops the threads.
    void stop(std::chrono::milliseconds grace);

  private:
    void do_accept();
    void on_accept(beast::error_code error, tcp::socket socket);
    // Answers at once and closes: 503 when the bridge is full, 429 when the
    // peer holds its share; both JSON with a "reason" and Retry-After.
    void refuse(tcp::socket& socket, unsigned status, const std::string& reason,
                const std::string& message);
    // Hands memory that left clients freed back to the system, once a second.
    void schedule_memory_release();

    BridgeStats& stats_;
    asio::io_context io_;
    tcp::acceptor acceptor_;
    asio::steady_timer release_timer_;
    std::shared_ptr<PeerTable> peers_ = std::make_shared<PeerTable>();
    Hub hub_;
    ServerContext context_;
    std::vector<std::thread> threads_;
    std::atomic<std::uint64_t> io_ticks_posted_{0};
    std::atomic<std::uint64_t> io_ticks_run_{0};
    bool stopped_ = false;
};

}  // namespace brt::bridge
