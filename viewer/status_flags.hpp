// Short names for the cell status bits, as the module table and the batch
// table show them.
#pragma once

#include <cstdint>
#include <string>

namespace brt::viewer {

// e.g. "Tsens bal"; empty when no bit is set.
std::string status_flags_text(std::uint32_t status);
// True when a bit other than balancing is set (a fault or a thermal event).
bool status_is_alarm(std::uint32_t status);

}  // namespace brt::viewer
