#include "common/alarm/alarm_engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <tuple>

#include "common/segment/errors.hpp"
#include "common/segment/segment_layout.hpp"

namespace brt {

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
// Floors of the robust scale (1.4826 x MAD) for the outlier rules, so a
// module of identical cells does not turn a rounding difference into a
// large z-score: 1 % of the median resistance, 0.2 % SoC per hour.
constexpr float kResistanceScaleFloor = 0.01f;
constexpr float kSelfDischargeScaleFloorPctPerH = 0.2f;
constexpr float kMadToSigma = 1.4826f;
// Fewer valid cells than this in a module: no median-based rule for it.
constexpr std::size_t kMinPeers = 3;

constexpr std::uint32_t kSensorFaultBits =
    cell_status::voltage_sensor_fault | cell_status::temperature_sensor_fault |
    cell_status::current_sensor_fault | cell_status::dropout | cell_status::open_wire |
    cell_status::stuck | cell_status::offset_drift;

// The per-cell rules, in the order of their debounce slots.
constexpr std::array<Rule, 12> kCellRules = {
    Rule::voltage_plausibility,  Rule::temperature_plausibility,
    Rule::sensor_dropout,        Rule::voltage_range,
    Rule::temperature_range,     Rule::voltage_stuck,
    Rule::temperature_stuck,     Rule::sensor_status,
    Rule::temperature_rise_rate, Rule::thermal_runaway,
    Rule::resistance_outlier,    Rule::self_discharge,
};
enum CellSlot : std::size_t {
    kVoltagePlausibility,
    kTemperaturePlausibility,
    kDropout,
    kVoltageRange,
    kTemperatureRange,
    kVoltageStuck,
    kTemperatureStuck,
    kSensorStatus,
    kRiseRate,
    kRunaway,
    kResistanceOutlier,
    kSelfDischarge,
    kCellSlotCount,
};
static_assert(kCellSlotCount == kCellRules.size());
constexpr std::size_t kLimitRuleCount = static_cast<std::size_t>(Rule::soh_low) + 1;

// An up/down counter with a flag. `bad`: the value is beyond the limit;
// `good`: back inside it by the hysteresis. Values in between move nothing
// but the counter's decay.
struct DebounceState {
    std::uint16_t counter = 0;
    bool active = false;
};

enum class Step { none, raise, clear };

Step debounce_slow(DebounceState& state, bool bad, bool good, const Debounce& debounce) {
    if (!state.active) {
        if (bad) {
            if (++state.counter >= debounce.raise_frames) {
                state.active = true;
                state.counter = 0;
                return Step::raise;
            }
        } else if (state.counter > 0) {
            --state.counter;
        }
        return Step::none;
    }
    if (good) {
        if (++state.counter >= debounce.clear_frames) {
            state.active = false;
            state.counter = 0;
            return Step::clear;
        }
    } else if (state.counter > 0) {
        --state.counter;
    }
    return Step::none;
}

// Nearly every flag of nearly every frame is down, at zero and fine.
inline Step debounce_step(DebounceState& state, bool bad, bool good, const Debounce& debounce) {
    if (!bad && !state.active && state.counter == 0) {
        return Step::none;
    }
    return debounce_slow(state, bad, good, debounce);
}

// When one sensor's reading last changed, for the stuck rules.
struct ChangeTracker {
    float last = NAN;
    std::uint32_t same_frames = 0;
    double changed_s = 0;

    // Notes a finite reading; true when it moved within the last `window_s`.
    bool note(float value, double now_s, double window_s) {
        const bool changed = value != last;
        last = value;
        changed_s = changed ? now_s : changed_s;
        same_frames = changed ? 0 : same_frames + 1;
        return now_s - changed_s < window_s;
    }
    // Stuck: unchanged long enough while at least half of the module's
    // other valid readings (`valid` and `moving` count this one too) moved.
    bool stuck(double now_s, const AlarmConfig& cfg, std::uint32_t valid,
               std::uint32_t moving) const {
        const double still_s = now_s - changed_s;
        const bool self_moving = still_s < cfg.stuck_time_s;
        const std::uint32_t others = valid - 1;
        const std::uint32_t others_moving = moving - (self_moving ? 1 : 0);
        return !self_moving && same_frames >= cfg.stuck_min_frames && others > 0 &&
               2 * others_moving >= others;
    }
};

struct AlarmKey {
    Rule rule;
    Severity severity;
    std::uint32_t rack;
    std::uint32_t module;
    std::uint32_t cell;
    bool operator<(const AlarmKey& other) const {
        return std::tie(rule, severity, rack, module, cell) <
               std::tie(other.rule, other.severity, other.rack, other.module, other.cell);
    }
};

float median_of(std::vector<float>& values) {
    const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
    std::nth_element(values.begin(), middle, values.end());
    float median = *middle;
    if (values.size() % 2 == 0) {
        median = 0.5f * (median + *std::max_element(values.begin(), middle));
    }
    return median;
}

// Median and robust sigma (1.4826 x median absolute deviation).
std::pair<float, float> median_and_scale(std::vector<float>& values) {
    const float median = median_of(values);
    for (float& value : values) {
        value = std::fabs(value - median);
    }
    return {median, kMadToSigma * median_of(values)};
}

}  // namespace

