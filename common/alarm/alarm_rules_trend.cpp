// Temperature trends: the dT/dt early warning (temperature_rise_rate) and
// the thermal runaway confirmation of GB 38031 (thermal_runaway, latched).
// Both use the frames' simulated time, so they are right at any simulator
// speed.
#include <cmath>

#include "common/alarm/alarm_rule_families.hpp"

namespace brt::alarm_detail {

namespace {

// dT/dt estimator: the temperature is smoothed with this time constant and
// the smoothed value's derivative again with the second one, both in the
// frames' simulated time. Together they answer a ramp within about 3 s and
// keep the 0.1 K sensor noise below 0.02 K/s at 10 frames per second.
constexpr double kLevelTimeConstantS = 1.0;
constexpr double kRateTimeConstantS = 2.0;
// The estimate starts from one noisy reading; its first seconds are the
// filters settling, not the cell heating. No rate rule before this.
constexpr double kRateWarmupS = 10.0;

}  // namespace

void TrendRules::reset(std::uint64_t first, std::uint64_t count) {
    for (std::uint64_t c = first; c < first + count; ++c) {
        level_[c] = NAN;
        rate_k_per_s_[c] = 0;
        runaway_since_s_[c] = -1;
    }
}

TrendRules::RackSettings TrendRules::rack_settings(const RackEvaluation& eval) {
    const double dt_s = eval.dt_s;
    RackSettings settings;
    settings.level_gain =
        dt_s > 0 ? static_cast<float>(1.0 - std::exp(-dt_s / kLevelTimeConstantS)) : 0.0f;
    settings.rate_gain =
        dt_s > 0 ? static_cast<float>(1.0 - std::exp(-dt_s / kRateTimeConstantS)) : 0.0f;
    settings.inverse_dt = dt_s > 0 ? static_cast<float>(1.0 / dt_s) : 0.0f;
    settings.runaway_temperature_c = eval.limits.temperature_max_discharge_c.mol;
    return settings;
}

void TrendRules::check_module(RackEvaluation& eval, const RackSettings& settings,
                              const ModuleReadings& module) {
    const AlarmConfig& cfg = eval.config;
    const double now_s = eval.now_s;
    for (std::uint32_t i = 0; i < module.cells.size(); ++i) {
        const CellReading& cell = module.cells[i];
        const std::uint64_t c = module.first_cell + i;
        const float v = cell.voltage_v;
        const float t = cell.temperature_c;
        Flags& flags = flags_[c];

        // dT/dt: smoothed level, smoothed derivative of the level.
        if (std::isfinite(t)) {
            float& level = level_[c];
            if (std::isnan(level)) {
                level = t;
                rate_started_s_[c] = now_s;
            } else if (eval.dt_s > 0) {
                const float previous = level;
                level += settings.level_gain * (t - level);
                const float instant = (level - previous) * settings.inverse_dt;
                rate_k_per_s_[c] += settings.rate_gain * (instant - rate_k_per_s_[c]);
            }
        }
        const bool rate_settled =
            !std::isnan(level_[c]) && now_s - rate_started_s_[c] >= kRateWarmupS;
        const float rate = rate_settled ? rate_k_per_s_[c] : 0.0f;
        // A dead cell's temperature is its own latched alarm's business.
        const bool rising = !cell.out_of_service && rate > cfg.temperature_rate_warning_k_per_s;
        cell_rule(eval, flags.rise_rate, Rule::temperature_rise_rate, c, rising,
                  cell.out_of_service || rate <= 0.5f * cfg.temperature_rate_warning_k_per_s,
                  cfg.trend_debounce, rate, cfg.temperature_rate_warning_k_per_s);

        // Runaway confirmation (GB 38031): the rate held long enough, with a
        // voltage drop or an over-temperature. Latched: it clears only when
        // the writer starts a new simulation. From the next frame on the
        // cell is out of service.
        if (rate >= cfg.runaway_rate_k_per_s) {
            if (runaway_since_s_[c] < 0) {
                runaway_since_s_[c] = now_s;
            }
        } else {
            runaway_since_s_[c] = -1;
        }
        const bool voltage_dropped = std::isfinite(v) && std::isfinite(module.median_v) &&
                                     v < (1.0f - cfg.runaway_voltage_drop) * module.median_v;
        const bool overheated = std::isfinite(t) && std::isfinite(settings.runaway_temperature_c) &&
                                t >= settings.runaway_temperature_c;
        const bool confirmed = runaway_since_s_[c] >= 0 &&
                               now_s - runaway_since_s_[c] > cfg.runaway_confirm_s &&
                               (voltage_dropped || overheated);
        cell_rule(eval, flags.runaway, Rule::thermal_runaway, c, confirmed,
                  eval.writer_restarted && !confirmed, Debounce{1, 1}, rate,
                  cfg.runaway_rate_k_per_s);
        if (flags.runaway.active) {
            eval.out_of_service[c] = 1;
        }
    }
}

}  // namespace brt::alarm_detail
