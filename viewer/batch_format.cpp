#include "viewer/batch_format.hpp"

namespace brt::viewer {

namespace detail {

CellRange selected_cells(const Snapshot& snapshot, const Selection& selection) {
    if (selection.rack && selection.module) {
        return module_range(snapshot.geometry, *selection.rack, *selection.module);
    }
    if (selection.rack) {
        return rack_range(snapshot.geometry, *selection.rack);
    }
    return snapshot.frame.range;
}

}  // namespace detail

std::string format_snapshot(const Snapshot& snapshot, const BatchFormatOptions& options,
                            bool first) {
    switch (options.format) {
        case BatchFormat::table:
            return detail::format_table(snapshot, options);
        case BatchFormat::csv:
            return detail::format_csv(snapshot, options, first);
        case BatchFormat::json:
            return detail::format_json(snapshot, options);
    }
    return {};
}

}  // namespace brt::viewer
