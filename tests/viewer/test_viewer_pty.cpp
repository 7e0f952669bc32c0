// The interactive dashboard driven through a pseudo-terminal, as a person
// would use it: it draws, drills down, comes back, quits, survives the writer
// going away, and always leaves the terminal as it found it.
#include <catch2/catch.hpp>

#include <signal.h>

#include <thread>

#include "support/pty_session.hpp"
#include "support/run_command.hpp"
#include "support/test_segment.hpp"
#include "viewer/test_writer.hpp"

using namespace brt;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kLeaveAlternateScreen = "\x1b[?1049l";
constexpr std::string_view kShowCursor = "\x1b[?25h";

std::vector<std::string> viewer_args(const std::string& segment) {
    return {test::tool_path("BRT_VIEWER"), "--shm-name", segment, "--interval", "0.2"};
}

// Drills from the overview into rack 1, then module 1, checking what is on
// screen at each step, then back out and quits. Returns the offset in the
// output where quitting began.
std::size_t drill_down_and_quit(test::PtySession& pty, int columns) {
    INFO(pty.screen().text());
    REQUIRE(pty.wait_for_screen("Overview: 3 racks"));
    REQUIRE(pty.wait_for_screen("writer"));
    REQUIRE(pty.wait_for_screen(">    0"));  // rack 0 selected
    // Rack 1 is charging: its row shows the mode and its cells' minimum, 8 V.
    CHECK(pty.wait_for_line("charge", "8.000"));

    pty.send("j");  // rack 1
    REQUIRE(pty.wait_for_screen(">    1"));
    pty.send("\r");
    REQUIRE(pty.wait_for_screen("Rack 1: charge, 12.5 A"));
    // Module rows x cell columns: module 0 of rack 1 holds cells 8..11.
    CHECK(pty.wait_for_line(">   0", " 8.000"));
    CHECK(pty.wait_for_line(">   0", "11.000"));

    pty.send("\x1b[B");  // arrow down: module 1
    REQUIRE(pty.wait_for_screen(">   1"));
    pty.send("\r");
    REQUIRE(pty.wait_for_screen("Rack 1 / module 1"));
    // Cells 12..15: voltage = index, current = index + 100, temperature
    // index + 200 (cell 13's is NaN, shown as "-").
    REQUIRE(pty.wait_for_screen("h/l module"));  // the legend: drawn last
    CHECK(pty.wait_for_line(">    0", "12.000"));
    CHECK(pty.wait_for_line(">    0", "112.0"));
    CHECK(pty.wait_for_line(">    0", "212.0"));
    CHECK(pty.wait_for_line("    1  13.000", " - "));
    CHECK(pty.wait_for_line("15.000", "15.000^"));  // highest voltage

    pty.send("\x1b");  // Esc: back to the rack
    REQUIRE(pty.wait_for_screen("Rack 1: charge"));
    pty.send("\x7f");  // Backspace: back to the overview
    REQUIRE(pty.wait_for_screen("Overview: 3 racks"));
    pty.send("m");
    REQUIRE(pty.wait_for_screen("module mean temperature"));
    pty.send("?");
    REQUIRE(pty.wait_for_screen("Help: press any key"));
    pty.send("x");
    REQUIRE(pty.wait_for_screen("Overview: 3 racks"));
    REQUIRE(pty.wait_for_screen("j/k rack"));  // the legend: drawn last
    CHECK_FALSE(pty.screen().overflowed());
    for (const auto& line : pty.screen().lines()) {
        CHECK(line.size() <= static_cast<std::size_t>(columns));
    }
    const std::size_t quit_from = pty.output().size();
    pty.send("q");
    return quit_from;
}

}  // namespace

