// brt-ws-bridge's HTTP side end to end: a known-value writer, the bridge as
// a process, a real HTTP client. Every value checked is one the writer wrote.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <limits>
#include <regex>

#include "support/run_command.hpp"
#include "support/test_segment.hpp"
#include "ws_bridge/bridge_client.hpp"
#include "ws_bridge/known_writer.hpp"

using namespace brt;
using namespace brt::test;

namespace {

const Geometry kGeometry{4, 2, 8};  // 64 cells

}  // namespace

TEST_CASE("the summary carries the writer's values and state", "[ws_bridge][rest]") {
    ScopedSegment segment("rest-summary", kGeometry);
    KnownWriter writer(segment.name(), kGeometry);
    BridgeProcess bridge(segment.name());
    REQUIRE(becomes_live(bridge));

    for (const std::string path : {"/api/v1/summary", "/summary"}) {
        INFO(path);
        const auto reply = http_get(bridge.port(), path);
        REQUIRE(reply.status == 200);
        CHECK(reply.headers.at("content-type") == "application/json");
        const Json summary = reply.json();
        CHECK(summary["writer"]["liveness"] == "live");
        CHECK(summary["writer"]["state"] == "running");
        CHECK(summary["geometry"]["cells"] == 64);
        CHECK(summary["frame"].get<std::uint64_t>() >= 1);
        REQUIRE(summary["racks"].size() == 4);
        // Rack 2 holds cells 32..47; temperature is column 2: c + 2000.
        const Json& rack = summary["racks"][2];
        CHECK(rack["rack"] == 2);
        CHECK(rack["mode"] == "charge");
        CHECK(rack["string_current_a"].get<double>() == Approx(12.0));
        CHECK(rack["voltage_v"]["min"].get<double>() == 32.0);
        CHECK(rack["voltage_v"]["max"].get<double>() == 47.0);
        CHECK(rack["voltage_v"]["mean"].get<double>() == Approx(39.5));
        CHECK(rack["temperature_c"]["min"].get<double>() == 2032.0);
        CHECK(rack["temperature_c"]["max_cell"] == 47);
        CHECK(summary["system"]["soc"]["max"].get<double>() == 3063.0);
        CHECK(summary["alarms"].contains("critical"));
    }
}

TEST_CASE("racks and modules by both path styles, every cell of a module", "[ws_bridge][rest]") {
    ScopedSegment segment("rest-rack", kGeometry);
    KnownWriter writer(segment.name(), kGeometry);
    BridgeProcess bridge(segment.name());
    REQUIRE(becomes_live(bridge));

    for (const std::string path : {"/api/v1/racks/3", "/rack/3"}) {
        const Json rack = http_get(bridge.port(), path).json();
        CHECK(rack["type"] == "rack");
        CHECK(rack["rack"] == 3);
        REQUIRE(rack["modules"].size() == 2);
        CHECK(rack["modules"][1]["voltage_v"]["min"].get<double>() == 56.0);
        CHECK(rack["modules"][1]["first_cell"] == 56);
    }
    for (const std::string path : {"/api/v1/racks/2/modules/1", "/rack/2/module/1"}) {
        INFO(path);
        const auto reply = http_get(bridge.port(), path);
        REQUIRE(reply.status == 200);
        const Json module = reply.json();
        CHECK(module["type"] == "module");
        CHECK(module["module"] == 1);
        REQUIRE(module["cell_list"].size() == 8);
        for (int i = 0; i < 8; ++i) {
            const Json& cell = module["cell_list"][i];
            const double index = 40 + i;  // (2 * 2 + 1) * 8 + i
            CHECK(cell["index"] == 40 + i);
            CHECK(cell["voltage_v"].get<double>() == index);
            CHECK(cell["current_a"].get<double>() == index + 1000);
            CHECK(cell["soh"].get<double>() == index + 5000);
            CHECK(cell["status"] == 40 + i);
        }
        // The chemistry's alarm limits come with it, for the page's bar chart.
        CHECK(module["limits"]["voltage_v"]["max"]["msl"].get<double>() > 4.0);
    }
}

