// brt-ws-bridge as a long-running service: idle connections are closed, the
// segment can be re-created under it, /metrics counts what really happens,
// and systemd's STATUS= follows the clients. The bridge runs as a process
// against a known-value writer, as in the other ws_bridge tests.
#include <catch2/catch.hpp>

#include <signal.h>

#include <future>
#include <regex>

#include "support/run_command.hpp"
#include "support/test_segment.hpp"
#include "systemd/notify_socket.hpp"
#include "ws_bridge/bridge_client.hpp"
#include "ws_bridge/known_writer.hpp"

using namespace brt;
using namespace brt::test;

namespace {

const Geometry kGeometry{4, 2, 8};  // 64 cells

// Every wait below is for something the bridge must do; the bound only stops
// a broken bridge from hanging the test, it is never what the test measures.
// It is under the default idle timeouts (15 s HTTP, 60 s WebSocket), so a
// bridge that ignored the shortened ones the tests ask for fails too.
constexpr auto kEventually = 12s;

// The value of an unlabelled sample in Prometheus text, or -1 when absent.
double metric(const std::string& text, const std::string& name) {
    const std::regex sample("(^|\n)" + name + " ([^\n]+)\n");
    std::smatch match;
    if (!std::regex_search(text, match, sample)) {
        return -1;
    }
    return std::stod(match[2].str());
}

double metric(const BridgeProcess& bridge, const std::string& name) {
    return metric(http_get(bridge.port(), "/metrics").body, name);
}

// Resumes a stopped process however the test ends, so a failed REQUIRE
// never leaves the bridge frozen (its destructor would wait for it).
struct ContinueOnExit {
    pid_t pid;
    ~ContinueOnExit() { kill(pid, SIGCONT); }
};

// Waits until the kernel has really stopped `pid` (SIGSTOP is asynchronous).
bool is_stopped(pid_t pid) {
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    // "pid (comm) S ...": the state follows the last ')'.
    const auto close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'T';
}

}  // namespace

TEST_CASE("an HTTP connection that sends nothing or half a request is closed after --http-timeout",
          "[ws_bridge][service][hostile]") {
    ScopedSegment segment("svc-http-idle", kGeometry);
    // Half a second instead of the default 15 s, so the test is quick.
    BridgeProcess bridge(segment.name(), {"--http-timeout", "0.5"});

    // Connected, silent: closed without an answer (there is no request to answer).
    const RawReply silent = raw_exchange_until_closed(bridge.port(), "", kEventually);
    CHECK(silent.closed_by_server);
    CHECK(silent.bytes.empty());

    // Slow-loris: a request line and a header, never the blank line that ends them.
    const RawReply half = raw_exchange_until_closed(
        bridge.port(), "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n", kEventually);
    CHECK(half.closed_by_server);
    CHECK(half.bytes.empty());

    // A keep-alive connection is answered, then closed once it stays idle.
    const RawReply kept = raw_exchange_until_closed(
        bridge.port(), "GET /api/v1/scenarios HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", kEventually);
    CHECK_THAT(kept.bytes, Catch::StartsWith("HTTP/1.1 200"));
    CHECK(kept.closed_by_server);

    // Idle connections cost nothing lasting: the bridge still answers.
    CHECK(http_get(bridge.port(), "/api/v1/scenarios").status == 200);
}

TEST_CASE(
    "a silent WebSocket client is pinged and closed after --idle-timeout; one that "
    "answers pings stays",
    "[ws_bridge][service][websocket][hostile]") {
    ScopedSegment segment("svc-ws-idle", kGeometry);
    // 2 s instead of the default 60 s: the bridge pings after 1 s of silence
    // and closes 1 s later, which leaves a live client a second to answer.
    BridgeProcess bridge(segment.name(), {"--idle-timeout", "2"});

    WsClient live(bridge.port());
    REQUIRE(live.read_type("hello"));
    // The silent client, on its own thread and io_context: reads everything,
    // never answers the pings.
    auto silent = std::async(std::launch::async, [port = bridge.port()] {
        return raw_websocket_until_closed(port, "/api/v1/ws", {}, kEventually);
    });
    // Meanwhile the live client reads (Beast answers each ping as it reads)
    // until it has been pinged twice: a second ping comes only after the
    // answer to the first reset the bridge's idle timer.
    const auto deadline = std::chrono::steady_clock::now() + kEventually;
    while ((live.pings_received() < 2 || silent.wait_for(0ms) != std::future_status::ready) &&
           !live.closed() && std::chrono::steady_clock::now() < deadline) {
        live.read(100ms);
    }
    const RawReply silent_reply = silent.get();
    CHECK(silent_reply.closed_by_server);
    // It got the hello, then a ping (opcode 9, FIN, empty payload) it never answered.
    CHECK_THAT(silent_reply.bytes, Catch::Contains(R"("type":"hello")"));
    CHECK(silent_reply.bytes.find(std::string("\x89\x00", 2)) != std::string::npos);

    CHECK(live.pings_received() >= 2);
    REQUIRE_FALSE(live.closed());
    live.send(R"({"action":"subscribe","view":"summary","rate_hz":1})");
    CHECK(live.read_type("subscribed"));
    // The gauge counts the live client only.
    CHECK(eventually([&] { return metric(bridge, "brt_bridge_websocket_clients") == 1; }));
}