struct AlarmEngine::State {
    AlarmConfig config;
    Geometry geometry;
    std::vector<Chemistry> chemistry;
    std::vector<float> capacity_ah;

    // Rack limit flags: [rack][rule][severity].
    std::vector<std::array<std::array<DebounceState, kSeverityCount>, kLimitRuleCount>> rack_flags;
    std::vector<DebounceState> module_imbalance;
    std::vector<std::array<DebounceState, kCellSlotCount>> cell_flags;

    // Per-cell trend state.
    std::vector<ChangeTracker> voltage_change;
    std::vector<ChangeTracker> temperature_change;
    std::vector<float> temperature_level;  // NaN: not started
    std::vector<float> temperature_rate;   // K/s
    std::vector<double> rate_started_s;    // when temperature_level was started
    std::vector<double> runaway_since_s;   // < 0: rate below the runaway rate
    std::vector<float> soc_at_window_start;

    double last_sim_s = 0;
    bool started = false;
    double window_start_s = 0;
    std::uint64_t frames = 0;
    std::uint64_t last_frame = 0;

    DebounceState liveness;
    std::map<AlarmKey, ActiveAlarm> active;
    AlarmCounts raised;

    // Scratch for medians, reused every module.
    std::vector<float> scratch;

    // The frame being evaluated, for the events it makes.
    const FrameBuffer* frame = nullptr;
    std::uint64_t now_realtime_ns = 0;
    std::vector<AlarmEvent>* events = nullptr;

    AlarmLocation location_of(std::uint64_t cell) const {
        const std::uint64_t per_rack = geometry.cells_per_rack();
        return {static_cast<std::uint32_t>(cell / per_rack),
                static_cast<std::uint32_t>((cell % per_rack) / geometry.cells_per_module),
                static_cast<std::uint32_t>(cell % geometry.cells_per_module)};
    }

    void emit(Step step, Rule rule, Severity severity, const AlarmKey& key,
              const AlarmLocation& location, float value, float limit, std::string detail = {}) {
        if (step == Step::none) {
            return;
        }
        AlarmEvent event;
        event.rule = rule;
        event.severity = severity;
        event.value = value;
        event.limit = limit;
        event.detected_realtime_ns = now_realtime_ns;
        event.detail = std::move(detail);
        if (frame != nullptr) {
            event.frame_number = frame->frame_number;
            event.frame_realtime_ns = frame->wall_time_ns;
            event.publish_monotonic_ns = frame->publish_monotonic_ns;
        } else {
            event.frame_number = last_frame;
        }
        if (step == Step::raise) {
            event.transition = AlarmTransition::raise;
            event.location = location;
            ActiveAlarm alarm{rule,  severity,           location,       value,
                              limit, event.frame_number, now_realtime_ns};
            active[key] = alarm;
            ++raised.by_severity[static_cast<std::size_t>(severity)];
        } else {
            event.transition = AlarmTransition::clear;
            const auto found = active.find(key);
            event.location = found != active.end() ? found->second.location : location;
            if (found != active.end()) {
                event.limit = found->second.limit;
                active.erase(found);
            }
        }
        events->push_back(std::move(event));
    }

    void reset_trends(std::uint64_t first, std::uint64_t count) {
        for (std::uint64_t c = first; c < first + count; ++c) {
            voltage_change[c] = ChangeTracker{};
            temperature_change[c] = ChangeTracker{};
            temperature_level[c] = NAN;
            temperature_rate[c] = 0;
            runaway_since_s[c] = -1;
            soc_at_window_start[c] = NAN;
        }
    }

    void evaluate_rack(std::uint32_t rack, double now_s, double dt_s, bool window_due,
                       double window_s);
    void evaluate_limits(std::uint32_t rack, const std::array<float, kLimitRuleCount>& values,
                         const std::array<std::uint64_t, kLimitRuleCount>& cells);
    void evaluate_outliers(std::uint64_t first, std::uint64_t count, double window_s);
};

