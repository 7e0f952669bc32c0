// brt-simulator as a user runs it: refusals, a real run, stopping on SIGTERM,
// and commands through `ctl` taking effect within one frame. Its systemd
// notifications are tested with the other services' in tests/systemd/.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "common/control/rack_mode.hpp"
#include "common/control/scenario.hpp"
#include "common/segment/command_ring.hpp"
#include "common/segment/segment_reader.hpp"
#include "common/segment/shm_name.hpp"
#include "support/run_command.hpp"
#include "support/test_segment.hpp"

using namespace brt;
using namespace std::chrono_literals;

namespace {

struct Tools {
    std::string simulator = test::tool_path("BRT_SIMULATOR");
    std::string log = "/tmp/" + test::unique_segment_name("simlog") + ".log";
    ~Tools() { unlink(log.c_str()); }
};

void wait_until_live(SegmentReader& reader) {
    for (int i = 0; i < 1000 && reader.writer_status().liveness != Liveness::live; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    REQUIRE(reader.writer_status().liveness == Liveness::live);
}

}  // namespace

TEST_CASE("the simulator refuses to start without a segment, naming the fix", "[simulator-cli]") {
    Tools tools;
    const auto result = test::run_command(
        {tools.simulator, "--shm-name", "brt_test_missing_segment", "--duration", "1"});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Catch::Contains("brt-shm-init"));
}

TEST_CASE("the simulator rejects bad usage with exit code 2", "[simulator-cli]") {
    Tools tools;
    test::ScopedSegment scoped("sim-usage");
    const std::vector<std::vector<std::string>> bad = {
        {"--rate", "0"},
        {"--rate", "1e-300"},
        {"--rate", "1e9"},
        {"--rate", "nan"},
        {"--physics-dt", "-1"},
        {"--mode", "turbo"},
        {"--scenario", "meteor_strike"},
        {"--scenario", "thermal_runaway:rack=99"},
        {"--soc", "1.5"},
        {"--ambient", "nan"},
        {"--ambient", "500"},
        {"--threads", "5000"},
        {"--backend", "gpu"},
        {"--bogus"},
    };
    for (const auto& args : bad) {
        std::vector<std::string> argv = {tools.simulator, "--shm-name", scoped.name()};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto result = test::run_command(argv);
        INFO(args[0] << ": " << result.err);
        CHECK(result.exit_code == 2);
    }
    // A rate outside the range says what the range is.
    const auto slow =
        test::run_command({tools.simulator, "--shm-name", scoped.name(), "--rate", "1e-300"});
    CHECK_THAT(slow.err, Catch::Contains("--rate 1e-300 is out of range: use 0.1 to 10000"));
    // None of them took the writer role.
    CHECK(open_segment(scoped.name(), SegmentAccess::reader).header().writer_state.load() ==
          static_cast<std::uint32_t>(WriterState::never_started));
}

TEST_CASE("a bounded run publishes frames, prints a summary and marks itself stopped",
          "[simulator-cli]") {
    Tools tools;
    test::ScopedSegment scoped("sim-run", Geometry{4, 2, 16});
    const auto result = test::run_command({tools.simulator, "--shm-name", scoped.name(),
                                           "--max-speed", "--duration", "20", "--json"});
    INFO(result.err);
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.out, Catch::Contains("\"frames\":201"));
    SegmentReader reader(scoped.name());
    reader.require_attached();
    CHECK(reader.writer_status().liveness == Liveness::stopped);
    FrameBuffer frame;
    REQUIRE(reader.read_latest(frame) == ReadOutcome::ok);
    CHECK(frame.sim_time_ns == 20'000'000'000ull);
    for (float v : frame.column(Field::voltage_v)) {
        CHECK(v > 3.0f);
        CHECK(v < 4.3f);
    }
}