TEST_CASE("a NaN reading (sensor dropout) is null in the REST JSON, which parses",
          "[ws_bridge][rest]") {
    ScopedSegment segment("rest-nan", kGeometry);
    // Rack 2 module 1 holds cells 40..47: cell 42 lost its voltage reading,
    // cell 43 its temperature (column 2).
    KnownWriter writer(segment.name(), kGeometry, std::chrono::milliseconds(50),
                       [](CellIndexFrame& frame) {
                           frame.columns[0][42] = std::numeric_limits<float>::quiet_NaN();
                           frame.columns[2][43] = std::numeric_limits<float>::quiet_NaN();
                       });
    BridgeProcess bridge(segment.name());
    REQUIRE(becomes_live(bridge));

    const auto reply = http_get(bridge.port(), "/api/v1/racks/2/modules/1");
    REQUIRE(reply.status == 200);
    INFO(reply.body);
    // NaN is not JSON: a bare NaN token would make the parse throw.
    CHECK_THAT(reply.body, !Catch::Contains("nan", Catch::CaseSensitive::No));
    Json module;
    REQUIRE_NOTHROW(module = reply.json());
    const Json& cells = module["cell_list"];
    REQUIRE(cells.size() == 8);
    CHECK(cells[2]["index"] == 42);
    CHECK(cells[2]["voltage_v"].is_null());
    CHECK(cells[2]["temperature_c"].get<double>() == 2042.0);  // the other readings stay
    CHECK(cells[3]["temperature_c"].is_null());
    CHECK(cells[3]["voltage_v"].get<double>() == 43.0);
    CHECK(cells[4]["voltage_v"].get<double>() == 44.0);
    // The aggregates leave the missing readings out and count the valid ones.
    CHECK(module["voltage_v"]["valid"] == 7);
    CHECK(module["voltage_v"]["min"].get<double>() == 40.0);
    CHECK(module["temperature_c"]["valid"] == 7);

    const auto summary = http_get(bridge.port(), "/api/v1/summary");
    REQUIRE_NOTHROW(summary.json());
    CHECK(summary.json()["racks"][2]["voltage_v"]["valid"] == 15);
    CHECK(summary.json()["system"]["voltage_v"]["valid"] == 63);
    // The alarm document must parse as well.
    const auto alarms = http_get(bridge.port(), "/api/v1/alarms");
    CHECK(alarms.status == 200);
    CHECK_NOTHROW(alarms.json());
}

TEST_CASE("bad racks, modules and paths get 404 or 400 with a reason", "[ws_bridge][rest]") {
    ScopedSegment segment("rest-range", kGeometry);
    KnownWriter writer(segment.name(), kGeometry);
    BridgeProcess bridge(segment.name());
    REQUIRE(becomes_live(bridge));

    auto reply = http_get(bridge.port(), "/api/v1/racks/4");
    CHECK(reply.status == 404);
    CHECK_THAT(reply.json()["error"].get<std::string>(), Catch::Contains("racks 0..3"));
    reply = http_get(bridge.port(), "/rack/1/module/2");
    CHECK(reply.status == 404);
    CHECK_THAT(reply.json()["error"].get<std::string>(), Catch::Contains("modules 0..1"));
    CHECK(http_get(bridge.port(), "/api/v1/racks/-1").status == 400);
    CHECK(http_get(bridge.port(), "/api/v1/racks/99999999999").status == 400);
    CHECK(http_get(bridge.port(), "/api/v1/nothing").status == 404);
    CHECK(http_request(bridge.port(), "DELETE", "/api/v1/summary").status == 405);
    // The bridge is still there.
    CHECK(http_get(bridge.port(), "/api/v1/summary").status == 200);
}