AlarmEngine::AlarmEngine(AlarmConfig config, Geometry geometry,
                         std::vector<Chemistry> rack_chemistry, std::vector<float> rack_capacity_ah)
    : state_(std::make_unique<State>()) {
    config.validate();
    if (rack_chemistry.size() != geometry.racks || rack_capacity_ah.size() != geometry.racks) {
        throw UsageError(
            fmt::format("alarm engine: {} racks but {} chemistry and {} capacity entries",
                        geometry.racks, rack_chemistry.size(), rack_capacity_ah.size()));
    }
    State& s = *state_;
    s.config = config;
    s.geometry = geometry;
    s.chemistry = std::move(rack_chemistry);
    s.capacity_ah = std::move(rack_capacity_ah);
    const std::uint64_t cells = geometry.cell_count();
    s.rack_flags.resize(geometry.racks);
    s.module_imbalance.resize(std::uint64_t{geometry.racks} * geometry.modules_per_rack);
    s.cell_flags.resize(cells);
    s.voltage_change.resize(cells);
    s.temperature_change.resize(cells);
    s.temperature_level.resize(cells);
    s.temperature_rate.resize(cells);
    s.rate_started_s.resize(cells);
    s.runaway_since_s.resize(cells);
    s.soc_at_window_start.resize(cells);
    s.reset_trends(0, cells);
    s.scratch.reserve(geometry.cells_per_module);
}

AlarmEngine AlarmEngine::for_segment(AlarmConfig config, const MappedSegment& segment) {
    const SegmentLayout& layout = segment.layout();
    const Geometry& geometry = layout.geometry;
    const auto* chemistry_codes = segment.at<const std::uint32_t>(layout.rack_chemistry_offset);
    const auto* cell_capacity = segment.at<const float>(layout.cell_capacity_offset);
    std::vector<Chemistry> chemistry(geometry.racks);
    std::vector<float> capacity(geometry.racks);
    for (std::uint32_t rack = 0; rack < geometry.racks; ++rack) {
        // The segment validated its codes; anything unknown gets NMC limits,
        // as in the simulator.
        chemistry[rack] = chemistry_codes[rack] == static_cast<std::uint32_t>(Chemistry::lfp)
                              ? Chemistry::lfp
                              : Chemistry::nmc;
        const float ah = cell_capacity[geometry.cell_index(rack, 0, 0)];
        capacity[rack] =
            std::isfinite(ah) && ah > 0 ? ah : default_nominal_capacity_ah(chemistry[rack]);
    }
    return AlarmEngine(std::move(config), geometry, std::move(chemistry), std::move(capacity));
}

AlarmEngine::AlarmEngine(AlarmEngine&&) noexcept = default;
AlarmEngine& AlarmEngine::operator=(AlarmEngine&&) noexcept = default;
AlarmEngine::~AlarmEngine() = default;

std::vector<AlarmEvent> AlarmEngine::evaluate(const FrameBuffer& frame,
                                              std::uint64_t now_realtime_ns) {
    State& s = *state_;
    const std::uint64_t per_rack = s.geometry.cells_per_rack();
    const CellRange range = frame.range;
    if (range.first_cell % per_rack != 0 || range.cell_count % per_rack != 0 ||
        range.cell_count == 0 || range.first_cell + range.cell_count > s.geometry.cell_count() ||
        frame.racks.size() != s.geometry.racks) {
        throw std::invalid_argument(
            "AlarmEngine::evaluate: the frame must hold whole racks of the engine's geometry");
    }
    std::vector<AlarmEvent> events;
    s.frame = &frame;
    s.now_realtime_ns = now_realtime_ns;
    s.events = &events;

    const double now_s = static_cast<double>(frame.sim_time_ns) * 1e-9;
    if (s.started && now_s < s.last_sim_s) {
        // Simulated time went backwards: a new writer started over. Trends
        // restart; the debounced flags keep their state.
        s.reset_trends(0, s.geometry.cell_count());
        s.started = false;
    }
    double dt_s = 0;
    if (!s.started) {
        s.started = true;
        s.window_start_s = now_s;
    } else {
        dt_s = now_s - s.last_sim_s;
    }
    const double window_s = now_s - s.window_start_s;
    const bool window_due = window_s >= s.config.outlier_window_s;

    const auto first_rack = static_cast<std::uint32_t>(range.first_cell / per_rack);
    const auto rack_count = static_cast<std::uint32_t>(range.cell_count / per_rack);
    for (std::uint32_t rack = first_rack; rack < first_rack + rack_count; ++rack) {
        s.evaluate_rack(rack, now_s, dt_s, window_due, window_s);
    }
    if (window_due) {
        s.window_start_s = now_s;
    }
    s.last_sim_s = now_s;
    ++s.frames;
    s.last_frame = frame.frame_number;
    s.frame = nullptr;
    s.events = nullptr;
    return events;
}

