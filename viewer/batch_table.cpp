// Plain table: a header line about the segment and the writer, then aligned
// columns (numbers right-aligned). Without colour it is plain ASCII.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/control/rack_mode.hpp"
#include "common/json/number_format.hpp"
#include "viewer/batch_format.hpp"
#include "viewer/color_scale.hpp"
#include "viewer/fields.hpp"
#include "viewer/render.hpp"
#include "viewer/status_flags.hpp"

namespace brt::viewer::detail {

namespace {

// Fixed decimals keep the columns aligned (never "-0.0000":
// format_fixed). Digits after the point in base units: 0.1 mV, 1 mA, 0.01 C, 0.01 % SoC,
// 1 micro-ohm, 0.01 % SoH.
constexpr int kPrecision[6] = {4, 3, 2, 4, 6, 4};

std::string number(Field field, double value) {
    if (std::isnan(value)) {
        return "-";
    }
    return format_fixed(value, kPrecision[static_cast<std::size_t>(field)]);
}

using Row = std::vector<std::string>;

void summary_headings(const std::vector<Field>& fields, Row& headings) {
    for (Field field : fields) {
        if (field == Field::status) {
            for (const char* name :
                 {"sensor_fault", "thermal_runaway", "venting", "self_heating", "balancing"}) {
                headings.emplace_back(name);
            }
            continue;
        }
        for (const char* stat : {"min", "mean", "max"}) {
            headings.push_back(fmt::format("{}.{}", field_name(field), stat));
        }
        if (field == Field::voltage_v) {
            headings.emplace_back("voltage_spread_v");
        }
    }
}

void summary_values(const GroupSummary& group, const std::vector<Field>& fields, Row& row) {
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
        row.push_back(number(field, f.min));
        row.push_back(number(field, f.mean()));
        row.push_back(number(field, f.max));
        if (field == Field::voltage_v) {
            row.push_back(number(field, f.spread()));
        }
    }
}

bool is_number(const std::string& text) {
    return !text.empty() &&
           (std::isdigit(static_cast<unsigned char>(text.back())) != 0 || text == "-");
}

std::string aligned(const std::vector<Row>& rows, bool color) {
    std::vector<std::size_t> widths;
    for (const Row& row : rows) {
        widths.resize(std::max(widths.size(), row.size()));
        for (std::size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    std::string out;
    for (std::size_t r = 0; r < rows.size(); ++r) {
        std::string line;
        for (std::size_t i = 0; i < rows[r].size(); ++i) {
            const std::string& text = rows[r][i];
            const bool last = i + 1 == rows[r].size();
            if (i > 0) {
                line += "  ";
            }
            if (r > 0 && is_number(text)) {
                line += fmt::format("{:>{}}", text, widths[i]);
            } else {
                line += last ? text : fmt::format("{:<{}}", text, widths[i]);
            }
        }
        while (!line.empty() && line.back() == ' ') {
            line.pop_back();
        }
        if (r == 0 && color) {
            line = std::string(kBold) + line + std::string(kReset);
        }
        out += line + '\n';
    }
    return out;
}

}  // namespace

std::string format_table(const Snapshot& snapshot, const BatchFormatOptions& options) {
    const Geometry& g = snapshot.geometry;
    const Selection& selection = options.selection;
    const WriterStatus& writer = snapshot.writer;
    std::string out = fmt::format(
        "# /dev/shm/{}  {}x{}x{} ({} cells)  writer {} {}  frame {}  sim {}  missed {}\n",
        snapshot.segment_name, g.racks, g.modules_per_rack, g.cells_per_module, g.cell_count(),
        writer.pid, liveness_name(writer.liveness), snapshot.frame.frame_number,
        format_sim_time(snapshot.frame.sim_time_ns), snapshot.frames_missed);

    std::vector<Row> rows;
    if (selection.rack && selection.module) {
        const std::vector<Field> fields = options.fields.empty() ? all_fields() : options.fields;
        Row headings = {"rack", "module", "cell"};
        for (Field field : fields) {
            headings.emplace_back(field_name(field));
            if (field == Field::status) {
                headings.emplace_back("flags");
            }
        }
        rows.push_back(headings);
        const CellRange cells = selected_cells(snapshot, selection);
        for (std::uint64_t cell = cells.first_cell; cell < cells.first_cell + cells.cell_count;
             ++cell) {
            Row row = {fmt::format("{}", *selection.rack), fmt::format("{}", *selection.module),
                       fmt::format("{}", cell % g.cells_per_module)};
            for (Field field : fields) {
                if (field == Field::status) {
                    row.push_back(fmt::format("{}", snapshot.status(cell)));
                    row.push_back(status_flags_text(snapshot.status(cell)));
                } else {
                    row.push_back(number(field, snapshot.value(field, cell)));
                }
            }
            rows.push_back(row);
        }
    } else if (selection.rack) {
        const std::vector<Field> fields =
            options.fields.empty() ? default_summary_fields() : options.fields;
        Row headings = {"rack", "module"};
        summary_headings(fields, headings);
        rows.push_back(headings);
        for (std::uint32_t module = 0; module < g.modules_per_rack; ++module) {
            const std::int64_t index = snapshot.module_index(*selection.rack, module);
            if (index < 0) {
                continue;
            }
            Row row = {fmt::format("{}", *selection.rack), fmt::format("{}", module)};
            summary_values(snapshot.modules[index], fields, row);
            rows.push_back(row);
        }
    } else {
        const std::vector<Field> fields =
            options.fields.empty() ? default_summary_fields() : options.fields;
        Row headings = {"rack", "mode", "current_a", "air_temperature_c"};
        summary_headings(fields, headings);
        rows.push_back(headings);
        for (std::uint32_t rack = 0; rack < g.racks; ++rack) {
            const std::int64_t index = snapshot.rack_index(rack);
            const RackRecord* record = snapshot.rack_record(rack);
            if (index < 0 || record == nullptr) {
                continue;
            }
            Row row = {fmt::format("{}", rack),
                       std::string(rack_mode_name(static_cast<RackMode>(record->mode))),
                       number(Field::current_a, record->current_a),
                       number(Field::temperature_c, record->air_temperature_c)};
            summary_values(snapshot.racks[index], fields, row);
            rows.push_back(row);
        }
    }
    return out + aligned(rows, options.color);
}

}  // namespace brt::viewer::detail
