// Control through the bridge: the token gate, commands arriving in the
// segment's command ring exactly as sent, and the real simulator acting on
// them (with the anomaly monitor running, an alarm appears in /api/v1/alarms
// and on the WebSocket, and is acknowledged through the bridge).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "common/control/scenario.hpp"
#include "common/segment/command_ring.hpp"
#include "common/segment/segment_writer.hpp"
#include "support/run_command.hpp"
#include "support/test_segment.hpp"
#include "ws_bridge/bridge_client.hpp"
#include "ws_bridge/fake_monitor.hpp"

using namespace brt;
using namespace brt::test;

namespace {

const Geometry kGeometry{4, 2, 8};
const std::string kToken = "s3cret-token-for-tests";

}  // namespace

TEST_CASE("control is refused with 403 without a configured token, saying how to enable it",
          "[ws_bridge][control]") {
    ScopedSegment segment("ctl-off", kGeometry);
    BridgeProcess bridge(segment.name());
    const auto reply = http_request(bridge.port(), "POST", "/api/v1/scenarios/apply",
                                    R"({"scenario":"hvac_failure","rack":1})", bearer(kToken));
    CHECK(reply.status == 403);
    CHECK_THAT(reply.json()["error"].get<std::string>(), Catch::Contains("--control-token-file"));
    // Nothing reached the ring.
    CHECK(CommandRing(open_segment(segment.name(), SegmentAccess::reader)).posted() == 0);
}

TEST_CASE("the token gate: 403 without or with a wrong token, the command in the ring with it",
          "[ws_bridge][control]") {
    ScopedSegment segment("ctl-gate", kGeometry);
    TokenFile token(kToken);
    BridgeProcess bridge(segment.name(), {"--control-token-file", token.path});
    const std::string body = R"({"scenario":"thermal_runaway","rack":3,"module":1,"cell":5,)"
                             R"("magnitude":250,"duration_s":30})";

    auto reply = http_request(bridge.port(), "POST", "/api/v1/scenarios/apply", body);
    CHECK(reply.status == 403);
    CHECK_THAT(reply.json()["error"].get<std::string>(), Catch::Contains("Authorization: Bearer"));
    reply = http_request(bridge.port(), "POST", "/api/v1/scenarios/apply", body,
                         bearer("s3cret-token-for-testz"));
    CHECK(reply.status == 403);
    CHECK_THAT(reply.json()["error"].get<std::string>(), Catch::Contains("wrong token"));
    MappedSegment mapped = open_segment(segment.name(), SegmentAccess::reader);
    CommandRing ring(mapped);
    CHECK(ring.posted() == 0);

    // A test consumer plays the simulator: it takes the command and answers.
    SegmentWriter writer = SegmentWriter::acquire(segment.name(), 100'000'000);
    std::thread consumer([&] {
        CommandRing consumer_ring(writer.segment());
        for (int i = 0; i < 500; ++i) {
            if (auto received = consumer_ring.try_consume()) {
                const auto spec = decode_apply_command(received->command);
                const bool right = spec && spec->kind == ScenarioKind::thermal_runaway &&
                                   spec->target.rack == 3 && spec->target.module == 1 &&
                                   spec->target.cell == 5 && spec->magnitude == 250 &&
                                   spec->duration_s == 30;
                consumer_ring.complete(received->position, right
                                                               ? CommandStatus::applied
                                                               : CommandStatus::rejected_argument);
                return;
            }
            std::this_thread::sleep_for(10ms);
        }
    });
    reply = http_request(bridge.port(), "POST", "/api/v1/scenarios/apply", body, bearer(kToken));
    consumer.join();
    INFO(reply.body);
    CHECK(reply.status == 200);
    CHECK(reply.json()["status"] == "applied");
    CHECK_THAT(reply.json()["command"].get<std::string>(), Catch::Contains("thermal_runaway"));

    // Bad bodies and targets are refused before reaching the ring.
    const auto posted = ring.posted();
    CHECK(http_request(bridge.port(), "POST", "/api/v1/scenarios/apply", R"({"scenario":"meteor"})",
                       bearer(kToken))
              .status == 400);
    CHECK(http_request(bridge.port(), "POST", "/api/v1/scenarios/apply",
                       R"({"scenario":"hvac_failure","rack":9})", bearer(kToken))
              .status == 400);
    CHECK(http_request(bridge.port(), "POST", "/api/v1/scenarios/apply", "{nope", bearer(kToken))
              .status == 400);
    CHECK(http_request(bridge.port(), "POST", "/api/v1/racks/7/mode", R"({"mode":"charge"})",
                       bearer(kToken))
              .status == 404);
    CHECK(http_request(bridge.port(), "POST", "/api/v1/racks/1/mode", R"({"mode":"warp"})",
                       bearer(kToken))
              .status == 400);
    CHECK(http_request(bridge.port(), "POST", "/api/v1/racks/7/reset", "", bearer(kToken)).status ==
          404);
    CHECK(ring.posted() == posted);

    // Nobody consumes now: the command is accepted into the ring, answer pending.
    reply = http_request(bridge.port(), "POST", "/api/v1/racks/1/mode",
                         R"({"mode":"discharge","current_a":50})", bearer(kToken));
    CHECK(reply.status == 202);
    CHECK(reply.json()["status"] == "pending");
    CHECK(ring.posted() == posted + 1);
    // A protection reset goes into the ring the same way.
    reply = http_request(bridge.port(), "POST", "/api/v1/racks/2/reset", "", bearer(kToken));
    CHECK(reply.status == 202);
    CHECK(reply.json()["command"] == "reset protection of rack 2");
    CHECK(ring.posted() == posted + 2);
    CHECK(http_get(bridge.port(), "/api/v1/summary").status == 200);
}

