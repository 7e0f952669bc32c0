// `?`: the keys and what the overview's columns mean.
#include <array>
#include <string_view>

#include "viewer/render.hpp"
#include "viewer/styled_line.hpp"

namespace brt::viewer::detail {

namespace {

constexpr std::array<std::string_view, 26> kHelp = {
    "Keys",
    "  Up/Down, k/j      select a rack, module or cell",
    "  Left/Right, h/l   select a cell (rack view), the previous/next module (module view)",
    "  PgUp/PgDn, Space  a page up/down;  Home/End, g/G  first/last",
    "  Enter             open the selected rack, then the selected module",
    "  Esc, Backspace    back to the rack, then to the overview",
    "  m                 colour by the next metric: voltage, temperature, SoC, SoH, resistance",
    "  a                 the alarm list of brt-anomaly-monitor, and back (a or Esc)",
    "    in it: Enter acknowledge the selected alarm, A acknowledge all, s shelve it for an",
    "    hour, u unshelve it, S show the consequences suppressed under their first-out",
    "  ?                 this help (any key closes it);  Ctrl-L  redraw;  q  quit",
    "",
    "Overview columns",
    "  Amps: rack string current, discharge positive.  Cell volts: min, mean, max of the rack's",
    "  cells.  Sprd: max - min cell voltage in mV.  Temp, SoC, SoH: over the rack's cells.",
    "  Cells with: counts from the cells' status words: Flt sensor fault (voltage, temperature,",
    "  current sensor, dropout, open wire, stuck, drift), Run thermal runaway, Vent venting,",
    "  Bal passive balancing on.  These are states reported by the writer, not alarm rules.",
    "  Modules: each module's mean of the chosen metric; the scale spans every rack's modules "
    "(legend",
    "  on the last line, low on the left, high on the right; without colour: . : - = + * # % @).",
    "",
    "Header: segment; the alarms (ALARMS 2C 1W 0I: active ones by severity, critical,",
    "  warning, info; N unack: not acknowledged; or \"no alarms\"); the writer's pid and state "
    "(live, stale, stopped, no writer, no segment);",
    "  the publish rate seen, simulated time, frame number and the geometry.",
};

}  // namespace

void render_help(const RenderInput& input, std::vector<std::string>& lines) {
    render_header(input, "Help: press any key to return", lines);
    for (std::string_view text : kHelp) {
        StyledLine line(input.size.columns);
        line.styled(!text.empty() && text[0] != ' ' ? kBold : "", text);
        lines.push_back(line.take());
    }
}

}  // namespace brt::viewer::detail
