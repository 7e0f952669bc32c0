// What every connection of one server shares. Owned by Server, which
// outlives every connection (its I/O threads are joined first).
#pragma once

#include "ws_bridge/access_policy.hpp"
#include "ws_bridge/bridge_limits.hpp"
#include "ws_bridge/bridge_stats.hpp"
#include "ws_bridge/control.hpp"
#include "ws_bridge/hub.hpp"

namespace brt::bridge {

struct ServerContext {
    Hub& hub;
    BridgeStats& stats;
    const BridgeLimits& limits;
    const ControlService& control;
    const AccessPolicy& access;  // filled in after listen(), before start()
};

}  // namespace brt::bridge