TEST_CASE("the scenario catalogue and the embedded web page", "[ws_bridge][rest]") {
    ScopedSegment segment("rest-static", kGeometry);
    BridgeProcess bridge(segment.name());
    const Json scenarios = http_get(bridge.port(), "/api/v1/scenarios").json();
    REQUIRE(scenarios["scenarios"].size() == 10);
    CHECK(scenarios["scenarios"][5]["name"] == "thermal_runaway");
    CHECK(scenarios["modes"][1] == "charge");

    const auto page = http_get(bridge.port(), "/");
    CHECK(page.status == 200);
    CHECK_THAT(page.headers.at("content-type"), Catch::Contains("text/html"));
    CHECK_THAT(page.body, Catch::Contains("/app.js"));
    const auto script = http_get(bridge.port(), "/app.js");
    CHECK(script.status == 200);
    CHECK_THAT(script.body, Catch::Contains("/api/v1/ws"));
    // A browser asks for /favicon.ico by itself: an icon, not a 404.
    const auto icon = http_get(bridge.port(), "/favicon.ico");
    CHECK(icon.status == 200);
    CHECK(icon.headers.at("content-type") == "image/x-icon");
    CHECK(icon.body.substr(0, 4) == std::string("\0\0\1\0", 4));  // the ICO header

    // The default alarm limits per chemistry: the page's fixed colour scales.
    const Json limits = http_get(bridge.port(), "/api/v1/limits").json();
    CHECK(limits["nmc"]["voltage_v"]["max"]["msl"].get<double>() == Approx(4.25));
    CHECK(limits["lfp"]["voltage_v"]["max"]["msl"].get<double>() == Approx(3.65));
    CHECK(limits["lfp"]["voltage_v"]["min"]["msl"].get<double>() == Approx(2.5));
}

TEST_CASE("health is 503 without a live writer and 200 with one, and follows it",
          "[ws_bridge][rest]") {
    ScopedSegment segment("rest-health", kGeometry);
    BridgeProcess bridge("brt_test_absent_" + segment.name());
    // No segment at all.
    auto health = http_get(bridge.port(), "/health");
    CHECK(health.status == 503);
    CHECK(health.json()["writer"]["liveness"] == "no segment");
    CHECK(http_get(bridge.port(), "/api/v1/summary").json()["frame"].is_null());
    CHECK(http_get(bridge.port(), "/api/v1/racks/0").status == 503);

    // A segment without a writer, then a writer, then the writer stopping.
    BridgeProcess second(segment.name());
    CHECK(http_get(second.port(), "/health").json()["writer"]["liveness"] == "no writer");
    CHECK(http_get(second.port(), "/health").status == 503);
    {
        KnownWriter writer(segment.name(), kGeometry);
        REQUIRE(becomes_live(second));
        CHECK(http_get(second.port(), "/health").json()["status"] == "ok");
        writer.stop();
        CHECK(eventually([&] { return http_get(second.port(), "/health").status == 503; }));
    }
    // The writer released the segment: the bridge says so and keeps serving.
    CHECK(eventually([&] {
        return http_get(second.port(), "/health").json()["writer"]["liveness"] == "stopped";
    }));
    // A new writer: frames come back without restarting the bridge.
    KnownWriter again(segment.name(), kGeometry);
    REQUIRE(becomes_live(second));
    CHECK(http_get(second.port(), "/api/v1/racks/1").status == 200);
}

TEST_CASE("metrics are Prometheus text with rack labels and counters", "[ws_bridge][rest]") {
    ScopedSegment segment("rest-metrics", kGeometry);
    KnownWriter writer(segment.name(), kGeometry);
    BridgeProcess bridge(segment.name());
    REQUIRE(becomes_live(bridge));
    const auto reply = http_get(bridge.port(), "/metrics");
    REQUIRE(reply.status == 200);
    CHECK_THAT(reply.headers.at("content-type"), Catch::StartsWith("text/plain; version=0.0.4"));
    const std::string& text = reply.body;
    CHECK_THAT(text, Catch::Contains("brt_writer_up 1\n"));
    CHECK_THAT(text, Catch::Contains("# TYPE brt_rack_cell_voltage_volts gauge\n"));
    CHECK_THAT(text, Catch::Contains("brt_rack_cell_voltage_volts{rack=\"1\",stat=\"max\"} 31\n"));
    CHECK_THAT(
        text, Catch::Contains("brt_rack_cell_temperature_celsius{rack=\"0\",stat=\"min\"} 2000\n"));
    CHECK_THAT(text, Catch::Contains("# TYPE brt_bridge_frames_seen_total counter\n"));
    CHECK_THAT(text, Catch::Contains("brt_alarms_active{severity=\"critical\"} "));
    CHECK_THAT(text, Catch::Contains("brt_bridge_messages_dropped_total 0\n"));
    // Every line is a comment or `name{labels} value` with a number.
    const std::regex sample(
        R"(^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$)");
    std::istringstream lines(text);
    std::string line;
    int samples = 0;
    while (std::getline(lines, line)) {
        if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
            continue;
        }
        INFO(line);
        CHECK(std::regex_match(line, sample));
        ++samples;
    }
    CHECK(samples > 50);
    // Counter names end in _total.
    const std::regex counter_type(R"(# TYPE ([a-z_]+) counter)");
    for (std::sregex_iterator it(text.begin(), text.end(), counter_type), end; it != end; ++it) {
        CHECK_THAT((*it)[1].str(), Catch::EndsWith("_total"));
    }
}

