#include "chemistry.hpp"

namespace brt {

std::string_view chemistry_name(Chemistry chemistry) {
    switch (chemistry) {
        case Chemistry::nmc:
            return "nmc";
        case Chemistry::lfp:
            return "lfp";
    }
    return "unknown";
}

std::optional<Chemistry> parse_chemistry(std::string_view name) {
    if (name == "nmc" || name == "NMC") {
        return Chemistry::nmc;
    }
    if (name == "lfp" || name == "LFP") {
        return Chemistry::lfp;
    }
    return std::nullopt;
}

std::optional<Chemistry> chemistry_from_code(std::uint32_t code) {
    switch (code) {
        case static_cast<std::uint32_t>(Chemistry::nmc):
            return Chemistry::nmc;
        case static_cast<std::uint32_t>(Chemistry::lfp):
            return Chemistry::lfp;
        default:
            return std::nullopt;
    }
}

float default_nominal_capacity_ah(Chemistry chemistry) {
    return chemistry == Chemistry::lfp ? 280.0f : 100.0f;
}

}  // namespace brt
