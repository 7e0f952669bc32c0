// Alarm limits from a CLI11 config file and the command line: precedence,
// strict parsing with the line named, validation of the levels.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/alarm/alarm_config_cli.hpp"
#include "common/segment/errors.hpp"
#include "support/run_command.hpp"
#include "support/test_segment.hpp"

using namespace brt;

namespace {

struct TempFile {
    std::string path = "/tmp/" + test::unique_segment_name("alarm") + ".conf";
    explicit TempFile(const std::string& text) { std::ofstream(path) << text; }
    ~TempFile() { unlink(path.c_str()); }
};

// Parses `args` as a tool would; returns the config or throws what run_tool maps.
AlarmConfig parse(std::vector<std::string> args) {
    CLI::App app{"test"};
    AlarmConfigOptions options(app);
    std::string format = "text";
    app.add_option("--format", format);
    args.insert(args.begin(), "tool");
    std::vector<const char*> argv;
    for (const auto& arg : args) {
        argv.push_back(arg.c_str());
    }
    app.parse(static_cast<int>(argv.size()), argv.data());
    return options.config();
}

}  // namespace

TEST_CASE("defaults are the documented figures", "[alarm-config]") {
    const AlarmConfig config = parse({});
    CHECK(config.nmc.voltage_max_v.msl == 4.25f);
    CHECK(config.lfp.voltage_min_v.mol == 2.70f);
    CHECK(config.nmc.temperature_max_charge_c.rsl == 40.0f);
    CHECK(config.voltage_plausibility_v == 0.3f);
    CHECK(config.temperature_plausibility_k == 10.0f);
}

TEST_CASE("a config file sets limits; the command line overrides it", "[alarm-config]") {
    TempFile file(
        "# site limits\n"
        "voltage-plausibility = 0.25\n"
        "temperature_plausibility = 8   ; underscores work too\n"
        "voltage-debounce = 7, 3\n"
        "[nmc]\n"
        "voltage-max = 4.10, 4.15, 4.20\n"
        "soc-min = [0.15, 0.08, off]\n"
        "[lfp]\n"
        "temperature-min-discharge = -5 -10 -15\n"
        "temperature-min-charge = 3, 1, -1\n"
        "[default]\n"
        "format = json\n");
    AlarmConfig config = parse({"--config", file.path});
    CHECK(config.voltage_plausibility_v == 0.25f);
    CHECK(config.temperature_plausibility_k == 8.0f);
    CHECK(config.voltage_debounce.raise_frames == 7);
    CHECK(config.voltage_debounce.clear_frames == 3);
    CHECK(config.nmc.voltage_max_v.mol == 4.10f);
    CHECK(config.nmc.voltage_max_v.msl == 4.20f);
    CHECK(std::isnan(config.nmc.soc_min.msl));
    CHECK(config.lfp.temperature_min_discharge_c.rsl == -10.0f);
    CHECK(config.lfp.temperature_min_charge_c.msl == -1.0f);
    CHECK(config.nmc.temperature_min_charge_c.msl == 0.0f);  // the default
    CHECK(config.lfp.voltage_max_v.mol == 3.55f);            // untouched

    config = parse({"--config", file.path, "--nmc-voltage-max", "4.12,4.18,4.22",
                    "--voltage-plausibility", "0.4"});
    CHECK(config.nmc.voltage_max_v.mol == 4.12f);
    CHECK(config.voltage_plausibility_v == 0.4f);
    CHECK(config.temperature_plausibility_k == 8.0f);  // still from the file
    // Without a command line only alarm settings are known: a file shared by
    // the monitor and the bridge holds the limits and nothing else.
    CHECK_THROWS_WITH(load_alarm_config_file(file.path), Catch::Contains("line 12"));
    TempFile limits_only("[nmc]\nvoltage-max = 4.10, 4.15, 4.20\n");
    CHECK(load_alarm_config_file(limits_only.path).nmc.voltage_max_v.rsl == 4.15f);
}

TEST_CASE("a malformed config file is refused with its line named", "[alarm-config]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"voltage-plausibility = 0.3\nthis is not a setting\n", "line 2: expected 'key = value'"},
        {"# ok\n\nbogus-limit = 3\n", "line 3: unknown setting 'bogus-limit'"},
        {"[nmc]\nvoltage-max = 4.1, 4.2\n", "line 2: nmc-voltage-max takes 3"},
        {"[nmc]\nvoltage-max = 4.1, 4.2, abc\n", "line 2: nmc-voltage-max: 'abc' is not a number"},
        {"[nickel]\n", "line 1: unknown section [nickel]"},
        {"voltage-max = [4.1, 4.2\n", "line 1: an array must close"},
        {"[nmc\n", "line 1: a section header must end"},
    };
    for (const auto& [text, expected] : cases) {
        TempFile file(text);
        INFO(text);
        CHECK_THROWS_WITH(parse({"--config", file.path}),
                          Catch::Contains(expected) && Catch::Contains(file.path));
        CHECK_THROWS_AS(parse({"--config", file.path}), CLI::ConfigError);
        CHECK_THROWS_WITH(load_alarm_config_file(file.path), Catch::Contains(expected));
    }
}

TEST_CASE("limits out of order or out of range are refused, naming the setting", "[alarm-config]") {
    CHECK_THROWS_WITH(parse({"--nmc-voltage-max", "4.25,4.20,4.15"}),
                      Catch::Contains("nmc-voltage-max") && Catch::Contains("order"));
    CHECK_THROWS_WITH(parse({"--lfp-soc-min", "0.05,0.10,0.02"}), Catch::Contains("lfp-soc-min"));
    CHECK_THROWS_AS(parse({"--voltage-plausibility", "-1"}), UsageError);
    CHECK_THROWS_WITH(parse({"--voltage-debounce", "0,3"}), Catch::Contains("voltage-debounce"));
    CHECK_THROWS_WITH(parse({"--nmc-voltage-max", "4.1,x,4.3"}), Catch::Contains("'x'"));
    CHECK_THROWS_AS(parse({"--config", "/nonexistent/monitor.conf"}), CLI::ParseError);
}

TEST_CASE("the example config file in the repository is accepted and holds the defaults",
          "[alarm-config]") {
    const AlarmConfig defaults;
    const AlarmConfig example = load_alarm_config_file(test::tool_path("BRT_MONITOR_CONF_EXAMPLE"));
    CHECK(example.nmc.voltage_max_v.msl == defaults.nmc.voltage_max_v.msl);
    CHECK(example.lfp.current_max_discharge_c_rate.rsl ==
          defaults.lfp.current_max_discharge_c_rate.rsl);
    CHECK(example.temperature_range_min_c == defaults.temperature_range_min_c);
    CHECK(example.sensor_debounce.clear_frames == defaults.sensor_debounce.clear_frames);
    CHECK(example.self_discharge_min_pct_per_h == defaults.self_discharge_min_pct_per_h);
}
