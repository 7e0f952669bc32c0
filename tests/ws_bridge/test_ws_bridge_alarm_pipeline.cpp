// The bridge with the real alarm server: brt-simulator, brt-anomaly-monitor
// and brt-ws-bridge as a user runs them. The bridge reports exactly the
// monitor's alarm set, its REST commands change the monitor's list, and a
// pipeline started in any order raises nothing.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <optional>

#include "common/alarm/alarm_list.hpp"
#include "common/alarm/alarm_rules.hpp"
#include "common/segment/clock.hpp"
#include "support/run_command.hpp"
#include "support/test_segment.hpp"
#include "ws_bridge/bridge_client.hpp"
#include "ws_bridge/fake_monitor.hpp"

using namespace brt;
using namespace brt::test;

namespace {

const std::string kToken = "s3cret-token-for-the-pipeline";

// A segment of 2 racks x 2 modules x 8 cells, its alarm segment and logs,
// removed (and every tool started here killed) when the test ends.
class Pipeline {
  public:
    explicit Pipeline(const std::string& tag)
        : name_(unique_segment_name(tag)), logs_("/tmp/" + name_) {
        CreateOptions options;
        options.geometry = Geometry{2, 2, 8};
        create_segment(name_, options);
    }
    ~Pipeline() {
        { KillOnExit kill{std::move(pids_)}; }
        remove_alarm_segment(alarm_segment_name(name_));
        remove_segment(name_);
        for (const std::string& log : logs) {
            unlink(log.c_str());
        }
    }
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    const std::string& name() const { return name_; }
    pid_t start(const char* tool, std::vector<std::string> args) {
        std::vector<std::string> argv = {tool_path(tool), "--shm-name", name_};
        argv.insert(argv.end(), args.begin(), args.end());
        logs.push_back(logs_ + "." + std::to_string(logs.size()) + ".log");
        const pid_t pid = spawn_background(argv, logs.back());
        pids_.push_back(pid);
        return pid;
    }
    std::string log_text() const {
        std::string text;
        for (const std::string& log : logs) {
            text += "--- " + log + ":\n" + read_file(log);
        }
        return text;
    }
    std::vector<std::string> logs;

  private:
    std::string name_;
    std::string logs_;
    std::vector<pid_t> pids_;
};

Json alarms(const BridgeProcess& bridge) {
    return http_get(bridge.port(), "/api/v1/alarms").json();
}

Json index_json(std::uint32_t index) {
    return index == kNoIndex ? Json(nullptr) : Json(index);
}

const BoardAlarm* find(const AlarmList& list, std::uint64_t id) {
    for (const BoardAlarm& alarm : list.alarms) {
        if (alarm.id == id) {
            return &alarm;
        }
    }
    return nullptr;
}

}  // namespace

