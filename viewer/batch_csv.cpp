// CSV: a header row, then one row per cell of the selection:
// frame,rack,module,cell,<fields>. Numbers as common/json/number_format.hpp
// prints them (the float's shortest form that reads back as the same float,
// the same digits as the JSON outputs); NaN is an empty field.
#include <fmt/format.h>

#include <cmath>

#include "common/json/number_format.hpp"
#include "viewer/batch_format.hpp"
#include "viewer/fields.hpp"

namespace brt::viewer::detail {

std::string format_csv(const Snapshot& snapshot, const BatchFormatOptions& options, bool header) {
    const std::vector<Field> fields = options.fields.empty() ? all_fields() : options.fields;
    std::string out;
    auto sink = std::back_inserter(out);
    if (header) {
        out += "frame,rack,module,cell";
        for (Field field : fields) {
            fmt::format_to(sink, ",{}", field_name(field));
        }
        out += '\n';
    }
    const Geometry& g = snapshot.geometry;
    const CellRange cells = selected_cells(snapshot, options.selection);
    for (std::uint64_t cell = cells.first_cell; cell < cells.first_cell + cells.cell_count;
         ++cell) {
        const std::uint64_t module_index = cell / g.cells_per_module;
        fmt::format_to(sink, "{},{},{},{}", snapshot.frame.frame_number,
                       module_index / g.modules_per_rack, module_index % g.modules_per_rack,
                       cell % g.cells_per_module);
        for (Field field : fields) {
            if (field == Field::status) {
                fmt::format_to(sink, ",{}", snapshot.status(cell));
                continue;
            }
            const float value = snapshot.value(field, cell);
            out += ',';
            if (!std::isnan(value)) {
                append_float(out, value);
            }
        }
        out += '\n';
    }
    return out;
}

}  // namespace brt::viewer::detail
