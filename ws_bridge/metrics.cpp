#include "ws_bridge/metrics.hpp"

#include <fmt/format.h>

#include <cmath>

#include "common/json/number_format.hpp"
#include "common/segment/liveness.hpp"
#include "ws_bridge/message_memory.hpp"
#include "ws_bridge/views.hpp"

namespace brt::bridge {

namespace {

// Prometheus writes NaN as "NaN" and infinities as "+Inf"/"-Inf";
// finite numbers as every other output does (common/json/number_format.hpp).
std::string non_finite(double value) {
    return std::isnan(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
}

std::string number(double value) {
    return std::isfinite(value) ? format_double(value) : non_finite(value);
}

// A float32 reading: its shortest form, the digits the JSON views show.
std::string reading(float value) {
    return std::isfinite(value) ? format_float(value) : non_finite(value);
}

class Exposition {
  public:
    void family(const char* name, const char* type, const char* help) {
        out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    }
    void sample(const char* name, const std::string& labels, double value) {
        sample_text(name, labels, number(value));
    }
    void sample_text(const char* name, const std::string& labels, const std::string& value) {
        out_ += labels.empty() ? fmt::format("{} {}\n", name, value)
                               : fmt::format("{}{{{}}} {}\n", name, labels, value);
    }
    void counter(const char* name, const char* help, std::uint64_t value) {
        family(name, "counter", help);
        sample(name, "", static_cast<double>(value));
    }
    void gauge(const char* name, const char* help, double value) {
        family(name, "gauge", help);
        sample(name, "", value);
    }
    std::string take() { return std::move(out_); }

  private:
    std::string out_;
};

struct RackMetric {
    const char* name;
    const char* help;
    Field field;
};

constexpr RackMetric kRackMetrics[] = {
    {"brt_rack_cell_voltage_volts", "Cell voltage in the rack by statistic", Field::voltage_v},
    {"brt_rack_cell_temperature_celsius", "Cell temperature in the rack by statistic",
     Field::temperature_c},
    {"brt_rack_cell_soc_ratio", "Cell state of charge (0..1) in the rack by statistic", Field::soc},
    {"brt_rack_cell_current_amperes", "Cell current (discharge positive) by statistic",
     Field::current_a},
    {"brt_rack_cell_soh_ratio", "Cell state of health (0..1) in the rack by statistic", Field::soh},
    {"brt_rack_cell_resistance_ohms", "Cell internal resistance in the rack by statistic",
     Field::resistance_ohm},
};

}  // namespace

std::string metrics_text(const Snapshot& snapshot, const BridgeStats& stats,
                         const RackHistory::Usage& history) {
    Exposition out;
    const auto get = [](const std::atomic<std::uint64_t>& counter) {
        return BridgeStats::get(counter);
    };

    out.family("brt_writer_up", "gauge", "1 when the writer's frames are live, else 0");
    out.sample("brt_writer_up", "", snapshot.live() ? 1 : 0);
    out.family("brt_writer_liveness", "gauge",
               "1 for the writer's current liveness state, 0 for the others");
    for (Liveness state : {Liveness::live, Liveness::stale, Liveness::stopped, Liveness::no_writer,
                           Liveness::no_segment}) {
        out.sample("brt_writer_liveness", fmt::format("state=\"{}\"", liveness_name(state)),
                   snapshot.writer.liveness == state ? 1 : 0);
    }
    out.family("brt_writer_heartbeat_age_seconds", "gauge", "Age of the writer's heartbeat");
    out.sample_text("brt_writer_heartbeat_age_seconds", "",
                    format_seconds_from_ns(snapshot.writer.heartbeat_age_ns));
    out.gauge("brt_writer_frame_rate_hertz", "The writer's recent publish rate",
              snapshot.frame_rate_hz);
    out.gauge("brt_latest_frame_number", "Number of the newest frame the bridge read",
              static_cast<double>(snapshot.frame_number()));
    out.counter("brt_bridge_frames_seen_total", "Frames the bridge read", snapshot.frames_seen);
    out.counter("brt_bridge_frames_missed_total",
                "Frames published while the bridge was busy and never read by it",
                snapshot.frames_missed);

    if (snapshot.view) {
        const auto& racks = snapshot.view->racks;
        for (const RackMetric& metric : kRackMetrics) {
            out.family(metric.name, "gauge", metric.help);
            for (std::size_t rack = 0; rack < racks.size(); ++rack) {
                const FieldSummary& field = racks[rack].field(metric.field);
                out.sample_text(metric.name, fmt::format("rack=\"{}\",stat=\"min\"", rack),
                                reading(field.min));
                out.sample_text(metric.name, fmt::format("rack=\"{}\",stat=\"mean\"", rack),
                                reading(static_cast<float>(field.mean())));
                out.sample_text(metric.name, fmt::format("rack=\"{}\",stat=\"max\"", rack),
                                reading(field.max));
            }
        }
        // Each family is one group (HELP, TYPE, then all of its samples):
        // parsers end a family at the next family's samples.
        const auto& records = snapshot.view->frame.racks;
        out.family("brt_rack_string_current_amperes", "gauge",
                   "The rack's series-string current, discharge positive");
        for (std::size_t rack = 0; rack < records.size(); ++rack) {
            out.sample_text("brt_rack_string_current_amperes", fmt::format("rack=\"{}\"", rack),
                            reading(records[rack].current_a));
        }
        out.family("brt_rack_air_temperature_celsius", "gauge", "The rack's air temperature");
        for (std::size_t rack = 0; rack < records.size(); ++rack) {
            out.sample_text("brt_rack_air_temperature_celsius", fmt::format("rack=\"{}\"", rack),
                            reading(records[rack].air_temperature_c));
        }
    }

    // The alarm list the monitor publishes (with the bridge's own
    // alarm_system alarm when the monitor is not running).
    const AlarmView no_alarms;
    const AlarmView& alarms = snapshot.alarms ? *snapshot.alarms : no_alarms;
    constexpr Severity kSeverities[] = {Severity::info, Severity::warning, Severity::critical};
    constexpr AlarmState kStates[] = {AlarmState::unacknowledged, AlarmState::acknowledged,
                                      AlarmState::returned_unacknowledged};
    out.gauge("brt_alarm_monitor_up",
              "1 while brt-anomaly-monitor (the alarm server) is running, else 0",
              alarms.list.monitor_running ? 1 : 0);
    AlarmCounts active;
    std::uint64_t by_state[kSeverityCount][3] = {};
    std::uint64_t shelved = 0;
    std::uint64_t suppressed = 0;
    for (const BoardAlarm& alarm : alarms.list.alarms) {
        const auto severity = static_cast<std::size_t>(alarm.severity);
        if (alarm.active) {
            ++active.by_severity[severity];
        }
        const auto state = static_cast<std::size_t>(alarm.state);
        if (state >= 1 && state <= 3) {
            ++by_state[severity][state - 1];
        }
        shelved += alarm.shelved() ? 1 : 0;
        suppressed += alarm.suppressed ? 1 : 0;
    }
    out.family("brt_alarms_active", "gauge",
               "Alarms whose condition is present now, by severity (the alarm list's)");
    for (Severity severity : kSeverities) {
        out.sample("brt_alarms_active", fmt::format("severity=\"{}\"", severity_name(severity)),
                   static_cast<double>(active.at(severity)));
    }
    out.family("brt_bridge_alarms", "gauge",
               "Alarms in the alarm list by severity and ISA-18.2 state (shelved and "
               "suppressed ones included)");
    for (Severity severity : kSeverities) {
        for (AlarmState state : kStates) {
            out.sample("brt_bridge_alarms",
                       fmt::format("severity=\"{}\",state=\"{}\"", severity_name(severity),
                                   alarm_state_name(state)),
                       static_cast<double>(by_state[static_cast<std::size_t>(severity)]
                                                   [static_cast<std::size_t>(state) - 1]));
        }
    }
    out.gauge("brt_bridge_alarms_shelved", "Alarms in the list that are shelved",
              static_cast<double>(shelved));
    out.gauge("brt_bridge_alarms_suppressed",
              "Alarms in the list suppressed by design (consequences of a first-out alarm)",
              static_cast<double>(suppressed));
    out.counter("brt_alarm_monitor_raised_total",
                "Alarms the running monitor raised since it started (0 without one)",
                alarms.list.raised_total);
    out.counter("brt_alarm_monitor_annunciated_total",
                "Of those, the ones annunciated (neither suppressed nor shelved)",
                alarms.list.annunciated_total);

    // Not "brt_bridge_connections": that is the family of the counter
    // brt_bridge_connections_total (a counter's family name drops _total).
    out.gauge("brt_bridge_open_connections", "Open TCP connections (HTTP and WebSocket)",
              static_cast<double>(get(stats.open_connections)));
    out.gauge("brt_bridge_websocket_clients", "Connected WebSocket clients",
              static_cast<double>(get(stats.websocket_clients)));
    out.counter("brt_bridge_connections_total", "Connections accepted",
                get(stats.connections_total));
    out.counter("brt_bridge_connections_rejected_total",
                "Connections refused because the connection cap was reached",
                get(stats.connections_rejected_total));
    out.counter("brt_bridge_peer_connections_rejected_total",
                "Connections refused because their peer address held its share "
                "(--max-connections-per-peer)",
                get(stats.peer_connections_rejected_total));
    out.counter("brt_bridge_http_requests_total", "HTTP requests answered",
                get(stats.http_requests_total));
    out.counter("brt_bridge_http_errors_total", "HTTP requests answered with 4xx or 5xx",
                get(stats.http_errors_total));
    out.counter("brt_bridge_messages_sent_total", "WebSocket messages sent",
                get(stats.messages_sent_total));
    out.counter("brt_bridge_messages_dropped_total",
                "Old WebSocket messages dropped because a client read too slowly",
                get(stats.messages_dropped_total));
    out.counter("brt_bridge_slow_client_disconnects_total",
                "WebSocket clients disconnected for staying behind",
                get(stats.slow_client_disconnects_total));
    out.gauge("brt_bridge_message_bytes",
              "Bytes of serialized messages held now (cached and queued, each counted once)",
              static_cast<double>(message_bytes()));
    out.gauge("brt_bridge_message_bytes_peak",
              "Most bytes of messages held at once since the start",
              static_cast<double>(message_bytes_peak()));
    out.counter("brt_bridge_memory_cap_disconnects_total",
                "WebSocket clients disconnected for being behind while the messages held were "
                "over --max-queued-mib",
                get(stats.memory_cap_disconnects_total));
    out.counter("brt_bridge_client_errors_total",
                "WebSocket client messages answered with an error", get(stats.client_errors_total));
    out.counter("brt_bridge_oversize_closes_total",
                "WebSocket connections closed for a message over the size limit",
                get(stats.oversize_closes_total));
    out.counter("brt_bridge_control_commands_total",
                "Commands posted to the simulator's command ring",
                get(stats.control_commands_total));
    out.counter("brt_bridge_alarm_commands_total",
                "Acknowledge, shelve and unshelve commands posted to the alarm monitor",
                get(stats.alarm_commands_total));
    out.gauge("brt_bridge_history_bytes",
              "Memory reserved for the rack history the pages' trends start from "
              "(bounded by --history-max-bytes)",
              static_cast<double>(history.bytes));
    out.gauge("brt_bridge_history_points", "Points in the rack history (one per interval)",
              static_cast<double>(history.points));
    out.gauge("brt_bridge_history_interval_seconds", "Time one point of the rack history covers",
              history.interval_s);
    return out.take();
}

}  // namespace brt::bridge