TEST_CASE("a second simulator is refused with the first one's pid", "[simulator-cli]") {
    Tools tools;
    test::ScopedSegment scoped("sim-two");
    const pid_t first =
        test::spawn_background({tools.simulator, "--shm-name", scoped.name()}, tools.log);
    test::KillOnExit guard{{first}};
    SegmentReader reader(scoped.name());
    reader.require_attached();
    wait_until_live(reader);
    const auto second = test::run_command({tools.simulator, "--shm-name", scoped.name()});
    CHECK(second.exit_code == 1);
    CHECK_THAT(second.err, Catch::Contains("pid " + std::to_string(first)));
    kill(first, SIGTERM);
    CHECK(test::wait_for_exit(first, 5000) == 0);
    CHECK(reader.writer_status().liveness == Liveness::stopped);
}

TEST_CASE("SIGHUP stops the simulator cleanly: exit 0, writer state stopped", "[simulator-cli]") {
    // A closed terminal sends SIGHUP; by default it would kill the writer
    // mid-run and leave the state "running", which readers see as stale.
    Tools tools;
    test::ScopedSegment scoped("sim-hup");
    const pid_t simulator =
        test::spawn_background({tools.simulator, "--shm-name", scoped.name()}, tools.log);
    test::KillOnExit guard{{simulator}};
    SegmentReader reader(scoped.name());
    reader.require_attached();
    wait_until_live(reader);
    kill(simulator, SIGHUP);
    CHECK(test::wait_for_exit(simulator, 5000) == 0);
    CHECK(reader.writer_status().state == WriterState::stopped);
    CHECK(reader.writer_status().liveness == Liveness::stopped);
}

TEST_CASE("ctl commands take effect within one publish period", "[simulator-cli]") {
    Tools tools;
    test::ScopedSegment scoped("sim-ctl", Geometry{3, 2, 8});
    const pid_t simulator = test::spawn_background(
        {tools.simulator, "--shm-name", scoped.name(), "--mode", "idle", "--rate", "10"},
        tools.log);
    test::KillOnExit guard{{simulator}};
    SegmentReader reader(scoped.name());
    reader.require_attached();
    wait_until_live(reader);
    auto ctl = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {tools.simulator, "--shm-name", scoped.name(), "ctl"});
        return test::run_command(args);
    };

    const auto answer = ctl({"mode", "charge", "--rack", "1"});
    INFO(answer.err);
    CHECK(answer.exit_code == 0);
    CHECK_THAT(answer.out, Catch::Contains("applied"));
    // The answer comes when the command is applied; the next frame shows it.
    const std::uint64_t answered_at = reader.header().latest_frame.load();
    REQUIRE(reader.wait_for_frame(answered_at, 1s));
    FrameBuffer frame;
    REQUIRE(reader.read_latest(frame) == ReadOutcome::ok);
    CHECK(frame.racks[1].mode == static_cast<std::uint32_t>(RackMode::charge));
    CHECK(frame.racks[0].mode == static_cast<std::uint32_t>(RackMode::idle));

    const auto bad_rack = ctl({"apply", "thermal_runaway", "--rack", "3"});
    CHECK(bad_rack.exit_code == 2);
    CHECK_THAT(bad_rack.err, Catch::Contains("racks 0..2"));
    CHECK(ctl({"apply", "meteor_strike"}).exit_code == 2);
    // Refused before posting: an index no segment has (not cut to 32 bits),
    // a start that is not a number.
    const auto huge = ctl({"apply", "hvac_failure", "--rack", "0", "--module", "4294967296"});
    CHECK(huge.exit_code == 2);
    CHECK_THAT(huge.err, Catch::Contains("--module 4294967296 is out of range"));
    CHECK(ctl({"apply", "hvac_failure", "--start", "nan"}).exit_code == 2);
    CHECK(ctl({"ambient", "nan"}).exit_code == 2);
    const auto applied = ctl({"apply", "sensor_fault", "--rack", "0", "--module", "1", "--cell",
                              "2", "--kind", "dropout", "--json"});
    CHECK(applied.exit_code == 0);
    CHECK_THAT(applied.out, Catch::Contains("\"applied\":true"));
    REQUIRE(reader.wait_for_frame(reader.header().latest_frame.load(), 1s));
    REQUIRE(reader.read_latest(frame) == ReadOutcome::ok);
    CHECK((frame.status[8 + 2] & cell_status::dropout) != 0);

    // A protection reset of a rack that never tripped changes nothing and is
    // applied; one that names a module, or a rack that does not exist, is refused.
    const auto reset = ctl({"reset", "--rack", "1"});
    CHECK(reset.exit_code == 0);
    CHECK_THAT(reset.out, Catch::Contains("reset protection of rack 1: applied"));
    CHECK(ctl({"reset"}).exit_code == 0);
    const auto reset_bad = ctl({"reset", "--rack", "3"});
    CHECK(reset_bad.exit_code == 2);
    CHECK_THAT(reset_bad.err, Catch::Contains("racks 0..2"));
    CHECK(ctl({"reset", "--rack", "0", "--module", "1"}).exit_code == 2);

    CHECK(ctl({"pause"}).exit_code == 0);
    for (int i = 0; i < 100 && reader.writer_status().state != WriterState::paused; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    CHECK(reader.writer_status().state == WriterState::paused);
    CHECK(reader.writer_status().liveness == Liveness::live);
    CHECK(ctl({"resume"}).exit_code == 0);

    kill(simulator, SIGINT);
    CHECK(test::wait_for_exit(simulator, 5000) == 0);
    // With no simulator, a command gets no answer: exit 1 and say why.
    const auto unanswered = ctl({"--timeout", "0.3", "pause"});
    CHECK(unanswered.exit_code == 1);
    CHECK_THAT(unanswered.out, Catch::Contains("stopped"));
}

