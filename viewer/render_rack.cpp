// The rack view: the rack's modules (rows) x cells (columns) as a heatmap
// with each cell's value, scrolling both ways to keep the selection visible.
#include <fmt/format.h>

#include <algorithm>

#include "common/control/rack_mode.hpp"
#include "viewer/render.hpp"
#include "viewer/styled_line.hpp"

namespace brt::viewer::detail {

namespace {
constexpr int kLabelWidth = 5;  // ">M123"
constexpr int kValueWidth = 5;
// A gap and the value on the cell's colour; without colour, a gap, the
// value and its shade character.
int cell_width(bool colored) {
    return colored ? kValueWidth + 1 : kValueWidth + 2;
}
}  // namespace

void render_rack(ViewState& state, const RenderInput& input, std::vector<std::string>& lines) {
    const Snapshot& snap = input.snapshot;
    const Geometry& g = snap.geometry;
    const int width = input.size.columns;
    const Field field = metric_field(state.metric);
    const DisplayUnit& unit = display_unit(field);
    const std::int64_t index = snap.rack_index(state.rack);
    const RackRecord* record = snap.rack_record(state.rack);

    std::string title = fmt::format("Rack {}", state.rack);
    if (record != nullptr) {
        title +=
            fmt::format(": {}, {} A, air {} C", rack_mode_name(static_cast<RackMode>(record->mode)),
                        format_display(Field::current_a, record->current_a),
                        format_display(Field::temperature_c, record->air_temperature_c));
    }
    title += fmt::format(". Modules x cells, {} {}", metric_name(state.metric), unit.unit);
    render_header(input, title, lines);

    ScaleRange range;
    if (index >= 0) {
        const FieldSummary& summary = snap.racks[index].field(field);
        range.include(summary.min);
        range.include(summary.max);
    }
    const TilePainter painter(input.color_mode, input.scale, snap, input.alarms, field, range);
    if (index < 0) {
        lines.push_back(StyledLine(width).text("  (reading the rack...)").take());
    } else {
        const int cell_columns = cell_width(input.scale.colored());
        const std::int64_t visible_cells = std::max(1, (width - kLabelWidth) / cell_columns);
        keep_visible(state.cell, visible_cells, g.cells_per_module, state.first_cell);
        const std::int64_t visible_modules = std::max(input.size.rows - 5, 1);
        keep_visible(state.module, visible_modules, g.modules_per_rack, state.first_module);
        const std::int64_t last_cell =
            std::min<std::int64_t>(g.cells_per_module, state.first_cell + visible_cells);
        const std::int64_t last_module =
            std::min<std::int64_t>(g.modules_per_rack, state.first_module + visible_modules);

        StyledLine heading(width);
        heading.text(fmt::format("{:<{}}", "Mod", kLabelWidth));
        for (std::int64_t c = state.first_cell; c < last_cell; ++c) {
            heading.text(fmt::format("{:>{}}", c, cell_columns - (input.scale.colored() ? 0 : 1)))
                .pad_to(heading.column() + (input.scale.colored() ? 0 : 1));
        }
        lines.push_back(heading.take());

        for (std::int64_t m = state.first_module; m < last_module; ++m) {
            StyledLine line(width);
            const bool selected_row = m == state.module;
            line.styled(selected_row ? kReverse : "",
                        fmt::format("{}{:>{}}", selected_row ? '>' : ' ', m, kLabelWidth - 1));
            for (std::int64_t c = state.first_cell; c < last_cell; ++c) {
                const std::uint64_t cell = g.cell_index(state.rack, static_cast<std::uint32_t>(m),
                                                        static_cast<std::uint32_t>(c));
                const double value = snap.value(field, cell);
                const Tile tile = painter.paint(state.rack, static_cast<std::uint32_t>(m),
                                                static_cast<std::uint32_t>(c), value);
                const bool selected = selected_row && c == state.cell;
                const std::string text = format_display(field, value, kValueWidth);
                if (input.scale.colored()) {
                    line.styled(tile.style, " ");
                    line.styled(
                        selected ? std::string(tile.style) + std::string(kReverse) : tile.style,
                        text);
                } else {
                    line.text(" ");
                    line.styled(selected ? kReverse : "", text);
                    line.text(std::string(1, tile.shade));
                }
            }
            lines.push_back(line.take());
        }
    }
    push_legend(input, field, painter.range(state.rack),
                "arrows/hjkl move  Enter module  Esc back  a alarms  m metric", lines);
}

}  // namespace brt::viewer::detail