TEST_CASE(
    "the segment re-created under a running bridge: it keeps serving, says the writer "
    "is absent, then shows the new writer's values",
    "[ws_bridge][service]") {
    ScopedSegment segment("svc-recreate", kGeometry);
    std::optional<KnownWriter> writer;
    writer.emplace(segment.name(), kGeometry);
    BridgeProcess bridge(segment.name());
    REQUIRE(becomes_live(bridge));
    REQUIRE(http_get(bridge.port(), "/api/v1/summary").json()["geometry"]["cells"] == 64);
    WsClient client(bridge.port());
    client.send(R"({"action":"subscribe","view":"summary","rate_hz":5})");
    REQUIRE(client.read_type("subscribed"));

    // The writer goes, and brt-shm-init --force makes a new segment of
    // another geometry under the same name (2 racks x 2 modules x 4 cells).
    writer.reset();
    const auto init = run_command({tool_path("BRT_SHM_INIT"), "--shm-name", segment.name(),
                                   "--racks", "2", "--modules", "2", "--cells", "4", "--force"});
    INFO(init.err);
    REQUIRE(init.exit_code == 0);

    // The bridge attaches to the new segment by itself and says that no writer publishes.
    Json health;
    CHECK(eventually(
        [&] {
            const auto reply = http_get(bridge.port(), "/health");
            health = reply.json();
            return reply.status == 503 && health["writer"]["liveness"] == "no writer";
        },
        kEventually));
    CHECK(http_get(bridge.port(), "/api/v1/summary").json()["geometry"]["cells"] == 16);

    // A writer on the new segment: its values, in the new geometry.
    const Geometry small{2, 2, 4};
    writer.emplace(segment.name(), small);
    REQUIRE(becomes_live(bridge));
    Json summary;
    CHECK(eventually([&] {
        summary = http_get(bridge.port(), "/api/v1/summary").json();
        return !summary["frame"].is_null();
    }));
    CHECK(summary["geometry"]["cells"] == 16);
    REQUIRE(summary["racks"].size() == 2);
    // Rack 1 holds cells 8..15 now.
    CHECK(summary["racks"][1]["voltage_v"]["min"].get<double>() == 8.0);
    CHECK(summary["racks"][1]["voltage_v"]["max"].get<double>() == 15.0);
    const auto module = http_get(bridge.port(), "/api/v1/racks/1/modules/1").json();
    CHECK(module["cell_list"][3]["temperature_c"].get<double>() == 2015.0);
    // Racks of the old geometry are gone, with the new range in the reason.
    const auto gone = http_get(bridge.port(), "/api/v1/racks/3");
    CHECK(gone.status == 404);
    CHECK_THAT(gone.json()["error"].get<std::string>(), Catch::Contains("racks 0..1"));

    // The WebSocket client stayed connected through it all and now gets the
    // new writer's summaries.
    bool saw_absent = false;
    std::optional<Json> pushed;
    const auto deadline = std::chrono::steady_clock::now() + kEventually;
    while (std::chrono::steady_clock::now() < deadline) {
        pushed = client.read_type("summary");
        REQUIRE(pushed);
        saw_absent = saw_absent || (*pushed)["writer"]["liveness"] != "live";
        if ((*pushed)["geometry"]["cells"] == 16 && (*pushed)["writer"]["liveness"] == "live" &&
            !(*pushed)["frame"].is_null()) {
            break;
        }
    }
    CHECK(saw_absent);
    CHECK((*pushed)["geometry"]["cells"] == 16);
    CHECK((*pushed)["racks"][0]["voltage_v"]["max"].get<double>() == 7.0);
    CHECK_FALSE(client.closed());
}

