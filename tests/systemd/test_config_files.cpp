// --config FILE, as the systemd units use it (/etc/brt/<segment>/<tool>.conf):
// the tools read their options from it, the command line wins, a mistake in
// it is refused with exit 2, and every default the installed files document
// is a valid option with a valid value.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/segment/segment_reader.hpp"
#include "support/run_command.hpp"
#include "support/test_segment.hpp"

using namespace brt;

namespace {

// A config file in /tmp, removed when the test ends.
class ConfigFile {
  public:
    explicit ConfigFile(const std::string& text)
        : path_("/tmp/" + test::unique_segment_name("config") + ".conf") {
        std::ofstream(path_) << text;
    }
    ~ConfigFile() { unlink(path_.c_str()); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

// A `key = value` setting in `line`, or nothing: a key is lower case and
// dashes, as the long options are.
std::optional<std::string> setting_in(const std::string& line) {
    const auto equals = line.find(" = ");
    if (equals == std::string::npos || equals == 0 || equals + 3 >= line.size()) {
        return std::nullopt;
    }
    const std::string key = line.substr(0, equals);
    if (key.find_first_not_of("abcdefghijklmnopqrstuvwxyz-") != std::string::npos) {
        return std::nullopt;
    }
    return line;
}

// The installed default file with every commented `# key = value` line
// turned into a setting (the defaults the file documents, all in force),
// except the keys in `examples`, whose values are examples, not defaults.
std::string with_defaults_uncommented(const std::string& tool,
                                      const std::vector<std::string>& examples = {},
                                      int min_settings = 4) {
    const char* dir = std::getenv("BRT_DEFAULT_CONFIG_DIR");
    REQUIRE(dir != nullptr);
    std::istringstream file(test::read_file(std::string(dir) + "/" + tool + ".conf"));
    std::string text;
    int settings = 0;
    for (std::string line; std::getline(file, line);) {
        if (line.rfind("# ", 0) != 0) {
            continue;
        }
        const auto setting = setting_in(line.substr(2));
        if (!setting || std::any_of(examples.begin(), examples.end(), [&](const auto& key) {
                return setting->rfind(key + " = ", 0) == 0;
            })) {
            continue;
        }
        text += *setting + "\n";
        ++settings;
    }
    INFO(tool << ".conf");
    CHECK(settings >= min_settings);
    return text;
}

}  // namespace

TEST_CASE("the simulator reads its options from --config; the command line wins", "[config]") {
    const std::string simulator = test::tool_path("BRT_SIMULATOR");
    test::ScopedSegment scoped("config-sim", Geometry{2, 2, 8});
    const ConfigFile config("# a bounded run\nshm-name = " + scoped.name() +
                            "\nmax-speed = true\nduration = 3\nrate = 5\njson = true\n");

    const auto from_file = test::run_command({simulator, "--config", config.path()});
    INFO(from_file.err);
    CHECK(from_file.exit_code == 0);
    // 3 simulated seconds at 5 frames per simulated second, plus the first.
    CHECK_THAT(from_file.out, Catch::Contains("\"frames\":16"));
    SegmentReader reader(scoped.name());
    reader.require_attached();
    FrameBuffer frame;
    REQUIRE(reader.read_latest(frame) == ReadOutcome::ok);
    CHECK(frame.sim_time_ns == 3'000'000'000ull);

    const auto overridden =
        test::run_command({simulator, "--config", config.path(), "--duration", "1"});
    CHECK(overridden.exit_code == 0);
    CHECK_THAT(overridden.out, Catch::Contains("\"frames\":6"));
}

TEST_CASE("a mistake in a config file is refused with exit 2, saying what", "[config]") {
    const std::string simulator = test::tool_path("BRT_SIMULATOR");
    test::ScopedSegment scoped("config-bad", Geometry{2, 2, 8});
    const std::string segment = "shm-name = " + scoped.name() + "\nduration = 1\n";

    const ConfigFile unknown(segment + "rate = 5\nframe-rate = 5\n");
    const auto typo = test::run_command({simulator, "--config", unknown.path()});
    CHECK(typo.exit_code == 2);
    CHECK_THAT(typo.err, Catch::Contains("--config") && Catch::Contains("frame-rate"));

    const ConfigFile bad_value(segment + "rate = fast\n");
    const auto not_a_number = test::run_command({simulator, "--config", bad_value.path()});
    CHECK(not_a_number.exit_code == 2);
    CHECK_THAT(not_a_number.err, Catch::Contains("fast"));

    const ConfigFile out_of_range(segment + "soc = 1.5\n");
    CHECK(test::run_command({simulator, "--config", out_of_range.path()}).exit_code == 2);

    const auto missing = test::run_command({simulator, "--config", "/nonexistent/simulator.conf"});
    CHECK(missing.exit_code == 2);
    CHECK_THAT(missing.err, Catch::Contains("/nonexistent/simulator.conf"));

    // None of them took the writer role.
    CHECK(open_segment(scoped.name(), SegmentAccess::reader).header().writer_state.load() ==
          static_cast<std::uint32_t>(WriterState::never_started));
}

TEST_CASE("the simulator takes the one config syntax: underscores, ';', quotes, flag words",
          "[config]") {
    test::ScopedSegment scoped("config-syntax", Geometry{2, 2, 8});
    const ConfigFile config("shm_name = \"" + scoped.name() +
                            "\"   ; the segment\n"
                            "max_speed = yes\n"
                            "[default]\n"
                            "duration = 1\n"
                            "rate = 5  # frames per simulated second\n"
                            "json = on\n");
    const auto ran =
        test::run_command({test::tool_path("BRT_SIMULATOR"), "--config", config.path()});
    INFO(ran.err);
    CHECK(ran.exit_code == 0);
    CHECK_THAT(ran.out, Catch::Contains("\"frames\":6"));
}

TEST_CASE("a mistake in the simulator's or shm-init's file names the file, the line and the key",
          "[config]") {
    test::ScopedSegment scoped("config-line", Geometry{2, 2, 8});
    const std::string simulator = test::tool_path("BRT_SIMULATOR");
    const std::string shm_init = test::tool_path("BRT_SHM_INIT");

    const ConfigFile typo("# a bounded run\nrate = 5\nspead = 2\n");
    const auto misspelt = test::run_command(
        {simulator, "--config", typo.path(), "--shm-name", scoped.name(), "--duration", "1"});
    CHECK(misspelt.exit_code == 2);
    CHECK_THAT(misspelt.err, Catch::Contains(typo.path() + ": line 3: unknown setting 'spead'") &&
                                 Catch::Contains("did you mean 'speed'"));

    const ConfigFile twice("rate = 5\nspeed = 2\nrate = 10\n");
    const auto set_twice = test::run_command(
        {simulator, "--config", twice.path(), "--shm-name", scoped.name(), "--duration", "1"});
    CHECK(set_twice.exit_code == 2);
    CHECK_THAT(set_twice.err,
               Catch::Contains(twice.path() + ": line 3: rate is set twice (first on line 1)"));

    const ConfigFile not_a_number("\nrate = 5\nthreads = two\n");
    const auto bad_value = test::run_command({simulator, "--config", not_a_number.path(),
                                              "--shm-name", scoped.name(), "--duration", "1"});
    CHECK(bad_value.exit_code == 2);
    CHECK_THAT(bad_value.err,
               Catch::Contains(not_a_number.path() + ": line 3: threads: 'two' is not"));

    const std::string name = test::unique_segment_name("config-line-init");
    const ConfigFile geometry("racks = 3\nmodules = x\ncells = 4\n");
    const auto init_bad_value =
        test::run_command({shm_init, "--config", geometry.path(), "--shm-name", name});
    CHECK(init_bad_value.exit_code == 2);
    CHECK_THAT(init_bad_value.err,
               Catch::Contains(geometry.path() + ": line 2: modules: 'x' is not a whole number"));
    // A value with a comma for a one-value option: the message says to quote it.
    const ConfigFile unquoted("racks = 3\n\nchemistry = nmc, lfp, lfp\n");
    const auto init_unquoted =
        test::run_command({shm_init, "--config", unquoted.path(), "--shm-name", name});
    CHECK(init_unquoted.exit_code == 2);
    CHECK_THAT(init_unquoted.err,
               Catch::Contains(unquoted.path() + ": line 3: chemistry takes one value, got 3") &&
                   Catch::Contains("quote"));
    const ConfigFile no_equals("racks = 3\ncells 4\n");
    const auto init_malformed =
        test::run_command({shm_init, "--config", no_equals.path(), "--shm-name", name});
    CHECK(init_malformed.exit_code == 2);
    CHECK_THAT(init_malformed.err,
               Catch::Contains(no_equals.path() + ": line 2: expected 'key = value'"));
    // Nothing was created.
    CHECK(test::run_command({shm_init, "--info", "--shm-name", name}).exit_code == 1);
}

TEST_CASE("a [section] is refused by a tool without sections; the monitor's [nmc] and [lfp] work",
          "[config]") {
    test::ScopedSegment scoped("config-section", Geometry{1, 1, 4});
    const ConfigFile ctl_section("rate = 5\n[ctl]\ntimeout = 3\n");
    // Bounded, should a regression accept the file.
    const auto simulator =
        test::run_command({test::tool_path("BRT_SIMULATOR"), "--config", ctl_section.path(),
                           "--shm-name", scoped.name(), "--max-speed", "--duration", "1"});
    CHECK(simulator.exit_code == 2);
    CHECK_THAT(simulator.err,
               Catch::Contains(ctl_section.path() + ": line 2: unknown section [ctl]") &&
                   Catch::Contains("brt-simulator takes no sections"));

    const ConfigFile nmc_section("[nmc]\nracks = 3\n");
    const auto shm_init =
        test::run_command({test::tool_path("BRT_SHM_INIT"), "--config", nmc_section.path(),
                           "--shm-name", test::unique_segment_name("config-section-init")});
    CHECK(shm_init.exit_code == 2);
    CHECK_THAT(shm_init.err,
               Catch::Contains(nmc_section.path() + ": line 1: unknown section [nmc]") &&
                   Catch::Contains("brt-shm-init takes no sections"));

    const std::string monitor = test::tool_path("BRT_ANOMALY_MONITOR");
    const ConfigFile unknown_section("voltage-plausibility = 0.3\n[nickel]\n");
    const auto refused = test::run_command(
        {monitor, "--config", unknown_section.path(), "--shm-name", scoped.name()});
    CHECK(refused.exit_code == 2);
    CHECK_THAT(refused.err,
               Catch::Contains(unknown_section.path() + ": line 2: unknown section [nickel]") &&
                   Catch::Contains("the sections are [nmc] and [lfp]"));
    // What the tool says about its file is true of it.
    CHECK_THAT(refused.err, !Catch::Contains("sections are not used"));
    // The bridge takes no alarm limits any more (it shows the monitor's
    // alarms): a section left over in its file is refused by its line.
    const ConfigFile leftover("listen = \"127.0.0.1:0\"\n[nmc]\nvoltage-max = 4.10, 4.15, 4.20\n");
    const auto bridge = test::run_command({test::tool_path("BRT_WS_BRIDGE"), "--config",
                                           leftover.path(), "--shm-name", scoped.name()});
    CHECK(bridge.exit_code == 2);
    CHECK_THAT(bridge.err, Catch::Contains(leftover.path() + ": line 2: unknown section [nmc]") &&
                               Catch::Contains("brt-ws-bridge takes no sections"));

    // [lfp] names the lfp- options: levels out of order are refused by name.
    const ConfigFile lfp_order("[lfp]\nvoltage-max = 3.65, 3.60, 3.55\n");
    const auto order =
        test::run_command({monitor, "--config", lfp_order.path(), "--shm-name", scoped.name()});
    CHECK(order.exit_code == 2);
    CHECK_THAT(order.err, Catch::Contains("lfp-voltage-max"));

    // A file with both sections is taken: exit-on is in force, and the missing
    // writer (a critical liveness alarm) ends the run with 3.
    const ConfigFile sections(
        "exit-on = \"critical\"\n"
        "[nmc]\n"
        "voltage-max = 4.10, 4.15, 4.20\n"
        "soc_min = [0.15, 0.08, off]\n"
        "[lfp]\n"
        "temperature-max-charge = 30 35 40\n"
        "[default]\n"
        "format = json\n");
    const auto monitored =
        test::run_command({monitor, "--config", sections.path(), "--shm-name", scoped.name()});
    INFO(monitored.err);
    CHECK(monitored.exit_code == 3);
    CHECK_THAT(monitored.out, Catch::Contains("\"rule\":\"writer_liveness\""));
}

TEST_CASE("brt-shm-init reads the geometry from --config", "[config]") {
    const std::string name = test::unique_segment_name("config-init");
    const ConfigFile config("racks = 3\nmodules = 2\ncells = 4\nchemistry = \"lfp\"\n");
    const auto created = test::run_command(
        {test::tool_path("BRT_SHM_INIT"), "--config", config.path(), "--shm-name", name});
    INFO(created.err);
    CHECK(created.exit_code == 0);
    const MappedSegment segment = open_segment(name, SegmentAccess::reader);
    CHECK(segment.layout().geometry == Geometry{3, 2, 4});
    test::remove_test_segments(name);
}

TEST_CASE("the defaults the installed config files document are valid options and values",
          "[config]") {
    const std::string name = test::unique_segment_name("config-defaults");
    const ConfigFile init_defaults(with_defaults_uncommented("shm-init"));
    const auto created = test::run_command(
        {test::tool_path("BRT_SHM_INIT"), "--config", init_defaults.path(), "--shm-name", name});
    INFO(created.err);
    REQUIRE(created.exit_code == 0);
    CHECK_THAT(created.out, Catch::Contains("20 racks x 10 modules x 32 cells"));

    const ConfigFile simulator_defaults(with_defaults_uncommented("simulator", {"load-profile"}));
    const auto ran =
        test::run_command({test::tool_path("BRT_SIMULATOR"), "--config", simulator_defaults.path(),
                           "--shm-name", name, "--max-speed", "--duration", "1", "--threads", "1"});
    INFO(ran.err);
    CHECK(ran.exit_code == 0);
    test::remove_test_segments(name);
}

TEST_CASE("the readers' installed config files hold valid options", "[config]") {
    const std::string name = test::unique_segment_name("config-readers");
    REQUIRE(test::run_command({test::tool_path("BRT_SHM_INIT"), "--shm-name", name}).exit_code ==
            0);

    // The monitor's file documents exit-on = "critical": in force, the
    // missing writer (a critical liveness alarm) ends the run with 3.
    const ConfigFile monitor(with_defaults_uncommented("anomaly-monitor", {}, 1));
    const auto monitored = test::run_command(
        {test::tool_path("BRT_ANOMALY_MONITOR"), "--config", monitor.path(), "--shm-name", name});
    INFO(monitored.err);
    CHECK(monitored.exit_code == 3);
    CHECK_THAT(monitored.out, Catch::Contains("writer_liveness"));

    // The bridge's listen address (on an ephemeral port here, as 8080 may be
    // taken); the token file is an example path that does not exist.
    std::string bridge_text = with_defaults_uncommented("ws-bridge", {"control-token-file"}, 1);
    const auto port = bridge_text.find(":8080");
    REQUIRE(port != std::string::npos);
    bridge_text.replace(port, 5, ":0");
    const ConfigFile bridge(bridge_text);
    const std::string log = "/tmp/" + name + "-bridge.log";
    test::KillOnExit guard;
    const pid_t pid = test::spawn_background(
        {test::tool_path("BRT_WS_BRIDGE"), "--config", bridge.path(), "--shm-name", name}, log);
    guard.pids.push_back(pid);
    std::string said;
    for (int i = 0; i < 500 && said.find("listening on 127.0.0.1:") == std::string::npos; ++i) {
        usleep(10'000);
        said = test::read_file(log);
    }
    INFO(said);
    CHECK_THAT(said, Catch::Contains("listening on 127.0.0.1:"));
    kill(pid, SIGTERM);
    CHECK(test::wait_for_exit(pid, 10'000) == 0);
    guard.pids.clear();
    unlink(log.c_str());
    test::remove_test_segments(name);
}
