// The interactive dashboard: refreshes every interval, follows the keys, and
// keeps running whatever the writer does.
#pragma once

#include <cstdint>
#include <optional>

#include "common/segment/segment_reader.hpp"
#include "viewer/color_scale.hpp"
#include "viewer/metric.hpp"
#include "viewer/tile_painter.hpp"

namespace brt::viewer {

struct DashboardOptions {
    double interval_s = 0.5;
    ColorDepth color = ColorDepth::none;
    Metric metric = Metric::voltage;
    ColorMode color_mode = ColorMode::state;
    std::optional<std::uint32_t> rack;    // start in this rack's view
    std::optional<std::uint32_t> module;  // ... or in this module's table
};

// Runs until q, SIGINT, SIGTERM or SIGHUP; the terminal is restored however
// it ends. `reader` must be attached. Returns the exit code.
int run_dashboard(SegmentReader& reader, const DashboardOptions& options);

}  // namespace brt::viewer