void AlarmEngine::State::evaluate_rack(std::uint32_t rack, double now_s, double dt_s,
                                       bool window_due, double window_s) {
    const AlarmConfig& cfg = config;
    const ChemistryLimits& limits = config.limits(chemistry[rack]);
    const std::uint64_t offset = frame->range.first_cell;
    const auto voltage = frame->column(Field::voltage_v);
    const auto current = frame->column(Field::current_a);
    const auto temperature = frame->column(Field::temperature_c);
    const auto soc = frame->column(Field::soc);
    const auto resistance = frame->column(Field::resistance_ohm);
    const auto soh = frame->column(Field::soh);
    const auto& status = frame->status;

    // Per frame, not per cell: the filters' gains and 1/dt in float.
    const float level_gain =
        dt_s > 0 ? static_cast<float>(1.0 - std::exp(-dt_s / kLevelTimeConstantS)) : 0.0f;
    const float rate_gain =
        dt_s > 0 ? static_cast<float>(1.0 - std::exp(-dt_s / kRateTimeConstantS)) : 0.0f;
    const float inverse_dt = dt_s > 0 ? static_cast<float>(1.0 / dt_s) : 0.0f;
    const float runaway_temperature_c = limits.temperature_max_discharge_c.mol;

    // Rack aggregates over valid readings: worst value and its cell.
    std::array<float, kLimitRuleCount> worst;
    worst.fill(NAN);
    std::array<std::uint64_t, kLimitRuleCount> worst_cell{};
    auto take = [&](Rule rule, float value, std::uint64_t cell, bool higher_is_worse) {
        float& slot = worst[static_cast<std::size_t>(rule)];
        if (std::isnan(slot) || (higher_is_worse ? value > slot : value < slot)) {
            slot = value;
            worst_cell[static_cast<std::size_t>(rule)] = cell;
        }
    };

    const std::uint32_t cpm = geometry.cells_per_module;
    for (std::uint32_t module = 0; module < geometry.modules_per_rack; ++module) {
        const std::uint64_t first = geometry.cell_index(rack, module, 0);
        const std::uint64_t local = first - offset;

        // Module medians of the valid voltage and temperature readings.
        float median_v = NAN;
        float median_t = NAN;
        scratch.clear();
        for (std::uint32_t i = 0; i < cpm; ++i) {
            const float v = voltage[local + i];
            if (std::isfinite(v) && (status[local + i] & cell_status::voltage_sensor_fault) == 0) {
                scratch.push_back(v);
            }
        }
        if (scratch.size() >= kMinPeers) {
            median_v = median_of(scratch);
        }
        scratch.clear();
        for (std::uint32_t i = 0; i < cpm; ++i) {
            const float t = temperature[local + i];
            if (std::isfinite(t) &&
                (status[local + i] & cell_status::temperature_sensor_fault) == 0) {
                scratch.push_back(t);
            }
        }
        if (scratch.size() >= kMinPeers) {
            median_t = median_of(scratch);
        }

        // Stuck sensors: first note every change, then count the movers.
        std::uint32_t voltage_valid = 0;
        std::uint32_t voltage_moving = 0;
        std::uint32_t temperature_valid = 0;
        std::uint32_t temperature_moving = 0;
        for (std::uint32_t i = 0; i < cpm; ++i) {
            const std::uint64_t c = first + i;
            const float v = voltage[local + i];
            const float t = temperature[local + i];
            if (std::isfinite(v)) {
                ++voltage_valid;
                voltage_moving += voltage_change[c].note(v, now_s, cfg.stuck_time_s);
            }
            if (std::isfinite(t)) {
                ++temperature_valid;
                temperature_moving += temperature_change[c].note(t, now_s, cfg.stuck_time_s);
            }
        }

        float spread_min = NAN;
        float spread_max = NAN;
        for (std::uint32_t i = 0; i < cpm; ++i) {
            const std::uint64_t c = first + i;
            const std::uint64_t l = local + i;
            const float v = voltage[l];
            const float t = temperature[l];
            const std::uint32_t bits = status[l];
            auto& flags = cell_flags[c];
            const AlarmLocation where{rack, module, i};
            auto cell_rule = [&](CellSlot slot, bool bad, bool good, const Debounce& debounce,
                                 float value, float limit) {
                const Rule rule = kCellRules[slot];
                const Step step = debounce_step(flags[slot], bad, good, debounce);
                if (step != Step::none) {
                    const Severity severity = rule_fixed_severity(rule);
                    emit(step, rule, severity,
                         {rule, severity, where.rack, where.module, where.cell}, where, value,
                         limit);
                }
            };
            // A reading outside the physical range is a sensor's, not a
            // cell's (an open thermistor reads the -40 °C rail): like one the
            // front end flags, it is left out of the rack's limits.
            const bool v_out =
                std::isfinite(v) && (v < cfg.voltage_range_min_v || v > cfg.voltage_range_max_v);
            const bool t_out = std::isfinite(t) &&
                               (t < cfg.temperature_range_min_c || t > cfg.temperature_range_max_c);
            const bool v_valid =
                std::isfinite(v) && !v_out && (bits & cell_status::voltage_sensor_fault) == 0;
            const bool t_valid =
                std::isfinite(t) && !t_out && (bits & cell_status::temperature_sensor_fault) == 0;

            // Plausibility against the module median.
            const float dv = std::isfinite(median_v) && std::isfinite(v) ? v - median_v : NAN;
            const bool v_implausible = std::fabs(dv) > cfg.voltage_plausibility_v;
            cell_rule(kVoltagePlausibility, v_implausible, !v_implausible, cfg.sensor_debounce, dv,
                      cfg.voltage_plausibility_v);
            const float dt = std::isfinite(median_t) && std::isfinite(t) ? t - median_t : NAN;
            const bool t_implausible = std::fabs(dt) > cfg.temperature_plausibility_k;
            cell_rule(kTemperaturePlausibility, t_implausible, !t_implausible, cfg.sensor_debounce,
                      dt, cfg.temperature_plausibility_k);

            const bool dropout = std::isnan(v) || std::isnan(t) || std::isnan(current[l]) ||
                                 std::isnan(soc[l]) || std::isnan(resistance[l]) ||
                                 std::isnan(soh[l]) || (bits & cell_status::dropout) != 0;
            cell_rule(kDropout, dropout, !dropout, cfg.sensor_debounce, NAN, NAN);

            cell_rule(
                kVoltageRange, v_out, !v_out, cfg.sensor_debounce, v,
                v < cfg.voltage_range_min_v ? cfg.voltage_range_min_v : cfg.voltage_range_max_v);
            cell_rule(kTemperatureRange, t_out, !t_out, cfg.sensor_debounce, t,
                      t < cfg.temperature_range_min_c ? cfg.temperature_range_min_c
                                                      : cfg.temperature_range_max_c);

            // Stuck: this reading has not moved, at least half of the others have.
            const bool v_stuck = std::isfinite(v) &&
                                 voltage_change[c].stuck(now_s, cfg, voltage_valid, voltage_moving);
            cell_rule(kVoltageStuck, v_stuck, !v_stuck, cfg.sensor_debounce,
                      static_cast<float>(now_s - voltage_change[c].changed_s),
                      static_cast<float>(cfg.stuck_time_s));
            const bool t_stuck =
                std::isfinite(t) &&
                temperature_change[c].stuck(now_s, cfg, temperature_valid, temperature_moving);
            cell_rule(kTemperatureStuck, t_stuck, !t_stuck, cfg.sensor_debounce,
                      static_cast<float>(now_s - temperature_change[c].changed_s),
                      static_cast<float>(cfg.stuck_time_s));

            const std::uint32_t fault_bits = bits & kSensorFaultBits;
            cell_rule(kSensorStatus, fault_bits != 0, fault_bits == 0, cfg.sensor_debounce,
                      static_cast<float>(fault_bits), 0.0f);

            // dT/dt: smoothed level, smoothed derivative of the level.
            if (std::isfinite(t)) {
                float& level = temperature_level[c];
                if (std::isnan(level)) {
                    level = t;
                    rate_started_s[c] = now_s;
                } else if (dt_s > 0) {
                    const float previous = level;
                    level += level_gain * (t - level);
                    const float instant = (level - previous) * inverse_dt;
                    temperature_rate[c] += rate_gain * (instant - temperature_rate[c]);
                }
            }
            const bool rate_settled =
                !std::isnan(temperature_level[c]) && now_s - rate_started_s[c] >= kRateWarmupS;
            const float rate = rate_settled ? temperature_rate[c] : 0.0f;
            cell_rule(kRiseRate, rate > cfg.temperature_rate_warning_k_per_s,
                      rate <= 0.5f * cfg.temperature_rate_warning_k_per_s, cfg.trend_debounce, rate,
                      cfg.temperature_rate_warning_k_per_s);
            // Runaway confirmation (GB 38031): the rate held long enough,
            // with a voltage drop or an over-temperature. Latched.
            if (rate >= cfg.runaway_rate_k_per_s) {
                if (runaway_since_s[c] < 0) {
                    runaway_since_s[c] = now_s;
                }
            } else {
                runaway_since_s[c] = -1;
            }
            const bool voltage_dropped = std::isfinite(v) && std::isfinite(median_v) &&
                                         v < (1.0f - cfg.runaway_voltage_drop) * median_v;
            const bool overheated = std::isfinite(t) && std::isfinite(runaway_temperature_c) &&
                                    t >= runaway_temperature_c;
            const bool confirmed = runaway_since_s[c] >= 0 &&
                                   now_s - runaway_since_s[c] > cfg.runaway_confirm_s &&
                                   (voltage_dropped || overheated);
            cell_rule(kRunaway, confirmed, false, Debounce{1, 1}, rate, cfg.runaway_rate_k_per_s);

            // Rack aggregates.
            if (v_valid) {
                take(Rule::cell_overvoltage, v, c, true);
                take(Rule::cell_undervoltage, v, c, false);
                // Readings the front end flags are left out (v_valid): a
                // sensor fault is not an imbalance; a discharged cell is.
                spread_min = std::isnan(spread_min) ? v : std::min(spread_min, v);
                spread_max = std::isnan(spread_max) ? v : std::max(spread_max, v);
            }
            if (t_valid) {
                // The charge and discharge rules share the hottest and the
                // coldest cell (copied after the loop); which applies
                // depends on the rack's current.
                take(Rule::overtemperature_discharge, t, c, true);
                take(Rule::undertemperature_discharge, t, c, false);
            }
            if (std::isfinite(soc[l])) {
                take(Rule::soc_high, soc[l], c, true);
                take(Rule::soc_low, soc[l], c, false);
            }
            if (std::isfinite(soh[l])) {
                take(Rule::soh_low, soh[l], c, false);
            }
            if (std::isnan(soc_at_window_start[c])) {
                soc_at_window_start[c] = soc[l];  // the first window starts with this frame
            }
        }

        // Imbalance: the spread of the valid voltages.
        const std::uint64_t module_index = std::uint64_t{rack} * geometry.modules_per_rack + module;
        const float spread = spread_max - spread_min;
        const bool imbalanced = spread > cfg.imbalance_spread_v;
        const bool balanced = spread <= cfg.imbalance_spread_v - cfg.voltage_hysteresis_v;
        const Step step =
            debounce_step(module_imbalance[module_index], imbalanced, balanced, cfg.trend_debounce);
        if (step != Step::none) {
            const AlarmLocation where{rack, module, kNoIndex};
            emit(step, Rule::voltage_imbalance, Severity::warning,
                 {Rule::voltage_imbalance, Severity::warning, rack, module, kNoIndex}, where,
                 spread, cfg.imbalance_spread_v);
        }
    }

    auto copy_worst = [&](Rule to, Rule from) {
        worst[static_cast<std::size_t>(to)] = worst[static_cast<std::size_t>(from)];
        worst_cell[static_cast<std::size_t>(to)] = worst_cell[static_cast<std::size_t>(from)];
    };
    copy_worst(Rule::overtemperature_charge, Rule::overtemperature_discharge);
    copy_worst(Rule::undertemperature_charge, Rule::undertemperature_discharge);
    // Rack current, discharge positive.
    const float rack_current = frame->racks[rack].current_a;
    worst[static_cast<std::size_t>(Rule::overcurrent_discharge)] = rack_current;
    worst[static_cast<std::size_t>(Rule::overcurrent_charge)] = -rack_current;
    evaluate_limits(rack, worst, worst_cell);

    if (window_due) {
        evaluate_outliers(geometry.cell_index(rack, 0, 0), geometry.cells_per_rack(), window_s);
    }
}

