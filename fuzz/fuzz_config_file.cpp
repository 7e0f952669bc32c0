// A --config file of arbitrary text, read by the strict reader every tool
// uses (common/config) through CLI11, for an app with options of each kind
// and the alarm limits' [nmc] and [lfp] sections (the monitor's and the
// bridge's). Every input must parse or be refused with the CLI11 or usage
// error run_tool turns into exit 2.
#include <cstdio>
#include <fstream>

#include <CLI/CLI.hpp>

#include "common/alarm/alarm_config_cli.hpp"
#include "common/cli/cli_common.hpp"
#include "common/segment/errors.hpp"
#include "fuzz/fuzz_support.hpp"

namespace {

const std::string& config_path() {
    static const std::string path = [] {
        std::string file = "/tmp/" + brt::fuzz::scratch_name("config") + ".conf";
        std::atexit([] { std::remove(config_path().c_str()); });
        return file;
    }();
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    {
        std::ofstream file(config_path(), std::ios::binary | std::ios::trunc);
        file.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    CLI::App app{"fuzz"};
    std::string shm_name;
    brt::add_common_options(app, shm_name);
    brt::AlarmConfigOptions alarm_options(app);
    double rate_hz = 10;
    std::int64_t racks = 20;
    bool max_speed = false;
    std::vector<std::string> scenarios;
    std::string format = "text";
    app.add_option("--rate", rate_hz)->check(CLI::Range(0.1, 10000.0));
    app.add_option("--racks", racks);
    app.add_flag("--max-speed", max_speed);
    app.add_option("--scenario", scenarios);
    app.add_option("--format", format)->check(CLI::IsMember({"text", "json"}));
    const std::string config_argument = "--config=" + config_path();
    const char* argv[] = {"fuzz", config_argument.c_str()};
    try {
        app.parse(2, argv);
        (void)alarm_options.config();
    } catch (const CLI::Error&) {
    } catch (const brt::UsageError&) {
    }
    return 0;
}