TEST_CASE("the dashboard drills down and restores the terminal at 80x24", "[viewer][pty]") {
    const Geometry geometry{3, 2, 4};
    test::ScopedSegment scoped("viewer-pty-small", geometry);
    const test::CellIndexFrame values = test::known_frame(geometry);
    test::BackgroundWriter writer(scoped.name(), values);

    test::PtySession pty(viewer_args(scoped.name()), 24, 80, {"NO_COLOR=1", "TERM=xterm"});
    REQUIRE(pty.wait_for_output("\x1b[?1049h", 0));  // alternate screen
    REQUIRE(pty.wait_for_output("\x1b[?25l", 0));    // cursor hidden
    const std::size_t quit_from = drill_down_and_quit(pty, 80);
    REQUIRE(pty.wait_exit() == 0);
    const std::string tail = pty.output().substr(quit_from);
    CHECK_THAT(tail, Catch::Contains(std::string(kLeaveAlternateScreen)));
    CHECK_THAT(tail, Catch::Contains(std::string(kShowCursor)));
    // NO_COLOR: attributes such as reverse video for the selection, but no colour.
    CHECK_THAT(pty.output(), !Catch::Contains("\x1b[48;") && !Catch::Contains(";44m") &&
                                 !Catch::Contains(";41m"));
}

TEST_CASE("the dashboard works at 250x70 in truecolour", "[viewer][pty]") {
    const Geometry geometry{3, 2, 4};
    test::ScopedSegment scoped("viewer-pty-large", geometry);
    const test::CellIndexFrame values = test::known_frame(geometry);
    test::BackgroundWriter writer(scoped.name(), values);

    test::PtySession pty(viewer_args(scoped.name()), 70, 250,
                         {"NO_COLOR", "TERM=xterm-256color", "COLORTERM=truecolor"});
    const std::size_t quit_from = drill_down_and_quit(pty, 250);
    REQUIRE(pty.wait_exit() == 0);
    CHECK_THAT(pty.output(), Catch::Contains("\x1b[30;48;2;") || Catch::Contains("\x1b[97;48;2;"));
    const std::string tail = pty.output().substr(quit_from);
    CHECK_THAT(tail, Catch::Contains(std::string(kLeaveAlternateScreen)));
    CHECK_THAT(tail, Catch::Contains(std::string(kShowCursor)));
}

TEST_CASE("the dashboard follows a resize and degrades to 16 colours", "[viewer][pty]") {
    const Geometry geometry{40, 2, 4};  // more racks than rows: the overview scrolls
    test::ScopedSegment scoped("viewer-pty-resize", geometry);
    const test::CellIndexFrame values = test::known_frame(geometry);
    test::BackgroundWriter writer(scoped.name(), values);

    test::PtySession pty(viewer_args(scoped.name()), 24, 80, {"NO_COLOR", "TERM=xterm"});
    REQUIRE(pty.wait_for_screen("Overview: racks 0-17 of 40"));
    CHECK_THAT(pty.output(), Catch::Contains("\x1b[97;44m") || Catch::Contains("\x1b[30;4"));
    CHECK_THAT(pty.output(), !Catch::Contains("48;2;") && !Catch::Contains("48;5;"));
    pty.send("G");  // last rack: the list scrolls
    REQUIRE(pty.wait_for_screen("Overview: racks 22-39 of 40"));
    REQUIRE(pty.wait_for_screen(">   39"));

    const std::size_t before_resize = pty.output().size();
    pty.resize(70, 250);
    REQUIRE(pty.wait_for_output("\x1b[2J", before_resize));  // a full redraw
    REQUIRE(pty.wait_for_screen("Overview: 40 racks"));
    REQUIRE(pty.wait_for_screen("j/k rack"));  // the legend: drawn last
    INFO(pty.screen().text());
    CHECK(pty.wait_for_screen(">   39"));
    CHECK(pty.wait_for_screen("     0 idle"));
    CHECK_FALSE(pty.screen().overflowed());
    pty.send("q");
    REQUIRE(pty.wait_exit() == 0);
}