TEST_CASE(
    "bridge and monitor report the identical alarm set for the same publication; REST "
    "acknowledges and shelves in the monitor",
    "[ws_bridge][alarms][monitor]") {
    Pipeline pipeline("alarm-pipeline");
    pipeline.start("BRT_ANOMALY_MONITOR", {"--format", "json"});
    // Overcharge on rack 0: several alarms and levels, with consequences
    // suppressed under the first-out. A publication every 0.5 s, so that the
    // bridge and the segment can be caught at the same one.
    pipeline.start("BRT_SIMULATOR",
                   {"--mode", "idle", "--soc", "0.9", "--scenario", "overcharge:rack=0", "--speed",
                    "100", "--rate", "2", "--threads", "1"});
    TokenFile token(kToken);
    BridgeProcess bridge(pipeline.name(), {"--control-token-file", token.path});
    INFO(pipeline.log_text());

    AlarmSegmentReader segment(alarm_segment_name(pipeline.name()));
    REQUIRE(eventually(
        [&] { return read_alarm_list(segment, true, realtime_ns()).alarms.size() >= 4; }, 60s));

    // The segment, the bridge, the segment again: the same version all three
    // times, or try again.
    bool compared = false;
    for (int attempt = 0; attempt < 100 && !compared; ++attempt) {
        const AlarmList before = read_alarm_list(segment, true, realtime_ns());
        const Json served = alarms(bridge);
        const AlarmList after = read_alarm_list(segment, true, realtime_ns());
        if (before.version != after.version || served["version"] != before.version) {
            std::this_thread::sleep_for(50ms);
            continue;
        }
        compared = true;
        INFO(served.dump());
        CHECK(served["monitor"]["running"] == true);
        CHECK(served["frame"] == before.frame_number);
        REQUIRE(served["alarms"].size() == before.alarms.size());
        for (std::size_t i = 0; i < before.alarms.size(); ++i) {
            const BoardAlarm& expected = before.alarms[i];
            const Json& alarm = served["alarms"][i];
            INFO(i);
            CHECK(alarm["id"] == expected.id);
            CHECK(alarm["rule"] == rule_name(expected.rule));
            CHECK(alarm["severity"] == severity_name(expected.severity));
            CHECK(alarm["state"] == alarm_state_name(expected.state));
            CHECK(alarm["rack"] == index_json(expected.location.rack));
            CHECK(alarm["module"] == index_json(expected.location.module));
            CHECK(alarm["cell"] == index_json(expected.location.cell));
            CHECK(alarm["suppressed"] == expected.suppressed);
            CHECK(alarm["first_out"] == expected.first_out);
            CHECK(alarm["raised_ns"] == expected.raised_realtime_ns);
        }
    }
    CHECK(compared);

    // Acknowledge the first unacknowledged alarm that is annunciated, shelve
    // another: the monitor's list says so, with who did it.
    // (Acknowledging a first-out acknowledges its consequences: the two are
    // picked so that neither follows the other.)
    const AlarmList list = read_alarm_list(segment, true, realtime_ns());
    std::vector<const BoardAlarm*> open;
    for (const BoardAlarm& alarm : list.alarms) {
        if (alarm.state == AlarmState::unacknowledged && alarm.active && !alarm.suppressed) {
            open.push_back(&alarm);
        }
    }
    std::uint64_t acknowledge_id = 0;
    std::uint64_t shelve_id = 0;
    for (const BoardAlarm* a : open) {
        for (const BoardAlarm* b : open) {
            if (acknowledge_id == 0 && a != b && b->first_out_id != a->id &&
                a->first_out_id != b->id) {
                acknowledge_id = a->id;
                shelve_id = b->id;
            }
        }
    }
    REQUIRE(acknowledge_id != 0);
    REQUIRE(shelve_id != 0);
    const auto headers =
        std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + kToken}};
    auto reply = http_request(bridge.port(), "POST",
                              "/api/v1/alarms/" + std::to_string(acknowledge_id) + "/acknowledge",
                              {}, headers);
    INFO(reply.body);
    CHECK(reply.status == 200);
    reply = http_request(bridge.port(), "POST",
                         "/api/v1/alarms/" + std::to_string(shelve_id) + "/shelve",
                         R"({"seconds":600})", headers);
    CHECK(reply.status == 200);
    CHECK(eventually([&] {
        const AlarmList now = read_alarm_list(segment, true, realtime_ns());
        const BoardAlarm* acknowledged = find(now, acknowledge_id);
        const BoardAlarm* shelved = find(now, shelve_id);
        return acknowledged != nullptr && acknowledged->state == AlarmState::acknowledged &&
               acknowledged->acknowledged_by == "rest 127.0.0.1" && shelved != nullptr &&
               shelved->shelved() &&
               shelved->shelved_until_realtime_ns > realtime_ns() + 590'000'000'000ull;
    }));
    // The bridge shows it too, and saw the transitions.
    CHECK(eventually([&] {
        const Json list = alarms(bridge);  // a temporary would die before the loop
        for (const Json& alarm : list["alarms"]) {
            if (alarm["id"] == acknowledge_id) {
                return alarm["state"] == "acknowledged" &&
                       alarm["acknowledged_by"] == "rest 127.0.0.1";
            }
        }
        return false;
    }));
    bool acknowledge_seen = false;
    const Json seen = alarms(bridge);
    for (const Json& event : seen["recent_events"]) {
        acknowledge_seen =
            acknowledge_seen || (event["event"] == "acknowledge" && event["id"] == acknowledge_id);
    }
    CHECK(acknowledge_seen);

    // No such alarm: 404. A wrong token: 403, and nothing changes.
    reply = http_request(bridge.port(), "POST", "/api/v1/alarms/987654/acknowledge", {}, headers);
    CHECK(reply.status == 404);
    reply = http_request(bridge.port(), "POST", "/api/v1/alarms/acknowledge", {},
                         {{"Authorization", "Bearer not-the-token"}});
    CHECK(reply.status == 403);
    const BoardAlarm* still = find(read_alarm_list(segment, true, realtime_ns()), shelve_id);
    REQUIRE(still != nullptr);
    CHECK(still->state == AlarmState::unacknowledged);
    // The monitor's own event line names who acknowledged.
    CHECK(eventually([&] {
        return read_file(pipeline.logs[0]).find("\"by\":\"rest 127.0.0.1\"") != std::string::npos;
    }));
}

