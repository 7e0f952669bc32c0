// Cell chemistries known to the segment. The numeric values are ABI: they are
// stored in the segment's metadata (docs/segment-format.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace brt {

enum class Chemistry : std::uint8_t {
    nmc = 1,  // lithium nickel manganese cobalt oxide / graphite
    lfp = 2,  // lithium iron phosphate / graphite
};

std::string_view chemistry_name(Chemistry chemistry);  // "nmc", "lfp", "unknown"
std::optional<Chemistry> parse_chemistry(std::string_view name);
// A code as stored in the segment's metadata; nullopt for a code this ABI
// does not define (such a segment is malformed).
std::optional<Chemistry> chemistry_from_code(std::uint32_t code);

// Nominal capacity written to the metadata when a segment is created:
// a 100 Ah NMC cell (PyBaMM ECM_Example) and a 280 Ah LFP prismatic, the
// common size in stationary storage racks.
float default_nominal_capacity_ah(Chemistry chemistry);

}  // namespace brt
