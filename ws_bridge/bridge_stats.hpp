// Counters every part of the bridge bumps and /metrics reports. Plain
// relaxed atomics: each is an independent count, read only for display.
#pragma once

#include <atomic>
#include <cstdint>

namespace brt::bridge {

struct BridgeStats {
    std::atomic<std::uint64_t> open_connections{0};  // every accepted TCP connection
    std::atomic<std::uint64_t> websocket_clients{0};
    std::atomic<std::uint64_t> connections_total{0};
    std::atomic<std::uint64_t> connections_rejected_total{0};  // over the connection cap
    std::atomic<std::uint64_t> http_requests_total{0};
    std::atomic<std::uint64_t> http_errors_total{0};  // 4xx and 5xx answers
    std::atomic<std::uint64_t> messages_sent_total{0};
    std::atomic<std::uint64_t> messages_dropped_total{0};  // old frames a slow client lost
    std::atomic<std::uint64_t> slow_client_disconnects_total{0};
    std::atomic<std::uint64_t> client_errors_total{0};  // bad WebSocket messages answered
    std::atomic<std::uint64_t> oversize_closes_total{0};
    std::atomic<std::uint64_t> control_commands_total{0};  // posted to the command ring
    std::atomic<std::uint64_t> alarm_commands_total{0};    // posted to the alarm monitor's ring

    // Over --max-connections-per-peer.
    std::atomic<std::uint64_t> peer_connections_rejected_total{0};
    // Behind while the messages held were over --max-queued-mib.
    std::atomic<std::uint64_t> memory_cap_disconnects_total{0};

    static void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) {
        counter.fetch_add(by, std::memory_order_relaxed);
    }
    static std::uint64_t get(const std::atomic<std::uint64_t>& counter) {
        return counter.load(std::memory_order_relaxed);
    }
};

// Counts an open connection for as long as it lives.
class ConnectionGuard {
  public:
    explicit ConnectionGuard(std::atomic<std::uint64_t>& counter) : counter_(&counter) {
        counter_->fetch_add(1, std::memory_order_relaxed);
    }
    ConnectionGuard(const ConnectionGuard&) = delete;
    ConnectionGuard& operator=(const ConnectionGuard&) = delete;
    ~ConnectionGuard() { counter_->fetch_sub(1, std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t>* counter_;
};

}  // namespace brt::bridge
