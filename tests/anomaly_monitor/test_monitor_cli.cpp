// brt-anomaly-monitor as users and systemd run it: liveness when the writer
// dies and comes back, frames missed while it was stopped, --exit-on,
// --on-critical, --min-severity, the text line, colour and NO_COLOR, journald
// prefixes, --rack, --frames, a malformed config file and bad usage.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "anomaly_monitor/monitor_harness.hpp"
#include "common/segment/segment_reader.hpp"
#include "support/pty_session.hpp"
#include "systemd/notify_socket.hpp"

using namespace brt;
using namespace std::chrono_literals;

namespace {

std::string monitor() {
    return test::tool_path("BRT_ANOMALY_MONITOR");
}
std::string simulator() {
    return test::tool_path("BRT_SIMULATOR");
}

// Rack 1's charger fails to stop: its cells climb through the voltage MOL,
// RSL and MSL within a second at full speed.
const std::vector<std::string> kOverchargeRack1 = {
    "--max-speed", "--duration", "1000000",    "--mode",           "idle",
    "--soc",       "0.9",        "--scenario", "overcharge:rack=1"};

// Starts a simulator in the background and waits until it is live.
pid_t start_simulator(const test::MonitorRun& run, std::vector<std::string> args,
                      test::KillOnExit& guard) {
    std::vector<std::string> argv = {simulator(), "--shm-name", run.name(), "--threads", "1"};
    argv.insert(argv.end(), args.begin(), args.end());
    const pid_t pid = test::spawn_background(argv, run.log_path() + ".sim");
    guard.pids.push_back(pid);
    SegmentReader reader(run.name());
    reader.require_attached();
    for (int i = 0; i < 3000 && reader.writer_status().liveness != Liveness::live; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    REQUIRE(reader.writer_status().liveness == Liveness::live);
    return pid;
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("a writer killed mid-run raises the liveness alarm; a new one clears it",
          "[monitor-cli]") {
    test::MonitorRun run("mon-kill");
    run.start_monitor();
    test::KillOnExit simulators;
    const pid_t first = start_simulator(run, {"--rate", "20"}, simulators);
    REQUIRE(run.wait_for_log("\"event\":\"clear\""));  // live: the start-up alarm clears
    kill(first, SIGKILL);
    REQUIRE(run.wait_for_log("gone without saying so"));
    const auto stale = run.raises("writer_liveness");
    REQUIRE(stale.size() == 2);  // no writer at start, then the killed one
    CHECK_THAT(stale[1], Catch::Contains("\"severity\":\"critical\"") && Catch::Contains("stale"));

    start_simulator(run, {"--rate", "20"}, simulators);
    for (int i = 0; i < 500 && count(run.log(), "\"event\":\"clear\"") < 2; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    CHECK(count(run.log(), "\"event\":\"clear\"") == 2);
    CHECK(run.stop_monitor() == 0);
    // The summary on exit says no alarm is left and how many were raised.
    const auto summary = run.lines_with("\"summary\"");
    REQUIRE(summary.size() == 1);
    CHECK_THAT(summary[0],
               Catch::Contains("\"active\":[]") && Catch::Contains("\"raised\":{\"critical\":2"));
    unlink((run.log_path() + ".sim").c_str());
}

TEST_CASE("frames missed while the monitor was stopped are counted and reported", "[monitor-cli]") {
    test::MonitorRun run("mon-stall");
    run.start_monitor();
    test::KillOnExit simulators;
    start_simulator(run, {"--rate", "50"}, simulators);
    REQUIRE(run.wait_for_log("\"event\":\"clear\""));
    // Stopped until the writer is a whole ring (4 slots) and 10 frames
    // further on, however fast this machine runs it: at least 10 of those
    // frames are gone when the monitor wakes.
    SegmentReader segment(run.name());
    segment.require_attached();
    kill(run.monitor_pid(), SIGSTOP);
    const std::uint64_t stopped_at = segment.latest_frame();
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (segment.latest_frame() < stopped_at + 4 + 10 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    kill(run.monitor_pid(), SIGCONT);
    REQUIRE(segment.latest_frame() >= stopped_at + 14);
    REQUIRE(run.wait_for_log("than they could be checked"));
    CHECK(run.stop_monitor() == 0);
    const auto note = run.lines_with("than they could be checked");
    REQUIRE(note.size() == 1);
    CHECK_THAT(note[0], Catch::StartsWith("brt-anomaly-monitor: missed "));
    const auto summary = run.lines_with("\"summary\"");
    REQUIRE(summary.size() == 1);
    INFO(summary[0]);
    // Missed frames are counted, and never more than were published.
    CHECK(test::json_number(summary[0], "frames_missed") >= 10);
    CHECK(test::json_number(summary[0], "frames_missed") +
              test::json_number(summary[0], "frames_checked") <=
          static_cast<double>(segment.latest_frame()));
    unlink((run.log_path() + ".sim").c_str());
}

TEST_CASE("--exit-on critical exits 3 at the first critical raise", "[monitor-cli]") {
    SECTION("an over-voltage while the writer runs") {
        test::MonitorRun run("mon-exit");
        test::KillOnExit simulators;
        start_simulator(run, kOverchargeRack1, simulators);
        const auto result = test::run_command(
            {monitor(), "--shm-name", run.name(), "--exit-on", "critical", "--format", "json"});
        INFO(result.out << result.err);
        CHECK(result.exit_code == 3);
        const std::string last = result.out.substr(result.out.rfind("{\"event\""));
        // The cells reach the MSL, where the simulator's rack BMS opens the
        // contactor after 0.5 s: the first critical is the MSL alarm or, when
        // the voltage relaxed before the monitor's debounce confirmed it, the
        // protection trip (issue 16).
        CHECK_THAT(last, (Catch::Contains("\"rule\":\"cell_overvoltage\"") ||
                          Catch::Contains("\"rule\":\"rack_protection_trip\"")) &&
                             Catch::Contains("\"severity\":\"critical\"") &&
                             Catch::Contains("\"rack\":1,"));
        CHECK_THAT(result.err, Catch::Contains("--exit-on"));
        unlink((run.log_path() + ".sim").c_str());
    }
    SECTION("no writer at all is critical too") {
        test::ScopedSegment segment("mon-exit-none", Geometry{1, 1, 4});
        const auto result = test::run_command({monitor(), "--shm-name", segment.name(), "--exit-on",
                                               "critical", "--startup-grace", "0"});
        CHECK(result.exit_code == 3);
        CHECK_THAT(result.out, Catch::Contains("RAISE critical writer_liveness"));
    }
}

TEST_CASE("no writer within the start-up grace is not an alarm; after it, it is", "[monitor-cli]") {
    // The quick start starts the monitor a moment before the simulator: a
    // pipeline started in any order must raise nothing.
    test::ScopedSegment segment("mon-grace", Geometry{1, 1, 4});
    const auto quiet = test::run_command(
        {monitor(), "--shm-name", segment.name(), "--duration", "1", "--format", "json"});
    INFO(quiet.err);
    CHECK(quiet.exit_code == 0);
    CHECK(quiet.out.empty());
    const auto late = test::run_command({monitor(), "--shm-name", segment.name(), "--duration",
                                         "1.5", "--startup-grace", "0.5", "--format", "json"});
    CHECK_THAT(late.out, Catch::Contains("\"rule\":\"writer_liveness\""));
}

TEST_CASE("--on-critical runs the user's command with the event in its environment",
          "[monitor-cli]") {
    test::ScopedSegment segment("mon-oncrit", Geometry{1, 1, 4});
    const auto result = test::run_command(
        {monitor(), "--shm-name", segment.name(), "--duration", "0.5", "--startup-grace", "0",
         "--on-critical", "/bin/sh -c 'echo \"hook: $BRT_SEVERITY $BRT_RULE rack=[$BRT_RACK]\"'"});
    INFO(result.err);
    CHECK(result.exit_code == 0);
    // The command's output goes to stderr: stdout holds events only.
    CHECK_THAT(result.err, Catch::Contains("hook: critical writer_liveness rack=[]"));
    CHECK_THAT(result.out, !Catch::Contains("hook:"));
    const auto missing = test::run_command({monitor(), "--shm-name", segment.name(), "--duration",
                                            "0.5", "--startup-grace", "0", "--reset-alarms",
                                            "--on-critical", "/nonexistent/hook"});
    CHECK(missing.exit_code == 0);
    CHECK_THAT(missing.err, Catch::Contains("cannot start '/nonexistent/hook'"));
    CHECK(test::run_command({monitor(), "--shm-name", segment.name(), "--on-critical", "'oops"})
              .exit_code == 2);
}

TEST_CASE("under journald each line carries its syslog priority", "[monitor-cli]") {
    test::ScopedSegment segment("mon-journal", Geometry{1, 1, 4});
    const std::string log = "/tmp/" + test::unique_segment_name("journal") + ".log";
    std::ofstream(log).close();
    struct stat info {};
    REQUIRE(stat(log.c_str(), &info) == 0);
    const std::string stream =
        "JOURNAL_STREAM=" + std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino);
    const pid_t pid = test::spawn_background(
        {monitor(), "--shm-name", segment.name(), "--duration", "0.3", "--startup-grace", "0"}, log,
        {stream});
    CHECK(test::wait_for_exit(pid, 10000) == 0);
    CHECK_THAT(test::read_file(log),
               Catch::StartsWith("<2>") && Catch::Contains("RAISE critical writer_liveness"));
    unlink(log.c_str());
    // A JOURNAL_STREAM that is not our stdout (a pipe here) adds nothing.
    // A second monitor adopts the first one's alarm (no new raise): reset it.
    const auto piped = test::run_command({monitor(), "--shm-name", segment.name(), "--duration",
                                          "0.3", "--startup-grace", "0", "--reset-alarms"},
                                         {stream});
    CHECK_THAT(piped.out, Catch::StartsWith("20"));
}

TEST_CASE("--min-severity, and the text line carries time, frame, rule, place, value and limit",
          "[monitor-cli]") {
    test::MonitorRun run("mon-text");
    test::KillOnExit simulators;
    start_simulator(run, kOverchargeRack1, simulators);
    const auto result = test::run_command({monitor(), "--shm-name", run.name(), "--exit-on",
                                           "critical", "--min-severity", "warning"});
    INFO(result.out << result.err);
    CHECK(result.exit_code == 3);
    CHECK_THAT(result.out, !Catch::Contains("RAISE info"));
    CHECK_THAT(result.out, !Catch::Contains("\x1b["));  // a pipe: no colour
    const auto warning = result.out.find("RAISE warning  cell_overvoltage rack 1 module ");
    REQUIRE(warning != std::string::npos);
    // 2026-12-01T10:00:00.123Z frame 1234 RAISE warning  cell_overvoltage
    // rack 1 module 0 cell 5 value 4.201 V limit 4.2 V (the value is where
    // the cell was when the monitor first saw it: higher on a slow build)
    const std::string line = result.out.substr(result.out.rfind('\n', warning) + 1);
    CHECK_THAT(line.substr(0, line.find('\n')),
               Catch::Matches(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z frame \d+ RAISE warning  )"
                              R"(cell_overvoltage rack 1 module \d+ cell \d+ value \d\.\d+ V )"
                              R"(limit 4\.2 V \[#\d+ unacknowledged[^\]]*\])"));
    // The MSL alarm, or the rack's protection trip that can come first (issue 16).
    CHECK_THAT(result.out, Catch::Contains("RAISE critical cell_overvoltage rack 1 module ") ||
                               Catch::Contains("RAISE critical rack_protection_trip rack 1 "));
    unlink((run.log_path() + ".sim").c_str());
}

TEST_CASE("colour on a terminal, none with NO_COLOR", "[monitor-cli]") {
    test::ScopedSegment segment("mon-colour", Geometry{1, 1, 4});
    // --reset-alarms: the second run raises the alarm again rather than
    // adopting the first run's.
    const std::vector<std::string> argv = {monitor(),    "--shm-name",    segment.name(),
                                           "--duration", "0.3",           "--startup-grace",
                                           "0",          "--reset-alarms"};
    // On a terminal, as in a user's shell; the test's NO_COLOR=1 (set for
    // every test) taken out.
    test::PtySession coloured(argv, 24, 80, {"NO_COLOR"});
    REQUIRE(coloured.wait_exit() == 0);
    INFO(coloured.output());
    CHECK_THAT(coloured.output(),
               Catch::Contains("\x1b[1;31mRAISE critical\x1b[0m writer_liveness"));
    test::PtySession no_color(argv, 24, 80, {"NO_COLOR=1"});
    REQUIRE(no_color.wait_exit() == 0);
    const std::string& plain = no_color.output();
    INFO(plain);
    CHECK_THAT(plain, Catch::Contains("RAISE critical writer_liveness"));
    CHECK_THAT(plain, !Catch::Contains("\x1b["));
}

TEST_CASE("under journald raises carry 2, 4 or 6 by severity and clears 5", "[monitor-cli]") {
    test::MonitorRun run("mon-priority");
    // JOURNAL_STREAM names the log file the monitor's stdout will be.
    std::ofstream(run.log_path()).close();
    struct stat info {};
    REQUIRE(stat(run.log_path().c_str(), &info) == 0);
    const std::string stream =
        "JOURNAL_STREAM=" + std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino);
    run.start_monitor({}, {stream});
    test::KillOnExit simulators;
    start_simulator(run, kOverchargeRack1, simulators);
    // A critical raise from the cells: the rack's protection trip at the
    // voltage MSL always comes (the MSL alarm itself may not, issue 16).
    REQUIRE(run.wait_for_log("\"severity\":\"critical\",\"rule\":\"rack_protection_trip\""));
    REQUIRE(run.wait_for_log("\"event\":\"clear\""));
    CHECK(run.stop_monitor() == 0);
    INFO(run.log());
    // Every event line, JSON after its priority; the liveness alarm raised
    // before the writer started clears once it is live.
    std::set<std::string> seen;
    for (const auto& line : run.lines_with("{\"event\":")) {
        const auto has = [&](const char* text) { return line.find(text) != std::string::npos; };
        const std::string prefix = !has("\"event\":\"raise\"")        ? "<5>"
                                   : has("\"severity\":\"critical\"") ? "<2>"
                                   : has("\"severity\":\"warning\"")  ? "<4>"
                                                                      : "<6>";
        CHECK_THAT(line, Catch::StartsWith(prefix + "{"));
        seen.insert(prefix);
    }
    CHECK(seen == std::set<std::string>{"<2>", "<4>", "<5>", "<6>"});
    unlink((run.log_path() + ".sim").c_str());
}

TEST_CASE("under systemd: READY=1, then STATUS= with the active alarm counts", "[monitor-cli]") {
    test::NotifySocket socket;
    test::MonitorRun run("mon-status");
    run.start_monitor({}, {socket.environment()});
    const auto wait = [&](const std::string& prefix, const std::string& part) {
        return socket.wait_for_line(prefix, part, 20s);
    };
    CHECK(wait("READY=1", "") == "READY=1");
    // No writer yet: one critical alarm (liveness), nothing checked.
    CHECK(wait("STATUS=", "1 critical") ==
          "STATUS=1 alarms listed; active: 1 critical, 0 "
          "warning, 0 info; 0 frames checked, 0 missed");
    test::KillOnExit simulators;
    start_simulator(run, {"--rate", "20"}, simulators);
    // Live: the liveness alarm is back to normal, listed until acknowledged.
    const std::string live =
        wait("STATUS=1 alarms listed; active: 0 critical, 0 warning, 0 info; ", "");
    INFO(live);
    REQUIRE_FALSE(live.empty());
    const long checked = std::stol(live.substr(live.find("info; ") + 6));
    CHECK(checked > 0);
    CHECK_THAT(live, Catch::EndsWith(" frames checked, 0 missed"));
    CHECK(run.stop_monitor() == 0);
    unlink((run.log_path() + ".sim").c_str());
}

TEST_CASE("--rack watches one rack; --frames bounds the run", "[monitor-cli]") {
    test::MonitorRun run("mon-rack", Geometry{3, 1, 8});
    test::KillOnExit simulators;
    start_simulator(
        run,
        {"--rate", "50", "--scenario", "sensor_fault:rack=0,module=0,cell=2,kind=dropout",
         "--scenario", "sensor_fault:rack=2,module=0,cell=5,kind=dropout"},
        simulators);
    const auto result = test::run_command(
        {monitor(), "--shm-name", run.name(), "--rack", "2", "--frames", "20", "--format", "json"});
    INFO(result.err);
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.out, Catch::Contains("\"rule\":\"sensor_dropout\",\"rack\":2,\"module\":0,"
                                           "\"cell\":5"));
    CHECK_THAT(result.out, !Catch::Contains("\"rack\":0,"));
    CHECK_THAT(result.err, Catch::Contains("\"frames_checked\":20"));
    unlink((run.log_path() + ".sim").c_str());
}

TEST_CASE("a malformed config file is refused with exit 2, naming the line", "[monitor-cli]") {
    test::ScopedSegment segment("mon-config", Geometry{1, 1, 4});
    const std::string path = "/tmp/" + test::unique_segment_name("bad") + ".conf";
    std::ofstream(path) << "# limits\n[nmc]\nvoltage-max = 4.15, 4.20, 4.25\nvoltage-min 3.0\n";
    const auto result =
        test::run_command({monitor(), "--shm-name", segment.name(), "--config", path});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err,
               Catch::Contains(path + ": line 4") && Catch::Contains("expected 'key = value'"));
    CHECK(result.out.empty());
    std::ofstream(path) << "[nmc]\nvoltage-max = 4.25, 4.20, 4.15\n";
    const auto order =
        test::run_command({monitor(), "--shm-name", segment.name(), "--config", path});
    CHECK(order.exit_code == 2);
    CHECK_THAT(order.err, Catch::Contains("nmc-voltage-max"));
    unlink(path.c_str());
}