TEST_CASE("the dashboard redraws nothing while nothing changes", "[viewer][pty]") {
    const Geometry geometry{3, 2, 4};
    test::ScopedSegment scoped("viewer-pty-still", geometry);
    const test::CellIndexFrame values = test::known_frame(geometry);
    test::BackgroundWriter writer(scoped.name(), values, /*publish=*/false);

    test::PtySession pty(viewer_args(scoped.name()), 24, 80, {"NO_COLOR=1"});
    REQUIRE(pty.wait_for_screen("Overview: 3 racks"));
    REQUIRE(pty.wait_for_screen("live"));
    pty.pump_for(600);  // let the first refreshes settle (the rate meter, the header)
    const std::size_t settled = pty.output().size();
    pty.pump_for(1500);  // at least 7 refreshes at 0.2 s
    CHECK(pty.output().size() == settled);
    // A key that changes one line redraws that line, not the screen.
    pty.send("j");
    REQUIRE(pty.wait_for_screen(">    1"));
    pty.pump_for(300);
    const std::string redraw = pty.output().substr(settled);
    CHECK_THAT(redraw, !Catch::Contains("\x1b[2J"));
    pty.send("q");
    REQUIRE(pty.wait_exit() == 0);
}

TEST_CASE("SIGTERM ends the dashboard with the terminal restored", "[viewer][pty]") {
    const Geometry geometry{3, 2, 4};
    test::ScopedSegment scoped("viewer-pty-term", geometry);
    const test::CellIndexFrame values = test::known_frame(geometry);
    test::BackgroundWriter writer(scoped.name(), values);

    for (int signal_number : {SIGTERM, SIGINT}) {
        test::PtySession pty(viewer_args(scoped.name()), 24, 80, {"NO_COLOR=1"});
        REQUIRE(pty.wait_for_screen("Overview: 3 racks"));
        const std::size_t before = pty.output().size();
        kill(pty.pid(), signal_number);
        CHECK(pty.wait_exit() == 0);
        const std::string tail = pty.output().substr(before);
        CHECK_THAT(tail, Catch::Contains(std::string(kLeaveAlternateScreen)));
        CHECK_THAT(tail, Catch::Contains(std::string(kShowCursor)));
    }
}

TEST_CASE("the dashboard survives the simulator being killed and restarted", "[viewer][pty]") {
    test::ScopedSegment scoped("viewer-pty-restart", Geometry{2, 2, 4});
    const std::string log = "/tmp/" + test::unique_segment_name("viewer-sim") + ".log";
    const std::string simulator = test::tool_path("BRT_SIMULATOR");
    test::KillOnExit guard;
    const pid_t first = test::spawn_background({simulator, "--shm-name", scoped.name()}, log);
    guard.pids.push_back(first);

    test::PtySession pty(viewer_args(scoped.name()), 24, 80, {"NO_COLOR=1"});
    REQUIRE(pty.wait_for_screen("Overview: 2 racks"));
    REQUIRE(pty.wait_for_screen(std::to_string(first) + " live"));

    kill(first, SIGKILL);  // a crash: the state still says running, the lock is free
    REQUIRE(pty.wait_for_screen("not responding"));
    CHECK_THAT(pty.screen().text(), Catch::Contains("stale"));

    const pid_t second = test::spawn_background({simulator, "--shm-name", scoped.name()}, log);
    guard.pids.push_back(second);
    REQUIRE(pty.wait_for_screen("writer restarted (pid " + std::to_string(second) + ")"));
    REQUIRE(pty.wait_for_screen(std::to_string(second) + " live"));

    kill(second, SIGTERM);  // a clean stop says so
    REQUIRE(pty.wait_for_screen("stopped: showing its last frame"));
    CHECK(test::wait_for_exit(second, 20000) == 0);
    pty.send("q");
    CHECK(pty.wait_exit() == 0);
    unlink(log.c_str());
}
