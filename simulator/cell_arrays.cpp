#include "simulator/cell_arrays.hpp"

namespace brt {

void CellArrays::resize(std::uint64_t cells) {
    for (auto* column : {&v_rc_v, &runaway_progress, &capacity_factor, &resistance_factor,
                         &coefficient_r0_ohm, &coefficient_r1_ohm, &coefficient_capacity_ah,
                         &voltage_v, &current_a, &external_heat_w, &short_circuit_ohm}) {
        column->assign(cells, 0.0f);
    }
    for (auto* column : {&soc, &temperature_c, &capacity_fade, &resistance_growth, &ah_throughput,
                         &calendar_age_s}) {
        column->assign(cells, 0.0);
    }
    cycle.assign(cells, model::CycleCounter{});
    balancing.assign(cells, 0);
    ageing_multiplier.assign(cells, 1.0f);
}

}  // namespace brt
