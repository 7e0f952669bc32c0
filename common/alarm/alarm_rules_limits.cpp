// Rack limits (cell_overvoltage ... soh_low): MOL, RSL and MSL, each its own
// flag, on the rack's worst valid reading, which the event names; and the
// rack's protection trip (rack_protection_trip), from the rack's flags.
#include <cmath>

#include "common/alarm/alarm_rule_families.hpp"
#include "common/control/rack_mode.hpp"

namespace brt::alarm_detail {

namespace {

void take(RackExtremes& extremes, Rule rule, float value, std::uint64_t cell,
          bool higher_is_worse) {
    float& slot = extremes.value[static_cast<std::size_t>(rule)];
    if (std::isnan(slot) || (higher_is_worse ? value > slot : value < slot)) {
        slot = value;
        extremes.cell[static_cast<std::size_t>(rule)] = cell;
    }
}

void copy_worst(RackExtremes& extremes, Rule to, Rule from) {
    extremes.value[static_cast<std::size_t>(to)] = extremes.value[static_cast<std::size_t>(from)];
    extremes.cell[static_cast<std::size_t>(to)] = extremes.cell[static_cast<std::size_t>(from)];
}

}  // namespace

void LimitRules::add_module(RackExtremes& extremes, const RackEvaluation& eval,
                            const ModuleReadings& module) {
    for (std::uint32_t i = 0; i < module.cells.size(); ++i) {
        const CellReading& cell = module.cells[i];
        const std::uint64_t c = module.first_cell + i;
        const std::uint64_t l = module.first_local + i;
        if (cell.voltage_valid) {
            take(extremes, Rule::cell_overvoltage, cell.voltage_v, c, true);
            take(extremes, Rule::cell_undervoltage, cell.voltage_v, c, false);
        }
        if (cell.temperature_valid) {
            // The charge and discharge rules share the hottest and the
            // coldest cell (copied in check_rack); which applies depends on
            // the rack's current.
            take(extremes, Rule::overtemperature_discharge, cell.temperature_c, c, true);
            take(extremes, Rule::undertemperature_discharge, cell.temperature_c, c, false);
        }
        const float soc = eval.soc[l];
        if (std::isfinite(soc)) {
            take(extremes, Rule::soc_high, soc, c, true);
            take(extremes, Rule::soc_low, soc, c, false);
        }
        const float soh = eval.soh[l];
        if (std::isfinite(soh)) {
            take(extremes, Rule::soh_low, soh, c, false);
        }
    }
}

void LimitRules::check_rack(RackEvaluation& eval, RackExtremes extremes) {
    const AlarmConfig& cfg = eval.config;
    const ChemistryLimits& l = eval.limits;
    const std::uint32_t rack = eval.rack;
    copy_worst(extremes, Rule::overtemperature_charge, Rule::overtemperature_discharge);
    copy_worst(extremes, Rule::undertemperature_charge, Rule::undertemperature_discharge);
    // Rack current, discharge positive.
    const float rack_current = eval.frame.racks[rack].current_a;
    extremes.value[static_cast<std::size_t>(Rule::overcurrent_discharge)] = rack_current;
    extremes.value[static_cast<std::size_t>(Rule::overcurrent_charge)] = -rack_current;

    const float amps_per_c = eval.capacity_ah;
    const bool charging = rack_current < -cfg.charging_c_rate * amps_per_c;

    struct LimitRule {
        Rule rule;  // the label while the rack discharges or rests
        const LevelLimits* limits;
        Rule charge_rule;  // the label while it charges (the same for most rules)
        const LevelLimits* charge_limits;
        bool maximum;
        float scale;  // limit units to value units
        float hysteresis;
        const Debounce* debounce;
    };
    // The temperature limits depend on the direction of the current: one
    // alarm per level, keyed by the discharge rule, whose label and limit
    // follow the current. It raises beyond the limit that applies now and
    // clears only inside both, so a change of direction never clears it.
    const LimitRule rules[] = {
        {Rule::cell_overvoltage, &l.voltage_max_v, Rule::cell_overvoltage, &l.voltage_max_v, true,
         1, cfg.voltage_hysteresis_v, &cfg.voltage_debounce},
        {Rule::cell_undervoltage, &l.voltage_min_v, Rule::cell_undervoltage, &l.voltage_min_v,
         false, 1, cfg.voltage_hysteresis_v, &cfg.voltage_debounce},
        {Rule::overtemperature_discharge, &l.temperature_max_discharge_c,
         Rule::overtemperature_charge, &l.temperature_max_charge_c, true, 1,
         cfg.temperature_hysteresis_k, &cfg.temperature_debounce},
        {Rule::undertemperature_discharge, &l.temperature_min_discharge_c,
         Rule::undertemperature_charge, &l.temperature_min_charge_c, false, 1,
         cfg.temperature_hysteresis_k, &cfg.temperature_debounce},
        {Rule::overcurrent_discharge, &l.current_max_discharge_c_rate, Rule::overcurrent_discharge,
         &l.current_max_discharge_c_rate, true, amps_per_c,
         cfg.current_hysteresis_c_rate * amps_per_c, &cfg.current_debounce},
        {Rule::overcurrent_charge, &l.current_max_charge_c_rate, Rule::overcurrent_charge,
         &l.current_max_charge_c_rate, true, amps_per_c, cfg.current_hysteresis_c_rate * amps_per_c,
         &cfg.current_debounce},
        {Rule::soc_high, &l.soc_max, Rule::soc_high, &l.soc_max, true, 1, cfg.soc_hysteresis,
         &cfg.soc_debounce},
        {Rule::soc_low, &l.soc_min, Rule::soc_low, &l.soc_min, false, 1, cfg.soc_hysteresis,
         &cfg.soc_debounce},
        {Rule::soh_low, &l.soh_min, Rule::soh_low, &l.soh_min, false, 1, cfg.soh_hysteresis,
         &cfg.soc_debounce},
    };
    for (const LimitRule& rule : rules) {
        const std::size_t index = static_cast<std::size_t>(rule.rule);
        const float value = extremes.value[index];
        const bool rack_scope_current =
            rule.rule == Rule::overcurrent_discharge || rule.rule == Rule::overcurrent_charge;
        const AlarmLocation where = rack_scope_current ? AlarmLocation{rack, kNoIndex, kNoIndex}
                                                       : eval.location_of(extremes.cell[index]);
        const Rule label = charging ? rule.charge_rule : rule.rule;
        for (Severity severity : {Severity::info, Severity::warning, Severity::critical}) {
            const float discharge_limit = rule.limits->at(severity) * rule.scale;
            const float charge_limit = rule.charge_limits->at(severity) * rule.scale;
            const float limit = charging ? charge_limit : discharge_limit;
            // The limit the clear must be inside: the stricter of the two
            // (a switched-off one does not count).
            float clear_limit = std::isnan(charge_limit) ? discharge_limit
                                : std::isnan(discharge_limit)
                                    ? charge_limit
                                    : (rule.maximum ? std::min(charge_limit, discharge_limit)
                                                    : std::max(charge_limit, discharge_limit));
            if (std::isnan(clear_limit)) {
                continue;  // this level is off in both directions
            }
            bool bad = false;
            bool good = false;
            if (std::isfinite(value)) {
                bad = !std::isnan(limit) && (rule.maximum ? value > limit : value < limit);
                good = rule.maximum ? value <= clear_limit - rule.hysteresis
                                    : value >= clear_limit + rule.hysteresis;
            }
            auto& flag = flags_[rack][index][static_cast<std::size_t>(severity)];
            const Step step = debounce_step(flag, bad, good, *rule.debounce);
            eval.events.step(step, flag.active, label, severity,
                             {rule.rule, severity, rack, kNoIndex, kNoIndex}, where, value,
                             std::isnan(limit) ? clear_limit : limit);
        }
    }

    // The writer's own rack BMS opened the contactor: the frame says so, no
    // debounce beyond the writer's. The value names the reasons.
    const std::uint32_t flags = eval.frame.racks[rack].flags;
    const bool open = (flags & rack_flags::contactor_open) != 0;
    DebounceState& trip = trip_flags_[rack];
    const Step step = debounce_step(trip, open, !open, Debounce{1, 1});
    const auto reasons =
        static_cast<float>((flags & rack_flags::trip_reasons) >> rack_flags::trip_shift);
    eval.events.step(step, trip.active, Rule::rack_protection_trip, Severity::critical,
                     {Rule::rack_protection_trip, Severity::critical, rack, kNoIndex, kNoIndex},
                     AlarmLocation{rack, kNoIndex, kNoIndex}, reasons, 0.0f);
}

}  // namespace brt::alarm_detail