TEST_CASE("scenario arguments out of their range are refused through the ring", "[simulator-cli]") {
    // Issue 16: `ctl apply high_ambient --rack 0 --magnitude 1e9 --duration
    // 0.5` was accepted and took the rack air to 652,545 C. Any producer
    // (here one writing the ring directly, as a script would) is answered
    // rejected_argument, and ctl refuses before posting.
    Tools tools;
    test::ScopedSegment scoped("sim-ranges", Geometry{2, 1, 4});
    const pid_t simulator = test::spawn_background(
        {tools.simulator, "--shm-name", scoped.name(), "--mode", "idle", "--rate", "20"},
        tools.log);
    test::KillOnExit guard{{simulator}};
    SegmentReader reader(scoped.name());
    reader.require_attached();
    wait_until_live(reader);
    const MappedSegment segment = open_segment(scoped.name(), SegmentAccess::reader);
    CommandRing ring(segment);
    auto post = [&](ScenarioKind kind, double start_s, double duration_s, double magnitude,
                    double fault = 0, double sensor = 0) {
        Command command;
        command.kind = CommandKind::apply_scenario;
        command.code = static_cast<std::uint32_t>(kind);
        command.rack = 0;
        command.module = kAllTargets;
        command.cell = kAllTargets;
        command.args[0] = start_s;
        command.args[1] = duration_s;
        command.args[2] = magnitude;
        command.args[3] = fault;
        command.args[4] = sensor;
        const auto position = ring.post(command);
        REQUIRE(position);
        const auto status = ring.wait_for_result(*position, 2s);
        REQUIRE(status);
        return *status;
    };
    const double nan = std::nan("");
    const double year_s = 365.25 * 86400;
    CHECK(post(ScenarioKind::high_ambient, 0, 0.5, 1e9) == CommandStatus::rejected_argument);
    CHECK(post(ScenarioKind::high_ambient, 0, 0.5, -1) == CommandStatus::rejected_argument);
    CHECK(post(ScenarioKind::thermal_runaway, 0, 0, 1e6) == CommandStatus::rejected_argument);
    CHECK(post(ScenarioKind::internal_short, 0, 0, 1e-9) == CommandStatus::rejected_argument);
    CHECK(post(ScenarioKind::accelerated_degradation, 0, 0, 1e12) ==
          CommandStatus::rejected_argument);
    CHECK(post(ScenarioKind::power_outage, 0, 0, 50) == CommandStatus::rejected_argument);
    CHECK(post(ScenarioKind::cell_imbalance, 0, 0, 2) == CommandStatus::rejected_argument);
    CHECK(post(ScenarioKind::hvac_failure, 2 * year_s, 0, nan) == CommandStatus::rejected_argument);
    CHECK(post(ScenarioKind::hvac_failure, 0, 2 * year_s, nan) == CommandStatus::rejected_argument);
    // sensor_fault's offset: V for the voltage sensor, K for the thermistor.
    CHECK(post(ScenarioKind::sensor_fault, 0, 0, 5, 2, 0) == CommandStatus::rejected_argument);
    // Nothing refused was applied: the rack air is still at the ambient.
    REQUIRE(reader.wait_for_frame(reader.header().latest_frame.load(), 1s));
    FrameBuffer frame;
    REQUIRE(reader.read_latest(frame) == ReadOutcome::ok);
    CHECK(frame.racks[0].air_temperature_c < 30.0f);
    // Within range, at the ends and with the default (NaN), applied.
    CHECK(post(ScenarioKind::sensor_fault, 0, 0, 5, 2, 1) == CommandStatus::applied);
    CHECK(post(ScenarioKind::high_ambient, 0, 0.5, 35) == CommandStatus::applied);
    CHECK(post(ScenarioKind::thermal_runaway, 0, 0.5, nan) == CommandStatus::applied);
    CHECK(post(ScenarioKind::hvac_failure, year_s, year_s, 1e9) == CommandStatus::applied);

    // ctl says which range, and posts nothing.
    const std::uint64_t posted = ring.posted();
    const auto refused = test::run_command({tools.simulator, "--shm-name", scoped.name(), "ctl",
                                            "apply", "high_ambient", "--rack", "0", "--magnitude",
                                            "1e9", "--duration", "0.5"});
    CHECK(refused.exit_code == 2);
    CHECK_THAT(refused.err, Catch::Contains("outside 0..35 K"));
    CHECK(ring.posted() == posted);
    kill(simulator, SIGINT);
    CHECK(test::wait_for_exit(simulator, 5000) == 0);
}

