// Plausibility (voltage_plausibility, temperature_plausibility): a reading
// far from its module's median (ModuleReadings), as foxBMS compares with the
// string average. The value of the event is the difference.
#include <cmath>

#include "common/alarm/alarm_rule_families.hpp"

namespace brt::alarm_detail {

void PlausibilityRules::check_module(RackEvaluation& eval, const ModuleReadings& module) {
    const AlarmConfig& cfg = eval.config;
    for (std::uint32_t i = 0; i < module.cells.size(); ++i) {
        const CellReading& cell = module.cells[i];
        const std::uint64_t c = module.first_cell + i;
        Flags& flags = flags_[c];
        const float v = cell.voltage_v;
        const float t = cell.temperature_c;
        // A dead cell is far from its peers by nature: its own alarm says so.
        const bool in_service = !cell.out_of_service;
        const float dv = in_service && std::isfinite(module.median_v) && std::isfinite(v)
                             ? v - module.median_v
                             : NAN;
        const bool v_implausible = std::fabs(dv) > cfg.voltage_plausibility_v;
        cell_rule(eval, flags.voltage, Rule::voltage_plausibility, c, v_implausible, !v_implausible,
                  cfg.sensor_debounce, dv, cfg.voltage_plausibility_v);
        const float dt = in_service && std::isfinite(module.median_t) && std::isfinite(t)
                             ? t - module.median_t
                             : NAN;
        const bool t_implausible = std::fabs(dt) > cfg.temperature_plausibility_k;
        cell_rule(eval, flags.temperature, Rule::temperature_plausibility, c, t_implausible,
                  !t_implausible, cfg.sensor_debounce, dt, cfg.temperature_plausibility_k);
    }
}

}  // namespace brt::alarm_detail
