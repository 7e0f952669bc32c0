// Inside the alarm engine: what its rule families share, the per-call state
// they are handed, and one small class per family, each defined in its own
// file:
//
//   alarm_rules_plausibility.cpp  a cell far from its module's median
//   alarm_rules_sensor.cpp        dropout (NaN), physical range, front-end fault bits
//   alarm_rules_stuck.cpp         a reading that stopped moving while its neighbours move
//   alarm_rules_trend.cpp         dT/dt early warning, thermal runaway confirmation
//   alarm_rules_limits.cpp        rack limits: MOL, RSL, MSL on the rack's worst cell
//   alarm_rules_imbalance.cpp     voltage spread within a module
//   alarm_rules_outliers.cpp      resistance and self-discharge against the module's peers
//
// AlarmEngine::evaluate (alarm_engine.cpp) builds a RackEvaluation for each
// rack of the frame and, module by module, a ModuleReadings with every
// cell's readings, then calls the families in a fixed order. The cell rules
// (plausibility, sensor, stuck, trend) each check the whole module; their
// events of that module are then put in cell order, each cell's in the
// order of the Rule enum (EventSink::order_by_cell), which is the order of
// a scan cell by cell. Then the module's imbalance; after the last module
// the rack limits, then the outliers. That order is the order of the events.
//
// Each family keeps its own debounce flags and trend state between frames;
// what belongs to one call (the frame, its time, the event list, scratch
// buffers) comes in as an argument and is never stored.
//
// Not for tools: they include alarm_engine.hpp.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "common/alarm/alarm_engine.hpp"
#include "common/alarm/alarm_rules.hpp"
#include "common/segment/geometry.hpp"
#include "common/segment/segment_reader.hpp"

namespace brt::alarm_detail {

// Fewer valid cells than this in a module: no median-based rule for it.
inline constexpr std::size_t kMinPeers = 3;
inline constexpr std::size_t kLimitRuleCount = static_cast<std::size_t>(Rule::soh_low) + 1;

// An up/down counter with a flag (Debounce in alarm_rules.hpp).
struct DebounceState {
    std::uint16_t counter = 0;
    bool active = false;
};

enum class Step { none, raise, clear };

// `bad`: the value is beyond the limit; `good`: back inside it by the
// hysteresis. Values in between move nothing but the counter's decay.
Step debounce_slow(DebounceState& state, bool bad, bool good, const Debounce& debounce);

// Nearly every flag of nearly every frame is down, at zero and fine.
inline Step debounce_step(DebounceState& state, bool bad, bool good, const Debounce& debounce) {
    if (!bad && !state.active && state.counter == 0) {
        return Step::none;
    }
    return debounce_slow(state, bad, good, debounce);
}

// Median of `values` (reordered).
float median_of(std::vector<float>& values);
// Median and robust sigma (1.4826 x median absolute deviation); `values` is
// overwritten.
std::pair<float, float> median_and_scale(std::vector<float>& values);

// Alarms raised and not cleared yet, and the raises so far: the engine's,
// shared by every family.
struct AlarmBook {
    std::map<AlarmKey, ActiveAlarm> active;
    AlarmCounts raised;
};

// What every event of one evaluate() or evaluate_liveness() call carries.
struct EventStamp {
    std::uint64_t frame_number = 0;
    std::uint64_t frame_realtime_ns = 0;
    std::uint64_t publish_monotonic_ns = 0;
    std::uint64_t detected_realtime_ns = 0;
};

// The events of one call: a raise enters the book of active alarms, a clear
// leaves it and reports the location and limit of its raise.
class EventSink {
  public:
    EventSink(AlarmBook& book, const EventStamp& stamp) : book_(book), stamp_(stamp) {}

    // Nothing for Step::none.
    void emit(Step step, Rule rule, Severity severity, const AlarmKey& key,
              const AlarmLocation& location, float value, float limit, std::string detail = {});
    // The live values of an active alarm (no event): its label, place, value
    // and limit now, and its worst value since the raise.
    void update(const AlarmKey& key, Rule rule, const AlarmLocation& location, float value,
                float limit);
    // emit() for a step, update() for an active flag that did not move.
    void step(Step step, bool active, Rule rule, Severity severity, const AlarmKey& key,
              const AlarmLocation& location, float value, float limit) {
        if (step != Step::none) {
            emit(step, rule, severity, key, location, value, limit);
        } else if (active) {
            update(key, rule, location, value, limit);
        }
    }

    std::size_t size() const { return events_.size(); }
    // Puts the events from `first` on in cell order (AlarmLocation::cell),
    // each cell's in the order of the Rule enum. For events of one module's
    // cell rules, which name each cell at most once per rule.
    void order_by_cell(std::size_t first);

