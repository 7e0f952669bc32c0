// The dashboard's parts on their own: key decoding, the screen diff, the
// colour scale and the renderer's widths.
#include <catch2/catch.hpp>

#include "common/control/rack_mode.hpp"
#include "support/test_frames.hpp"
#include "viewer/color_scale.hpp"
#include "viewer/input.hpp"
#include "viewer/render.hpp"
#include "viewer/screen.hpp"
#include "viewer/test_writer.hpp"

using namespace brt;
using namespace brt::viewer;

TEST_CASE("keys: arrows, vi keys, Enter, Esc, Backspace, split sequences", "[viewer-units]") {
    KeyDecoder decoder;
    CHECK(decoder.feed("jk\x1b[A\x1b[B\x1bOC\x1b[D\r\x7fm?q") ==
          std::vector<Key>{Key::down, Key::up, Key::up, Key::down, Key::right, Key::left,
                           Key::enter, Key::backspace, Key::cycle_metric, Key::help, Key::quit});
    // An arrow split across two reads.
    CHECK(decoder.feed("\x1b[").empty());
    CHECK(decoder.pending());
    CHECK(decoder.feed("5~") == std::vector<Key>{Key::page_up});
    // A lone ESC is the Esc key only once nothing follows.
    CHECK(decoder.feed("\x1b").empty());
    CHECK(decoder.flush() == std::vector<Key>{Key::escape});
    CHECK_FALSE(decoder.pending());
    // Unknown sequences (F5) are swallowed whole, as one other key.
    CHECK(decoder.feed("\x1b[15~jx") == std::vector<Key>{Key::other, Key::down, Key::other});
}

TEST_CASE("screen: only changed lines are written", "[viewer-units]") {
    Screen screen;
    const std::vector<std::string> first = {"alpha", "beta", "gamma"};
    const std::string full = screen.update(first, 3);
    CHECK_THAT(full, Catch::Contains("\x1b[2J"));
    CHECK(screen.lines_written() == 3);
    CHECK(screen.update(first, 3).empty());
    const std::string one = screen.update({"alpha", "BETA", "gamma"}, 3);
    CHECK(screen.lines_written() == 1);
    CHECK_THAT(one, Catch::Contains("\x1b[2;1HBETA"));
    CHECK_THAT(one, !Catch::Contains("alpha") && !Catch::Contains("\x1b[2J"));
    screen.invalidate();
    CHECK_THAT(screen.update({"alpha", "BETA", "gamma"}, 3), Catch::Contains("\x1b[2J"));
}

TEST_CASE("colour scale: depths, ends and NaN", "[viewer-units]") {
    CHECK(detect_color_depth("truecolor", "xterm") == ColorDepth::truecolor);
    CHECK(detect_color_depth(nullptr, "xterm-256color") == ColorDepth::ansi256);
    CHECK(detect_color_depth("", "linux") == ColorDepth::ansi16);
    const ColorScale truecolor(ColorDepth::truecolor);
    CHECK_THAT(truecolor.style(0.0), Catch::Contains("48;2;"));
    CHECK(truecolor.style(0.0) != truecolor.style(1.0));
    CHECK_THAT(ColorScale(ColorDepth::ansi256).style(1.0), Catch::Contains("48;5;"));
    CHECK_THAT(ColorScale(ColorDepth::ansi16).style(0.0), Catch::Contains("44m"));  // blue
    CHECK_THAT(ColorScale(ColorDepth::ansi16).style(1.0), Catch::Contains("41m"));  // red
    const ColorScale none(ColorDepth::none);
    CHECK(none.style(0.5).empty());
    CHECK(none.shade(0.0) == '.');
    CHECK(none.shade(1.0) == '@');
    CHECK(none.shade(NAN) == '?');
    ScaleRange range;
    CHECK(range.empty());
    range.include(3.0);
    range.include(NAN);
    CHECK(range.normalize(3.0) == 0.5);  // one value: the middle
    range.include(4.0);
    CHECK(range.normalize(3.5) == Approx(0.5));
    CHECK(range.normalize(5.0) == 1.0);
}

