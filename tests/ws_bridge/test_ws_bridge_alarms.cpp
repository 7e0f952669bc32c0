// The bridge's alarms are the alarm monitor's: it reads the alarm segment
// (docs/alarm-segment.md) and runs no alarm engine of its own. Against a
// stand-in monitor (FakeMonitor: the segment's writer in this process), so
// every field the bridge shows and every command it sends is known: the
// list as published, the transitions it saw, "alarm monitor not running"
// after the start-up grace, and acknowledge/shelve/unshelve over REST.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "common/alarm/alarm_rules.hpp"
#include "support/run_command.hpp"
#include "support/test_segment.hpp"
#include "ws_bridge/bridge_client.hpp"
#include "ws_bridge/fake_monitor.hpp"
#include "ws_bridge/known_writer.hpp"

using namespace brt;
using namespace brt::test;

namespace {

const Geometry kGeometry{4, 2, 8};
const std::string kToken = "s3cret-token-for-alarm-tests";

Json alarms(const BridgeProcess& bridge) {
    return http_get(bridge.port(), "/api/v1/alarms").json();
}

bool has_alarm_system_alarm(const Json& list) {
    for (const Json& alarm : list["alarms"]) {
        if (alarm["rule"] == "alarm_system") {
            return true;
        }
    }
    return false;
}

// (event, id) of the recent transitions the bridge lists.
std::set<std::pair<std::string, std::uint64_t>> transitions(const Json& list) {
    std::set<std::pair<std::string, std::uint64_t>> seen;
    for (const Json& event : list["recent_events"]) {
        seen.emplace(event["event"].get<std::string>(), event.value("id", std::uint64_t{0}));
    }
    return seen;
}

}  // namespace

TEST_CASE(
    "without an alarm monitor: nothing during the start-up grace, then the alarm system "
    "alarm",
    "[ws_bridge][alarms]") {
    ScopedSegment segment("alarms-grace", kGeometry);
    RemoveAlarmSegment cleanup{segment.name()};
    KnownWriter writer(segment.name(), kGeometry);
    const auto started = std::chrono::steady_clock::now();
    BridgeProcess bridge(segment.name(), {"--startup-grace", "2"});
    REQUIRE(becomes_live(bridge));

    // The bridge started after `started`: until 2 s from then it is in its grace.
    int looked = 0;
    while (std::chrono::steady_clock::now() - started < 1800ms) {
        const Json list = alarms(bridge);
        if (std::chrono::steady_clock::now() - started >= 1800ms) {
            break;  // the answer may be from after the grace
        }
        CHECK(list["monitor"]["running"] == false);
        CHECK(list["alarms"].empty());
        CHECK(list["counts"]["total"] == 0);
        ++looked;
        std::this_thread::sleep_for(100ms);
    }
    CHECK(looked > 0);

    REQUIRE(eventually([&] { return has_alarm_system_alarm(alarms(bridge)); }, 10s));
    CHECK(std::chrono::steady_clock::now() - started >= 2s);
    Json list = alarms(bridge);
    REQUIRE(list["alarms"].size() == 1);
    const Json& down = list["alarms"][0];
    CHECK(down["id"] == 0);
    CHECK(down["severity"] == "critical");
    CHECK(down["state"] == "unacknowledged");
    CHECK(down["active"] == true);
    CHECK(list["monitor"]["running"] == false);
    CHECK_THAT(list["monitor"]["problem"].get<std::string>(),
               Catch::Contains("start brt-anomaly-monitor"));
    CHECK(list["counts"]["critical"] == 1);
    CHECK(transitions(list).count({"raise", 0}) == 1);
    CHECK(http_get(bridge.port(), "/api/v1/summary").json()["alarms"]["critical"] == 1);
    std::string metrics = http_get(bridge.port(), "/metrics").body;
    CHECK_THAT(metrics, Catch::Contains("brt_alarm_monitor_up 0\n"));
    CHECK_THAT(
        metrics,
        Catch::Contains("brt_bridge_alarms{severity=\"critical\",state=\"unacknowledged\"} 1\n"));
    // Its time is when the bridge first said so, not the time of each read.
    const std::uint64_t raised_ns = down["raised_ns"];
    std::this_thread::sleep_for(1200ms);
    CHECK(alarms(bridge)["alarms"][0]["raised_ns"] == raised_ns);

    {
        // A monitor comes: the alarm goes, and the bridge says so.
        FakeMonitor monitor(segment.name());
        monitor.publish({});
        REQUIRE(eventually([&] { return alarms(bridge)["monitor"]["running"] == true; }));
        list = alarms(bridge);
        CHECK(list["alarms"].empty());
        CHECK(transitions(list).count({"clear", 0}) == 1);
        CHECK_THAT(http_get(bridge.port(), "/metrics").body,
                   Catch::Contains("brt_alarm_monitor_up 1\n"));

        // It stops: the alarm is back at once (no second grace).
        monitor.stop();
        REQUIRE(eventually([&] { return has_alarm_system_alarm(alarms(bridge)); }, 3s));
        CHECK_THAT(alarms(bridge)["monitor"]["problem"].get<std::string>(),
                   Catch::Contains("stopped"));
    }
}