TEST_CASE("ctl refuses a negative index or timeout before posting anything", "[simulator-cli]") {
    Tools tools;
    test::ScopedSegment scoped("sim-ctl-neg", Geometry{3, 2, 8});
    auto ctl = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {tools.simulator, "--shm-name", scoped.name(), "ctl"});
        return test::run_command(args);
    };
    // A negative index used to mean "every rack": `--rack -2` applied a
    // thermal runaway to the whole system. The short timeout keeps the old
    // behaviour (post, wait for an answer nobody gives) quick to fail.
    const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
        {{"apply", "thermal_runaway", "--rack", "-2"}, "--rack -2 is out of range"},
        {{"apply", "thermal_runaway", "--rack", "0", "--module", "-1"},
         "--module -1 is out of range"},
        {{"apply", "thermal_runaway", "--rack", "0", "--module", "1", "--cell", "-7"},
         "--cell -7 is out of range"},
        {{"mode", "discharge", "--rack", "-1"}, "--rack -1 is out of range"},
        {{"clear", "all", "--rack", "-1"}, "--rack -1 is out of range"},
        {{"reset", "--rack", "-1"}, "--rack -1 is out of range"},
    };
    const std::vector<std::string> ranges = {"racks 0..2", "modules 0..1", "cells 0..7",
                                             "racks 0..2", "racks 0..2",   "racks 0..2"};
    for (std::size_t i = 0; i < bad.size(); ++i) {
        auto args = bad[i].first;
        args.insert(args.end(), {"--timeout", "0.2"});
        const auto result = ctl(args);
        INFO(bad[i].second << ": " << result.out << result.err);
        CHECK(result.exit_code == 2);
        CHECK_THAT(result.err, Catch::Contains(bad[i].second));
        CHECK_THAT(result.err, Catch::Contains(ranges[i]));
    }
    for (const std::string timeout : {"-1", "nan", "inf", "1e300"}) {
        const auto result = ctl({"--timeout", timeout, "pause"});
        INFO(timeout << ": " << result.out << result.err);
        CHECK(result.exit_code == 2);
        CHECK_THAT(result.err, Catch::Contains("--timeout"));
        CHECK_THAT(result.err, Catch::Contains("0 (post without waiting) to 3600 seconds"));
    }
    // Nothing reached the ring: a simulator started later would apply none.
    CHECK(CommandRing(open_segment(scoped.name(), SegmentAccess::reader)).posted() == 0);
}

