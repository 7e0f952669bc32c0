#include "viewer/metric.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>

#include "common/json/number_format.hpp"

namespace brt::viewer {

namespace {

constexpr std::array<Field, kMetricCount> kFields = {Field::voltage_v, Field::temperature_c,
                                                     Field::soc, Field::soh, Field::resistance_ohm};

// Indexed by Field (the six float columns).
const std::array<DisplayUnit, 6> kUnits = {{
    {"voltage", "V", 1.0, 3},           // voltage_v: millivolt resolution
    {"current", "A", 1.0, 1},           // current_a
    {"temperature", "C", 1.0, 1},       // temperature_c
    {"SoC", "%", 100.0, 1},             // soc: fraction shown as percent
    {"resistance", "mOhm", 1000.0, 3},  // resistance_ohm: cells are around a milliohm
    {"SoH", "%", 100.0, 1},             // soh: fraction shown as percent
}};

}  // namespace

Metric next_metric(Metric metric) {
    return static_cast<Metric>((static_cast<std::uint32_t>(metric) + 1) % kMetricCount);
}

Field metric_field(Metric metric) {
    return kFields.at(static_cast<std::uint32_t>(metric));
}

std::string_view metric_name(Metric metric) {
    return display_unit(metric_field(metric)).label;
}

const DisplayUnit& display_unit(Field field) {
    return kUnits.at(static_cast<std::size_t>(field));
}

std::string format_display(Field field, double base_value, int width) {
    if (std::isnan(base_value)) {
        return fmt::format("{:>{}}", "-", width);
    }
    const DisplayUnit& unit = display_unit(field);
    // Fixed decimals for the layout, but a reading that rounds to zero is
    // "0.0", not "-0.0".
    return fmt::format("{:>{}}", format_fixed(base_value * unit.scale, unit.precision), width);
}

}  // namespace brt::viewer