TEST_CASE("a token file readable by everybody, or too short, is refused", "[ws_bridge][control]") {
    TokenFile weak("short");
    auto result = run_command({tool_path("BRT_WS_BRIDGE"), "--control-token-file", weak.path});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::Contains("at least 8"));
    TokenFile open_file(kToken);
    chmod(open_file.path.c_str(), 0644);
    result = run_command({tool_path("BRT_WS_BRIDGE"), "--control-token-file", open_file.path});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::Contains("chmod"));
}

TEST_CASE(
    "with the simulator and the monitor: a scenario applied over HTTP raises an alarm the "
    "bridge shows, acknowledged over HTTP",
    "[ws_bridge][control][simulator]") {
    ScopedSegment segment("ctl-sim", kGeometry);
    RemoveAlarmSegment alarm_cleanup{segment.name()};  // after the monitor is gone
    TokenFile token(kToken);
    KillOnExit guard;
    const std::string log = "/tmp/" + unique_segment_name("ctl-sim") + ".log";
    const std::string monitor_log = log + ".monitor";
    guard.pids.push_back(spawn_background(
        {tool_path("BRT_SIMULATOR"), "--shm-name", segment.name(), "--mode", "idle"}, log));
    // The alarm server: the bridge shows its alarms (it runs no alarm engine).
    guard.pids.push_back(spawn_background(
        {tool_path("BRT_ANOMALY_MONITOR"), "--shm-name", segment.name(), "--format", "json"},
        monitor_log));
    BridgeProcess bridge(segment.name(), {"--control-token-file", token.path});
    REQUIRE(eventually([&] { return http_get(bridge.port(), "/health").status == 200; }, 30s));
    REQUIRE(eventually(
        [&] {
            return http_get(bridge.port(), "/api/v1/alarms").json()["monitor"]["running"] == true;
        },
        30s));

    WsClient client(bridge.port());
    client.send(R"({"action":"subscribe","view":"alarms","rate_hz":5})");
    auto alarms = client.read_type("alarms");
    REQUIRE(alarms);
    CHECK((*alarms)["alarms"].empty());

    const auto reply =
        http_request(bridge.port(), "POST", "/api/v1/scenarios/apply",
                     R"({"scenario":"sensor_fault","kind":"dropout","rack":2,"module":1,"cell":3})",
                     bearer(kToken));
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    CHECK(reply.json()["status"] == "applied");

    // The dropout alarm at that cell, on the WebSocket and over REST.
    std::uint64_t id = 0;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (id == 0 && std::chrono::steady_clock::now() < deadline) {
        alarms = client.read_type("alarms", 5s);
        REQUIRE(alarms);
        for (const Json& alarm : (*alarms)["alarms"]) {
            if (alarm["rule"] == "sensor_dropout" && alarm["rack"] == 2 && alarm["module"] == 1 &&
                alarm["cell"] == 3) {
                id = alarm["id"];
            }
        }
    }
    REQUIRE(id != 0);
    const Json rest = http_get(bridge.port(), "/api/v1/alarms").json();
    CHECK(rest["counts"]["warning"].get<int>() >= 1);
    CHECK_THAT(rest.dump(), Catch::Contains("sensor_dropout"));
    CHECK_THAT(http_get(bridge.port(), "/metrics").body,
               Catch::Contains("brt_bridge_control_commands_total 1\n"));

    // Clearing returns it to normal: it stays, unacknowledged, until an
    // operator acknowledges it (ISA-18.2); then it goes.
    CHECK(http_request(bridge.port(), "POST", "/api/v1/scenarios/clear", R"({})", bearer(kToken))
              .status == 200);
    const std::string path = "/api/v1/alarms/" + std::to_string(id);
    auto state = [&] {
        const Json list = http_get(bridge.port(), "/api/v1/alarms").json();
        for (const Json& alarm : list["alarms"]) {
            if (alarm["id"] == id) {
                return alarm["state"].get<std::string>();
            }
        }
        return std::string("gone");
    };
    CHECK(eventually([&] { return state() == "returned_unacknowledged"; }, 30s));
    const auto acknowledged =
        http_request(bridge.port(), "POST", path + "/acknowledge", {}, bearer(kToken));
    INFO(acknowledged.body);
    CHECK(acknowledged.status == 200);
    CHECK(eventually([&] { return state() == "gone"; }, 30s));
    unlink(log.c_str());
    unlink(monitor_log.c_str());
}