TEST_CASE("a pipeline started in any order raises nothing in 10 simulated minutes",
          "[ws_bridge][alarms][monitor]") {
    for (const std::string order : {"bridge first", "monitor first", "simulator first"}) {
        DYNAMIC_SECTION(order) {
            Pipeline pipeline("alarm-order");
            std::optional<BridgeProcess> bridge;
            pid_t simulator = -1;
            // Normal operation at 100 simulated seconds per second, a frame
            // every 0.1 simulated second (the monitor's debounce counts frames).
            auto start_simulator = [&] {
                simulator = pipeline.start("BRT_SIMULATOR", {"--mode", "idle", "--speed", "100",
                                                             "--rate", "1000", "--threads", "1"});
            };
            auto start_monitor = [&] {
                pipeline.start("BRT_ANOMALY_MONITOR", {"--format", "json"});
            };
            auto start_bridge = [&] { bridge.emplace(pipeline.name()); };
            // Each a second after the previous one: within both start-up graces (5 s).
            const std::vector<std::function<void()>> starts =
                order == "bridge first"
                    ? std::vector<std::function<void()>>{start_bridge, start_monitor,
                                                         start_simulator}
                : order == "monitor first"
                    ? std::vector<std::function<void()>>{start_monitor, start_simulator,
                                                         start_bridge}
                    : std::vector<std::function<void()>>{start_simulator, start_monitor,
                                                         start_bridge};
            for (std::size_t i = 0; i < starts.size(); ++i) {
                if (i != 0) {
                    std::this_thread::sleep_for(1s);
                }
                starts[i]();
            }
            INFO(pipeline.log_text());
            // 10 simulated minutes after the last start, looking all the time.
            const auto until = std::chrono::steady_clock::now() + 6500ms;
            int looked = 0;
            while (std::chrono::steady_clock::now() < until) {
                const Json list = alarms(*bridge);
                INFO(list.dump());
                CHECK(list["alarms"].empty());
                ++looked;
                std::this_thread::sleep_for(200ms);
            }
            const Json list = alarms(*bridge);
            INFO(list.dump());
            CHECK(looked > 10);
            CHECK(list["monitor"]["running"] == true);
            CHECK(list["frame"].get<std::uint64_t>() > 5000);  // the monitor evaluated frames
            CHECK(list["alarms"].empty());
            CHECK(list["recent_events"].empty());  // nothing raised and cleared in between
            CHECK(list["annunciated_total"] == 0);
            CHECK(kill(simulator, 0) == 0);  // still running: nothing above was its exit
        }
    }
}