TEST_CASE("every view fits the terminal, from 20x8 to 300x100", "[viewer-units]") {
    const Geometry geometry{50, 12, 40};
    const test::CellIndexFrame values = test::known_frame(geometry);
    Snapshot snapshot;
    snapshot.segment_name = "units";
    snapshot.geometry = geometry;
    snapshot.writer.liveness = Liveness::live;
    snapshot.writer.pid = 1234;
    snapshot.has_frame = true;
    FrameBuffer& frame = snapshot.frame;
    frame.range = whole_frame(geometry);
    frame.frame_number = 7;
    for (std::uint32_t f = 0; f < 6; ++f) {
        frame.columns[f] = values.columns[f];
    }
    frame.status = values.status;
    frame.racks = values.racks;
    snapshot.modules = summarize_modules(frame, geometry);
    snapshot.racks = summarize_racks(summarize_modules(frame, geometry), geometry);

    const ColorScale scale(ColorDepth::truecolor);
    for (const TerminalSize size : {TerminalSize{8, 20}, TerminalSize{24, 80},
                                    TerminalSize{70, 250}, TerminalSize{100, 300}}) {
        for (const View view : {View::overview, View::rack, View::module, View::alarms}) {
            ViewState state;
            state.view = view;
            state.rack = 49;
            state.module = 11;
            state.cell = 39;
            state.help = false;
            const auto lines = render(state, RenderInput{snapshot, scale, size, "news", true});
            REQUIRE(lines.size() == static_cast<std::size_t>(size.rows));
            // Drop the escape sequences and count what is left.
            for (const auto& line : lines) {
                std::size_t visible = 0;
                for (std::size_t i = 0; i < line.size(); ++i) {
                    if (line[i] == '\x1b') {
                        while (i < line.size() && line[i] != 'm') {
                            ++i;
                        }
                        continue;
                    }
                    ++visible;
                }
                CHECK(visible <= static_cast<std::size_t>(size.columns));
            }
            // The selection is scrolled into view.
            const std::string text = [&] {
                std::string all;
                for (const auto& line : lines) {
                    all += line + "\n";
                }
                return all;
            }();
            if (size.rows >= 24 && view != View::alarms) {
                CHECK_THAT(text, Catch::Contains(view == View::overview ? ">   49"
                                                 : view == View::rack   ? ">  11"
                                                                        : ">   39"));
            }
        }
    }
}