TEST_CASE("the bridge serves the monitor's list as published, and the transitions it saw",
          "[ws_bridge][alarms]") {
    ScopedSegment segment("alarms-list", kGeometry);
    RemoveAlarmSegment cleanup{segment.name()};
    KnownWriter writer(segment.name(), kGeometry);
    FakeMonitor monitor(segment.name());

    AlarmRecord first_out = alarm_record_for(
        1, Rule::cell_overvoltage, Severity::critical, 1, 0, 3, AlarmState::unacknowledged,
        alarm_flags::active | alarm_flags::latching | alarm_flags::first_out);
    first_out.first_out_id = 1;
    AlarmRecord consequence = alarm_record_for(
        2, Rule::temperature_plausibility, Severity::warning, 1, 0, 4, AlarmState::unacknowledged,
        alarm_flags::active | alarm_flags::suppressed_by_design);
    consequence.first_out_id = 1;
    AlarmRecord rack_soc = alarm_record_for(3, Rule::soc_low, Severity::info, 2, kNoLocation,
                                            kNoLocation, AlarmState::acknowledged);
    std::strcpy(rack_soc.acknowledged_by, "ctl uid 0");
    const std::uint64_t version = monitor.publish({first_out, consequence, rack_soc}, 77);

    BridgeProcess bridge(segment.name(), {"--startup-grace", "0"});
    REQUIRE(becomes_live(bridge));
    REQUIRE(eventually([&] { return alarms(bridge)["version"] == version; }));
    Json list = alarms(bridge);
    INFO(list.dump());
    CHECK(list["type"] == "alarms");
    CHECK(list["monitor"]["running"] == true);
    CHECK(list["frame"] == 77);
    REQUIRE(list["alarms"].size() == 3);  // suppressed ones included, flagged
    const Json& one = list["alarms"][0];
    CHECK(one["id"] == 1);
    CHECK(one["rule"] == "cell_overvoltage");
    CHECK(one["severity"] == "critical");
    CHECK(one["state"] == "unacknowledged");
    CHECK(one["rack"] == 1);
    CHECK(one["module"] == 0);
    CHECK(one["cell"] == 3);
    CHECK(one["latching"] == true);
    CHECK(one["first_out"] == true);
    CHECK(one["value"].get<double>() == Approx(4.3));
    CHECK(one["worst"].get<double>() == Approx(4.4));
    CHECK(one["unit"] == "V");
    const Json& two = list["alarms"][1];
    CHECK(two["id"] == 2);
    CHECK(two["suppressed"] == true);
    CHECK(two["first_out_id"] == 1);
    const Json& three = list["alarms"][2];
    CHECK(three["id"] == 3);
    CHECK(three["state"] == "acknowledged");
    CHECK(three["module"].is_null());
    CHECK(three["acknowledged_by"] == "ctl uid 0");
    // Counted: what is annunciated (the suppressed warning is not).
    CHECK(list["counts"]["critical"] == 1);
    CHECK(list["counts"]["warning"] == 0);
    CHECK(list["counts"]["info"] == 1);
    CHECK(list["rule_descriptions"].contains("cell_overvoltage"));
    // The first list the bridge sees is where it starts, not news.
    CHECK(list["recent_events"].empty());
    CHECK(http_get(bridge.port(), "/api/v1/summary").json()["alarms"]["total"] == 2);
    const std::string metrics = http_get(bridge.port(), "/metrics").body;
    CHECK_THAT(
        metrics,
        Catch::Contains("brt_bridge_alarms{severity=\"warning\",state=\"unacknowledged\"} 1\n"));
    CHECK_THAT(metrics,
               Catch::Contains("brt_bridge_alarms{severity=\"info\",state=\"acknowledged\"} 1\n"));
    CHECK_THAT(metrics, Catch::Contains("brt_bridge_alarms_suppressed 1\n"));
    CHECK_THAT(metrics, Catch::Contains("brt_alarms_active{severity=\"critical\"} 1\n"));

    // The same document on the WebSocket.
    WsClient client(bridge.port());
    client.send(R"({"action":"subscribe","view":"alarms","rate_hz":5})");
    auto pushed = client.read_type("alarms");
    REQUIRE(pushed);
    CHECK((*pushed)["version"] == version);
    CHECK((*pushed)["alarms"].size() == 3);

    // The next publication: #1 acknowledged and shelved, #3 gone (it
    // returned to normal while acknowledged), #4 raised.
    first_out.state = static_cast<std::uint8_t>(AlarmState::acknowledged);
    first_out.flags |= alarm_flags::shelved;
    first_out.shelved_until_realtime_ns = first_out.raised_realtime_ns + 600'000'000'000ull;
    first_out.changed_realtime_ns += 5;
    std::strcpy(first_out.acknowledged_by, "rest 127.0.0.1");
    const AlarmRecord fourth =
        alarm_record_for(4, Rule::overtemperature_charge, Severity::warning, 0, 1, 7);
    const std::uint64_t next = monitor.publish({first_out, consequence, fourth}, 78);
    REQUIRE(eventually([&] { return alarms(bridge)["version"] == next; }));
    list = alarms(bridge);
    INFO(list.dump());
    const auto seen = transitions(list);
    CHECK(seen.count({"acknowledge", 1}) == 1);
    CHECK(seen.count({"shelve", 1}) == 1);
    CHECK(seen.count({"clear", 3}) == 1);
    CHECK(seen.count({"raise", 4}) == 1);
    CHECK(seen.size() == 4);
    for (const Json& event : list["recent_events"]) {
        if (event["id"] == 3) {
            CHECK(event["state"] == "normal");
        }
        if (event["event"] == "acknowledge") {
            CHECK(event["by"] == "rest 127.0.0.1");
        }
        if (event["event"] == "raise") {
            CHECK(event["time_ns"] == fourth.raised_realtime_ns);  // when, not when seen
        }
    }
    CHECK(list["alarms"][0]["shelved_until_ns"] == first_out.shelved_until_realtime_ns);
    bool pushed_again = false;
    for (int i = 0; i < 20 && !pushed_again; ++i) {
        pushed = client.read_type("alarms", 2s);
        REQUIRE(pushed);
        pushed_again = (*pushed)["version"] == next;
    }
    CHECK(pushed_again);
}