TEST_CASE(
    "pause, resume and the ambient temperature over REST reach the simulator, and the rack "
    "trends are kept on the server",
    "[ws_bridge][control][simulator]") {
    ScopedSegment segment("ctl-pause", kGeometry);
    TokenFile token(kToken);
    KillOnExit guard;
    const std::string log = "/tmp/" + unique_segment_name("ctl-pause") + ".log";
    guard.pids.push_back(spawn_background(
        {tool_path("BRT_SIMULATOR"), "--shm-name", segment.name(), "--mode", "idle"}, log));
    BridgeProcess bridge(segment.name(), {"--control-token-file", token.path});
    REQUIRE(eventually([&] { return http_get(bridge.port(), "/health").status == 200; }, 30s));
    auto summary = [&] { return http_get(bridge.port(), "/api/v1/summary").json(); };
    // A paused writer publishes no frames: its state says it is paused.
    auto paused = [](const Json& view) { return view["writer"]["state"] == "paused"; };

    // Without the token nothing happens.
    CHECK(http_request(bridge.port(), "POST", "/api/v1/simulation/pause", {}).status == 403);
    auto reply =
        http_request(bridge.port(), "POST", "/api/v1/simulation/pause", {}, bearer(kToken));
    INFO(reply.body);
    CHECK(reply.status == 200);
    CHECK(reply.json()["command"] == "pause");
    CHECK(eventually([&] { return paused(summary()); }, 10s));

    reply = http_request(bridge.port(), "POST", "/api/v1/ambient", R"({"temperature_c":35})",
                         bearer(kToken));
    CHECK(reply.status == 200);
    reply = http_request(bridge.port(), "POST", "/api/v1/ambient", R"({"temperature_c":350})",
                         bearer(kToken));
    CHECK(reply.status == 400);
    CHECK_THAT(reply.json()["error"].get<std::string>(), Catch::Contains("-50..70"));
    CHECK(
        http_request(bridge.port(), "POST", "/api/v1/ambient", R"({"celsius":20})", bearer(kToken))
            .status == 400);

    reply = http_request(bridge.port(), "POST", "/api/v1/simulation/resume", {}, bearer(kToken));
    CHECK(reply.status == 200);
    CHECK(eventually([&] { return !paused(summary()); }, 10s));
    // Set while paused, it shows in the first frames after.
    CHECK(eventually([&] { return summary()["ambient_temperature_c"] == 35.0; }, 10s));

    // The trend of a rack, one point a second, from when the bridge started:
    // over REST and the WebSocket, as a page that opens now asks for it.
    Json history;
    REQUIRE(eventually(
        [&] {
            history = http_get(bridge.port(), "/api/v1/racks/2/history?fields=voltage_v").json();
            return history.value("points", 0) >= 2;
        },
        15s));
    CHECK(history["interval_s"] == 1.0);
    CHECK(history["span_s"] == 3600.0);
    CHECK(history["time_unix_s"].size() == history["points"].get<std::size_t>());
    CHECK(history["voltage_v"]["mean"].size() == history["points"].get<std::size_t>());
    CHECK(history["voltage_v"]["min"][0].get<double>() > 2.5);
    CHECK(history["voltage_v"]["max"][0].get<double>() < 4.5);
    CHECK_FALSE(history.contains("temperature_c"));
    const double newest = history["time_unix_s"].back();
    const double now_s =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    CHECK(std::abs(now_s - newest) < 10);
    CHECK(http_get(bridge.port(), "/api/v1/racks/9/history").status == 404);
    CHECK(http_get(bridge.port(), "/api/v1/racks/1/history?fields=status").status == 400);
    WsClient client(bridge.port());
    client.send(R"({"action":"history","rack":1})");
    const auto message = client.read_type("history");
    REQUIRE(message);
    CHECK((*message)["rack"] == 1);
    CHECK((*message)["points"].get<int>() >= 2);
    CHECK((*message).contains("temperature_c"));
    CHECK((*message).contains("soh"));
    client.send(R"({"action":"history"})");
    const auto refused = client.read_type("error");
    REQUIRE(refused);
    CHECK_THAT((*refused)["error"].get<std::string>(), Catch::Contains("\"rack\""));
    const std::string metrics = http_get(bridge.port(), "/metrics").body;
    CHECK_THAT(metrics, Catch::Contains("brt_bridge_history_interval_seconds 1\n"));
    CHECK_THAT(metrics, Catch::Contains("# TYPE brt_bridge_history_bytes gauge"));
    unlink(log.c_str());
}
