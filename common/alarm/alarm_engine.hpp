// The alarm engine: evaluates every rule of alarm_rules.hpp on each frame a
// reader copies, keeps the debounce, hysteresis and trend state, and returns
// raise and clear events. Shared by brt-anomaly-monitor and brt-ws-bridge so
// both show the same alarms for the same configuration.
//
// Use:
//
//   SegmentReader reader(name);
//   reader.require_attached();
//   AlarmConfig config;                 // or AlarmConfigOptions (alarm_config_cli.hpp)
//   config.validate();
//   AlarmEngine engine = AlarmEngine::for_segment(config, reader.segment());
//   FrameBuffer frame;
//   for (;;) {
//       reader.wait_for_frame(reader.last_frame_read(), 100ms);
//       // read_next: frame by frame, catching up after a stall
//       if (reader.read_next(frame, whole_frame(reader.layout().geometry)) == ReadOutcome::ok &&
//           frame.frame_number != engine.last_frame_evaluated()) {
//           for (const AlarmEvent& event : engine.evaluate(frame, realtime_ns())) { ... }
//       }
//       for (const AlarmEvent& event :
//            engine.evaluate_liveness(reader.writer_status(), realtime_ns())) { ... }
//   }
//
// The frame may hold the whole segment or any run of whole racks
// (rack_range); racks outside it keep their state. Timing rules (stuck,
// dT/dt, runaway confirmation, outlier windows) use the frames' simulated
// time (FrameBuffer::sim_time_ns), so they are right at any simulator speed;
// debounce counts frames, as a BMS counts checks. When a segment is
// re-created (SegmentReader::refresh says reattached), build a new engine.
//
// Not thread-safe: one engine per thread (it is cheap to copy the config).
//
// Inside: the rules are evaluated by rule family, one small class per
// family in its own file (alarm_rules_limits.cpp, alarm_rules_sensor.cpp,
// ...); alarm_rule_families.hpp lists them and says in which order they run,
// which is the order of the events. The engine (alarm_engine.cpp) keeps the
// families, the book of active alarms and the frame timing, and hands the
// families each frame's racks with everything about the call as an argument.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/alarm/alarm_rules.hpp"
#include "common/alarm_segment/alarm_segment_layout.hpp"
#include "common/segment/geometry.hpp"
#include "common/segment/liveness.hpp"
#include "common/segment/segment_file.hpp"
#include "common/segment/segment_reader.hpp"

namespace brt {

inline constexpr std::uint32_t kNoIndex = 0xFFFFFFFFu;

// Where an alarm is. Rack-scope rules name the rack and the worst cell when
// the event was made (module and cell), module-scope rules the module, cell
// rules the cell; writer_liveness names nothing (all kNoIndex).
struct AlarmLocation {
    std::uint32_t rack = kNoIndex;
    std::uint32_t module = kNoIndex;  // within the rack
    std::uint32_t cell = kNoIndex;    // within the module
    bool operator==(const AlarmLocation&) const = default;
};

// One alarm's identity (ISA-18.2: rule, level, place): the key of its flag.
// Rack limits are keyed by the rack alone (the cell they name moves with the
// rack's worst cell); the charge and discharge temperature limits share the
// key of the discharge rule (one alarm, its label follows the current).
struct AlarmKey {
    Rule rule = Rule::writer_liveness;
    Severity severity = Severity::info;
    std::uint32_t rack = kNoIndex;
    std::uint32_t module = kNoIndex;
    std::uint32_t cell = kNoIndex;
    auto operator<=>(const AlarmKey&) const = default;
};

// raise and clear come from the engine (the condition appeared or went back
// to normal); the others from the alarm board (alarm_board.hpp), which
// keeps the ISA-18.2 lifecycle.
enum class AlarmTransition : std::uint8_t { raise, clear, acknowledge, shelve, unshelve };
// "raise", "clear", "acknowledge", "shelve", "unshelve"
std::string_view transition_name(AlarmTransition transition);

// ISA-18.2 alarm states: AlarmState in the alarm segment's layout.
std::string_view alarm_state_name(AlarmState state);  // "unacknowledged", ...

struct AlarmEvent {
    AlarmTransition transition = AlarmTransition::raise;
    Rule rule = Rule::writer_liveness;  // the label now
    Severity severity = Severity::info;
    AlarmKey key;
    AlarmLocation location;          // where it is now
    float value = NAN;               // in rule_unit(rule); NaN when there is none (e.g. a dropout)
    float limit = NAN;               // the limit that was crossed (for a clear: the same one)
    std::uint64_t frame_number = 0;  // the frame that decided it (liveness: the last read)
    std::uint64_t frame_realtime_ns = 0;     // that frame's CLOCK_REALTIME publish time
    std::uint64_t publish_monotonic_ns = 0;  // that frame's CLOCK_MONOTONIC publish time
    std::uint64_t detected_realtime_ns = 0;  // `now` given to evaluate()
    std::string detail;                      // optional words for people, e.g. the writer state

