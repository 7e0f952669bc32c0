#include "common/alarm/alarm_engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <tuple>

#include "common/alarm/alarm_rule_families.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/segment_layout.hpp"

namespace brt {

namespace alarm_detail {

namespace {

constexpr float kMadToSigma = 1.4826f;

}  // namespace

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

float median_of(std::vector<float>& values) {
    const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
    std::nth_element(values.begin(), middle, values.end());
    float median = *middle;
    if (values.size() % 2 == 0) {
        median = 0.5f * (median + *std::max_element(values.begin(), middle));
    }
    return median;
}

std::pair<float, float> median_and_scale(std::vector<float>& values) {
    const float median = median_of(values);
    for (float& value : values) {
        value = std::fabs(value - median);
    }
    return {median, kMadToSigma * median_of(values)};
}

void EventSink::emit(Step step, Rule rule, Severity severity, const AlarmKey& key,
                     const AlarmLocation& location, float value, float limit, std::string detail) {
    if (step == Step::none) {
        return;
    }
    AlarmEvent event;
    event.rule = rule;
    event.severity = severity;
    event.key = key;
    event.location = location;
    event.value = value;
    event.limit = limit;
    event.detected_realtime_ns = stamp_.detected_realtime_ns;
    event.detail = std::move(detail);
    event.frame_number = stamp_.frame_number;
    event.frame_realtime_ns = stamp_.frame_realtime_ns;
    event.publish_monotonic_ns = stamp_.publish_monotonic_ns;
    if (step == Step::raise) {
        event.transition = AlarmTransition::raise;
        event.worst_value = value;
        event.raised_realtime_ns = stamp_.detected_realtime_ns;
        book_.active[key] = ActiveAlarm{.rule = rule,
                                        .severity = severity,
                                        .key = key,
                                        .location = location,
                                        .value = value,
                                        .worst_value = value,
                                        .limit = limit,
                                        .raised_frame = event.frame_number,
                                        .raised_realtime_ns = stamp_.detected_realtime_ns};
        ++book_.raised.by_severity[static_cast<std::size_t>(severity)];
    } else {
        // The clear names the value now, at the place the alarm is now.
        event.transition = AlarmTransition::clear;
        const auto found = book_.active.find(key);
        if (found != book_.active.end()) {
            event.worst_value = found->second.worst_value;
            event.raised_realtime_ns = found->second.raised_realtime_ns;
            book_.active.erase(found);
        }
    }
    events_.push_back(std::move(event));
}

void EventSink::update(const AlarmKey& key, Rule rule, const AlarmLocation& location, float value,
                       float limit) {
    const auto found = book_.active.find(key);
    if (found == book_.active.end()) {
        return;
    }
    ActiveAlarm& alarm = found->second;
    alarm.rule = rule;
    alarm.location = location;
    alarm.value = value;
    alarm.limit = limit;
    if (std::isfinite(value) &&
        (std::isnan(alarm.worst_value) ||
         (rule_lower_is_worse(rule) ? value < alarm.worst_value
                                    : std::fabs(value) > std::fabs(alarm.worst_value)))) {
        alarm.worst_value = value;
    }
}

void emit_cell_step(RackEvaluation& eval, Step step, Rule rule, std::uint64_t cell, float value,
                    float limit) {
    const AlarmLocation where = eval.location_of(cell);
    const Severity severity = rule_fixed_severity(rule);
    eval.events.step(step, true, rule, severity,
                     {rule, severity, where.rack, where.module, where.cell}, where, value, limit);
}

void EventSink::order_by_cell(std::size_t first) {
    if (events_.size() - first < 2) {
        return;  // nearly always
    }
    std::stable_sort(events_.begin() + static_cast<std::ptrdiff_t>(first), events_.end(),
                     [](const AlarmEvent& a, const AlarmEvent& b) {
                         return std::tie(a.location.cell, a.rule) <
                                std::tie(b.location.cell, b.rule);
                     });
}

}  // namespace alarm_detail

using namespace alarm_detail;

namespace {

CellReading read_cell(const RackEvaluation& eval, std::uint64_t cell_index, std::uint64_t local) {
    const AlarmConfig& cfg = eval.config;
    CellReading cell;
    const float v = eval.voltage_v[local];
    const float t = eval.temperature_c[local];
    const std::uint32_t bits = eval.status[local];
    cell.voltage_v = v;
    cell.temperature_c = t;
    cell.status = bits;
    cell.out_of_service = eval.out_of_service[cell_index] != 0;
    // A reading outside the physical range is a sensor's, not a cell's (an
    // open thermistor reads the -40 °C rail): like one the front end flags,
    // it is left out of the rack's limits.
    cell.voltage_out =
        std::isfinite(v) && (v < cfg.voltage_range_min_v || v > cfg.voltage_range_max_v);
    cell.temperature_out =
        std::isfinite(t) && (t < cfg.temperature_range_min_c || t > cfg.temperature_range_max_c);
    cell.voltage_valid = !cell.out_of_service && std::isfinite(v) && !cell.voltage_out &&
                         (bits & cell_status::voltage_sensor_fault) == 0;
    cell.temperature_valid = !cell.out_of_service && std::isfinite(t) && !cell.temperature_out &&
                             (bits & cell_status::temperature_sensor_fault) == 0;
    return cell;
}

// The module's cells, read into `cells` (cells_per_module of them), and the
// medians of its valid readings.
ModuleReadings read_module(RackEvaluation& eval, std::uint32_t module,
                           std::vector<CellReading>& cells) {
    ModuleReadings m;
    m.module = module;
    m.first_cell = eval.geometry.cell_index(eval.rack, module, 0);
    m.first_local = m.first_cell - eval.frame.range.first_cell;
    const std::uint32_t cpm = eval.geometry.cells_per_module;
    cells.resize(cpm);
    for (std::uint32_t i = 0; i < cpm; ++i) {
        cells[i] = read_cell(eval, m.first_cell + i, m.first_local + i);
    }
    m.cells = cells;

    std::vector<float>& scratch = eval.scratch;
    scratch.clear();
    for (const CellReading& cell : cells) {
        if (!cell.out_of_service && std::isfinite(cell.voltage_v) &&
            (cell.status & cell_status::voltage_sensor_fault) == 0) {
            scratch.push_back(cell.voltage_v);
        }
    }
    if (scratch.size() >= kMinPeers) {
        m.median_v = median_of(scratch);
    }
    scratch.clear();
    for (const CellReading& cell : cells) {
        if (!cell.out_of_service && std::isfinite(cell.temperature_c) &&
            (cell.status & cell_status::temperature_sensor_fault) == 0) {
            scratch.push_back(cell.temperature_c);
        }
    }
    if (scratch.size() >= kMinPeers) {
        m.median_t = median_of(scratch);
    }
    return m;
}

}  // namespace

struct AlarmEngine::State {
    AlarmConfig config;
    Geometry geometry;
    std::vector<Chemistry> chemistry;
    std::vector<float> capacity_ah;