void AlarmEngine::State::evaluate_limits(std::uint32_t rack,
                                         const std::array<float, kLimitRuleCount>& values,
                                         const std::array<std::uint64_t, kLimitRuleCount>& cells) {
    const AlarmConfig& cfg = config;
    const ChemistryLimits& l = config.limits(chemistry[rack]);
    const float amps_per_c = capacity_ah[rack];
    const bool charging = frame->racks[rack].current_a < -cfg.charging_c_rate * amps_per_c;

    struct LimitRule {
        Rule rule;
        const LevelLimits* limits;
        bool maximum;
        float scale;  // limit units to value units
        float hysteresis;
        const Debounce* debounce;
        bool applies;
    };
    const LimitRule rules[kLimitRuleCount] = {
        {Rule::cell_overvoltage, &l.voltage_max_v, true, 1, cfg.voltage_hysteresis_v,
         &cfg.voltage_debounce, true},
        {Rule::cell_undervoltage, &l.voltage_min_v, false, 1, cfg.voltage_hysteresis_v,
         &cfg.voltage_debounce, true},
        {Rule::overtemperature_charge, &l.temperature_max_charge_c, true, 1,
         cfg.temperature_hysteresis_k, &cfg.temperature_debounce, charging},
        {Rule::overtemperature_discharge, &l.temperature_max_discharge_c, true, 1,
         cfg.temperature_hysteresis_k, &cfg.temperature_debounce, !charging},
        {Rule::undertemperature_charge, &l.temperature_min_charge_c, false, 1,
         cfg.temperature_hysteresis_k, &cfg.temperature_debounce, charging},
        {Rule::undertemperature_discharge, &l.temperature_min_discharge_c, false, 1,
         cfg.temperature_hysteresis_k, &cfg.temperature_debounce, !charging},
        {Rule::overcurrent_discharge, &l.current_max_discharge_c_rate, true, amps_per_c,
         cfg.current_hysteresis_c_rate * amps_per_c, &cfg.current_debounce, true},
        {Rule::overcurrent_charge, &l.current_max_charge_c_rate, true, amps_per_c,
         cfg.current_hysteresis_c_rate * amps_per_c, &cfg.current_debounce, true},
        {Rule::soc_high, &l.soc_max, true, 1, cfg.soc_hysteresis, &cfg.soc_debounce, true},
        {Rule::soc_low, &l.soc_min, false, 1, cfg.soc_hysteresis, &cfg.soc_debounce, true},
        {Rule::soh_low, &l.soh_min, false, 1, cfg.soh_hysteresis, &cfg.soc_debounce, true},
    };
    for (const LimitRule& rule : rules) {
        const std::size_t index = static_cast<std::size_t>(rule.rule);
        const float value = values[index];
        const bool rack_scope_current =
            rule.rule == Rule::overcurrent_discharge || rule.rule == Rule::overcurrent_charge;
        const AlarmLocation where = rack_scope_current ? AlarmLocation{rack, kNoIndex, kNoIndex}
                                                       : location_of(cells[index]);
        for (Severity severity : {Severity::info, Severity::warning, Severity::critical}) {
            const float limit = rule.limits->at(severity) * rule.scale;
            if (std::isnan(limit)) {
                continue;
            }
            bool bad = false;
            bool good = false;
            if (!rule.applies) {
                good = true;
            } else if (std::isfinite(value)) {
                bad = rule.maximum ? value > limit : value < limit;
                good = rule.maximum ? value <= limit - rule.hysteresis
                                    : value >= limit + rule.hysteresis;
            }
            auto& flag = rack_flags[rack][index][static_cast<std::size_t>(severity)];
            const Step step = debounce_step(flag, bad, good, *rule.debounce);
            emit(step, rule.rule, severity, {rule.rule, severity, rack, kNoIndex, kNoIndex}, where,
                 value, limit);
        }
    }
}

