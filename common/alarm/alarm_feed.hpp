// A reader's side of the alarm server, shared by brt-ws-bridge and
// brt-mqtt-bridge. brt-anomaly-monitor is the one writer of the alarm state
// (docs/alarm-segment.md); a bridge runs no
// alarm engine of its own, it follows the monitor's alarm segment from its
// reader loop and turns each new list into an immutable AlarmView for the
// snapshots. Cheap when nothing changed: one atomic load per call, the
// monitor's liveness at most every 100 ms, a re-attach check once a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/alarm/alarm_list.hpp"
#include "common/alarm_segment/alarm_segment_reader.hpp"

namespace brt {

// The alarm list as the bridge serves it: what /api/v1/alarms, the alarms
// view, the summary's counts, /metrics and the page show. Replaced only when
// the list (or the monitor's liveness) changed.
struct AlarmView {
    std::uint64_t version = 0;  // +1 per change, the bridge's own
    AlarmList list;             // the monitor's list (read_alarm_list), suppressed ones included
    AlarmCounts annunciated;    // alarms neither suppressed nor shelved, by severity
    // The transitions the bridge saw between successive lists, as the
    // monitor's event lines (alarm_event_json), oldest first.
    std::vector<std::string> recent_events;
    // This change's transitions alone (the same lines), for a reader that
    // forwards each transition once (brt-mqtt-bridge's alarms/events).
    std::vector<std::string> new_events;
};

struct AlarmFeedOptions {
    std::string alarm_segment_name;  // alarm_segment_name(telemetry name)
    // No alarm_system alarm ("alarm monitor not running") before this much
    // time from the start, so a pipeline started in any order raises nothing.
    std::chrono::nanoseconds startup_grace = std::chrono::seconds(5);
};

class AlarmFeed {
  public:
    using Clock = std::chrono::steady_clock;

    AlarmFeed(AlarmFeedOptions options, Clock::time_point started);

    // Looks for a new publication, a change of the monitor's liveness, the
    // end of the start-up grace and (once a second) a re-created or vanished
    // segment; true when view() changed. Never throws for a missing or
    // broken segment: that is the alarm_system alarm.
    bool poll(Clock::time_point now, std::uint64_t realtime_now_ns);
    // Never null.
    const std::shared_ptr<const AlarmView>& view() const { return view_; }

  private:
    void rebuild(AlarmList list, std::uint64_t realtime_now_ns);

    AlarmFeedOptions options_;
    AlarmSegmentReader reader_;
    Clock::time_point started_;
    Clock::time_point last_full_read_{};
    Clock::time_point last_liveness_check_{};
    bool judging_ = false;  // the grace is over
    std::shared_ptr<const AlarmView> view_;
    // The last list that held a publication: the base the transitions are
    // taken from, so that alarms hidden by a monitor outage do not "clear".
    AlarmList last_published_;
    bool seen_publication_ = false;
    std::deque<std::string> recent_events_;
};

// The transitions from `before` to `after` (matched by alarm id; an id whose
// identity changed is a new alarm): raise (new, or back from
// returned_unacknowledged), acknowledge, clear (returned to normal, or gone
// while acknowledged), shelve, unshelve. Transitions between two lists the
// bridge did not both see are merged: an alarm acknowledged and cleared in
// between is one clear. `now_ns` times the ones the records carry no time for.
std::vector<AlarmEvent> alarm_list_changes(const std::vector<BoardAlarm>& before,
                                           const std::vector<BoardAlarm>& after,
                                           std::uint64_t frame_number, std::uint64_t now_ns);

}  // namespace brt