TEST_CASE("bad usage exits 2, a missing segment 1", "[monitor-cli]") {
    test::ScopedSegment segment("mon-usage", Geometry{2, 1, 4});
    const std::vector<std::vector<std::string>> bad = {
        {"--rack", "2"},
        {"--rack", "-1"},
        {"--format", "xml"},
        {"--min-severity", "loud"},
        {"--exit-on", "always"},
        {"--bogus"},
        {"--nmc-voltage-max", "4.2"},
    };
    for (const auto& args : bad) {
        std::vector<std::string> argv = {monitor(), "--shm-name", segment.name()};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto result = test::run_command(argv);
        INFO(args[0] << ": " << result.err);
        CHECK(result.exit_code == 2);
        CHECK_FALSE(result.err.empty());
    }
    CHECK_THAT(test::run_command({monitor(), "--shm-name", segment.name(), "--rack", "2"}).err,
               Catch::Contains("racks 0..1"));
    const auto missing = test::run_command({monitor(), "--shm-name", "brt_test_no_such_segment"});
    CHECK(missing.exit_code == 1);
    CHECK_THAT(missing.err, Catch::Contains("brt-shm-init"));
    CHECK(test::run_command({monitor(), "--help"}).exit_code == 0);
    CHECK_THAT(test::run_command({monitor(), "--version"}).out,
               Catch::Contains("brt-anomaly-monitor"));
}
