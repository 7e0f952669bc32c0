// A command's answer by its machine-readable name, the word APIs put in
// "status" (docs/ws-bridge.md, docs/mqtt.md, docs/alarm-segment.md);
// command_status_name (common/segment/command_ring.hpp) words it for people.
#pragma once

#include <string_view>

#include "common/segment/command_ring.hpp"

namespace brt {

inline std::string_view command_status_key(CommandStatus status) {
    switch (status) {
        case CommandStatus::pending:
            return "pending";
        case CommandStatus::applied:
            return "applied";
        case CommandStatus::rejected_target:
            return "rejected_target";
        case CommandStatus::rejected_unknown:
            return "rejected_unknown";
        case CommandStatus::rejected_argument:
            return "rejected_argument";
        case CommandStatus::abandoned:
            return "abandoned";
        case CommandStatus::rejected_condition:
            return "rejected_condition";
    }
    return "unknown";  // a status newer than this build
}

}  // namespace brt
