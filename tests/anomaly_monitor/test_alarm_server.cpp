// brt-anomaly-monitor as the alarm server, as operators use it: the alarm
// list in the alarm segment (`ctl list`, `brt-viewer --alarms`),
// acknowledging and shelving with `ctl`, a monitor killed and restarted
// keeping the acknowledgements, a second monitor refused, and the alarm
// system's own alarm when no monitor runs.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "anomaly_monitor/monitor_harness.hpp"

using namespace brt;
using namespace std::chrono_literals;

namespace {

std::string monitor() {
    return test::tool_path("BRT_ANOMALY_MONITOR");
}

test::CommandOutput ctl(const test::MonitorRun& run, std::vector<std::string> args) {
    std::vector<std::string> argv = {monitor(), "--shm-name", run.name(), "ctl"};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run_command(argv);
}

// The simulator in the background: rack 0's charger fails to stop, its
// cells climb through the voltage MOL (about 75 simulated s), RSL and MSL.
pid_t start_overcharge(const test::MonitorRun& run, test::KillOnExit& guard) {
    const pid_t pid = test::spawn_background(
        {test::tool_path("BRT_SIMULATOR"), "--shm-name", run.name(), "--threads", "1", "--speed",
         "100", "--rate", "1000", "--duration", "3000", "--mode", "idle", "--soc", "0.9",
         "--scenario", "overcharge:rack=0"},
        run.log_path() + ".sim");
    guard.pids.push_back(pid);
    return pid;
}

// Waits until `ctl list --json` holds `text`; returns the last list.
std::string wait_for_list(const test::MonitorRun& run, const std::string& text,
                          int timeout_ms = 30000) {
    std::string list;
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        list = ctl(run, {"list", "--json"}).out;
        if (list.find(text) != std::string::npos) {
            break;
        }
        std::this_thread::sleep_for(100ms);
    }
    return list;
}

// The JSON object of alarm `id` in a list.
std::string alarm_in(const std::string& list, long id) {
    const auto at = list.find("{\"id\":" + std::to_string(id) + ",");
    return at == std::string::npos ? std::string() : list.substr(at, list.find('}', at) - at + 1);
}

// The only raise of a normal run: the simulator stopping at the end of its
// --duration (telemetry has stopped: that is an alarm).
void check_only_the_end(const test::MonitorRun& run) {
    for (const std::string& line : run.lines_with("\"event\":\"raise\"")) {
        CHECK_THAT(line, Catch::Contains("\"rule\":\"writer_liveness\"") &&
                             Catch::Contains("stopped cleanly"));
    }
}

}  // namespace

TEST_CASE("acknowledge and shelve with ctl; the monitor's list and events show who did it",
          "[monitor-e2e][alarm-server]") {
    test::MonitorRun run("srv-ack");
    run.start_monitor();
    test::KillOnExit simulator;
    start_overcharge(run, simulator);
    const std::string list = wait_for_list(run, "\"rule\":\"cell_overvoltage\"");
    INFO(list);
    const auto at = list.find("\"rule\":\"cell_overvoltage\"");
    REQUIRE(at != std::string::npos);
    const long id = test::json_number(list.substr(list.rfind("{\"id\":", at)), "id");
    REQUIRE(id > 0);
    CHECK_THAT(alarm_in(list, id), Catch::Contains("\"state\":\"unacknowledged\""));

    const auto acked = ctl(run, {"ack", std::to_string(id)});
    INFO(acked.out << acked.err);
    CHECK(acked.exit_code == 0);
    CHECK_THAT(acked.out, Catch::Contains("applied"));
    const std::string after = ctl(run, {"list", "--json"}).out;
    CHECK_THAT(alarm_in(after, id), Catch::Contains("\"state\":\"acknowledged\"") &&
                                        Catch::Contains("\"acknowledged_by\":\"ctl "));
    CHECK(run.wait_for_log("\"event\":\"acknowledge\""));
    CHECK_THAT(run.lines_with("\"event\":\"acknowledge\"")[0], Catch::Contains("\"by\":\"ctl "));

    CHECK(ctl(run, {"shelve", std::to_string(id), "--for", "600"}).exit_code == 0);
    CHECK_THAT(alarm_in(ctl(run, {"list", "--json"}).out, id),
               !Catch::Contains("\"shelved_until_ns\":0,"));
    CHECK(ctl(run, {"unshelve", std::to_string(id)}).exit_code == 0);
    CHECK_THAT(alarm_in(ctl(run, {"list", "--json"}).out, id),
               Catch::Contains("\"shelved_until_ns\":0,"));

    // Mistakes: an alarm that is not in the list (1), words that are no
    // alarm number and a shelf without an end (2).
    const auto missing = ctl(run, {"ack", "999999"});
    CHECK(missing.exit_code == 1);
    CHECK_THAT(missing.out, Catch::Contains("no alarm #999999"));
    const auto words = ctl(run, {"ack", "the-red-one"});
    CHECK(words.exit_code == 2);
    CHECK_THAT(words.err, Catch::Contains("expected an alarm number"));
    CHECK(ctl(run, {"ack", "-3"}).exit_code == 2);
    CHECK(ctl(run, {"shelve", std::to_string(id), "--for", "0"}).exit_code == 2);
    CHECK(ctl(run, {"shelve", std::to_string(id), "--for", "1e9"}).exit_code == 2);
    CHECK(run.stop_monitor() == 0);
    unlink((run.log_path() + ".sim").c_str());
}