TEST_CASE(
    "metrics parse with Prometheus' own client: every family typed, none empty, "
    "no duplicate",
    "[ws_bridge][rest]") {
    ScopedSegment segment("rest-metrics-parse", kGeometry);
    KnownWriter writer(segment.name(), kGeometry);
    BridgeProcess bridge(segment.name());
    REQUIRE(becomes_live(bridge));
    const std::string path = "/tmp/brt-metrics-" + std::to_string(getpid()) + ".txt";
    {
        std::ofstream file(path);
        file << http_get(bridge.port(), "/metrics").body;
    }
    // A family whose HELP/TYPE lines are not followed by its samples parses
    // as an empty family plus an untyped one ("unknown"); a gauge named like
    // a counter's family (the counter's name less _total) parses twice.
    const std::string script =
        "import sys\n"
        "try:\n"
        "    from prometheus_client.parser import text_string_to_metric_families\n"
        "except ImportError:\n"
        "    sys.exit('python3-prometheus-client is missing: run scripts/install-deps.sh')\n"
        "seen = set()\n"
        "problems = []\n"
        "for family in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
        "    if family.type == 'unknown':\n"
        "        problems.append(family.name + ' is untyped')\n"
        "    if not family.samples:\n"
        "        problems.append(family.name + ' has no samples')\n"
        "    if family.name in seen:\n"
        "        problems.append(family.name + ' appears twice')\n"
        "    seen.add(family.name)\n"
        "print(len(seen), 'families')\n"
        "print('\\n'.join(problems))\n"
        "sys.exit(1 if problems else 0)\n";
    // Debian's python3-prometheus-client (scripts/install-deps.sh) is in
    // /usr/bin/python3's path, which need not be the python3 meson found
    // first (pyenv, a virtual environment).
    std::string python = tool_path("BRT_PYTHON");
    for (const std::string& candidate : std::vector<std::string>{python, "/usr/bin/python3"}) {
        if (run_command({candidate, "-c", "import prometheus_client"}).exit_code == 0) {
            python = candidate;
            break;
        }
    }
    const auto output = run_command({python, "-c", script, path});
    std::remove(path.c_str());
    INFO(output.out << output.err);
    CHECK(output.exit_code == 0);
    CHECK_THAT(output.out, Catch::StartsWith("42 families"));  // 3 of them the rack history's
}