TEST_CASE(
    "acknowledge, shelve and unshelve over REST reach the monitor as sent; its answers map "
    "to HTTP",
    "[ws_bridge][alarms][control]") {
    ScopedSegment segment("alarms-rest", kGeometry);
    RemoveAlarmSegment cleanup{segment.name()};
    KnownWriter writer(segment.name(), kGeometry);
    FakeMonitor monitor(segment.name(), [](const ReceivedCommand& received) {
        if (received.command.target_id == 99) {
            return CommandStatus::rejected_target;
        }
        if (received.command.kind == CommandKind::alarm_shelve &&
            received.command.args[0] == 1234) {
            return CommandStatus::rejected_argument;  // as if the monitor's limit were lower
        }
        return CommandStatus::applied;
    });
    monitor.publish({alarm_record_for(1, Rule::cell_overvoltage, Severity::critical, 1, 0, 3)});
    TokenFile token(kToken);
    BridgeProcess bridge(segment.name(),
                         {"--control-token-file", token.path, "--startup-grace", "0"});
    REQUIRE(becomes_live(bridge));
    REQUIRE(eventually([&] { return alarms(bridge)["monitor"]["running"] == true; }));

    auto post = [&](const std::string& path, const std::string& body = {},
                    const std::string& with = kToken) {
        return http_request(bridge.port(), "POST", path, body, bearer(with));
    };
    auto reply = post("/api/v1/alarms/1/acknowledge");
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    CHECK(reply.json()["status"] == "applied");
    CHECK(reply.json()["alarm"] == 1);
    CHECK(reply.json()["command"] == "acknowledge alarm 1");
    CHECK(post("/api/v1/alarms/acknowledge").status == 200);
    reply = post("/api/v1/alarms/1/shelve", R"({"seconds": 600})");
    CHECK(reply.status == 200);
    CHECK(reply.json()["command"] == "shelve alarm 1 for 600 s");
    CHECK(post("/api/v1/alarms/1/unshelve").status == 200);

    reply = post("/api/v1/alarms/99/acknowledge");
    CHECK(reply.status == 404);
    CHECK(reply.json()["status"] == "rejected_target");
    CHECK_THAT(reply.json()["error"].get<std::string>(), Catch::Contains("no alarm 99"));
    reply = post("/api/v1/alarms/1/shelve", R"({"seconds": 1234})");
    CHECK(reply.status == 400);
    CHECK_THAT(reply.json()["error"].get<std::string>(), Catch::Contains("86400"));

    const auto received = monitor.received();
    REQUIRE(received.size() == 6);
    const CommandKind kinds[] = {CommandKind::alarm_acknowledge, CommandKind::alarm_acknowledge,
                                 CommandKind::alarm_shelve,      CommandKind::alarm_unshelve,
                                 CommandKind::alarm_acknowledge, CommandKind::alarm_shelve};
    const std::uint64_t targets[] = {1, 0, 1, 1, 99, 1};
    for (std::size_t i = 0; i < received.size(); ++i) {
        INFO(i);
        CHECK(received[i].command.kind == kinds[i]);
        CHECK(received[i].command.target_id == targets[i]);
        CHECK(std::string(received[i].command.origin.data()) == "rest 127.0.0.1");
    }
    CHECK(received[2].command.args[0] == 600.0);
    CHECK_THAT(http_get(bridge.port(), "/metrics").body,
               Catch::Contains("brt_bridge_alarm_commands_total 6\n"));

    // The token gate is control's: 403 without it or with a wrong one, and
    // nothing sent.
    reply = http_request(bridge.port(), "POST", "/api/v1/alarms/1/acknowledge");
    CHECK(reply.status == 403);
    CHECK_THAT(reply.json()["error"].get<std::string>(), Catch::Contains("Authorization: Bearer"));
    reply = post("/api/v1/alarms/1/acknowledge", {}, "s3cret-token-for-alarm-testz");
    CHECK(reply.status == 403);
    CHECK_THAT(reply.json()["error"].get<std::string>(), Catch::Contains("wrong token"));
    CHECK(http_get(bridge.port(), "/api/v1/alarms/1/acknowledge").status == 405);
    std::this_thread::sleep_for(100ms);
    CHECK(monitor.received().size() == 6);

    // A monitor that takes no commands: 503 after the bounded wait.
    monitor.stop_consuming();
    const auto asked = std::chrono::steady_clock::now();
    reply = post("/api/v1/alarms/1/acknowledge");
    CHECK(reply.status == 503);
    CHECK(std::chrono::steady_clock::now() - asked < 5s);
    CHECK_THAT(reply.json()["error"].get<std::string>(),
               Catch::Contains("alarm monitor is not running"));

    // A stopped monitor: 503 at once, and nothing goes into its ring (a
    // later monitor would act on it).
    monitor.stop();
    const MappedAlarmSegment mapped =
        open_alarm_segment(alarm_segment_name(segment.name()), AlarmSegmentAccess::reader);
    const std::uint64_t posted = mapped.command_ring().posted();
    reply = post("/api/v1/alarms/1/acknowledge");
    CHECK(reply.status == 503);
    CHECK_THAT(reply.json()["error"].get<std::string>(), Catch::Contains("nothing was sent"));
    CHECK(mapped.command_ring().posted() == posted);
}

TEST_CASE("alarm commands without a monitor or without a token", "[ws_bridge][alarms][control]") {
    ScopedSegment segment("alarms-nomon", kGeometry);
    RemoveAlarmSegment cleanup{segment.name()};
    TokenFile token(kToken);
    BridgeProcess bridge(segment.name(), {"--control-token-file", token.path});
    auto reply =
        http_request(bridge.port(), "POST", "/api/v1/alarms/3/acknowledge", {}, bearer(kToken));
    CHECK(reply.status == 503);
    CHECK_THAT(reply.json()["error"].get<std::string>(),
               Catch::Contains("alarm monitor is not running"));

    BridgeProcess no_token(segment.name());
    reply = http_request(no_token.port(), "POST", "/api/v1/alarms/acknowledge", {}, bearer(kToken));
    CHECK(reply.status == 403);
    CHECK_THAT(reply.json()["error"].get<std::string>(), Catch::Contains("--control-token-file"));
}