void AlarmEngine::State::evaluate_outliers(std::uint64_t first, std::uint64_t count,
                                           double window_s) {
    const AlarmConfig& cfg = config;
    const std::uint64_t offset = frame->range.first_cell;
    const auto resistance = frame->column(Field::resistance_ohm);
    const auto soc = frame->column(Field::soc);
    const std::uint32_t cpm = geometry.cells_per_module;
    const Debounce once{1, 1};  // a window already averages
    std::vector<float> loss_pct_per_h(cpm);
    for (std::uint64_t module_first = first; module_first < first + count; module_first += cpm) {
        const std::uint64_t local = module_first - offset;

        // Resistance: high side only (a degrading cell's resistance grows).
        scratch.clear();
        for (std::uint32_t i = 0; i < cpm; ++i) {
            if (std::isfinite(resistance[local + i])) {
                scratch.push_back(resistance[local + i]);
            }
        }
        if (scratch.size() >= kMinPeers) {
            auto [median, scale] = median_and_scale(scratch);
            scale = std::max(scale, kResistanceScaleFloor * median);
            for (std::uint32_t i = 0; i < cpm; ++i) {
                const std::uint64_t c = module_first + i;
                const float r = resistance[local + i];
                const float z = std::isfinite(r) && scale > 0 ? (r - median) / scale : NAN;
                const bool bad =
                    z >= cfg.resistance_z && r - median >= cfg.resistance_min_deviation * median;
                const Step step = debounce_step(cell_flags[c][kResistanceOutlier], bad,
                                                std::isfinite(z) && !bad, once);
                if (step != Step::none) {
                    const AlarmLocation where = location_of(c);
                    emit(step, Rule::resistance_outlier, Severity::warning,
                         {Rule::resistance_outlier, Severity::warning, where.rack, where.module,
                          where.cell},
                         where, z, cfg.resistance_z);
                }
            }
        }

        // Self-discharge: SoC lost over the window, against the module median.
        scratch.clear();
        for (std::uint32_t i = 0; i < cpm; ++i) {
            const std::uint64_t c = module_first + i;
            const float start = soc_at_window_start[c];
            const float now = soc[local + i];
            loss_pct_per_h[i] = std::isfinite(start) && std::isfinite(now) && window_s > 0
                                    ? static_cast<float>((start - now) / window_s * 3600.0 * 100.0)
                                    : NAN;
            if (std::isfinite(loss_pct_per_h[i])) {
                scratch.push_back(loss_pct_per_h[i]);
            }
            soc_at_window_start[c] = now;
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
                const Step step = debounce_step(cell_flags[c][kSelfDischarge], bad,
                                                std::isfinite(excess) && !bad, once);
                if (step != Step::none) {
                    const AlarmLocation where = location_of(c);
                    emit(step, Rule::self_discharge, Severity::warning,
                         {Rule::self_discharge, Severity::warning, where.rack, where.module,
                          where.cell},
                         where, excess, threshold);
                }
            }
        }
    }
}

