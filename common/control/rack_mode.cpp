#include "common/control/rack_mode.hpp"

#include <array>

namespace brt {

namespace {
constexpr std::array<std::string_view, kRackModeCount> kNames = {
    "idle", "charge", "float", "discharge", "equalize", "profile"};
}

std::string_view rack_mode_name(RackMode mode) {
    const auto index = static_cast<std::uint32_t>(mode);
    return index < kNames.size() ? kNames[index] : "unknown";
}

std::optional<RackMode> parse_rack_mode(std::string_view name) {
    for (std::uint32_t i = 0; i < kNames.size(); ++i) {
        if (kNames[i] == name) {
            return static_cast<RackMode>(i);
        }
    }
    return std::nullopt;
}

}  // namespace brt
