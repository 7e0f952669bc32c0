// What one client may cost the bridge. Every limit has a command-line option
// (main.cpp) and is listed in docs/ws-bridge.md.
#pragma once

#include <cstddef>
#include <cstdint>

namespace brt::bridge {

struct BridgeLimits {
    std::size_t max_connections = 2048;        // open TCP connections, HTTP and WebSocket
    std::size_t ws_message_max_bytes = 4096;   // a bigger client message closes the connection
    std::size_t http_header_max_bytes = 8192;  // 431 beyond
    std::size_t http_body_max_bytes = 16384;   // 413 beyond
    std::size_t client_queue_messages = 16;    // per WebSocket client; older ones are dropped
    double slow_client_timeout_s = 10;         // behind (dropping) this long: disconnected
    double idle_timeout_s = 60;                // no traffic (pings unanswered): closed
    double http_request_timeout_s = 15;        // to send a whole request
    double max_rate_hz = 20;                   // cap on a subscription's rate
    double default_rate_hz = 10;
    // Slower subscriptions are refused: a rate near 0 (1e-300, 5e-324) made
    // the period overflow into a short one and bypassed max_rate_hz.
    double min_rate_hz = 0.01;  // one message per 100 s
    // Rack trends kept for pages that open later (rack_history.hpp).
    double history_span_s = 3600;
    std::uint64_t history_max_bytes = 64ull << 20;
    // Of max_connections, from one client address (429 beyond): one peer
    // cannot take them all.
    std::size_t max_connections_per_peer = 256;
    // Serialized messages held in all, cached and queued (message_memory.hpp):
    // over it, WebSocket clients that are behind are disconnected.
    std::size_t max_queued_bytes = std::size_t{256} << 20;
};

}  // namespace brt::bridge
