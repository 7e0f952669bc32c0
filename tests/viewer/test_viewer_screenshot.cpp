// What an operator sees during a thermal runaway, in colour, on a real
// pipeline (simulator, anomaly monitor, viewer in a pseudo-terminal): one
// rack's module in the critical colour, the header counting the alarm, the
// others calm grey. The screens are also the pictures in docs/viewer.md:
// the test saves what the viewer wrote (.ansi) next to the test binary, and
// tests/viewer/ansi_screenshot.py renders them (.html, and .png where
// Chromium is installed; without it the test passes and says so).
//
//   meson test -C build viewer_screenshot
//   cp build/tests/viewer/viewer-overview.png docs/images/viewer.png
//   cp build/tests/viewer/viewer-alarms.png docs/images/viewer-alarms.png
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "anomaly_monitor/monitor_harness.hpp"
#include "support/pty_session.hpp"

using namespace brt;

namespace {

constexpr int kRows = 16;
constexpr int kColumns = 150;
constexpr std::string_view kCritical = "\x1b[1;37;41m";  // white on red (tile_painter.cpp)

// Saves the viewer's output as `<name>.ansi` in BRT_VIEWER_ARTIFACT_DIR and
// renders it, when the build says where (tests/viewer/meson.build).
void save_screen(const std::string& output, const std::string& name) {
    const char* dir = std::getenv("BRT_VIEWER_ARTIFACT_DIR");
    if (dir == nullptr) {
        WARN("BRT_VIEWER_ARTIFACT_DIR is not set: the screen is not saved");
        return;
    }
    const std::string base = std::string(dir) + "/" + name;
    std::ofstream(base + ".ansi", std::ios::binary) << output;
    const char* python = std::getenv("BRT_PYTHON");
    const char* script = std::getenv("BRT_ANSI_SCREENSHOT_PY");
    if (python == nullptr || script == nullptr) {
        WARN("no python3: " << base << ".ansi is not rendered");
        return;
    }
    const auto rendered = test::run_command(
        {python, script, base + ".ansi", "--rows", std::to_string(kRows), "--columns",
         std::to_string(kColumns), "--html", base + ".html", "--png", base + ".png"});
    // The picture is a by-product: no Chromium, or one that cannot run
    // here, is not the viewer's failure.
    if (rendered.exit_code == 77 || rendered.exit_code == 3) {
        WARN("no PNG, " << base << ".html written: " << rendered.err);
        return;
    }
    INFO(rendered.out << rendered.err);
    CHECK(rendered.exit_code == 0);
}

// The rows on screen as last drawn, with their escape sequences: the viewer
// draws a row as ESC[<row>;1H <text> ESC[0m ESC[K (viewer/screen.cpp).
std::vector<std::string> styled_rows(const std::string& output) {
    std::vector<std::string> rows(kRows);
    for (int row = 0; row < kRows; ++row) {
        const std::string start = "\x1b[" + std::to_string(row + 1) + ";1H";
        const std::size_t at = output.rfind(start);
        const std::size_t clear_from = output.rfind("\x1b[2J");
        if (at == std::string::npos || (clear_from != std::string::npos && at < clear_from)) {
            continue;  // blank since the last clear
        }
        const std::size_t from = at + start.size();
        rows[row] = output.substr(from, output.find("\x1b[K", from) - from);
    }
    return rows;
}

std::string plain(const std::string& styled) {
    std::string text;
    for (std::size_t i = 0; i < styled.size(); ++i) {
        if (styled[i] == '\x1b') {
            i = styled.find_first_of("mK", i);
            continue;
        }
        text += styled[i];
    }
    return text;
}

// The overview's row of `rack`, with its styles: "> " or "  " then the
// rack number right-aligned.
std::string rack_row(const std::vector<std::string>& rows, int rack) {
    for (const auto& row : rows) {
        std::istringstream words(plain(row));
        std::string first;
        words >> first;
        if (first == ">") {
            words >> first;
        }
        if (first == std::to_string(rack)) {
            return row;
        }
    }
    return {};
}

}  // namespace