    std::vector<AlarmEvent> take() && { return std::move(events_); }

  private:
    AlarmBook& book_;
    EventStamp stamp_;
    std::vector<AlarmEvent> events_;
};

// One evaluate() call on one rack of the frame: everything a family needs
// besides its own state. Built by AlarmEngine::evaluate, passed by reference.
struct RackEvaluation {
    const AlarmConfig& config;
    const Geometry& geometry;
    const FrameBuffer& frame;
    double now_s;     // the frame's simulated time
    double dt_s;      // since the previous frame; 0 for the first after a (re)start
    bool window_due;  // the outlier window ends with this frame
    double window_s;  // its length so far
    std::uint32_t rack;
    const ChemistryLimits& limits;  // of the rack's chemistry
    float capacity_ah;              // nominal, of the rack's cells: amps per C
    // The frame's columns: cell `c` is at c - frame.range.first_cell.
    std::span<const float> voltage_v;
    std::span<const float> current_a;
    std::span<const float> temperature_c;
    std::span<const float> soc;
    std::span<const float> resistance_ohm;
    std::span<const float> soh;
    std::span<const std::uint32_t> status;
    // Per cell of the segment (the engine's index): 1 for a cell known dead
    // (vented or in confirmed runaway). It is out of service for every rule
    // but its own latched alarm; the venting and runaway rules set it.
    std::span<std::uint8_t> out_of_service;
    // The first frame after the writer started over (simulated time went
    // back): a new simulation, so the latched cell alarms may clear.
    bool writer_restarted;
    std::vector<float>& scratch;  // for medians, reused every module
    EventSink& events;

    AlarmLocation location_of(std::uint64_t cell) const {
        const std::uint64_t per_rack = geometry.cells_per_rack();
        return {static_cast<std::uint32_t>(cell / per_rack),
                static_cast<std::uint32_t>((cell % per_rack) / geometry.cells_per_module),
                static_cast<std::uint32_t>(cell % geometry.cells_per_module)};
    }
};

// One cell's readings, with the validity every family agrees on. Cell `i`
// of a module is ModuleReadings::cells[i]: the engine's cell
// module.first_cell + i, in the frame's columns at module.first_local + i.
struct CellReading {
    float voltage_v = NAN;
    float temperature_c = NAN;
    std::uint32_t status = 0;
    // A dead cell (RackEvaluation::out_of_service): no rule but its own
    // latched alarm looks at it, and it is never valid.
    bool out_of_service = false;
    // Finite but outside the physical range: a sensor's reading, not a cell's.
    bool voltage_out = false;
    bool temperature_out = false;
    // Finite, inside the range and not flagged by the front end: these count
    // for the rack's limits and the module's spread.
    bool voltage_valid = false;
    bool temperature_valid = false;
};

// One module of the rack being evaluated.
struct ModuleReadings {
    std::uint32_t module = 0;       // within the rack
    std::uint64_t first_cell = 0;   // the engine's index of its cell 0
    std::uint64_t first_local = 0;  // the same cell in the frame's columns
    // Medians of the finite readings the front end does not flag; NaN with
    // fewer than kMinPeers of them. Plausibility and runaway use them.
    float median_v = NAN;
    float median_t = NAN;
    std::span<const CellReading> cells;  // cells_per_module, in order
};

// Emits the step of a single-level rule (rule_fixed_severity) at `cell`
// (the engine's index); Step::none updates the live value of its alarm.
void emit_cell_step(RackEvaluation& eval, Step step, Rule rule, std::uint64_t cell, float value,
                    float limit);

// Debounces one per-cell rule; the event, if any, names the cell. An active
// flag that does not move gets its live value.
inline void cell_rule(RackEvaluation& eval, DebounceState& flag, Rule rule, std::uint64_t cell,
                      bool bad, bool good, const Debounce& debounce, float value, float limit) {
    const Step step = debounce_step(flag, bad, good, debounce);
    if (step != Step::none || flag.active) {
        emit_cell_step(eval, step, rule, cell, value, limit);
    }
}

// --- The families ----------------------------------------------------------

// alarm_rules_plausibility.cpp: voltage_plausibility, temperature_plausibility.
class PlausibilityRules {
  public:
    explicit PlausibilityRules(std::uint64_t cells) : flags_(cells) {}
    void check_module(RackEvaluation& eval, const ModuleReadings& module);

  private:
    struct Flags {
        DebounceState voltage;
        DebounceState temperature;
    };
    std::vector<Flags> flags_;
};

// alarm_rules_sensor.cpp: sensor_dropout, voltage_range, temperature_range,
// sensor_status, cell_venting.
class SensorRules {
  public:
    explicit SensorRules(std::uint64_t cells) : flags_(cells) {}
    void check_module(RackEvaluation& eval, const ModuleReadings& module);

