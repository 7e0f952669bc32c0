// brt-ws-bridge: serves the segment to browsers and scripts over HTTP and
// WebSocket (JSON API, binary heatmaps, Prometheus metrics, a web page) and
// forwards control commands to the simulator when given a token. The alarms
// it shows are brt-anomaly-monitor's (the alarm segment), never its own.
#include <fmt/format.h>

#include <csignal>
#include <cstdio>

#include "common/alarm_segment/alarm_segment_file.hpp"
#include "common/cli/cli_common.hpp"
#include "common/cli/event_log.hpp"
#include "common/cli/exit_codes.hpp"
#include "common/cli/file_limit.hpp"
#include "common/cli/stop_signal.hpp"
#include "common/config/config_file.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/shm_name.hpp"
#include "ws_bridge/bridge_reader.hpp"
#include "ws_bridge/server.hpp"

namespace brt::bridge {
namespace {

struct Options {
    std::string shm_name;
    std::string listen = "127.0.0.1:8080";
    std::string token_file;
    std::vector<std::string> allowed_hosts;
    std::vector<std::string> allowed_origins;
    unsigned threads = 2;
    double startup_grace_s = 5.0;
    bool json = false;
    BridgeLimits limits;
};

// Every connection is a file descriptor: raise the soft limit towards the
// hard one, and lower the connection cap if the system allows fewer.
void fit_file_limit(BridgeLimits& limits) {
    constexpr std::uint64_t kSpareDescriptors = 64;  // segment, listening socket, logs
    const std::uint64_t wanted = limits.max_connections + kSpareDescriptors;
    const std::uint64_t limit = raise_open_file_limit(wanted);
    if (limit < wanted) {
        const auto fitted = limit > 2 * kSpareDescriptors ? limit - kSpareDescriptors : 64;
        fmt::print(stderr,
                   "{}: warning: the open-file limit is {}: serving at most {} connections "
                   "instead of {} (raise LimitNOFILE= or ulimit -n)\n",
                   tool_name("ws_bridge"), limit, fitted, limits.max_connections);
        limits.max_connections = fitted;
    }
}

std::string status_line(const Snapshot& snapshot, const BridgeStats& stats) {
    return fmt::format("{} WebSocket clients, {} connections; writer {}; frame {}",
                       BridgeStats::get(stats.websocket_clients),
                       BridgeStats::get(stats.open_connections),
                       liveness_name(snapshot.writer.liveness), snapshot.frame_number());
}

int serve(Options& options) {
    const std::string name = normalize_shm_name(options.shm_name);
    // A name too long for its alarm segment's is bad usage (exit 2).
    const std::string alarm_name = alarm_segment_name(name);
    const tcp::endpoint wanted = parse_listen_address(options.listen);
    const std::string token =
        options.token_file.empty() ? std::string() : read_token_file(options.token_file);
    fit_file_limit(options.limits);
    std::signal(SIGPIPE, SIG_IGN);  // a peer gone mid-write is an error code, not a signal
    install_stop_signal_handlers();

    EventLog log(options.json);
    BridgeStats stats;
    const ControlService control(name, token, stats);
    // Checked before listening: a malformed name is a usage error (exit 2).
    AccessPolicy access(wanted, options.allowed_hosts, options.allowed_origins);
    Server server(stats, options.limits, control, access);
    const tcp::endpoint bound = server.listen(wanted);
    // The bound port (not 0) goes into the default origins.
    access = AccessPolicy(bound, options.allowed_hosts, options.allowed_origins);
    auto log_writer = [&log](const WriterStatus& writer) {
        log.event("writer",
                  fmt::format("writer {}: {}", liveness_name(writer.liveness), writer.detail),
                  {{"liveness", std::string(liveness_name(writer.liveness))}});
    };
    BridgeReader bridge_reader(
        AlarmFeedOptions{.alarm_segment_name = alarm_name,
                         .startup_grace = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::duration<double>(options.startup_grace_s))},
        {.publish = [&server](SnapshotPtr snapshot) { server.hub().publish(std::move(snapshot)); },
         .writer_change = log_writer,
         .healthy = [&server] { return server.io_responsive(); },
         .status = [&stats](const Snapshot& latest) { return status_line(latest, stats); }});
    SegmentReader reader(name);
    bridge_reader.publish_initial(reader);  // the writer's state before the first client
    server.start(options.threads);

    const std::string host = bound.address().is_v6()
                                 ? fmt::format("[{}]", bound.address().to_string())
                                 : bound.address().to_string();
    log.event("listening",
              fmt::format("listening on {}:{} (web page http://{}:{}/, segment {}, control {})",
                          host, bound.port(), host, bound.port(), shm_path(name),
                          control.enabled() ? "enabled" : "disabled"),
              {{"address", host}, {"port", std::to_string(bound.port())}});

    // The bridge serves without a segment too (503 and the writer's state),
    // and attaches when one appears.
    ReaderLoopOptions loop;
    loop.wait_slice = std::chrono::milliseconds(100);
    loop.require_segment = false;
    run_reader_loop(reader, bridge_reader, loop);
    server.stop(std::chrono::seconds(2));
    log.event("stopped",
              fmt::format("stopped: {} connections served, {} messages sent, {} dropped for "
                          "slow clients",
                          BridgeStats::get(stats.connections_total),
                          BridgeStats::get(stats.messages_sent_total),
                          BridgeStats::get(stats.messages_dropped_total)));
    return kExitOk;
}

}  // namespace
}  // namespace brt::bridge

