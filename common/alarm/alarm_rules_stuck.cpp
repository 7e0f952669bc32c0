// Stuck sensors (voltage_stuck, temperature_stuck): a reading unchanged for
// stuck_time_s of simulated time and stuck_min_frames frames while at least
// half of its module's other readings moved. A quiet module (a rack at rest
// with a coarse front end) is not a stuck one.
#include <cmath>

#include "common/alarm/alarm_rule_families.hpp"

namespace brt::alarm_detail {

// Notes a finite reading; true when it moved within the last `window_s`.
inline bool StuckRules::ChangeTracker::note(float value, double now_s, double window_s) {
    const bool changed = value != last;
    last = value;
    changed_s = changed ? now_s : changed_s;
    same_frames = changed ? 0 : same_frames + 1;
    return now_s - changed_s < window_s;
}

// Stuck: unchanged long enough while at least half of the module's other
// valid readings (`valid` and `moving` count this one too) moved.
inline bool StuckRules::ChangeTracker::stuck(double now_s, const AlarmConfig& cfg,
                                             std::uint32_t valid, std::uint32_t moving) const {
    const double still_s = now_s - changed_s;
    const bool self_moving = still_s < cfg.stuck_time_s;
    const std::uint32_t others = valid - 1;
    const std::uint32_t others_moving = moving - (self_moving ? 1 : 0);
    return !self_moving && same_frames >= cfg.stuck_min_frames && others > 0 &&
           2 * others_moving >= others;
}

void StuckRules::reset(std::uint64_t first, std::uint64_t count) {
    for (std::uint64_t c = first; c < first + count; ++c) {
        voltage_change_[c] = ChangeTracker{};
        temperature_change_[c] = ChangeTracker{};
    }
}

void StuckRules::check_module(RackEvaluation& eval, const ModuleReadings& module) {
    const AlarmConfig& cfg = eval.config;
    const double now_s = eval.now_s;

    // First note every change, then count the movers.
    std::uint32_t voltage_valid = 0;
    std::uint32_t voltage_moving = 0;
    std::uint32_t temperature_valid = 0;
    std::uint32_t temperature_moving = 0;
    for (std::uint32_t i = 0; i < module.cells.size(); ++i) {
        const CellReading& cell = module.cells[i];
        const std::uint64_t c = module.first_cell + i;
        if (cell.out_of_service) {
            continue;  // a dead cell neither moves nor sticks for its peers
        }
        if (std::isfinite(cell.voltage_v)) {
            ++voltage_valid;
            voltage_moving += voltage_change_[c].note(cell.voltage_v, now_s, cfg.stuck_time_s);
        }
        if (std::isfinite(cell.temperature_c)) {
            ++temperature_valid;
            temperature_moving +=
                temperature_change_[c].note(cell.temperature_c, now_s, cfg.stuck_time_s);
        }
    }

    // Stuck: this reading has not moved, at least half of the others have.
    // The value of the event is how long it has not moved.
    for (std::uint32_t i = 0; i < module.cells.size(); ++i) {
        const CellReading& cell = module.cells[i];
        const std::uint64_t c = module.first_cell + i;
        Flags& flags = flags_[c];
        const bool v_stuck = !cell.out_of_service && std::isfinite(cell.voltage_v) &&
                             voltage_change_[c].stuck(now_s, cfg, voltage_valid, voltage_moving);
        cell_rule(eval, flags.voltage, Rule::voltage_stuck, c, v_stuck, !v_stuck,
                  cfg.sensor_debounce, static_cast<float>(now_s - voltage_change_[c].changed_s),
                  static_cast<float>(cfg.stuck_time_s));
        const bool t_stuck =
            !cell.out_of_service && std::isfinite(cell.temperature_c) &&
            temperature_change_[c].stuck(now_s, cfg, temperature_valid, temperature_moving);
        cell_rule(eval, flags.temperature, Rule::temperature_stuck, c, t_stuck, !t_stuck,
                  cfg.sensor_debounce, static_cast<float>(now_s - temperature_change_[c].changed_s),
                  static_cast<float>(cfg.stuck_time_s));
    }
}

}  // namespace brt::alarm_detail
