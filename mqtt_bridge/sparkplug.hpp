// Sparkplug B (Eclipse Sparkplug 3.0) for brt-mqtt-bridge --payload
// sparkplug: the node is a Sparkplug edge node, each rack a device.
//
//   spBv1.0/<site>/NBIRTH/<node>          node metrics with bdSeq, seq 0
//   spBv1.0/<site>/NDEATH/<node>          the Last Will, with the same bdSeq
//   spBv1.0/<site>/NDATA/<node>           writer and alarm metrics when they change
//   spBv1.0/<site>/DBIRTH/<node>/rack<r>  every rack metric with its name and alias
//   spBv1.0/<site>/DDATA/<node>/rack<r>   the rack's values by alias, every summary
//   spBv1.0/<site>/NCMD/<node>            Node Control/Rebirth, Commands/...
//   spBv1.0/<site>/DCMD/<node>/rack<r>    Commands/Mode, Commands/Apply Scenario, ...
//
// Every message after NBIRTH carries seq (0..255, +1 per message); bdSeq
// (0..255) is +1 per connection attempt and names the session the NDEATH
// ends. Commands become the JSON commands of commands.hpp, so they are
// checked and answered (on <prefix>/<site>/<node>/results) exactly like
// JSON ones. The metric names are listed in docs/mqtt.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "mqtt_bridge/payloads.hpp"

namespace brt::mqtt::sparkplug {

// What the node's own metrics say.
struct NodeState {
    std::string writer_liveness;
    double frame_rate_hz = 0;
    std::uint64_t latest_frame = 0;
    std::uint64_t alarms_critical = 0;
    std::uint64_t alarms_warning = 0;
    std::uint64_t alarms_info = 0;
    bool monitor_running = false;
    std::uint64_t dropped_telemetry = 0;
};

// A command decoded from NCMD or DCMD: a verb and a JSON body for
// CommandHandler, or a rebirth request.
struct DecodedCommand {
    std::string verb;
    std::string json_body;
};
struct DecodedCommands {
    bool rebirth = false;
    std::vector<DecodedCommand> commands;
    std::string error;  // the payload was not acceptable (nothing else is set)
};

class Session {
  public:
    // `group` is the site, `node` the edge node id; both one topic level.
    Session(std::string group, std::string node);

    std::string nbirth_topic() const { return prefix("NBIRTH"); }
    std::string ndeath_topic() const { return prefix("NDEATH"); }
    std::string ndata_topic() const { return prefix("NDATA"); }
    std::string ncmd_topic() const { return prefix("NCMD"); }
    std::string dcmd_filter() const { return prefix("DCMD") + "/+"; }
    std::string dbirth_topic(std::uint32_t rack) const;
    std::string ddata_topic(std::uint32_t rack) const;

    // Thread-safe (the network thread calls it before every connect): the
    // next bdSeq and the NDEATH that carries it, for the Last Will.
    std::string next_death();
    // The NDEATH of the current bdSeq (published by a clean stop).
    std::string death() const;

    // The reader loop's thread only. NBIRTH restarts seq at 0.
    std::string node_birth(const NodeState& node);
    std::string node_data(const NodeState& node);
    std::string device_birth(const FrameSummary& summary, std::uint32_t rack);
    std::string device_data(const FrameSummary& summary, std::uint32_t rack);

    // An NCMD (rack = none) or DCMD payload on `topic`.
    DecodedCommands decode_command(const std::string& topic, const std::string& payload) const;
    std::uint64_t bd_seq() const { return bd_seq_.load(); }

  private:
    std::string prefix(const char* type) const;
    std::uint64_t next_seq();

    std::string group_;
    std::string node_;
    std::atomic<std::uint64_t> bd_seq_{255};  // the first next_death() makes it 0
    std::uint64_t seq_ = 0;
};

}  // namespace brt::mqtt::sparkplug