TEST_CASE("thermal runaway: the rack's module turns critical red, the header counts it",
          "[viewer-pty][alarms][screenshot]") {
    test::MonitorRun run("viewer-shot", Geometry{8, 8, 16});
    run.start_monitor({"--startup-grace", "5"});  // the simulator starts next
    test::KillOnExit simulator;
    simulator.pids.push_back(test::spawn_background(
        {test::tool_path("BRT_SIMULATOR"), "--shm-name", run.name(), "--threads", "1", "--speed",
         "100", "--rate", "1000", "--duration", "30000", "--mode", "idle", "--scenario",
         "thermal_runaway:rack=2,module=5,cell=7"},
        run.log_path() + ".sim"));
    REQUIRE(run.wait_for_log("\"rule\":\"thermal_runaway\""));

    test::PtySession pty(
        {test::tool_path("BRT_VIEWER"), "--shm-name", run.name(), "--interval", "0.2"}, kRows,
        kColumns, {"NO_COLOR", "TERM=xterm-256color", "COLORTERM=truecolor"});
    REQUIRE(pty.wait_for_screen("Overview: 8 racks"));
    REQUIRE(pty.wait_for_line("ALARMS", "C "));  // a critical count in the header
    REQUIRE(pty.wait_for_screen("j/k rack"));    // the keys line: drawn last
    pty.pump_for(1000);
    INFO(pty.screen().text());
    // The runaway's rack is marked, the racks far from it are not: only
    // rack 2's row carries the critical colour (its module's tile).
    const std::string overview = pty.output();
    const std::vector<std::string> rows = styled_rows(overview);
    REQUIRE_FALSE(rack_row(rows, 2).empty());
    CHECK_THAT(rack_row(rows, 2), Catch::Contains(std::string(kCritical)));
    for (int calm : {0, 5, 6, 7}) {
        INFO("rack " << calm);
        REQUIRE_FALSE(rack_row(rows, calm).empty());
        CHECK_THAT(rack_row(rows, calm), !Catch::Contains(std::string(kCritical)));
    }
    CHECK_FALSE(pty.screen().overflowed());
    save_screen(overview, "viewer-overview");

    pty.send("a");
    REQUIRE(pty.wait_for_screen("thermal_runaway"));
    CHECK(pty.wait_for_line("thermal_runaway", "r2 m5"));
    pty.pump_for(1000);
    save_screen(pty.output(), "viewer-alarms");

    pty.send("q");
    CHECK(pty.wait_exit() == 0);

    // Without colour (NO_COLOR) the same place is the letter C, the calm
    // racks show none, and no colour code is sent at all.
    test::PtySession plain(
        {test::tool_path("BRT_VIEWER"), "--shm-name", run.name(), "--interval", "0.2"}, kRows,
        kColumns, {"NO_COLOR=1", "TERM=xterm-256color", "COLORTERM=truecolor"});
    REQUIRE(plain.wait_for_screen("j/k rack"));
    plain.pump_for(500);
    INFO(plain.screen().text());
    auto row_of = [&](const std::string& start) {
        for (const std::string& line : plain.screen().lines()) {
            const std::size_t first = line.find_first_not_of(" >");
            if (first != std::string::npos && line.compare(first, start.size(), start) == 0) {
                return line;
            }
        }
        return std::string();
    };
    CHECK_THAT(row_of("2 idle"), Catch::Contains("C"));
    CHECK_THAT(row_of("6 idle"), !Catch::Contains("C"));
    CHECK_FALSE(row_of("6 idle").empty());
    // Every SGR sequence (ESC [ params m): bold, reverse and reset only.
    const std::string sent = plain.output();
    std::size_t colour_codes = 0;
    for (std::size_t at = sent.find("\x1b["); at != std::string::npos;
         at = sent.find("\x1b[", at + 2)) {
        const std::size_t end = sent.find_first_of("ABCDEFGHJKSTfhlmsu", at + 2);
        if (end == std::string::npos || sent[end] != 'm') {
            continue;
        }
        std::string params = sent.substr(at + 2, end - at - 2);
        for (std::size_t from = 0; from <= params.size();) {
            const std::size_t to = std::min(params.find(';', from), params.size());
            const int code = to > from ? std::atoi(params.substr(from, to - from).c_str()) : 0;
            colour_codes += (code >= 30 && code <= 49) || (code >= 90 && code <= 107) ? 1 : 0;
            from = to + 1;
        }
    }
    CHECK(colour_codes == 0);
    plain.send("q");
    CHECK(plain.wait_exit() == 0);
    CHECK(run.stop_monitor() == 0);
    unlink((run.log_path() + ".sim").c_str());
}