int main(int argc, char** argv) {
    using namespace brt;
    using namespace brt::bridge;
    Options options;
    BridgeLimits& limits = options.limits;
    std::size_t max_queued_mib = limits.max_queued_bytes >> 20;
    CLI::App app{
        "Serve the battery-rack telemetry segment over HTTP and WebSocket: a JSON API, "
        "binary heatmaps, Prometheus metrics, a live web page, and (with a token) control of "
        "the simulator.",
        tool_name("ws_bridge")};
    add_common_options(app, options.shm_name);
    add_config_option(app);
    app.add_option("--listen", options.listen,
                   "ADDRESS:PORT to listen on (port 0: any free port, printed at start)")
        ->capture_default_str();
    app.add_option("--control-token-file", options.token_file,
                   "File whose first line is the token that control requests must send as "
                   "'Authorization: Bearer TOKEN'; without it control is disabled");
    app.add_option("--allowed-host", options.allowed_hosts,
                   "NAME (or address) that browsers may reach the bridge by, besides localhost, "
                   "127.0.0.1, [::1] and the listen address; other Host headers get 403 (DNS "
                   "rebinding). Repeatable; * allows any")
        ->allow_extra_args(false);
    app.add_option("--allowed-origin", options.allowed_origins,
                   "Web page origin (https://dashboard.example.com) that may open the "
                   "WebSocket, besides the bridge's own page; other Origins get 403. "
                   "Repeatable; * allows any")
        ->allow_extra_args(false);
    app.add_option("--threads", options.threads, "I/O threads")
        ->check(CLI::Range(1u, 64u))
        ->capture_default_str();
    app.add_option("--max-connections", limits.max_connections,
                   "Open connections at most; more get 503")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
        ->capture_default_str();
    app.add_option("--max-connections-per-peer", limits.max_connections_per_peer,
                   "Open connections at most from one client address (429 beyond), so one "
                   "peer cannot take them all; behind a reverse proxy every client has the "
                   "proxy's address: raise it to --max-connections there")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
        ->capture_default_str();
    app.add_option("--max-rate-hz", limits.max_rate_hz, "Cap on a WebSocket subscription's rate")
        ->check(CLI::Range(0.1, 1000.0))
        ->capture_default_str();
    app.add_option("--max-message-bytes", limits.ws_message_max_bytes,
                   "Largest WebSocket message a client may send; a bigger one closes it")
        ->check(CLI::Range(std::size_t{64}, std::size_t{1} << 20))
        ->capture_default_str();
    app.add_option("--client-queue", limits.client_queue_messages,
                   "Messages queued per WebSocket client; older ones are dropped beyond")
        ->check(CLI::Range(std::size_t{1}, std::size_t{4096}))
        ->capture_default_str();
    app.add_option("--max-queued-mib", max_queued_mib,
                   "MiB of serialized messages the bridge holds for all WebSocket clients "
                   "together (cached and queued); over it, clients that are behind are "
                   "disconnected")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
        ->capture_default_str();
    app.add_option("--slow-client-timeout", limits.slow_client_timeout_s,
                   "Seconds a client may stay behind (losing messages) before it is disconnected")
        ->check(CLI::Range(0.1, 3600.0))
        ->capture_default_str();
    app.add_option("--idle-timeout", limits.idle_timeout_s,
                   "Seconds of silence (pings unanswered) before a WebSocket is closed")
        ->check(CLI::Range(1.0, 86400.0))
        ->capture_default_str();
    app.add_option("--http-timeout", limits.http_request_timeout_s,
                   "Seconds a client has to send one whole HTTP request")
        ->check(CLI::Range(0.1, 3600.0))
        ->capture_default_str();
    app.add_option("--history", limits.history_span_s,
                   "Seconds of per-rack trends (min/mean/max of every metric) kept for pages "
                   "that open later")
        ->check(CLI::Range(10.0, 7.0 * 86400))
        ->capture_default_str();
    app.add_option("--history-max-bytes", limits.history_max_bytes,
                   "Memory for those trends at most; a larger system gets coarser points")
        ->check(CLI::Range(std::uint64_t{1} << 16, std::uint64_t{1} << 34))
        ->capture_default_str();
    app.add_option("--startup-grace", options.startup_grace_s,
                   "Say \"alarm monitor not running\" (an alarm) only this many seconds after "
                   "the start, so a pipeline started in any order raises nothing")
        ->check(CLI::Range(0.0, 3600.0))
        ->capture_default_str();
    app.add_flag("--json", options.json, "Print events as JSON lines");
    app.footer(fmt::format(
        "Examples:\n"
        "  {0}                                  http://127.0.0.1:8080/\n"
        "  {0} --listen 0.0.0.0:8080            expose it on every interface\n"
        "  {0} --control-token-file /etc/brt/token   allow POST control requests\n"
        "API: /api/v1/summary, /api/v1/racks/R, /api/v1/racks/R/modules/M,\n"
        "/api/v1/racks/R/history, /api/v1/alarms, /api/v1/scenarios, /health, /metrics,\n"
        "WebSocket /api/v1/ws (docs/ws-bridge.md). POST (with the token)\n"
        "/api/v1/scenarios/apply|clear, /api/v1/racks/R/mode|reset,\n"
        "/api/v1/simulation/pause|resume "
        "and /api/v1/ambient go to the simulator;\n"
        "POST /api/v1/alarms/ID/acknowledge|shelve|unshelve and /api/v1/alarms/acknowledge\n"
        "go to brt-anomaly-monitor, whose alarms the bridge shows.\n"
        "Exit codes: 0 success, 1 runtime failure, 2 bad usage.",
        tool_name("ws_bridge")));
    return run_tool(app, argc, argv, [&] {
        limits.max_queued_bytes = max_queued_mib << 20;
        return serve(options);
    });
}