    // The rule families, each with its flags and trend state.
    LimitRules limit_rules;
    PlausibilityRules plausibility_rules;
    SensorRules sensor_rules;
    StuckRules stuck_rules;
    TrendRules trend_rules;
    ImbalanceRule imbalance_rule;
    OutlierRules outlier_rules;

    std::vector<std::uint8_t> out_of_service;  // RackEvaluation::out_of_service

    double last_sim_s = 0;
    bool started = false;
    double window_start_s = 0;
    std::uint64_t frames = 0;
    std::uint64_t last_frame = 0;

    DebounceState liveness;
    AlarmBook book;

    // Scratch reused every module: values for medians, the module's cells.
    std::vector<float> scratch;
    std::vector<CellReading> module_cells;

    State(const AlarmConfig& alarm_config, const Geometry& segment_geometry,
          std::vector<Chemistry> rack_chemistry, std::vector<float> rack_capacity_ah)
        : config(alarm_config),
          geometry(segment_geometry),
          chemistry(std::move(rack_chemistry)),
          capacity_ah(std::move(rack_capacity_ah)),
          limit_rules(geometry.racks),
          plausibility_rules(geometry.cell_count()),
          sensor_rules(geometry.cell_count()),
          stuck_rules(geometry.cell_count()),
          trend_rules(geometry.cell_count()),
          imbalance_rule(std::uint64_t{geometry.racks} * geometry.modules_per_rack),
          outlier_rules(geometry.cell_count()),
          out_of_service(geometry.cell_count(), 0) {
        reset_trends(0, geometry.cell_count());
        scratch.reserve(geometry.cells_per_module);
        module_cells.reserve(geometry.cells_per_module);
    }

    // The state that follows a reading over time; the debounced flags stay.
    void reset_trends(std::uint64_t first, std::uint64_t count) {
        stuck_rules.reset(first, count);
        trend_rules.reset(first, count);
        outlier_rules.reset(first, count);
    }

