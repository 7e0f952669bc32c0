// Module voltage imbalance (voltage_imbalance): the spread (max - min) of a
// module's valid voltages, one flag per module.
#include <algorithm>
#include <cmath>

#include "common/alarm/alarm_rule_families.hpp"

namespace brt::alarm_detail {

void ImbalanceRule::check_module(RackEvaluation& eval, const ModuleReadings& module) {
    const AlarmConfig& cfg = eval.config;
    // Readings the front end flags are left out (voltage_valid): a sensor
    // fault is not an imbalance; a discharged cell is.
    float min_v = NAN;
    float max_v = NAN;
    for (const CellReading& cell : module.cells) {
        if (cell.voltage_valid) {
            const float v = cell.voltage_v;
            min_v = std::isnan(min_v) ? v : std::min(min_v, v);
            max_v = std::isnan(max_v) ? v : std::max(max_v, v);
        }
    }
    const std::uint64_t module_index =
        std::uint64_t{eval.rack} * eval.geometry.modules_per_rack + module.module;
    const float spread_v = max_v - min_v;
    const bool imbalanced = spread_v > cfg.imbalance_spread_v;
    const bool balanced = spread_v <= cfg.imbalance_spread_v - cfg.voltage_hysteresis_v;
    DebounceState& flag = flags_[module_index];
    const Step step = debounce_step(flag, imbalanced, balanced, cfg.trend_debounce);
    const AlarmLocation where{eval.rack, module.module, kNoIndex};
    eval.events.step(
        step, flag.active, Rule::voltage_imbalance, Severity::warning,
        {Rule::voltage_imbalance, Severity::warning, eval.rack, module.module, kNoIndex}, where,
        spread_v, cfg.imbalance_spread_v);
}

}  // namespace brt::alarm_detail
