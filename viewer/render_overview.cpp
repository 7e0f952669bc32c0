// The overview: one line per rack with its figures and a heatmap of its
// modules. Columns are dropped by priority when the terminal is narrow; the
// heatmap takes the width that is left.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "common/control/rack_mode.hpp"
#include "common/json/number_format.hpp"
#include "viewer/render.hpp"
#include "viewer/styled_line.hpp"

namespace brt::viewer::detail {

namespace {

struct RackRow {
    std::uint32_t rack;
    const GroupSummary& summary;
    const RackRecord& record;
};

struct Column {
    std::string_view group;    // first heading row (spans consecutive columns with the same group)
    std::string_view heading;  // second heading row
    int width;
    int priority;  // 0 always shown; higher numbers go first when narrow
    std::function<std::string(const RackRow&)> text;
    bool alarm = false;  // non-zero counts shown in bold (and red with colour)
};

std::string stat(Field field, double value, int width) {
    return format_display(field, value, width);
}

std::string count(std::uint64_t n, int width) {
    return fmt::format("{:>{}}", n, width);
}

// What holds the rack back, most serious first; "0" (shown plain) when
// nothing does: the rack's protection tripped (contactor open), a discharge
// cut-off (a cell at its limit), a charger fault (CV control failed), a grid
// outage, a finished charge.
std::string protection_text(std::uint32_t flags) {
    const char* text = (flags & rack_flags::contactor_open) != 0     ? "trip"
                       : (flags & rack_flags::discharge_cutoff) != 0 ? "cutoff"
                       : (flags & rack_flags::charger_fault) != 0    ? "chgflt"
                       : (flags & rack_flags::grid_outage) != 0      ? "grid"
                       : (flags & rack_flags::charge_complete) != 0  ? "full"
                                                                     : "0";
    return fmt::format("{:>6}", text);
}

std::vector<Column> overview_columns() {
    using F = Field;
    return {
        {"", "Mode", 9, 0,
         [](const RackRow& r) {
             return fmt::format("{:<9}", rack_mode_name(static_cast<RackMode>(r.record.mode)));
         }},
        {"", "Amps", 7, 1,
         [](const RackRow& r) { return stat(F::current_a, r.record.current_a, 7); }},
        {"Cell volts V", "min", 6, 0,
         [](const RackRow& r) { return stat(F::voltage_v, r.summary.field(F::voltage_v).min, 6); }},
        {"Cell volts V", "mean", 6, 0,
         [](const RackRow& r) {
             return stat(F::voltage_v, r.summary.field(F::voltage_v).mean(), 6);
         }},
        {"Cell volts V", "max", 6, 0,
         [](const RackRow& r) { return stat(F::voltage_v, r.summary.field(F::voltage_v).max, 6); }},
        {"Sprd", "mV", 5, 0,
         [](const RackRow& r) {
             const float spread = r.summary.field(F::voltage_v).spread();
             return std::isnan(spread) ? fmt::format("{:>5}", "-")
                                       : fmt::format("{:>5}", format_fixed(spread * 1000.0, 0));
         }},
        {"Temp C", "min", 5, 2,
         [](const RackRow& r) {
             return stat(F::temperature_c, r.summary.field(F::temperature_c).min, 5);
         }},
        {"Temp C", "mean", 5, 1,
         [](const RackRow& r) {
             return stat(F::temperature_c, r.summary.field(F::temperature_c).mean(), 5);
         }},
        {"Temp C", "max", 5, 0,
         [](const RackRow& r) {
             return stat(F::temperature_c, r.summary.field(F::temperature_c).max, 5);
         }},
        {"SoC %", "min", 5, 2,
         [](const RackRow& r) { return stat(F::soc, r.summary.field(F::soc).min, 5); }},
        {"SoC %", "mean", 5, 0,
         [](const RackRow& r) { return stat(F::soc, r.summary.field(F::soc).mean(), 5); }},
        {"SoC %", "max", 5, 2,
         [](const RackRow& r) { return stat(F::soc, r.summary.field(F::soc).max, 5); }},
        {"SoH%", "mean", 5, 1,
         [](const RackRow& r) { return stat(F::soh, r.summary.field(F::soh).mean(), 5); }},
        {"Cells", "Flt", 4, 0,
         [](const RackRow& r) { return count(r.summary.sensor_fault_cells, 4); }, true},
        {"Cells", "Run", 4, 0,
         [](const RackRow& r) { return count(r.summary.thermal_runaway_cells, 4); }, true},
        {"Cells", "Vent", 4, 1, [](const RackRow& r) { return count(r.summary.venting_cells, 4); },
         true},
        {"Cells", "Bal", 4, 1,
         [](const RackRow& r) { return count(r.summary.balancing_cells, 4); }},
        // The rack's own state: protection (what stops it), HVAC, air.
        {"Rack", "Prot", 6, 1, [](const RackRow& r) { return protection_text(r.record.flags); },
         true},
        {"Rack", "HVAC", 4, 2,
         [](const RackRow& r) {
             return fmt::format("{:>4}",
                                (r.record.flags & rack_flags::hvac_on) != 0 ? "on" : "off");
         }},
        {"Rack", "AirC", 5, 2,
         [](const RackRow& r) { return stat(F::temperature_c, r.record.air_temperature_c, 5); }},
    };
}

constexpr int kRackLabelWidth = 6;    // "> 1234"
constexpr int kMinHeatmapWidth = 10;  // narrower terminals drop columns first
constexpr int kMaxColumnsPerModule = 3;

// The columns that fit next to a heatmap of at least kMinHeatmapWidth.
std::vector<Column> fitting_columns(int width) {
    std::vector<Column> all = overview_columns();
    int max_priority = 0;
    for (const Column& column : all) {
        max_priority = std::max(max_priority, column.priority);
    }
    for (int allowed = max_priority; allowed > 0; --allowed) {
        int used = kRackLabelWidth;
        for (const Column& column : all) {
            used += column.priority <= allowed ? column.width + 1 : 0;
        }
        if (used + 1 + kMinHeatmapWidth <= width) {
            std::erase_if(all, [&](const Column& c) { return c.priority > allowed; });
            return all;
        }
    }
    std::erase_if(all, [](const Column& c) { return c.priority > 0; });
    return all;
}

}  // namespace

void render_overview(ViewState& state, const RenderInput& input, std::vector<std::string>& lines) {
    const Snapshot& snap = input.snapshot;
    const Geometry& g = snap.geometry;
    const int width = input.size.columns;
    const Field field = metric_field(state.metric);
    const std::vector<Column> columns = fitting_columns(width);

    int used = kRackLabelWidth;
    for (const Column& column : columns) {
        used += column.width + 1;
    }
    const int heat_width = std::max(0, width - used - 1);
    const std::uint32_t modules = g.modules_per_rack;
    // Modules per heatmap character (when they do not fit) or characters per module.
    const std::uint32_t per_char = heat_width == 0
                                       ? modules
                                       : (modules + static_cast<std::uint32_t>(heat_width) - 1) /
                                             static_cast<std::uint32_t>(heat_width);
    const int chars_per_module =
        per_char > 1 ? 1
                     : std::clamp(heat_width / static_cast<int>(std::max(modules, 1u)), 1,
                                  kMaxColumnsPerModule);

    // The colour scale spans the module means of the whole system.
    ScaleRange range;
    for (const GroupSummary& module : snap.modules) {
        range.include(module.field(field).mean());
    }

    const TilePainter painter(input.color_mode, input.scale, snap, input.alarms, field, range);

    const std::int64_t rack_count = g.racks;
    const std::int64_t visible = std::max(input.size.rows - 6, 1);
    keep_visible(state.rack, visible, rack_count, state.first_row);
    const std::int64_t last_shown = std::min(rack_count, state.first_row + visible);
    const std::string ambient = fmt::format(
        "ambient {} C", format_display(Field::temperature_c, snap.frame.ambient_temperature_c));
    const std::string title =
        rack_count > visible
            ? fmt::format("Overview: racks {}-{} of {}, {}, heatmap of module mean {}",
                          state.first_row, last_shown - 1, rack_count, ambient,
                          metric_name(state.metric))
            : fmt::format("Overview: {} racks, {}, heatmap of module mean {}", rack_count, ambient,
                          metric_name(state.metric));
    render_header(input, title, lines);

    // Two heading rows: group labels ("Cell volts V") over their columns,
    // then each column's own heading.
    StyledLine groups(width);
    StyledLine headings(width);
    headings.text(fmt::format("{:>{}}", "Rack", kRackLabelWidth));
    std::vector<int> starts;
    for (const Column& column : columns) {
        headings.text(" ");
        starts.push_back(headings.column());
        // Headings align like their values: text left, numbers right.
        headings.text(column.group.empty() && column.heading == "Mode"
                          ? fmt::format("{:<{}}", column.heading, column.width)
                          : fmt::format("{:>{}}", column.heading, column.width));
    }
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const std::string_view group = columns[i].group;
        if (group.empty() || (i > 0 && columns[i - 1].group == group)) {
            continue;
        }
        std::size_t last = i;
        while (last + 1 < columns.size() && columns[last + 1].group == group) {
            ++last;
        }
        const int span = starts[last] + columns[last].width - starts[i];
        groups.pad_to(starts[i]).text(group.substr(0, static_cast<std::size_t>(span)));
    }
    if (heat_width > 0) {
        groups.pad_to(headings.column() + 1);
        groups.text(per_char > 1 ? fmt::format("Modules ({} per column)", per_char)
                                 : std::string("Modules"));
        headings.text(" ").text(fmt::format("0..{}", modules - 1));
    }
    lines.push_back(groups.take());
    lines.push_back(headings.take());

