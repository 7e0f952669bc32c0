// GET routes: the JSON API, /health, /metrics and the web page.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ws_bridge/bridge_stats.hpp"
#include "ws_bridge/http_reply.hpp"
#include "ws_bridge/rack_history.hpp"
#include "ws_bridge/snapshot.hpp"

namespace brt::bridge {

// "/api/v1/racks/3?x=1" -> {"api","v1","racks","3"}; the query is dropped.
std::vector<std::string_view> split_path(std::string_view target);
// Digits only, below 2^32; anything else is empty.
std::optional<std::uint32_t> parse_index(std::string_view text);

// Null snapshot: the bridge has not looked at the segment yet.
HttpReply handle_get(std::string_view target, const SnapshotPtr& snapshot, const BridgeStats& stats,
                     const RackHistory& history);

}  // namespace brt::bridge
