// --fields: which cell quantities batch output carries, by their segment
// names (voltage_v, current_a, temperature_c, soc, resistance_ohm, soh,
// status) or short aliases (voltage, current, temperature, temp, resistance).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/segment/segment_layout.hpp"

namespace brt::viewer {

// Every field, in segment order.
std::vector<Field> all_fields();
// What a table of rack or module summaries shows unless told otherwise: the
// columns that fit a wide terminal.
std::vector<Field> default_summary_fields();
// Parses a comma list ("all" for every field); throws UsageError naming the
// unknown field and the known ones. Duplicates are dropped, order is kept.
std::vector<Field> parse_fields(std::string_view text);
std::string_view field_name(Field field);  // the segment's name, e.g. "voltage_v"

}  // namespace brt::viewer