  private:
    struct Flags {
        DebounceState dropout;
        DebounceState voltage_range;
        DebounceState temperature_range;
        DebounceState status;
        DebounceState venting;
    };
    std::vector<Flags> flags_;
};

// alarm_rules_stuck.cpp: voltage_stuck, temperature_stuck.
class StuckRules {
  public:
    explicit StuckRules(std::uint64_t cells)
        : voltage_change_(cells), temperature_change_(cells), flags_(cells) {}
    void reset(std::uint64_t first, std::uint64_t count);
    void check_module(RackEvaluation& eval, const ModuleReadings& module);

  private:
    // When one sensor's reading last changed.
    struct ChangeTracker {
        float last = NAN;
        std::uint32_t same_frames = 0;
        double changed_s = 0;

        bool note(float value, double now_s, double window_s);
        bool stuck(double now_s, const AlarmConfig& cfg, std::uint32_t valid,
                   std::uint32_t moving) const;
    };
    struct Flags {
        DebounceState voltage;
        DebounceState temperature;
    };
    std::vector<ChangeTracker> voltage_change_;
    std::vector<ChangeTracker> temperature_change_;
    std::vector<Flags> flags_;
};

// alarm_rules_trend.cpp: temperature_rise_rate, thermal_runaway.
class TrendRules {
  public:
    // What the rack's cells share in one frame: the filters' gains and 1/dt
    // (per frame, not per cell), and the runaway's over-temperature.
    struct RackSettings {
        float level_gain = 0;
        float rate_gain = 0;
        float inverse_dt = 0;
        float runaway_temperature_c = NAN;
    };

    explicit TrendRules(std::uint64_t cells)
        : level_(cells),
          rate_k_per_s_(cells),
          rate_started_s_(cells),
          runaway_since_s_(cells),
          flags_(cells) {}
    void reset(std::uint64_t first, std::uint64_t count);
    static RackSettings rack_settings(const RackEvaluation& eval);
    void check_module(RackEvaluation& eval, const RackSettings& settings,
                      const ModuleReadings& module);

  private:
    struct Flags {
        DebounceState rise_rate;
        DebounceState runaway;
    };
    std::vector<float> level_;             // smoothed temperature; NaN: not started
    std::vector<float> rate_k_per_s_;      // smoothed derivative of level_
    std::vector<double> rate_started_s_;   // when level_ was started
    std::vector<double> runaway_since_s_;  // < 0: rate below the runaway rate
    std::vector<Flags> flags_;
};

// The worst valid reading of a rack for each limit rule, and its cell.
struct RackExtremes {
    std::array<float, kLimitRuleCount> value;  // by Rule; NaN: no valid reading
    std::array<std::uint64_t, kLimitRuleCount> cell{};

    RackExtremes() { value.fill(NAN); }
};

// alarm_rules_limits.cpp: cell_overvoltage ... soh_low, three levels each,
// per rack.
class LimitRules {
  public:
    explicit LimitRules(std::uint32_t racks) : flags_(racks), trip_flags_(racks) {}
    // Adds the module's valid readings to the rack's extremes.
    static void add_module(RackExtremes& extremes, const RackEvaluation& eval,
                           const ModuleReadings& module);
    // After the rack's last module: every level of every limit rule.
    void check_rack(RackEvaluation& eval, RackExtremes extremes);

  private:
    // [rack][rule][severity]
    std::vector<std::array<std::array<DebounceState, kSeverityCount>, kLimitRuleCount>> flags_;
    std::vector<DebounceState> trip_flags_;  // rack_protection_trip, by rack
};

// alarm_rules_imbalance.cpp: voltage_imbalance, per module.
class ImbalanceRule {
  public:
    explicit ImbalanceRule(std::uint64_t modules) : flags_(modules) {}
    void check_module(RackEvaluation& eval, const ModuleReadings& module);

  private:
    std::vector<DebounceState> flags_;  // by module of the whole segment
};

// alarm_rules_outliers.cpp: resistance_outlier, self_discharge.
class OutlierRules {
  public:
    explicit OutlierRules(std::uint64_t cells) : soc_at_window_start_(cells), flags_(cells) {}
    void reset(std::uint64_t first, std::uint64_t count);
    // After the rack's limits: starts the window of cells that have none,
    // and when the window is due, checks the rack and starts the next one.
    void check_rack(RackEvaluation& eval);

  private:
    struct Flags {
        DebounceState resistance;
        DebounceState self_discharge;
    };
    std::vector<float> soc_at_window_start_;  // NaN: no window yet
    std::vector<Flags> flags_;
};

}  // namespace brt::alarm_detail
