// Outliers against the module's peers, once per outlier window: a robust
// z-score (median and MAD) of the resistance (resistance_outlier, high side
// only) and of the SoC lost over the window (self_discharge). A window
// already averages, so one bad window raises and one good one clears.
#include <algorithm>
#include <cmath>

#include "common/alarm/alarm_rule_families.hpp"

namespace brt::alarm_detail {

namespace {

// Floors of the robust scale (1.4826 x MAD), so a module of identical cells
// does not turn a rounding difference into a large z-score: 1 % of the
// median resistance, 0.2 % SoC per hour.
constexpr float kResistanceScaleFloor = 0.01f;
constexpr float kSelfDischargeScaleFloorPctPerH = 0.2f;

}  // namespace

void OutlierRules::reset(std::uint64_t first, std::uint64_t count) {
    for (std::uint64_t c = first; c < first + count; ++c) {
        soc_at_window_start_[c] = NAN;
    }
}

void OutlierRules::check_rack(RackEvaluation& eval) {
    const AlarmConfig& cfg = eval.config;
    const std::uint64_t first = eval.geometry.cell_index(eval.rack, 0, 0);
    const std::uint64_t count = eval.geometry.cells_per_rack();
    const std::uint64_t offset = eval.frame.range.first_cell;
    const auto resistance = eval.resistance_ohm;
    const auto soc = eval.soc;

    // A cell's first window starts with the first frame that shows it.
    for (std::uint64_t c = first; c < first + count; ++c) {
        if (std::isnan(soc_at_window_start_[c])) {
            soc_at_window_start_[c] = soc[c - offset];
        }
    }
    if (!eval.window_due) {
        return;
    }

    const double window_s = eval.window_s;
    std::vector<float>& scratch = eval.scratch;
    const std::uint32_t cpm = eval.geometry.cells_per_module;
    const Debounce once{1, 1};  // a window already averages
    std::vector<float> loss_pct_per_h(cpm);
    for (std::uint64_t module_first = first; module_first < first + count; module_first += cpm) {
        const std::uint64_t local = module_first - offset;

        // Resistance: high side only (a degrading cell's resistance grows).
        scratch.clear();
        // Dead cells are out of service: not peers, not outliers.
        const auto in_service = [&](std::uint32_t i) {
            return eval.out_of_service[module_first + i] == 0;
        };
        for (std::uint32_t i = 0; i < cpm; ++i) {
            if (in_service(i) && std::isfinite(resistance[local + i])) {
                scratch.push_back(resistance[local + i]);
            }
        }
        if (scratch.size() >= kMinPeers) {
            auto [median, scale] = median_and_scale(scratch);
            scale = std::max(scale, kResistanceScaleFloor * median);
            for (std::uint32_t i = 0; i < cpm; ++i) {
                const std::uint64_t c = module_first + i;
                const float r = resistance[local + i];
                const float z =
                    in_service(i) && std::isfinite(r) && scale > 0 ? (r - median) / scale : NAN;
                const bool bad =
                    z >= cfg.resistance_z && r - median >= cfg.resistance_min_deviation * median;
                cell_rule(eval, flags_[c].resistance, Rule::resistance_outlier, c, bad,
                          !in_service(i) || (std::isfinite(z) && !bad), once, z, cfg.resistance_z);
            }
        }

        // Self-discharge: SoC lost over the window, against the module median.
        scratch.clear();
        for (std::uint32_t i = 0; i < cpm; ++i) {
            const std::uint64_t c = module_first + i;
            const float start = soc_at_window_start_[c];
            const float now = soc[local + i];
            loss_pct_per_h[i] =
                in_service(i) && std::isfinite(start) && std::isfinite(now) && window_s > 0
                    ? static_cast<float>((start - now) / window_s * 3600.0 * 100.0)
                    : NAN;
            if (std::isfinite(loss_pct_per_h[i])) {
                scratch.push_back(loss_pct_per_h[i]);
            }
            soc_at_window_start_[c] = now;
        }
        if (scratch.size() >= kMinPeers) {
            auto [median, scale] = median_and_scale(scratch);
            scale = std::max(scale, kSelfDischargeScaleFloorPctPerH);
            const float threshold =
                std::max(cfg.self_discharge_min_pct_per_h, cfg.self_discharge_z * scale);
            for (std::uint32_t i = 0; i < cpm; ++i) {
                const std::uint64_t c = module_first + i;
                const float excess = loss_pct_per_h[i] - median;
                const bool bad = excess >= threshold;
                cell_rule(eval, flags_[c].self_discharge, Rule::self_discharge, c, bad,
                          !in_service(i) || (std::isfinite(excess) && !bad), once, excess,
                          threshold);
            }
        }
    }
}

}  // namespace brt::alarm_detail
