// The alarm board: the ISA-18.2 lifecycle on top of the alarm engine. The
// engine says when a condition appears and goes back to normal; the board
// keeps the list an operator works from: each alarm's state
// (unacknowledged, acknowledged, returned to normal but unacknowledged),
// latching, shelving (always for a limited time), and the grouping of
// consequential alarms under their module's first-out alarm (suppressed by
// design). brt-anomaly-monitor owns the one board and publishes it in the
// alarm segment (docs/alarm-segment.md); every other tool reads that.
//
// Use (the monitor):
//
//   AlarmBoard board;
//   for each frame:
//       events = board.apply(engine.evaluate(frame, now), now);   // raises, clears
//       engine.for_each_active([&](auto& a) { board.update_value(a); });  // live values
//   for each command:  board.acknowledge(id, "ctl uid 1000", now, events) ...
//   every tick:        board.expire_shelves(now, events);
//
// Rules (docs/anomaly-monitor.md, "Alarm lifecycle"):
// - A raise enters the list unacknowledged. Acknowledging an active alarm
//   makes it acknowledged; acknowledging one that returned to normal
//   removes it.
// - A return to normal removes an acknowledged alarm, and leaves an
//   unacknowledged one in the list as returned_unacknowledged. Latching
//   alarms (thermal runaway, venting, the MSL of cell voltage and
//   temperature) always go to returned_unacknowledged: they stay until
//   acknowledged after the condition has cleared.
// - The first alarm located in a module is its first-out. Alarms that follow
//   in the same module within kFirstOutWindowNs are its consequences,
//   suppressed by design (in the list, not annunciated), unless they rank
//   above every annunciated alarm of the group so far: more severe, or the
//   group's first venting or first runaway (above a critical limit).
//   Acknowledging the first-out acknowledges its consequences.
// - A shelved alarm (by its identity, so also when it comes back) is not
//   annunciated until the shelf expires or it is unshelved.
// - A restarted monitor adopts the list its predecessor published: the
//   active alarms wait for the engine to confirm them (no new raise, the
//   acknowledgement and shelving kept); those it does not confirm by
//   settle_adopted() return to normal.
//
// Not thread-safe: one board, in the monitor's loop.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/alarm/alarm_engine.hpp"

namespace brt {

// Consequences of a first-out are alarms of its module raised this soon
// after it: ISA-18.2's flood window is 10 minutes.
inline constexpr std::uint64_t kFirstOutWindowNs = 600'000'000'000ull;
// Shelving is always limited in time (ISA-18.2): at most a day.
inline constexpr double kMaxShelveS = 24.0 * 3600.0;

// One alarm in the list.
struct BoardAlarm {
    std::uint64_t id = 0;               // 1, 2, 3... never reused while the alarm segment lives
    AlarmKey key;                       // identity
    Rule rule = Rule::writer_liveness;  // the label now
    Severity severity = Severity::info;
    AlarmLocation location;  // where it is now
    float value = NAN;       // now (or at the return to normal)
    float worst_value = NAN;
    float limit = NAN;
    AlarmState state = AlarmState::unacknowledged;
    bool active = true;  // the condition is present now
    bool latching = false;
    bool suppressed = false;  // by design, a consequence of first_out_id
    bool first_out = false;
    std::uint64_t first_out_id = 0;  // its group's first-out (itself for the first-out)
    std::uint64_t shelved_until_realtime_ns = 0;  // 0: not shelved
    std::uint64_t raised_realtime_ns = 0;
    std::uint64_t changed_realtime_ns = 0;
    std::uint64_t raised_frame = 0;
    std::string acknowledged_by;
    bool adopted = false;  // restored from a previous monitor, not yet confirmed
    // The module whose group it joined (kNoIndex: none), by its place at the raise.
    std::uint32_t group_rack = kNoIndex;
    std::uint32_t group_module = kNoIndex;