TEST_CASE("metrics values: WebSocket clients, frames seen and missed, messages sent",
          "[ws_bridge][service]") {
    ScopedSegment segment("svc-metrics", kGeometry);
    KnownWriter writer(segment.name(), kGeometry, std::chrono::milliseconds(20));
    BridgeProcess bridge(segment.name());
    REQUIRE(becomes_live(bridge));

    // The gauge is the number of WebSocket clients open right now.
    CHECK(metric(bridge, "brt_bridge_websocket_clients") == 0);
    std::vector<std::unique_ptr<WsClient>> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(std::make_unique<WsClient>(bridge.port()));
        REQUIRE(clients.back()->read_type("hello"));
    }
    CHECK(metric(bridge, "brt_bridge_websocket_clients") == 3);
    // Every open connection counts: three WebSocket clients, this request.
    CHECK(eventually([&] { return metric(bridge, "brt_bridge_open_connections") == 4; }));
    clients.pop_back();
    CHECK(eventually([&] { return metric(bridge, "brt_bridge_websocket_clients") == 2; }));

    // Messages sent: at least the hellos, a subscription's answer and what it pushed.
    clients[0]->send(R"({"action":"subscribe","view":"summary","rate_hz":20})");
    REQUIRE(clients[0]->read_type("subscribed"));
    for (int i = 0; i < 5; ++i) {
        REQUIRE(clients[0]->read_type("summary"));
    }
    // Counted when the bridge's write completes, which may be a moment after
    // the client has read the message.
    CHECK(
        eventually([&] { return metric(bridge, "brt_bridge_messages_sent_total") >= 3 + 1 + 5; }));
    CHECK(metric(bridge, "brt_bridge_messages_dropped_total") == 0);  // everybody keeps up
    clients.clear();
    CHECK(eventually([&] { return metric(bridge, "brt_bridge_websocket_clients") == 0; }));

    // Frames seen grow with the writer.
    const double seen_before = metric(bridge, "brt_bridge_frames_seen_total");
    REQUIRE(seen_before > 0);
    CHECK(eventually([&] { return metric(bridge, "brt_bridge_frames_seen_total") > seen_before; }));

    // Frames missed: freeze the bridge while the writer publishes 20 frames.
    // When it runs again it reads the newest frame, so it missed the 19 or
    // more before it, however fast or slow the machine is.
    const double missed_before = metric(bridge, "brt_bridge_frames_missed_total");
    REQUIRE(missed_before >= 0);
    {
        ContinueOnExit resume{bridge.pid()};
        REQUIRE(kill(bridge.pid(), SIGSTOP) == 0);
        REQUIRE(eventually([&] { return is_stopped(bridge.pid()); }));
        const std::uint64_t published = writer.published();
        REQUIRE(eventually([&] { return writer.published() >= published + 20; }));
    }
    CHECK(eventually(
        [&] { return metric(bridge, "brt_bridge_frames_missed_total") >= missed_before + 19; },
        kEventually));
    // Seen and missed together never exceed the frames published.
    const std::string text = http_get(bridge.port(), "/metrics").body;
    CHECK(metric(text, "brt_bridge_frames_seen_total") +
              metric(text, "brt_bridge_frames_missed_total") <=
          metric(text, "brt_latest_frame_number"));
}

TEST_CASE("under systemd: READY=1, then STATUS= with the client count, which follows the clients",
          "[ws_bridge][service][systemd]") {
    ScopedSegment segment("svc-notify", kGeometry);
    NotifySocket socket;
    BridgeProcess bridge(segment.name(), {}, {socket.environment()});

    auto wait_for = [&](const std::string& prefix, const std::string& part) {
        return socket.wait_for_line(
            prefix, part, std::chrono::duration_cast<std::chrono::milliseconds>(kEventually));
    };

    CHECK(wait_for("READY=1", "") == "READY=1");
    const std::string idle = wait_for("STATUS=", "0 WebSocket clients");
    INFO(idle);
    CHECK_THAT(idle, Catch::StartsWith("STATUS=0 WebSocket clients"));
    // The writer's state is in it too: this segment has none.
    CHECK_THAT(idle, Catch::Contains("writer no writer"));
    {
        WsClient client(bridge.port());
        REQUIRE(client.read_type("hello"));
        const std::string one = wait_for("STATUS=", "1 WebSocket clients");
        CHECK_THAT(one, Catch::StartsWith("STATUS=1 WebSocket clients"));
    }
    // And back when the client leaves.
    CHECK_THAT(wait_for("STATUS=", "0 WebSocket clients"),
               Catch::StartsWith("STATUS=0 WebSocket clients"));
}