TEST_CASE("HTTP header and body limits, and the connection cap", "[ws_bridge][rest][hostile]") {
    ScopedSegment segment("rest-limits", kGeometry);
    BridgeProcess bridge(segment.name(), {"--max-connections", "3"});

    const std::string huge_header =
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Junk: " + std::string(20000, 'a') + "\r\n\r\n";
    CHECK_THAT(raw_exchange(bridge.port(), huge_header), Catch::StartsWith("HTTP/1.1 431"));
    const std::string huge_body = std::string(40000, 'b');
    const auto body_reply =
        http_request(bridge.port(), "POST", "/api/v1/scenarios/apply", huge_body);
    CHECK(body_reply.status == 413);
    CHECK_THAT(raw_exchange(bridge.port(), "NOT HTTP AT ALL\r\n\r\n"),
               Catch::StartsWith("HTTP/1.1 400"));

    // Three idle connections fill the cap; a fourth is told why it is refused.
    // The connections above close on the server's side a moment later.
    std::vector<std::unique_ptr<WsClient>> held;
    for (int i = 0; i < 3; ++i) {
        REQUIRE(eventually([&] {
            try {
                held.push_back(std::make_unique<WsClient>(bridge.port()));
                return true;
            } catch (const std::exception&) {
                return false;
            }
        }));
    }
    std::string refused;
    REQUIRE(eventually([&] {
        refused = raw_exchange(bridge.port(), "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 2s);
        return refused.starts_with("HTTP/1.1 503");
    }));
    CHECK_THAT(refused, Catch::Contains("too many connections"));
    CHECK_THROWS_WITH(WsClient(bridge.port()), Catch::Contains("503"));
    held.pop_back();
    CHECK(eventually([&] {
        try {
            return http_get(bridge.port(), "/api/v1/scenarios").status == 200;
        } catch (const std::exception&) {
            return false;
        }
    }));
    held.clear();
    std::string metrics;
    CHECK(eventually([&] {
        metrics = http_get(bridge.port(), "/metrics").body;
        return metrics.starts_with("# HELP");
    }));
    CHECK_THAT(metrics, Catch::Contains("brt_bridge_connections_rejected_total "));
    CHECK_THAT(metrics, !Catch::Contains("brt_bridge_connections_rejected_total 0\n"));
}

TEST_CASE("hostile alarm commands get 400 with a reason, never reach the monitor, never crash",
          "[ws_bridge][rest][hostile]") {
    ScopedSegment segment("rest-alarm-hostile", kGeometry);
    KnownWriter writer(segment.name(), kGeometry);
    const std::string token_path = "/tmp/" + unique_segment_name("token");
    std::ofstream(token_path) << "hostile-alarm-token\n";
    chmod(token_path.c_str(), 0600);
    BridgeProcess bridge(segment.name(), {"--control-token-file", token_path});
    unlink(token_path.c_str());
    const std::vector<std::pair<std::string, std::string>> headers = {
        {"Authorization", "Bearer hostile-alarm-token"}};

    for (const std::string& id : std::vector<std::string>{
             "0", "-1", "abc", "1e3", "1.5", "0x10", "+1", "%31", "1%00", "99999999999999999999999",
             "18446744073709551616", "9223372036854775808", std::string(5000, '9')}) {
        for (const std::string action : {"acknowledge", "unshelve"}) {
            const auto reply = http_request(bridge.port(), "POST",
                                            "/api/v1/alarms/" + id + "/" + action, {}, headers);
            INFO(id.substr(0, 40) << " " << action << ": " << reply.body.substr(0, 300));
            CHECK(reply.status == 400);
            REQUIRE_NOTHROW(reply.json());
            CHECK_THAT(reply.json()["error"].get<std::string>(),
                       Catch::Contains("is not an alarm id"));
        }
    }
    for (const std::string& body : std::vector<std::string>{
             "", "not json", "[]", "{}", "null", R"({"seconds":-5})", R"({"seconds":0})",
             R"({"seconds":86401})", R"({"seconds":"60"})", R"({"seconds":null})",
             R"({"seconds":NaN})", R"({"seconds":Infinity})", R"({"seconds":1e400})",
             R"({"seconds":[60]})", R"({"seconds":true})", R"({"seconds":60)",
             std::string(10000, '{')}) {
        const auto reply =
            http_request(bridge.port(), "POST", "/api/v1/alarms/1/shelve", body, headers);
        INFO(body.substr(0, 40) << ": " << reply.body);
        CHECK(reply.status == 400);
        REQUIRE_NOTHROW(reply.json());
        const std::string error = reply.json()["error"];
        CHECK((error.find("\"seconds\" must be a number, more than 0 and at most 86400") !=
                   std::string::npos ||
               error.find("the body must be one JSON object") != std::string::npos));
    }
    const auto reply =
        http_request(bridge.port(), "POST", "/api/v1/alarms/acknowledge", "[1,2]", headers);
    CHECK(reply.status == 400);
    // None got as far as the monitor, and the bridge still serves.
    CHECK_THAT(http_get(bridge.port(), "/metrics").body,
               Catch::Contains("brt_bridge_alarm_commands_total 0\n"));
    CHECK(http_get(bridge.port(), "/health").status == 200);
}

TEST_CASE("a Host the bridge is not reached by is refused (DNS rebinding)",
          "[ws_bridge][rest][hostile]") {
    ScopedSegment segment("rest-host", kGeometry);
    BridgeProcess bridge(segment.name(), {"--allowed-host", "Telemetry.Example"});
    const std::string port = std::to_string(bridge.port());
    REQUIRE(eventually([&] { return http_get(bridge.port(), "/api/v1/scenarios").status == 200; }));
    // A page on evil.example whose name now resolves to 127.0.0.1 sends its own name.
    for (const std::string& host :
         std::vector<std::string>{"evil.example", "evil.example:" + port, "127.0.0.1.evil.example",
                                  "localhost.evil.example:" + port}) {
        INFO("Host: " << host);
        for (const std::string path : {"/api/v1/scenarios", "/health", "/metrics", "/"}) {
            INFO(path);
            const auto reply = http_request(bridge.port(), "GET", path, {}, {{"Host", host}});
            CHECK(reply.status == 403);
            CHECK_THAT(reply.json()["error"].get<std::string>(),
                       Catch::Contains("Host") && Catch::Contains("--allowed-host"));
        }
    }
    // The quick start's names, the listen address with its port, and the configured name.
    for (const std::string& host :
         std::vector<std::string>{"localhost:" + port, "127.0.0.1:" + port, "127.0.0.1",
                                  "[::1]:" + port, "LOCALHOST", "telemetry.example:" + port}) {
        INFO("Host: " << host);
        CHECK(
            http_request(bridge.port(), "GET", "/api/v1/scenarios", {}, {{"Host", host}}).status ==
            200);
    }
    // HTTP/1.0 without Host: a script, not a browser on a page.
    CHECK_THAT(raw_exchange(bridge.port(), "GET /api/v1/scenarios HTTP/1.0\r\n\r\n"),
               Catch::StartsWith("HTTP/1.1 200"));
}

TEST_CASE("a WebSocket from a page on another site is refused", "[ws_bridge][rest][hostile]") {
    ScopedSegment segment("rest-origin", kGeometry);
    BridgeProcess bridge(segment.name(), {"--allowed-host", "telemetry.example", "--allowed-origin",
                                          "https://Dashboard.Example/"});
    const std::string port = std::to_string(bridge.port());
    REQUIRE(eventually([&] { return http_get(bridge.port(), "/api/v1/scenarios").status == 200; }));
    const auto upgrade = [&](const std::string& host, const std::string& origin) {
        return raw_exchange(bridge.port(),
                            "GET /api/v1/ws HTTP/1.1\r\nHost: " + host +
                                "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                "Sec-WebSocket-Version: 13\r\n" +
                                (origin.empty() ? "" : "Origin: " + origin + "\r\n") + "\r\n",
                            1s);
    };
    const std::string local = "127.0.0.1:" + port;
    for (const std::string origin : {"http://evil.example", "null", "http://127.0.0.1:1",
                                     "https://telemetry.example.evil.example"}) {
        INFO("Origin: " << origin);
        const std::string refused = upgrade(local, origin);
        CHECK_THAT(refused, Catch::StartsWith("HTTP/1.1 403"));
        const std::string body = refused.substr(refused.find("\r\n\r\n") + 4);
        CHECK_THAT(Json::parse(body)["error"].get<std::string>(),
                   Catch::Contains("Origin") && Catch::Contains("--allowed-origin"));
    }
    // No Origin (a script), the bridge's own page by each of its names, and a listed origin.
    CHECK_THAT(upgrade(local, ""), Catch::StartsWith("HTTP/1.1 101"));
    CHECK_THAT(upgrade(local, "http://" + local), Catch::StartsWith("HTTP/1.1 101"));
    CHECK_THAT(upgrade(local, "http://localhost:" + port), Catch::StartsWith("HTTP/1.1 101"));
    CHECK_THAT(upgrade("telemetry.example:" + port, "http://telemetry.example:" + port),
               Catch::StartsWith("HTTP/1.1 101"));
    CHECK_THAT(upgrade("telemetry.example", "https://telemetry.example"),
               Catch::StartsWith("HTTP/1.1 101"));
    CHECK_THAT(upgrade(local, "https://dashboard.example"), Catch::StartsWith("HTTP/1.1 101"));
}

TEST_CASE("a request path that is not UTF-8 is answered with valid JSON",
          "[ws_bridge][rest][hostile]") {
    ScopedSegment segment("rest-path-bytes", kGeometry);
    BridgeProcess bridge(segment.name());
    REQUIRE(eventually([&] { return http_get(bridge.port(), "/api/v1/scenarios").status == 200; }));
    const std::string reply = raw_exchange(
        bridge.port(),
        "GET /\xFF\xFE/x\xC3 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    REQUIRE_THAT(reply, Catch::StartsWith("HTTP/1.1 404"));
    const std::string body = reply.substr(reply.find("\r\n\r\n") + 4);
    INFO(body);
    Json parsed;
    REQUIRE_NOTHROW(parsed = Json::parse(body));
    CHECK_THAT(parsed["error"].get<std::string>(),
               Catch::Contains("no such resource: /\xEF\xBF\xBD\xEF\xBF\xBD/x\xEF\xBF\xBD"));
}

TEST_CASE("the bridge refuses bad usage with exit code 2", "[ws_bridge][cli]") {
    const std::string bridge = tool_path("BRT_WS_BRIDGE");
    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{{"--listen", "nowhere"},
                                               {"--listen", "127.0.0.1:99999"},
                                               {"--threads", "0"},
                                               {"--control-token-file", "/nonexistent/token"},
                                               {"--allowed-host", "http://telemetry.example"},
                                               {"--allowed-origin", "telemetry.example"},
                                               {"--startup-grace", "-1"},
                                               // The alarm limits went with its alarm engine.
                                               {"--nmc-voltage-max", "4.1,4.15,4.2"},
                                               {"--bogus"}}) {
        std::vector<std::string> argv = {bridge, "--shm-name", "brt_test_cli_unused"};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto result = run_command(argv);
        INFO(args[0] << ": " << result.err);
        CHECK(result.exit_code == 2);
        CHECK_FALSE(result.err.empty());
    }
    // A name that leaves no room for its alarm segment's name (".alarms").
    auto result = run_command({bridge, "--shm-name", "brt_" + std::string(192, 'x')});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::Contains(".alarms"));
    // A config file that still sets an alarm limit names it.
    const std::string config = "/tmp/" + unique_segment_name("bridge-conf");
    std::ofstream(config) << "listen = \"127.0.0.1:0\"\n[nmc]\nvoltage-max = 4.1, 4.15, 4.2\n";
    result = run_command({bridge, "--shm-name", "brt_test_cli_unused", "--config", config});
    unlink(config.c_str());
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::Contains("line 2"));
    const auto help = run_command({bridge, "--help"});
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Catch::Contains("--control-token-file"));
    CHECK_THAT(help.out, Catch::Contains("--config"));
    CHECK(run_command({bridge, "--version"}).exit_code == 0);
}

