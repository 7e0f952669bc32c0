// /metrics in the Prometheus text exposition format (version 0.0.4).
#pragma once

#include <string>

#include "ws_bridge/bridge_stats.hpp"
#include "ws_bridge/rack_history.hpp"
#include "ws_bridge/snapshot.hpp"

namespace brt::bridge {

std::string metrics_text(const Snapshot& snapshot, const BridgeStats& stats,
                         const RackHistory::Usage& history);

}  // namespace brt::bridge
