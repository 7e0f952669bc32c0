// Plain table: a header line about the segment and the writer, then the
// selection's rows (selection_rows, shared with CSV) in aligned columns
// (numbers right-aligned). Without colour it is plain ASCII.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "viewer/batch_format.hpp"
#include "viewer/color_scale.hpp"
#include "viewer/render.hpp"

namespace brt::viewer::detail {

namespace {

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
    const WriterStatus& writer = snapshot.writer;
    std::string out = fmt::format(
        "# /dev/shm/{}  {}x{}x{} ({} cells)  writer {} {}  frame {}  sim {}  missed {}\n",
        snapshot.segment_name, g.racks, g.modules_per_rack, g.cells_per_module, g.cell_count(),
        writer.pid, liveness_name(writer.liveness), snapshot.frame.frame_number,
        format_sim_time(snapshot.frame.sim_time_ns), snapshot.frames_missed);

    Rows table = selection_rows(snapshot, options, RowStyle::table);
    std::vector<Row> rows;
    rows.reserve(table.rows.size() + 1);
    rows.push_back(std::move(table.headings));
    for (Row& row : table.rows) {
        rows.push_back(std::move(row));
    }
    return out + aligned(rows, options.color);
}

}  // namespace brt::viewer::detail