TEST_CASE("SIGTERM stops the bridge cleanly and closes WebSocket clients", "[ws_bridge][cli]") {
    ScopedSegment segment("rest-stop", kGeometry);
    BridgeProcess bridge(segment.name());
    WsClient client(bridge.port());
    REQUIRE(client.read_type("hello"));
    CHECK(bridge.stop() == 0);
    // The client got a close frame (1001 going away) or at least the end of the stream.
    while (client.read(2s)) {
    }
    CHECK(client.closed());
    CHECK(client.close_code() == 1001);
}

TEST_CASE("a bridge started on a live segment never says live without a frame",
          "[ws_bridge][rest]") {
    // From its first answer on, a live writer comes with the newest frame:
    // clients never get a live summary whose frame is null (the first
    // snapshot after attaching reads the frame the writer already published).
    ScopedSegment segment("rest-first", kGeometry);
    KnownWriter writer(segment.name(), kGeometry, std::chrono::milliseconds(500));
    BridgeProcess bridge(segment.name());
    int live_answers = 0;
    for (int i = 0; i < 40; ++i) {
        const Json summary = http_get(bridge.port(), "/api/v1/summary").json();
        if (summary["writer"]["liveness"] == "live") {
            ++live_answers;
            INFO(summary.dump());
            CHECK_FALSE(summary["frame"].is_null());
        }
    }
    CHECK(live_answers > 0);
}
