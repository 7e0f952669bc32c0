// The rows that the table and CSV share: what a row is (a rack, a module or
// a cell, by the selection) and which columns it has are decided once here,
// so the two formats cannot drift apart again. They differ only in how a
// number is written (RowStyle) and in the columns each adds around it.
#include <fmt/format.h>

#include <cmath>

#include "common/control/rack_mode.hpp"
#include "common/json/number_format.hpp"
#include "viewer/batch_format.hpp"
#include "viewer/fields.hpp"
#include "viewer/status_flags.hpp"

namespace brt::viewer::detail {

namespace {

// Table digits after the point, in the table's units: 0.1 mV, 1 mA,
// 0.01 C, 0.01 % SoC, 1 micro-ohm, 0.01 % SoH.
constexpr int kTableDecimals[6] = {4, 3, 2, 2, 6, 2};

bool in_percent(RowStyle style, Field field) {
    return style == RowStyle::table && (field == Field::soc || field == Field::soh);
}

// A reading, a min or a max: a float32 of the segment.
std::string reading(RowStyle style, Field field, float value) {
    if (std::isnan(value)) {
        return style == RowStyle::table ? "-" : "";
    }
    if (style == RowStyle::csv) {
        return format_float(value);
    }
    const double scale = in_percent(style, field) ? 100.0 : 1.0;
    return format_fixed(static_cast<double>(value) * scale,
                        kTableDecimals[static_cast<std::size_t>(field)]);
}

// A mean, computed in double: CSV rounds it to float32 as JSON does.
std::string mean(RowStyle style, Field field, double value) {
    if (style == RowStyle::csv && !std::isnan(value)) {
        return format_float32(value);
    }
    return reading(style, field, static_cast<float>(value));
}

void summary_headings(RowStyle style, const std::vector<Field>& fields, Row& headings) {
    for (Field field : fields) {
        if (field == Field::status) {
            for (const char* name :
                 {"sensor_fault", "thermal_runaway", "venting", "self_heating", "balancing"}) {
                headings.emplace_back(name);
            }
            continue;
        }
        for (const char* stat : {"min", "mean", "max"}) {
            headings.push_back(fmt::format("{}.{}", column_name(style, field), stat));
        }
        if (field == Field::voltage_v) {
            headings.emplace_back("voltage_spread_v");
        }
    }
}

void summary_values(RowStyle style, const GroupSummary& group, const std::vector<Field>& fields,
                    Row& row) {
    for (Field field : fields) {
        if (field == Field::status) {
            for (std::uint64_t n :
                 {group.sensor_fault_cells, group.thermal_runaway_cells, group.venting_cells,
                  group.self_heating_cells, group.balancing_cells}) {
                row.push_back(fmt::format("{}", n));
            }
            continue;
        }
        const FieldSummary& f = group.field(field);
        row.push_back(reading(style, field, f.min));
        row.push_back(mean(style, field, f.mean()));
        row.push_back(reading(style, field, f.max));
        if (field == Field::voltage_v) {
            row.push_back(reading(style, field, f.spread()));
        }
    }
}

}  // namespace

RowLevel row_level(const BatchFormatOptions& options) {
    if (options.cells || (options.selection.rack && options.selection.module)) {
        return RowLevel::cell;
    }
    return options.selection.rack ? RowLevel::module : RowLevel::rack;
}

std::string column_name(RowStyle style, Field field) {
    if (in_percent(style, field)) {
        return fmt::format("{}_pct", field_name(field));
    }
    return std::string(field_name(field));
}

Rows selection_rows(const Snapshot& snapshot, const BatchFormatOptions& options, RowStyle style) {
    const Geometry& g = snapshot.geometry;
    const Selection& selection = options.selection;
    const RowLevel level = row_level(options);
    // Tables of summaries keep to what fits a wide terminal unless told
    // otherwise; CSV, for programs, carries every field.
    const std::vector<Field> fields = !options.fields.empty() ? options.fields
                                      : style == RowStyle::csv || level == RowLevel::cell
                                          ? all_fields()
                                          : default_summary_fields();
    Rows out;
    if (level == RowLevel::cell) {
        out.headings = {"rack", "module", "cell"};
        for (Field field : fields) {
            out.headings.push_back(column_name(style, field));
            if (field == Field::status && style == RowStyle::table) {
                out.headings.emplace_back("flags");
            }
        }
        const CellRange cells = selected_cells(snapshot, selection);
        for (std::uint64_t cell = cells.first_cell; cell < cells.first_cell + cells.cell_count;
             ++cell) {
            const std::uint64_t module_index = cell / g.cells_per_module;
            Row row = {fmt::format("{}", module_index / g.modules_per_rack),
                       fmt::format("{}", module_index % g.modules_per_rack),
                       fmt::format("{}", cell % g.cells_per_module)};
            for (Field field : fields) {
                if (field == Field::status) {
                    row.push_back(fmt::format("{}", snapshot.status(cell)));
                    if (style == RowStyle::table) {
                        row.push_back(status_flags_text(snapshot.status(cell)));
                    }
                } else {
                    row.push_back(reading(style, field, snapshot.value(field, cell)));
                }
            }
            out.rows.push_back(std::move(row));
        }
    } else if (level == RowLevel::module) {
        out.headings = {"rack", "module"};
        summary_headings(style, fields, out.headings);
        for (std::uint32_t module = 0; module < g.modules_per_rack; ++module) {
            const std::int64_t index = snapshot.module_index(*selection.rack, module);
            if (index < 0) {
                continue;
            }
            Row row = {fmt::format("{}", *selection.rack), fmt::format("{}", module)};
            summary_values(style, snapshot.modules[index], fields, row);
            out.rows.push_back(std::move(row));
        }
    } else {
        out.headings = {"rack", "mode", "current_a", "air_temperature_c"};
        summary_headings(style, fields, out.headings);
        for (std::uint32_t rack = 0; rack < g.racks; ++rack) {
            const std::int64_t index = snapshot.rack_index(rack);
            const RackRecord* record = snapshot.rack_record(rack);
            if (index < 0 || record == nullptr) {
                continue;
            }
            Row row = {fmt::format("{}", rack),
                       std::string(rack_mode_name(static_cast<RackMode>(record->mode))),
                       reading(style, Field::current_a, record->current_a),
                       reading(style, Field::temperature_c, record->air_temperature_c)};
            summary_values(style, snapshot.racks[index], fields, row);
            out.rows.push_back(std::move(row));
        }
    }
    return out;
}

}  // namespace brt::viewer::detail