TEST_CASE("a monitor killed and restarted keeps the acknowledgements of the alarms still active",
          "[monitor-e2e][alarm-server]") {
    test::MonitorRun run("srv-restart");
    run.start_monitor();
    test::KillOnExit simulator;
    start_overcharge(run, simulator);
    const std::string list = wait_for_list(run, "\"rule\":\"cell_overvoltage\"");
    const auto at = list.find("\"rule\":\"cell_overvoltage\"");
    REQUIRE(at != std::string::npos);
    const long id = test::json_number(list.substr(list.rfind("{\"id\":", at)), "id");
    REQUIRE(ctl(run, {"ack", std::to_string(id)}).exit_code == 0);

    run.kill_monitor();
    // Every reader now says that the alarm system is down.
    std::string down;
    for (int waited = 0; waited < 5000; waited += 100) {
        down = test::run_command(
                   {test::tool_path("BRT_VIEWER"), "--shm-name", run.name(), "--alarms", "--once"})
                   .out;
        if (down.find("alarm_system") != std::string::npos) {
            break;
        }
        std::this_thread::sleep_for(100ms);
    }
    CHECK_THAT(down,
               Catch::Contains("alarm_system") && Catch::Contains("alarm monitor not running"));
    CHECK(ctl(run, {"ack", std::to_string(id)}).exit_code == 1);  // nobody to take it

    run.start_monitor();
    std::this_thread::sleep_for(2s);  // the engine confirms the alarm within a second
    const std::string adopted = ctl(run, {"list", "--json"}).out;
    INFO(adopted << run.log());
    CHECK_THAT(alarm_in(adopted, id), Catch::Contains("\"state\":\"acknowledged\"") &&
                                          Catch::Contains("\"acknowledged_by\":\"ctl "));
    CHECK_THAT(adopted, Catch::Contains("\"running\":true"));
    CHECK_THAT(run.log(), Catch::Contains("adopted"));
    // Adopted, not raised again: no raise of that alarm from the new monitor.
    for (const std::string& line : run.lines_with("\"event\":\"raise\"")) {
        CHECK(test::json_number(line, "id") != id);
    }
    CHECK(run.stop_monitor() == 0);
    unlink((run.log_path() + ".sim").c_str());
}

TEST_CASE("a second monitor on the same segment is refused, naming the first",
          "[monitor-cli][alarm-server]") {
    test::MonitorRun run("srv-second");
    run.start_monitor();
    const auto second = test::run_command({monitor(), "--shm-name", run.name(), "--duration", "1"});
    CHECK(second.exit_code == 1);
    CHECK_THAT(second.err, Catch::Contains(std::to_string(run.monitor_pid())));
    CHECK(run.stop_monitor() == 0);
}

TEST_CASE("started in any order, ten minutes of normal operation raise no alarm",
          "[monitor-e2e][alarm-server]") {
    // The default start-up grace; 10 simulated minutes at 100x real time.
    const std::vector<std::string> normal = {"--mode", "idle", "--speed",    "100",
                                             "--rate", "100",  "--duration", "600"};
    SECTION("monitor first") {
        test::MonitorRun run("srv-order-m");
        run.start_monitor({"--startup-grace", "5"});
        std::this_thread::sleep_for(300ms);
        REQUIRE(run.simulate(normal, false).exit_code == 0);
        const std::string list = ctl(run, {"list", "--json"}).out;
        CHECK(run.stop_monitor() == 0);
        INFO(run.log() << list);
        check_only_the_end(run);
    }
    SECTION("simulator first") {
        test::MonitorRun run("srv-order-s");
        test::KillOnExit simulator;
        const pid_t sim = test::spawn_background(
            {test::tool_path("BRT_SIMULATOR"), "--shm-name", run.name(), "--threads", "1", "--mode",
             "idle", "--speed", "100", "--rate", "100", "--duration", "600"},
            run.log_path() + ".sim");
        simulator.pids.push_back(sim);
        std::this_thread::sleep_for(500ms);
        run.start_monitor({"--startup-grace", "5"});
        CHECK(test::wait_for_exit(sim, 30000) == 0);
        simulator.pids.clear();
        const std::string list = ctl(run, {"list", "--json"}).out;
        CHECK(run.stop_monitor() == 0);
        INFO(run.log() << list);
        check_only_the_end(run);
        unlink((run.log_path() + ".sim").c_str());
    }
}