    // Every family on one rack, in the order of the events (see
    // alarm_rule_families.hpp).
    void evaluate_rack(RackEvaluation& eval) {
        const TrendRules::RackSettings trend_settings = TrendRules::rack_settings(eval);
        RackExtremes extremes;
        for (std::uint32_t m = 0; m < geometry.modules_per_rack; ++m) {
            const ModuleReadings module = read_module(eval, m, module_cells);
            const std::size_t first_event = eval.events.size();
            plausibility_rules.check_module(eval, module);
            sensor_rules.check_module(eval, module);
            stuck_rules.check_module(eval, module);
            trend_rules.check_module(eval, trend_settings, module);
            eval.events.order_by_cell(first_event);
            LimitRules::add_module(extremes, eval, module);
            imbalance_rule.check_module(eval, module);
        }
        limit_rules.check_rack(eval, extremes);
        outlier_rules.check_rack(eval);
    }
};

AlarmEngine::AlarmEngine(AlarmConfig config, Geometry geometry,
                         std::vector<Chemistry> rack_chemistry,
                         std::vector<float> rack_capacity_ah) {
    config.validate();
    if (rack_chemistry.size() != geometry.racks || rack_capacity_ah.size() != geometry.racks) {
        throw UsageError(
            fmt::format("alarm engine: {} racks but {} chemistry and {} capacity entries",
                        geometry.racks, rack_chemistry.size(), rack_capacity_ah.size()));
    }
    state_ = std::make_unique<State>(config, geometry, std::move(rack_chemistry),
                                     std::move(rack_capacity_ah));
}

AlarmEngine AlarmEngine::for_segment(AlarmConfig config, const MappedSegment& segment) {
    const Geometry& geometry = segment.layout().geometry;
    std::vector<Chemistry> chemistry = segment.rack_chemistries();
    const std::span<const float> cell_capacity = segment.cell_capacity_ah();
    std::vector<float> capacity(geometry.racks);
    for (std::uint32_t rack = 0; rack < geometry.racks; ++rack) {
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
    EventSink events(s.book, {frame.frame_number, frame.wall_time_ns, frame.publish_monotonic_ns,
                              now_realtime_ns});

    const double now_s = static_cast<double>(frame.sim_time_ns) * 1e-9;
    const bool writer_restarted = s.started && now_s < s.last_sim_s;
    if (writer_restarted) {
        // Simulated time went backwards: a new writer started over. Trends
        // restart and the cells are new; the debounced flags keep their
        // state, the latched cell alarms see the new cells.
        s.reset_trends(0, s.geometry.cell_count());
        std::fill(s.out_of_service.begin(), s.out_of_service.end(), 0);
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
        RackEvaluation eval{
            .config = s.config,
            .geometry = s.geometry,
            .frame = frame,
            .now_s = now_s,
            .dt_s = dt_s,
            .window_due = window_due,
            .window_s = window_s,
            .rack = rack,
            .limits = s.config.limits(s.chemistry[rack]),
            .capacity_ah = s.capacity_ah[rack],
            .voltage_v = frame.column(Field::voltage_v),
            .current_a = frame.column(Field::current_a),
            .temperature_c = frame.column(Field::temperature_c),
            .soc = frame.column(Field::soc),
            .resistance_ohm = frame.column(Field::resistance_ohm),
            .soh = frame.column(Field::soh),
            .status = frame.status,
            .out_of_service = s.out_of_service,
            .writer_restarted = writer_restarted,
            .scratch = s.scratch,
            .events = events,
        };
        s.evaluate_rack(eval);
    }
    if (window_due) {
        s.window_start_s = now_s;
    }
    s.last_sim_s = now_s;
    ++s.frames;
    s.last_frame = frame.frame_number;
    return std::move(events).take();
}

std::vector<AlarmEvent> AlarmEngine::evaluate_liveness(const WriterStatus& status,
                                                       std::uint64_t now_realtime_ns) {
    State& s = *state_;
    // No frame decided it: the events name the last frame evaluated.
    EventSink events(s.book,
                     {.frame_number = s.last_frame, .detected_realtime_ns = now_realtime_ns});
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
    const AlarmKey key{Rule::writer_liveness, Severity::critical, kNoIndex, kNoIndex, kNoIndex};
    if (step == Step::none) {
        events.step(step, s.liveness.active, Rule::writer_liveness, Severity::critical, key,
                    AlarmLocation{}, age_s, limit_s);
    } else {
        events.emit(step, Rule::writer_liveness, Severity::critical, key, AlarmLocation{}, age_s,
                    limit_s, std::move(detail));
    }
    return std::move(events).take();
}

std::vector<ActiveAlarm> AlarmEngine::active_alarms() const {
    std::vector<ActiveAlarm> alarms;
    alarms.reserve(state_->book.active.size());
    for (const auto& [key, alarm] : state_->book.active) {
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

void AlarmEngine::for_each_active(const std::function<void(const ActiveAlarm&)>& visit) const {
    for (const auto& [key, alarm] : state_->book.active) {
        visit(alarm);
    }
}

AlarmCounts AlarmEngine::active_counts() const {
    AlarmCounts counts;
    for (const auto& [key, alarm] : state_->book.active) {
        ++counts.by_severity[static_cast<std::size_t>(alarm.severity)];
    }
    return counts;
}

AlarmCounts AlarmEngine::raised_counts() const {
    return state_->book.raised;
}

std::uint64_t AlarmEngine::frames_evaluated() const {
    return state_->frames;
}

std::uint64_t AlarmEngine::last_frame_evaluated() const {
    return state_->last_frame;
}

std::string_view transition_name(AlarmTransition transition) {
    switch (transition) {
        case AlarmTransition::raise:
            return "raise";
        case AlarmTransition::clear:
            return "clear";
        case AlarmTransition::acknowledge:
            return "acknowledge";
        case AlarmTransition::shelve:
            return "shelve";
        case AlarmTransition::unshelve:
            return "unshelve";
    }
    return "unknown";
}

std::string_view alarm_state_name(AlarmState state) {
    switch (state) {
        case AlarmState::normal:
            return "normal";
        case AlarmState::unacknowledged:
            return "unacknowledged";
        case AlarmState::acknowledged:
            return "acknowledged";
        case AlarmState::returned_unacknowledged:
            return "returned_unacknowledged";
    }
    return "unknown";
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
