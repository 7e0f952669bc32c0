// The quantity the heatmaps colour by (`m` cycles it) and how each cell
// quantity is shown to people: display unit, scale factor and precision.
// Batch output does not use these: base units, SoC and SoH in percent only
// in tables (see batch_format.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/segment/segment_layout.hpp"

namespace brt::viewer {

enum class Metric : std::uint32_t { voltage, temperature, soc, soh, resistance };
inline constexpr std::uint32_t kMetricCount = 5;

Metric next_metric(Metric metric);
Field metric_field(Metric metric);
std::string_view metric_name(Metric metric);  // "voltage", "temperature", ...

// How one float field is shown on screen.
struct DisplayUnit {
    std::string_view label;  // what it is, e.g. "voltage", "SoC"
    std::string_view unit;   // e.g. "V", "C" (degrees Celsius), "%", "mOhm"
    double scale;            // display value = base value * scale
    int precision;           // digits after the point
};
const DisplayUnit& display_unit(Field field);

// The value in display units with the field's precision, "-" for NaN,
// right-aligned to `width` when width > 0.
std::string format_display(Field field, double base_value, int width = 0);

}  // namespace brt::viewer