    for (std::int64_t rack = state.first_row; rack < last_shown; ++rack) {
        const std::int64_t index = snap.rack_index(static_cast<std::uint32_t>(rack));
        StyledLine line(width);
        const bool selected = rack == state.rack;
        // The rack number takes the colour of its worst alarm.
        const std::string_view label_style = painter.rack_style(static_cast<std::uint32_t>(rack));
        line.styled(selected ? kReverse : label_style,
                    fmt::format("{}{:>{}}", selected ? '>' : ' ', rack, kRackLabelWidth - 1));
        if (index < 0) {
            lines.push_back(line.take());
            continue;
        }
        const RackRow row{static_cast<std::uint32_t>(rack), snap.racks[index],
                          snap.frame.racks[rack]};
        for (const Column& column : columns) {
            line.text(" ");
            const std::string text = column.text(row);
            const bool alarm = column.alarm && text.find_first_not_of(" 0") != std::string::npos;
            line.styled(alarm ? (input.scale.colored() ? "\x1b[1;31m" : kBold) : "", text);
        }
        if (heat_width > 0) {
            line.text(" ");
            const std::size_t first_module = static_cast<std::size_t>(index) * modules;
            for (std::uint32_t m = 0; m < modules; m += per_char) {
                double sum = 0;
                std::uint64_t valid = 0;
                for (std::uint32_t k = m; k < std::min(modules, m + per_char); ++k) {
                    const FieldSummary& f = snap.modules[first_module + k].field(field);
                    sum += f.sum;
                    valid += f.valid;
                }
                const Tile tile = painter.paint_modules(
                    static_cast<std::uint32_t>(rack), m, std::min(per_char, modules - m),
                    valid == 0 ? NAN : sum / static_cast<double>(valid));
                const std::string cell(static_cast<std::size_t>(chars_per_module),
                                       input.scale.colored() ? ' ' : tile.shade);
                line.styled(tile.style, cell);
                if (line.remaining() <= 0) {
                    break;
                }
            }
        }
        lines.push_back(line.take());
    }
    push_legend(input, field, painter.range(state.rack),
                "j/k rack  Enter open  a alarms  m metric  ? help  q quit", lines);
}

}  // namespace brt::viewer::detail
