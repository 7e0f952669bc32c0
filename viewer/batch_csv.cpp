// CSV: a header row, then one row per rack, module or cell as the selection
// says (selection_rows, the rows of the table), each led by the frame
// number: frame,<the table's columns>. Numbers in base units as
// common/json/number_format.hpp prints them (the float's shortest form that
// reads back as the same float, the digits of the JSON outputs); NaN is an
// empty field.
#include <fmt/format.h>

#include "viewer/batch_format.hpp"

namespace brt::viewer::detail {

std::string format_csv(const Snapshot& snapshot, const BatchFormatOptions& options, bool header) {
    const Rows rows = selection_rows(snapshot, options, RowStyle::csv);
    std::string out;
    // No column holds a comma, a quote or a line break (names, numbers,
    // mode names), so nothing needs quoting.
    auto append = [&out](const Row& row) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            out += ',';
            out += row[i];
        }
        out += '\n';
    };
    if (header) {
        out += "frame";
        append(rows.headings);
    }
    const std::string frame = fmt::format("{}", snapshot.frame.frame_number);
    for (const Row& row : rows.rows) {
        out += frame;
        append(row);
    }
    return out;
}

}  // namespace brt::viewer::detail
