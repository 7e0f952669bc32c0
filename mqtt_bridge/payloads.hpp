// The topic tree and the JSON payloads of brt-mqtt-bridge (docs/mqtt.md):
//
//   <prefix>/<site>/<node>/status               online | offline (retained; offline is the Last
//   Will) <prefix>/<site>/<node>/writer               the simulator's state (retained)
//   <prefix>/<site>/<node>/bridge               the bridge's counters (retained)
//   <prefix>/<site>/<node>/telemetry/summary    the whole system, at --summary-rate
//   <prefix>/<site>/<node>/telemetry/rack/<r>   one rack, at --summary-rate
//   <prefix>/<site>/<node>/telemetry/rack/<r>/module/<m>   a module's cells, on request
//   <prefix>/<site>/<node>/alarms/active        the monitor's alarm list (retained)
//   <prefix>/<site>/<node>/alarms/events        each alarm transition
//   <prefix>/<site>/<node>/commands/<verb>      commands in (json_command_verbs)
//   <prefix>/<site>/<node>/results              each command's result
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/alarm/alarm_feed.hpp"
#include "common/frames/frame_stats.hpp"
#include "common/segment/chemistry.hpp"
#include "common/segment/geometry.hpp"
#include "common/segment/liveness.hpp"
#include "common/segment/segment_reader.hpp"

namespace brt::mqtt {

class TopicTree {
  public:
    // Throws UsageError when a level is empty or holds '/', '+' or '#'
    // (the prefix may hold '/': "site-a/brt").
    TopicTree(std::string prefix, std::string site, std::string node);

    const std::string& base() const { return base_; }
    std::string status() const { return base_ + "/status"; }
    std::string writer() const { return base_ + "/writer"; }
    std::string bridge() const { return base_ + "/bridge"; }
    std::string summary() const { return base_ + "/telemetry/summary"; }
    std::string rack(std::uint32_t rack) const;
    std::string module(std::uint32_t rack, std::uint32_t module) const;
    std::string alarms_active() const { return base_ + "/alarms/active"; }
    std::string alarm_events() const { return base_ + "/alarms/events"; }
    std::string command_prefix() const { return base_ + "/commands/"; }
    std::string results() const { return base_ + "/results"; }

  private:
    std::string base_;
};

// The default <node>: "<host name>-<segment name>", with anything a topic
// level may not hold replaced by '_'.
std::string default_node_name(std::string_view shm_name);

struct NodeInfo {
    std::string site;
    std::string node;
    std::string segment;
};

// {"status": "online"|"offline", "reason", "site", "node", "segment",
//  "version", "pid", "time_ns"}
std::string status_json(const NodeInfo& node, bool online, std::string_view reason);
std::string writer_json(const WriterStatus& writer, const std::optional<Geometry>& geometry,
                        double frame_rate_hz);

// One frame, summarized once, from which the telemetry payloads are written.
struct FrameSummary {
    FrameBuffer frame;
    Geometry geometry;
    std::vector<Chemistry> rack_chemistry;
    GroupSummary system;
    std::vector<GroupSummary> racks;
    std::vector<GroupSummary> modules;  // rack-major
};
std::shared_ptr<const FrameSummary> summarize_frame(FrameBuffer frame, const Geometry& geometry,
                                                    std::vector<Chemistry> rack_chemistry);

std::string summary_json(const FrameSummary& summary, const WriterStatus& writer,
                         const AlarmView& alarms);
// The same keys as brt-ws-bridge's racks[] entries (common/frames/summary_json.hpp).
std::string rack_json(const FrameSummary& summary, std::uint32_t rack);
// Every cell of one module (the rack and module must exist).
std::string module_json(const FrameSummary& summary, std::uint32_t rack, std::uint32_t module);
// The monitor's list (write_alarm_list_fields, suppressed alarms included)
// with the annunciated counts.
std::string alarms_json(const AlarmView& alarms);

}  // namespace brt::mqtt