    bool shelved() const { return shelved_until_realtime_ns != 0; }
    // What the operator is alerted to: neither suppressed nor shelved.
    bool annunciated() const { return !suppressed && !shelved(); }
};

// True for the alarms that latch (see above).
bool alarm_latches(Rule rule, Severity severity);

// An event of `alarm` as it is now (its id, state, values, grouping and
// shelf), stamped `now_ns`; the caller adds the frame and who did it.
AlarmEvent alarm_event_of(const BoardAlarm& alarm, AlarmTransition transition,
                          std::uint64_t now_ns);

enum class BoardAnswer { applied, no_such_alarm, bad_argument };

class AlarmBoard {
  public:
    // Takes the engine's raise and clear events and returns them as the
    // board's events (id, state, grouping, shelving filled in). A raise the
    // board only adopts (a restarted monitor's alarm confirmed) is not an
    // event.
    std::vector<AlarmEvent> apply(std::vector<AlarmEvent> engine_events, std::uint64_t now_ns);
    // Live values (label, place, value, worst, limit) of the active alarms.
    void update_value(const ActiveAlarm& live);

    // Operator commands; events are appended to `out`. `id` 0 acknowledges
    // every unacknowledged alarm.
    BoardAnswer acknowledge(std::uint64_t id, const std::string& by, std::uint64_t now_ns,
                            std::vector<AlarmEvent>& out);
    BoardAnswer shelve(std::uint64_t id, double duration_s, const std::string& by,
                       std::uint64_t now_ns, std::vector<AlarmEvent>& out);
    BoardAnswer unshelve(std::uint64_t id, const std::string& by, std::uint64_t now_ns,
                         std::vector<AlarmEvent>& out);
    void expire_shelves(std::uint64_t now_ns, std::vector<AlarmEvent>& out);

    // A restarted monitor: the alarms its predecessor published.
    void adopt(const std::vector<BoardAlarm>& previous);
    // The adopted alarms the engine has not confirmed are back to normal.
    void settle_adopted(std::uint64_t now_ns, std::vector<AlarmEvent>& out);
    std::size_t adopted_pending() const;

    // Most severe first, then the oldest first.
    std::vector<BoardAlarm> alarms() const;
    const BoardAlarm* find(std::uint64_t id) const;
    std::size_t size() const { return alarms_.size(); }

    // New alarms raised, and those of them annunciated (not suppressed, not
    // shelved). A raise of an alarm still in the list is not counted again.
    std::uint64_t raised_total() const { return raised_total_; }
    std::uint64_t annunciated_total() const { return annunciated_total_; }

  private:
    struct Group {
        std::uint64_t first_out_id = 0;
        std::uint64_t started_ns = 0;
        int highest_rank = 0;  // of its annunciated alarms (alarm_rank in the .cpp)
        std::size_t members = 0;
    };
    using GroupKey = std::pair<std::uint32_t, std::uint32_t>;  // rack, module

    BoardAlarm& add(const AlarmEvent& raise, std::uint64_t now_ns);
    void join_group(BoardAlarm& alarm, std::uint64_t now_ns);
    void remove(std::uint64_t id);
    void acknowledge_one(BoardAlarm& alarm, const std::string& by, std::uint64_t now_ns,
                         std::vector<AlarmEvent>& out);
    void return_to_normal(BoardAlarm& alarm, std::uint64_t now_ns, std::vector<AlarmEvent>& out,
                          AlarmEvent event);

    std::map<std::uint64_t, BoardAlarm> alarms_;  // by id
    std::map<AlarmKey, std::uint64_t> by_key_;
    std::map<GroupKey, Group> groups_;
    struct Shelf {
        std::uint64_t until_ns = 0;
        std::string by;
    };
    std::map<AlarmKey, Shelf> shelves_;
    std::uint64_t next_id_ = 1;
    std::uint64_t raised_total_ = 0;
    std::uint64_t annunciated_total_ = 0;
};

}  // namespace brt
