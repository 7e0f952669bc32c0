#include "common/alarm/alarm_feed.hpp"

#include <map>

#include "common/alarm/alarm_event_format.hpp"

namespace brt {

namespace {

// The monitor's liveness (it looks at the segment's lock) at most this often
// between publications: a monitor that died is shown within this.
constexpr auto kLivenessCheckInterval = std::chrono::milliseconds(100);
// A full read (and the re-attach check inside read_alarm_list: an open and
// an fstat) this often even when nothing seems to change, so a re-created or
// removed alarm segment is followed, and a dead monitor's heartbeat age
// shown in the alarm_system alarm moves on.
constexpr auto kFullReadInterval = std::chrono::seconds(1);
// Transitions kept for the page's recent list.
constexpr std::size_t kRecentAlarmEvents = 100;

AlarmEvent event_of(const BoardAlarm& alarm, AlarmTransition transition, std::uint64_t frame_number,
                    std::uint64_t time_ns) {
    AlarmEvent event = alarm_event_of(alarm, transition, time_ns);
    event.frame_number = frame_number;
    event.by = alarm.acknowledged_by;
    return event;
}

bool same_identity(const BoardAlarm& a, const BoardAlarm& b) {
    return a.key == b.key;
}

const BoardAlarm* system_alarm(const AlarmList& list) {
    for (const BoardAlarm& alarm : list.alarms) {
        if (alarm.id == 0) {
            return &alarm;
        }
    }
    return nullptr;
}

std::vector<BoardAlarm> monitor_alarms(const AlarmList& list) {
    std::vector<BoardAlarm> alarms;
    alarms.reserve(list.alarms.size());
    for (const BoardAlarm& alarm : list.alarms) {
        if (alarm.id != 0) {
            alarms.push_back(alarm);
        }
    }
    return alarms;
}

}  // namespace

std::vector<AlarmEvent> alarm_list_changes(const std::vector<BoardAlarm>& before,
                                           const std::vector<BoardAlarm>& after,
                                           std::uint64_t frame_number, std::uint64_t now_ns) {
    std::map<std::uint64_t, const BoardAlarm*> previous;
    for (const BoardAlarm& alarm : before) {
        previous.emplace(alarm.id, &alarm);
    }
    std::vector<AlarmEvent> events;
    // The records' own times where they have one: the transition happened
    // then, the bridge only saw it later.
    auto changed_at = [now_ns](const BoardAlarm& old, const BoardAlarm& now) {
        return now.changed_realtime_ns > old.changed_realtime_ns ? now.changed_realtime_ns : now_ns;
    };
    for (const BoardAlarm& alarm : after) {
        const auto found = previous.find(alarm.id);
        if (found == previous.end() || !same_identity(*found->second, alarm)) {
            events.push_back(
                event_of(alarm, AlarmTransition::raise, frame_number,
                         alarm.raised_realtime_ns != 0 ? alarm.raised_realtime_ns : now_ns));
            continue;
        }
        const BoardAlarm& old = *found->second;
        previous.erase(found);
        if (old.state != alarm.state) {
            switch (alarm.state) {
                case AlarmState::acknowledged:
                    events.push_back(event_of(alarm, AlarmTransition::acknowledge, frame_number,
                                              changed_at(old, alarm)));
                    break;
                case AlarmState::returned_unacknowledged:
                    events.push_back(event_of(alarm, AlarmTransition::clear, frame_number,
                                              changed_at(old, alarm)));
                    break;
                case AlarmState::unacknowledged:  // back from returned_unacknowledged
                case AlarmState::normal:
                    events.push_back(event_of(alarm, AlarmTransition::raise, frame_number,
                                              changed_at(old, alarm)));
                    break;
            }
        }
        if (old.shelved() != alarm.shelved()) {
            events.push_back(event_of(
                alarm, alarm.shelved() ? AlarmTransition::shelve : AlarmTransition::unshelve,
                frame_number, changed_at(old, alarm)));
        }
    }
    // Gone from the list: an alarm that had returned to normal was
    // acknowledged; any other returned to normal (acknowledged before, or
    // in between).
    for (const auto& [id, old] : previous) {
        AlarmEvent event = event_of(*old,
                                    old->state == AlarmState::returned_unacknowledged
                                        ? AlarmTransition::acknowledge
                                        : AlarmTransition::clear,
                                    frame_number, now_ns);
        event.state = AlarmState::normal;
        events.push_back(std::move(event));
    }
    return events;
}

AlarmFeed::AlarmFeed(AlarmFeedOptions options, Clock::time_point started)
    : options_(std::move(options)),
      reader_(options_.alarm_segment_name),
      started_(started),
      view_(std::make_shared<const AlarmView>()) {}

bool AlarmFeed::poll(Clock::time_point now, std::uint64_t realtime_now_ns) {
    const bool judging = now - started_ >= options_.startup_grace;
    const bool full_read = now - last_full_read_ >= kFullReadInterval || judging != judging_;
    const AlarmList& shown = view_->list;
    if (!full_read && reader_.latest_version() == shown.version) {
        if (now - last_liveness_check_ < kLivenessCheckInterval) {
            return false;
        }
        last_liveness_check_ = now;
        const bool running =
            reader_.attached() && reader_.writer_status().liveness == Liveness::live;
        if (running == shown.monitor_running) {
            return false;
        }
    }
    if (full_read) {
        last_full_read_ = now;
    }
    last_liveness_check_ = now;
    judging_ = judging;
    AlarmList list = read_alarm_list(reader_, judging, realtime_now_ns);
    if (list.version == 0 && reader_.latest_version() != 0) {
        // Attached to a monitor's publications but this read failed (busy:
        // the monitor kept rewriting the slot): keep what is shown and try
        // again at the next call.
        if (list.monitor_running) {
            return false;
        }
    }
    if (full_read && view_->version != 0 && list.monitor_running && shown.monitor_running &&
        list.version == shown.version && list.monitor_problem == shown.monitor_problem) {
        return false;  // nothing new
    }
    rebuild(std::move(list), realtime_now_ns);
    return true;
}

void AlarmFeed::rebuild(AlarmList list, std::uint64_t realtime_now_ns) {
    const AlarmList& shown = view_->list;
    // The alarm system went down when the bridge first said so: its time
    // stays, while its value (the monitor's heartbeat age) moves on.
    const BoardAlarm* was_down = system_alarm(shown);
    for (BoardAlarm& alarm : list.alarms) {
        if (alarm.id == 0 && was_down != nullptr) {
            alarm.raised_realtime_ns = was_down->raised_realtime_ns;
            alarm.changed_realtime_ns = was_down->changed_realtime_ns;
        }
    }

    std::vector<AlarmEvent> events;
    const BoardAlarm* down = system_alarm(list);
    if (view_->version != 0 && (was_down != nullptr) != (down != nullptr)) {
        AlarmEvent event =
            event_of(down != nullptr ? *down : *was_down,
                     down != nullptr ? AlarmTransition::raise : AlarmTransition::clear,
                     list.frame_number, realtime_now_ns);
        event.detail =
            down != nullptr ? list.monitor_problem : std::string("alarm monitor running");
        events.push_back(std::move(event));
    }
    if (list.version != 0) {
        // The first publication the bridge sees is its starting point, not
        // news; a list without one (no monitor) hides alarms, it clears none.
        if (seen_publication_) {
            for (AlarmEvent& event :
                 alarm_list_changes(monitor_alarms(last_published_), monitor_alarms(list),
                                    list.frame_number, realtime_now_ns)) {
                events.push_back(std::move(event));
            }
        }
        last_published_ = list;
        seen_publication_ = true;
    }
    std::vector<std::string> new_events;
    new_events.reserve(events.size());
    for (const AlarmEvent& event : events) {
        new_events.push_back(alarm_event_json(event));
        recent_events_.push_back(new_events.back());
        if (recent_events_.size() > kRecentAlarmEvents) {
            recent_events_.pop_front();
        }
    }

    auto view = std::make_shared<AlarmView>();
    view->version = view_->version + 1;
    for (const BoardAlarm& alarm : list.alarms) {
        if (alarm.annunciated()) {
            ++view->annunciated.by_severity[static_cast<std::size_t>(alarm.severity)];
        }
    }
    view->list = std::move(list);
    view->recent_events.assign(recent_events_.begin(), recent_events_.end());
    view->new_events = std::move(new_events);
    view_ = std::move(view);
}

}  // namespace brt
