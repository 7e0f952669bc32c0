// The module view: a table of the module's cells with every quantity and the
// status flags; each column's lowest and highest cell are marked (v and ^,
// and coloured where colour is on); the chosen metric's column is shaded.
#include <fmt/format.h>

#include <algorithm>

#include "common/segment/segment_layout.hpp"
#include "viewer/render.hpp"
#include "viewer/status_flags.hpp"
#include "viewer/styled_line.hpp"

namespace brt::viewer::detail {

namespace {

constexpr int kLabelWidth = 6;

struct TableColumn {
    Field field;
    std::string_view heading;
    int width;  // the value; a marker column follows
};

constexpr TableColumn kColumns[] = {
    {Field::voltage_v, "Volt V", 7},      {Field::current_a, "Curr A", 7},
    {Field::temperature_c, "Temp C", 7},  {Field::soc, "SoC %", 6},
    {Field::resistance_ohm, "R mOhm", 7}, {Field::soh, "SoH %", 6},
};

}  // namespace

void render_module(ViewState& state, const RenderInput& input, std::vector<std::string>& lines) {
    const Snapshot& snap = input.snapshot;
    const Geometry& g = snap.geometry;
    const int width = input.size.columns;
    const Field metric = metric_field(state.metric);
    const std::int64_t index = snap.module_index(state.rack, state.module);

    render_header(
        input,
        fmt::format("Rack {} / module {}: {} cells; v lowest, ^ highest; shaded: {}", state.rack,
                    state.module, g.cells_per_module, metric_name(state.metric)),
        lines);
    ScaleRange range;
    if (index >= 0) {
        range.include(snap.modules[index].field(metric).min);
        range.include(snap.modules[index].field(metric).max);
    }
    const TilePainter painter(input.color_mode, input.scale, snap, input.alarms, metric, range);
    if (index < 0) {
        lines.push_back(StyledLine(width).text("  (reading the module...)").take());
    } else {
        const GroupSummary& summary = snap.modules[index];

        StyledLine heading(width);
        heading.text(fmt::format("{:>{}}", "Cell", kLabelWidth));
        for (const TableColumn& column : kColumns) {
            heading.text(fmt::format(" {:>{}} ", column.heading, column.width));
        }
        heading.text(" Status");
        lines.push_back(heading.take());

        const std::int64_t visible = std::max(input.size.rows - 5, 1);
        keep_visible(state.cell, visible, g.cells_per_module, state.first_row);
        const std::int64_t last =
            std::min<std::int64_t>(g.cells_per_module, state.first_row + visible);
        for (std::int64_t c = state.first_row; c < last; ++c) {
            const std::uint64_t cell =
                g.cell_index(state.rack, state.module, static_cast<std::uint32_t>(c));
            StyledLine line(width);
            const bool selected = c == state.cell;
            line.styled(selected ? kReverse : "",
                        fmt::format("{}{:>{}}", selected ? '>' : ' ', c, kLabelWidth - 1));
            for (const TableColumn& column : kColumns) {
                const FieldSummary& f = summary.field(column.field);
                const double value = snap.value(column.field, cell);
                // Marked only when the extremes differ as printed: "25.0^"
                // next to "25.0v" would point at a difference nobody sees.
                const bool differ = format_display(column.field, f.min, column.width) !=
                                    format_display(column.field, f.max, column.width);
                const bool lowest = differ && f.valid > 0 && cell == f.min_cell;
                const bool highest = differ && f.valid > 0 && cell == f.max_cell;
                std::string_view style;
                if (column.field == metric) {
                    style =
                        painter
                            .paint(state.rack, state.module, static_cast<std::uint32_t>(c), value)
                            .style;
                } else if (input.scale.colored() && (lowest || highest)) {
                    // Bright cyan, not blue: readable on a black background.
                    style = highest ? "\x1b[1;31m" : "\x1b[1;96m";
                }
                line.text(" ");
                line.styled(style, format_display(column.field, value, column.width));
                line.text(highest ? "^" : lowest ? "v" : " ");
            }
            line.text(" ");
            const std::uint32_t status = snap.status(cell);
            const bool alarm = status_is_alarm(status);
            line.styled(alarm ? (input.scale.colored() ? "\x1b[1;31m" : kBold) : "",
                        status_flags_text(status));
            lines.push_back(line.take());
        }
    }
    push_legend(input, metric, painter.range(state.rack),
                "j/k cell  h/l module  Esc back  a alarms  m metric  ? help", lines);
}

}  // namespace brt::viewer::detail
