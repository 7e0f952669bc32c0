// The dashboard's parts on their own: key decoding, the screen diff, the
// colour scale and the renderer's widths.
#include <catch2/catch.hpp>

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
        for (const View view : {View::overview, View::rack, View::module}) {
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
            if (size.rows >= 24) {
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
