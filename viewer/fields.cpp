#include "viewer/fields.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <utility>

#include "common/segment/errors.hpp"

namespace brt::viewer {

namespace {

// soc_pct and soh_pct are the table's column names: a table's heading
// given back to --fields selects its column.
constexpr std::array<std::pair<std::string_view, Field>, 7> kAliases = {{
    {"voltage", Field::voltage_v},
    {"current", Field::current_a},
    {"temperature", Field::temperature_c},
    {"temp", Field::temperature_c},
    {"resistance", Field::resistance_ohm},
    {"soc_pct", Field::soc},
    {"soh_pct", Field::soh},
}};

std::string_view trim(std::string_view text) {
    while (!text.empty() && text.front() == ' ') {
        text.remove_prefix(1);
    }
    while (!text.empty() && text.back() == ' ') {
        text.remove_suffix(1);
    }
    return text;
}

}  // namespace

std::vector<Field> all_fields() {
    std::vector<Field> fields;
    for (std::uint32_t f = 0; f < kFieldCount; ++f) {
        fields.push_back(static_cast<Field>(f));
    }
    return fields;
}

std::vector<Field> default_summary_fields() {
    return {Field::voltage_v, Field::temperature_c, Field::soc, Field::soh, Field::status};
}

std::string_view field_name(Field field) {
    return field_info(field).name;
}

std::vector<Field> parse_fields(std::string_view text) {
    std::vector<Field> fields;
    auto add = [&](Field field) {
        if (std::find(fields.begin(), fields.end(), field) == fields.end()) {
            fields.push_back(field);
        }
    };
    while (!text.empty()) {
        const std::size_t comma = text.find(',');
        const std::string_view item = trim(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        if (item.empty()) {
            continue;
        }
        if (item == "all") {
            for (Field field : all_fields()) {
                add(field);
            }
            continue;
        }
        bool known = false;
        for (Field field : all_fields()) {
            if (field_name(field) == item) {
                add(field);
                known = true;
            }
        }
        for (const auto& [alias, field] : kAliases) {
            if (alias == item) {
                add(field);
                known = true;
            }
        }
        if (!known) {
            throw UsageError(fmt::format(
                "--fields: unknown field '{}'; known: voltage_v, current_a, temperature_c, soc, "
                "resistance_ohm, soh, status (or all; aliases voltage, current, temperature, "
                "temp, resistance, soc_pct, soh_pct)",
                item));
        }
    }
    if (fields.empty()) {
        throw UsageError("--fields: no field given; e.g. --fields voltage_v,temperature_c");
    }
    return fields;
}

}  // namespace brt::viewer
