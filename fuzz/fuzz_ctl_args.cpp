// `ctl` arguments from anyone who can run the tools: the input is the words
// after `brt-simulator ctl` (first byte even) or `brt-anomaly-monitor ctl`
// (odd), separated by NUL bytes. They are parsed by CLI11 with the tools'
// own ctl options and then run as the tools run them, catching what run_tool
// catches: the simulator's against a missing segment (the checks before
// opening it) and, posting without waiting (--timeout 0), against a real
// scratch segment (the checks against its geometry, then the ring); the
// monitor's against a missing alarm segment.
#include <CLI/CLI.hpp>

#include "anomaly_monitor/ctl.hpp"
#include "common/cli/cli_common.hpp"
#include "common/segment/command_ring.hpp"
#include "common/segment/errors.hpp"
#include "fuzz/fuzz_support.hpp"
#include "simulator/ctl.hpp"

namespace {

struct Setup {
    std::string name = brt::fuzz::scratch_name("ctl");
    std::string missing = brt::fuzz::scratch_name("ctl_missing");
    brt::MappedSegment segment;
    Setup() {
        brt::fuzz::silence_stdout();
        brt::fuzz::create_scratch_segment(name);
        segment = brt::open_segment(name, brt::SegmentAccess::writer);
    }
};

Setup& setup() {
    static Setup instance;
    return instance;
}

// As run_tool: usage and runtime errors are answers, not crashes.
template <typename Body>
void as_run_tool(Body&& body) {
    try {
        body();
    } catch (const CLI::Error&) {
    } catch (const std::exception&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace brt;
    if (size == 0) {
        return 0;
    }
    Setup& s = setup();
    const bool simulator = data[0] % 2 == 0;
    std::vector<std::string> words = fuzz::split_input(data + 1, size - 1, '\0');
    if (words.size() > 64) {
        return 0;
    }
    words.insert(words.begin(), "ctl");
    words.insert(words.begin(), simulator ? "brt-simulator" : "brt-anomaly-monitor");
    std::vector<const char*> argv;
    for (const std::string& word : words) {
        argv.push_back(word.c_str());
    }

    CLI::App app{"fuzz"};
    std::string shm_name;
    add_common_options(app, shm_name);
    if (simulator) {
        CtlOptions options;
        CLI::App* ctl = add_ctl_subcommand(app, options);
        bool parsed = false;
        as_run_tool([&] {
            app.parse(static_cast<int>(argv.size()), argv.data());
            parsed = ctl->parsed();
        });
        if (!parsed) {
            return 0;
        }
        as_run_tool([&] { run_ctl(s.missing, options); });
        options.timeout_s = 0;  // never wait for a simulator that is not there
        as_run_tool([&] { run_ctl(s.name, options); });
        CommandRing ring(s.segment);
        while (const auto received = ring.try_consume()) {
            ring.complete(received->position, CommandStatus::applied);
        }
    } else {
        MonitorCtlOptions options;
        CLI::App* ctl = add_monitor_ctl(app, options);
        bool parsed = false;
        as_run_tool([&] {
            app.parse(static_cast<int>(argv.size()), argv.data());
            parsed = ctl->parsed();
        });
        if (parsed) {
            as_run_tool([&] { run_monitor_ctl(s.missing, options); });
        }
    }
    return 0;
}