std::vector<AlarmEvent> AlarmEngine::evaluate_liveness(const WriterStatus& status,
                                                       std::uint64_t now_realtime_ns) {
    State& s = *state_;
    std::vector<AlarmEvent> events;
    s.frame = nullptr;
    s.events = &events;
    s.now_realtime_ns = now_realtime_ns;
    const bool live = status.liveness == Liveness::live;
    const Step step = debounce_step(s.liveness, !live, live, Debounce{1, 1});
    const bool ever_ran =
        status.state != WriterState::never_started && status.liveness != Liveness::no_segment;
    const float age_s =
        ever_ran ? static_cast<float>(static_cast<double>(status.heartbeat_age_ns) * 1e-9) : NAN;
    const float limit_s =
        static_cast<float>(static_cast<double>(stale_after_ns(status.publish_period_ns)) * 1e-9);
    std::string detail(liveness_name(status.liveness));
    if (!status.detail.empty()) {
        detail += ": " + status.detail;
    }
    s.emit(step, Rule::writer_liveness, Severity::critical,
           {Rule::writer_liveness, Severity::critical, kNoIndex, kNoIndex, kNoIndex},
           AlarmLocation{}, age_s, limit_s, std::move(detail));
    s.events = nullptr;
    return events;
}

std::vector<ActiveAlarm> AlarmEngine::active_alarms() const {
    std::vector<ActiveAlarm> alarms;
    alarms.reserve(state_->active.size());
    for (const auto& [key, alarm] : state_->active) {
        alarms.push_back(alarm);
    }
    std::stable_sort(alarms.begin(), alarms.end(), [](const ActiveAlarm& a, const ActiveAlarm& b) {
        if (a.severity != b.severity) {
            return a.severity > b.severity;
        }
        return a.raised_frame < b.raised_frame;
    });
    return alarms;
}

AlarmCounts AlarmEngine::active_counts() const {
    AlarmCounts counts;
    for (const auto& [key, alarm] : state_->active) {
        ++counts.by_severity[static_cast<std::size_t>(alarm.severity)];
    }
    return counts;
}

AlarmCounts AlarmEngine::raised_counts() const {
    return state_->raised;
}

std::uint64_t AlarmEngine::frames_evaluated() const {
    return state_->frames;
}

std::uint64_t AlarmEngine::last_frame_evaluated() const {
    return state_->last_frame;
}

std::string_view transition_name(AlarmTransition transition) {
    return transition == AlarmTransition::raise ? "raise" : "clear";
}

std::string location_text(const AlarmLocation& location) {
    if (location.rack == kNoIndex) {
        return "system";
    }
    std::string text = fmt::format("rack {}", location.rack);
    if (location.module != kNoIndex) {
        text += fmt::format(" module {}", location.module);
        if (location.cell != kNoIndex) {
            text += fmt::format(" cell {}", location.cell);
        }
    }
    return text;
}

}  // namespace brt