    // Filled in by the alarm board; zero/empty for the engine's own events.
    std::uint64_t id = 0;                   // the alarm's number in the alarm list
    AlarmState state = AlarmState::normal;  // after the transition
    float worst_value = NAN;                // since the raise
    std::uint64_t raised_realtime_ns = 0;
    bool latching = false;
    bool suppressed = false;         // by design: a consequence of its module's first-out
    bool first_out = false;          // the first alarm of its module
    std::uint64_t first_out_id = 0;  // for a suppressed one
    bool shelved = false;
    std::uint64_t shelved_until_realtime_ns = 0;
    std::string by;  // who acknowledged or shelved it
};

struct ActiveAlarm {
    Rule rule = Rule::writer_liveness;  // the label now
    Severity severity = Severity::info;
    AlarmKey key;
    AlarmLocation location;   // now
    float value = NAN;        // now
    float worst_value = NAN;  // since the raise
    float limit = NAN;        // now
    std::uint64_t raised_frame = 0;
    std::uint64_t raised_realtime_ns = 0;  // detected_realtime_ns of the raise
};

struct AlarmCounts {
    std::array<std::uint64_t, kSeverityCount> by_severity{};  // indexed by Severity

    std::uint64_t at(Severity severity) const {
        return by_severity[static_cast<std::size_t>(severity)];
    }
    std::uint64_t total() const { return by_severity[0] + by_severity[1] + by_severity[2]; }
};

class AlarmEngine {
  public:
    // `rack_chemistry` and `rack_capacity_ah` (nominal Ah of the rack's
    // cells, which turns C-rate limits into amps) hold one entry per rack.
    // Throws UsageError when the config is invalid or the sizes disagree.
    AlarmEngine(AlarmConfig config, Geometry geometry, std::vector<Chemistry> rack_chemistry,
                std::vector<float> rack_capacity_ah);
    // Geometry, chemistry and nominal capacity read from the segment's metadata.
    static AlarmEngine for_segment(AlarmConfig config, const MappedSegment& segment);

    AlarmEngine(AlarmEngine&&) noexcept;
    AlarmEngine& operator=(AlarmEngine&&) noexcept;
    ~AlarmEngine();

    // Checks one frame; returns the raise and clear events it caused, rack by
    // rack: per module its cells' events cell by cell (each cell's in the
    // order of the Rule enum), then the module's imbalance; then the rack's
    // limits, raises of a more severe level after less severe ones; then its
    // outliers. `now_realtime_ns` stamps the events (detected_realtime_ns).
    // Evaluating the same frame number twice is harmless but counts as two
    // checks for the debounce; callers skip frames already evaluated
    // (last_frame_evaluated). Throws std::invalid_argument when the frame
    // does not cover whole racks of this engine's geometry.
    std::vector<AlarmEvent> evaluate(const FrameBuffer& frame, std::uint64_t now_realtime_ns);

    // The writer_liveness rule: raises when the writer is not live (stale,
    // stopped, never started, no segment), clears when it is live again.
    // Cheap itself; read_writer_status() looks at the lock only when the
    // heartbeat is late, so calling both with every frame is fine.
    std::vector<AlarmEvent> evaluate_liveness(const WriterStatus& status,
                                              std::uint64_t now_realtime_ns);

    // Active alarms, most severe first, then oldest first.
    std::vector<ActiveAlarm> active_alarms() const;
    // Each active alarm in no particular order, without copying or sorting
    // (the monitor's per-frame path).
    void for_each_active(const std::function<void(const ActiveAlarm&)>& visit) const;
    AlarmCounts active_counts() const;
    // Raise events since construction, by severity.
    AlarmCounts raised_counts() const;

    std::uint64_t frames_evaluated() const;
    std::uint64_t last_frame_evaluated() const;  // 0 before the first

  private:
    struct State;
    std::unique_ptr<State> state_;
};

// Text for people: "rack 3 module 2 cell 5", "rack 3", "system".
std::string location_text(const AlarmLocation& location);

}  // namespace brt
