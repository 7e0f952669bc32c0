// The dashboard's alarms, as an operator uses them: the header counts them
// on every view, `a` lists them, Enter acknowledges the selected one through
// the monitor, and a missing monitor is an alarm of its own.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "anomaly_monitor/monitor_harness.hpp"
#include "support/pty_session.hpp"

using namespace brt;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> viewer_args(const std::string& segment) {
    return {test::tool_path("BRT_VIEWER"), "--shm-name", segment, "--interval", "0.2"};
}

}  // namespace

TEST_CASE("the header counts the alarms, `a` lists them, Enter acknowledges through the monitor",
          "[viewer-pty][alarms]") {
    test::MonitorRun run("viewer-alarms");
    run.start_monitor({"--startup-grace", "5"});  // the simulator starts next: no liveness alarm
    test::KillOnExit simulator;
    simulator.pids.push_back(test::spawn_background(
        {test::tool_path("BRT_SIMULATOR"), "--shm-name", run.name(), "--threads", "1", "--speed",
         "100", "--rate", "1000", "--duration", "30000", "--mode", "idle", "--soc", "0.9",
         "--scenario", "overcharge:rack=0"},
        run.log_path() + ".sim"));
    REQUIRE(run.wait_for_log("\"rule\":\"cell_overvoltage\""));

    test::PtySession pty(viewer_args(run.name()), 24, 80, {"NO_COLOR=1"});
    // At 80 columns the header keeps the segment, the alarms and the writer.
    REQUIRE(pty.wait_for_screen("Overview:"));
    REQUIRE(pty.wait_for_screen("ALARMS"));
    CHECK(pty.wait_for_line("ALARMS", "unack"));
    CHECK(pty.wait_for_line("ALARMS", " live"));  // "writer PID live"
    pty.send("a");
    const bool listed = pty.wait_for_line(">", "cell_overvoltage");
    INFO(pty.screen().text());
    REQUIRE(listed);
    CHECK(pty.wait_for_line(">", "UNACK"));
    pty.send("\r");
    REQUIRE(pty.wait_for_screen(": done"));
    CHECK(pty.wait_for_line(">", " ack "));
    // The monitor's own list says who acknowledged it.
    const auto list = test::run_command({test::tool_path("BRT_ANOMALY_MONITOR"), "--shm-name",
                                         run.name(), "ctl", "list", "--json"});
    CHECK_THAT(list.out, Catch::Contains("\"acknowledged_by\":\"viewer "));
    pty.send("\x1b");
    REQUIRE(pty.wait_for_screen("Overview:"));
    for (const auto& line : pty.screen().lines()) {
        CHECK(line.size() <= 80);
    }
    pty.send("q");
    CHECK(pty.wait_exit() == 0);
    CHECK(run.stop_monitor() == 0);
    unlink((run.log_path() + ".sim").c_str());
}

TEST_CASE("no alarm monitor: after the grace the dashboard says the alarm system is down",
          "[viewer-pty][alarms]") {
    test::ScopedSegment segment("viewer-nomon", Geometry{1, 1, 4});
    test::PtySession pty(viewer_args(segment.name()), 24, 100, {"NO_COLOR=1"});
    REQUIRE(pty.wait_for_screen("No frame published yet"));
    pty.send("a");
    REQUIRE(pty.wait_for_screen("Alarms: "));
    // Quiet during the start-up grace, then the alarm_system alarm.
    const bool down = pty.wait_for_screen("alarm_system", 15000);
    INFO(pty.screen().text());
    CHECK(down);
    CHECK(pty.wait_for_screen("alarm monitor not running"));
    pty.send("q");
    CHECK(pty.wait_exit() == 0);
}
