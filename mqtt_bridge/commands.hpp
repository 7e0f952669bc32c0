// Commands from the broker: a message on <base>/commands/<verb> is checked
// like `brt-simulator ctl` checks its arguments (common/control/control_json),
// posted to the simulator's or the alarm monitor's command ring, and its
// result published on <base>/results (and, for an MQTT 5 request with a
// response topic, there too) with the request's correlation id. A payload
// that is not acceptable gets an "invalid" result; nothing a publisher sends
// can stop the bridge.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/alarm_segment/alarm_segment_file.hpp"
#include "common/segment/segment_file.hpp"
#include "mqtt_bridge/mqtt_link.hpp"

namespace brt::mqtt {

struct CommandResult {
    std::string verb;
    std::string correlation_id;  // JSON text, "" for none
    std::string what;            // for people: "apply hvac_failure at rack 2"
    // applied, rejected_target, rejected_unknown, rejected_argument,
    // abandoned (the ring's answers); invalid (the payload), unavailable (no
    // simulator or alarm monitor to take it), pending (in the simulator's
    // ring, not answered within the wait: the next simulator run acts on it).
    std::string status;
    std::string error;  // why, when not applied
    std::uint64_t position = 0;
    std::string response_topic;  // MQTT 5
    std::string correlation_data;

    bool ok() const { return status == "applied"; }
};

std::string result_json(const CommandResult& result);

// A request for a module's cells (<base>/commands/module {"rack": R, "module": M}).
struct ModuleRequest {
    std::uint32_t rack = 0;
    std::uint32_t module = 0;
    CommandResult result;  // the reader fills in the status
};

class CommandHandler {
  public:
    CommandHandler(std::string normalized_shm_name, std::string command_prefix,
                   std::chrono::milliseconds answer_timeout = std::chrono::milliseconds(2000));

    // Handles one message; results that are known at once (invalid, no
    // simulator) are returned now, the others by poll().
    std::vector<CommandResult> submit(const InboundMessage& message);
    // Results that came in (or timed out) since the last call.
    std::vector<CommandResult> poll(std::chrono::steady_clock::time_point now);
    // Module requests taken since the last call (answered by the reader).
    std::vector<ModuleRequest> take_module_requests();
    std::uint64_t commands_total() const { return commands_total_; }

  private:
    struct Pending {
        std::shared_ptr<const MappedSegment> segment;
        std::shared_ptr<const MappedAlarmSegment> alarm_segment;
        CommandResult result;
        std::chrono::steady_clock::time_point deadline;
    };
    CommandResult take(const InboundMessage& message);

    std::string shm_name_;
    std::string alarm_name_;
    std::string prefix_;
    std::chrono::milliseconds answer_timeout_;
    std::vector<Pending> pending_;
    std::vector<ModuleRequest> module_requests_;
    std::uint64_t commands_total_ = 0;
};

}  // namespace brt::mqtt