TEST_CASE("ctl --timeout 0 posts the command and exits 0 without waiting", "[simulator-cli]") {
    Tools tools;
    test::ScopedSegment scoped("sim-ctl-post", Geometry{3, 2, 8});
    auto ctl = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {tools.simulator, "--shm-name", scoped.name(), "ctl"});
        return test::run_command(args);
    };
    // No simulator runs, so no answer could come; the run says it posted.
    const auto posted = ctl({"--timeout", "0", "mode", "charge", "--rack", "1"});
    INFO(posted.out << posted.err);
    CHECK(posted.exit_code == 0);
    CHECK_THAT(posted.out, Catch::Contains("mode charge at rack 1: posted, not waiting"));
    const auto json = ctl({"--timeout", "0", "--json", "pause"});
    CHECK(json.exit_code == 0);
    CHECK_THAT(json.out, Catch::Contains("\"status\":\"posted\",\"applied\":null"));
    CHECK(CommandRing(open_segment(scoped.name(), SegmentAccess::reader)).posted() == 2);

    // A simulator started afterwards applies what was posted.
    const pid_t simulator = test::spawn_background(
        {tools.simulator, "--shm-name", scoped.name(), "--mode", "idle", "--rate", "20"},
        tools.log);
    test::KillOnExit guard{{simulator}};
    SegmentReader reader(scoped.name());
    reader.require_attached();
    for (int i = 0; i < 300 && reader.writer_status().state != WriterState::paused; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    CHECK(reader.writer_status().state == WriterState::paused);
    kill(simulator, SIGTERM);
    CHECK(test::wait_for_exit(simulator, 5000) == 0);
}

TEST_CASE("a slow simulator stays live between frames and is stale soon after SIGKILL",
          "[simulator-cli]") {
    Tools tools;
    test::ScopedSegment scoped("sim-slow", Geometry{2, 2, 8});
    // One frame every 5 s: liveness must come from the heartbeat, not frames.
    const pid_t simulator = test::spawn_background(
        {tools.simulator, "--shm-name", scoped.name(), "--mode", "idle", "--rate", "0.2"},
        tools.log);
    test::KillOnExit guard{{simulator}};
    SegmentReader reader(scoped.name());
    reader.require_attached();
    wait_until_live(reader);

    auto samples_not_live = [&](std::chrono::milliseconds span) {
        int not_live = 0;
        for (auto end = std::chrono::steady_clock::now() + span;
             std::chrono::steady_clock::now() < end;) {
            not_live += reader.writer_status().liveness != Liveness::live ? 1 : 0;
            std::this_thread::sleep_for(50ms);
        }
        return not_live;
    };
    CHECK(samples_not_live(1200ms) == 0);
    // Heartbeats at least every 100 ms (kMaxHeartbeatIntervalNs).
    CHECK(reader.writer_status().heartbeat_age_ns <= 150'000'000);

    // Commands are taken between frames too, not only every 5 s.
    const auto pause = test::run_command(
        {tools.simulator, "--shm-name", scoped.name(), "ctl", "--timeout", "1", "pause"});
    INFO(pause.out << pause.err);
    CHECK(pause.exit_code == 0);
    CHECK(reader.writer_status().state == WriterState::paused);
    CHECK(samples_not_live(500ms) == 0);

    kill(simulator, SIGKILL);
    CHECK(test::wait_for_exit(simulator, 5000) == 128 + SIGKILL);
    const auto killed_at = std::chrono::steady_clock::now();
    WriterStatus status = reader.writer_status();
    while (status.liveness == Liveness::live &&
           std::chrono::steady_clock::now() - killed_at < 10s) {
        std::this_thread::sleep_for(20ms);
        status = reader.writer_status();
    }
    const auto took = std::chrono::steady_clock::now() - killed_at;
    INFO("stale after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                        << " ms: " << status.detail);
    CHECK(status.liveness == Liveness::stale);
    CHECK(took < 1500ms);
    CHECK_THAT(status.detail, Catch::Contains("gone"));
}