TEST_CASE("publish rate: frames per second seen, zero once frames stop", "[viewer-units]") {
    RateMeter rate;
    const std::uint64_t t0 = 1'000'000'000'000;
    CHECK(std::isnan(rate.frames_per_second(t0)));
    // Every 5th frame of a 10 Hz writer, as a viewer refreshing at 2 Hz sees it.
    for (std::uint64_t frame = 1; frame <= 41; frame += 5) {
        rate.add(frame, t0 + (frame - 1) * 100'000'000);
    }
    CHECK(rate.frames_per_second(t0 + 4'000'000'000) == Approx(10.0));
    CHECK(rate.frames_per_second(t0 + 10'000'000'000) == 0.0);  // nothing for > 5 s
    rate.add(3, t0 + 11'000'000'000);  // a restarted writer counts from 1 again
    rate.add(13, t0 + 12'000'000'000);
    CHECK(rate.frames_per_second(t0 + 12'000'000'000) == Approx(10.0));
}

namespace {

// A 3 x 2 x 4 segment of NMC cells at 3.7 V and 25 °C.
Snapshot healthy_snapshot() {
    const Geometry geometry{3, 2, 4};
    const test::CellIndexFrame values = test::known_frame(geometry);
    Snapshot snapshot;
    snapshot.segment_name = "state";
    snapshot.geometry = geometry;
    snapshot.rack_chemistry.assign(geometry.racks, Chemistry::nmc);
    snapshot.writer.liveness = Liveness::live;
    snapshot.has_frame = true;
    FrameBuffer& frame = snapshot.frame;
    frame.range = whole_frame(geometry);
    for (std::uint32_t f = 0; f < 6; ++f) {
        frame.columns[f] = values.columns[f];
    }
    for (float& v : frame.columns[0]) {
        v = 3.7f;
    }
    for (float& t : frame.columns[2]) {
        t = 25.0f;
    }
    frame.status = values.status;
    frame.racks = values.racks;
    snapshot.modules = summarize_modules(frame, geometry);
    snapshot.racks = summarize_racks(snapshot.modules, geometry);
    return snapshot;
}

// The line without its escape sequences.
std::string plain(const std::string& line) {
    std::string text;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\x1b') {
            while (i < line.size() && line[i] != 'm') {
                ++i;
            }
            continue;
        }
        text += line[i];
    }
    return text;
}

// The overview's line of a rack: its visible text starts with the label.
std::string overview_row(const std::vector<std::string>& lines, const std::string& label) {
    for (const std::string& line : lines) {
        if (plain(line).rfind(label, 0) == 0) {
            return line;
        }
    }
    return {};
}

}  // namespace

TEST_CASE("colour by state: an alarm's place in its severity's colour, the rest calm grey",
          "[viewer-units]") {
    const Snapshot snapshot = healthy_snapshot();
    AlarmList alarms;
    alarms.monitor_running = true;
    BoardAlarm critical;
    critical.id = 4;
    critical.rule = Rule::thermal_runaway;
    critical.severity = Severity::critical;
    critical.location = AlarmLocation{1, 0, 2};
    alarms.alarms.push_back(critical);
    const TerminalSize size{24, 80};

    SECTION("with colour") {
        const ColorScale scale(ColorDepth::truecolor);
        ViewState state;
        RenderInput input{snapshot, scale, size, "", false, &alarms};
        const auto lines = render(state, input);
        const std::string red = "\x1b[1;37;41m";
        // Rack 1 (its label and its module 0) is red; racks 0 and 2 have no
        // colour but grey: 3.7 V is normal, however the cells differ.
        CHECK_THAT(overview_row(lines, "     1"), Catch::Contains(red));
        for (const char* calm : {">    0", "     2"}) {
            const std::string row = overview_row(lines, calm);
            REQUIRE_FALSE(row.empty());
            CHECK_THAT(
                row, !Catch::Contains(red) && !Catch::Contains("43m") && Catch::Contains("48;2;"));
            // Every background of a healthy rack is a grey (r = g = b).
            int backgrounds = 0;
            for (auto at = row.find("48;2;"); at != std::string::npos;
                 at = row.find("48;2;", at + 1)) {
                int r = 0, g = 0, b = 0;
                std::sscanf(row.c_str() + at + 5, "%d;%d;%d", &r, &g, &b);
                CHECK(r == g);
                CHECK(g == b);
                ++backgrounds;
            }
            CHECK(backgrounds >= 2);
        }
        // The legend says what the colours mean.
        CHECK_THAT(lines[lines.size() - 2], Catch::Contains("crit") && Catch::Contains("warn") &&
                                                Catch::Contains("normal: voltage V 2.800"));

        // In the rack, only the cell with the alarm is red.
        state.view = View::rack;
        state.rack = 1;
        const auto rack_lines = render(state, input);
        std::size_t red_cells = 0;
        // The module rows: after the header and the heading, before the legend.
        for (std::size_t row = 3; row + 2 < rack_lines.size(); ++row) {
            const std::string& line = rack_lines[row];
            for (std::size_t at = line.find(red); at != std::string::npos;
                 at = line.find(red, at + 1)) {
                ++red_cells;
            }
        }
        CHECK(red_cells == 2);  // a cell is a coloured gap and its coloured value

        // --scale range: the frame's range on the blue-to-red scale, no alarm colours.
        input.color_mode = ColorMode::range;
        state.view = View::overview;
        CHECK_THAT(overview_row(render(state, input), "     1"), !Catch::Contains(red));
    }
    SECTION("without colour: the severity's letter") {
        const ColorScale scale(ColorDepth::none);
        ViewState state;
        const auto lines = render(state, RenderInput{snapshot, scale, size, "", false, &alarms});
        CHECK_THAT(overview_row(lines, "     1"), Catch::Contains("CCC"));
        CHECK_THAT(overview_row(lines, ">    0"), !Catch::Contains("CCC"));
        for (const std::string& line : lines) {
            // No colour at all: at most bold and reverse video.
            CHECK(line.find("48;") == std::string::npos);
            CHECK(line.find("41m") == std::string::npos);
        }
    }
}

TEST_CASE(
    "the overview shows each rack's protection, HVAC and air; the module view marks only "
    "extremes that differ as printed",
    "[viewer-units]") {
    Snapshot snapshot = healthy_snapshot();
    snapshot.frame.racks[1].flags = rack_flags::discharge_cutoff;
    snapshot.frame.racks[2].flags = rack_flags::hvac_on;
    snapshot.frame.racks[2].air_temperature_c = 31.5f;
    snapshot.frame.ambient_temperature_c = 38.0f;
    const ColorScale scale(ColorDepth::none);
    ViewState state;
    const auto lines =
        render(state, RenderInput{snapshot, scale, TerminalSize{24, 220}, "", false});
    CHECK_THAT(lines[1], Catch::Contains("ambient 38.0 C"));
    CHECK_THAT(plain(overview_row(lines, "     1")), Catch::Contains("cutoff"));
    CHECK_THAT(plain(overview_row(lines, "     2")),
               Catch::Contains("  on") && Catch::Contains("31.5"));
    CHECK_THAT(plain(overview_row(lines, ">    0")), Catch::Contains(" off"));

    // Every cell at 25.0 °C and 3.700 V: no ^ or v in those columns.
    state.view = View::module;
    const auto module =
        render(state, RenderInput{snapshot, scale, TerminalSize{24, 120}, "", false});
    for (const std::string& line : module) {
        CHECK_THAT(line, !Catch::Contains("25.0^") && !Catch::Contains("25.0v") &&
                             !Catch::Contains("3.700^") && !Catch::Contains("3.700v"));
    }
}
