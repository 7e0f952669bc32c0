// Snapshot -> screen lines. Pure functions of the snapshot, the view state and
// the terminal size (no I/O), so tests and the benchmark can call them. Each
// line is at most `size.columns` visible columns wide; there are exactly
// `size.rows` lines.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/alarm/alarm_list.hpp"
#include "viewer/color_scale.hpp"
#include "viewer/metric.hpp"
#include "viewer/snapshot.hpp"
#include "viewer/terminal.hpp"
#include "viewer/tile_painter.hpp"

namespace brt::viewer {

enum class View { overview, rack, module, alarms };

// Where the user is; the renderers clamp the selection to the geometry and
// move the scroll offsets so that the selection stays on screen.
struct ViewState {
    View view = View::overview;
    bool help = false;
    Metric metric = Metric::voltage;
    std::uint32_t rack = 0;         // selected rack
    std::uint32_t module = 0;       // selected module of that rack
    std::uint32_t cell = 0;         // selected cell of that module
    std::int64_t first_row = 0;     // overview: first rack shown; module view: first cell
    std::int64_t first_module = 0;  // rack view: first module row shown
    std::int64_t first_cell = 0;    // rack view: first cell column shown
    // The alarm view (`a`): where it was opened from, the selected line.
    View before_alarms = View::overview;
    std::uint32_t alarm = 0;
    std::int64_t first_alarm = 0;
    bool show_suppressed = false;
};

struct RenderInput {
    const Snapshot& snapshot;
    const ColorScale& scale;
    TerminalSize size;
    std::string message;  // writer news for the second line; empty for none
    bool message_alert = false;
    // The monitor's alarm list (alarm_list.hpp); null: not shown (batch
    // output, tests of the other views).
    const AlarmList* alarms = nullptr;
    // Colours by state (alarms, fixed scales) or by the frame's range.
    ColorMode color_mode = ColorMode::state;
};

// The alarms the alarm view lists, in its order: the list, without the
// suppressed ones unless asked for.
std::vector<const BoardAlarm*> listed_alarms(const AlarmList& list, bool show_suppressed);

std::vector<std::string> render(ViewState& state, const RenderInput& input);

// The parts, exposed for the renderers' own files.
namespace detail {
// Lines 0 and 1: segment, geometry, writer, rates, simulated time; then the
// view's title or the writer message.
void render_header(const RenderInput& input, const std::string& title,
                   std::vector<std::string>& lines);
// The last two lines (after cutting `lines` to fit): what the colours mean
// (the alarm severities by state; the scale of `range` for `field`), then
// the view's keys.
void push_legend(const RenderInput& input, Field field, const ScaleRange& range,
                 std::string_view keys, std::vector<std::string>& lines);
void render_overview(ViewState& state, const RenderInput& input, std::vector<std::string>& lines);
void render_rack(ViewState& state, const RenderInput& input, std::vector<std::string>& lines);
void render_module(ViewState& state, const RenderInput& input, std::vector<std::string>& lines);
void render_help(const RenderInput& input, std::vector<std::string>& lines);
void render_alarms(ViewState& state, const RenderInput& input, std::vector<std::string>& lines);

// "1d 02:03:04.5" / "02:03:04.5"
std::string format_sim_time(std::uint64_t sim_time_ns);
// Keeps `selected` inside [first, first + visible) by moving `first`.
void keep_visible(std::int64_t selected, std::int64_t visible, std::int64_t count,
                  std::int64_t& first);
}  // namespace detail

}  // namespace brt::viewer
