#include "common/alarm/alarm_board.hpp"

#include <algorithm>
#include <cmath>

namespace brt {

namespace {

// How bad an alarm is within its group: the severity, and among critical
// alarms a dead cell (venting, then runaway) above a limit. A consequence
// is annunciated only when it ranks above everything its group has
// annunciated: the first venting and the first runaway of a module are
// news, the neighbours that follow them are not.
int alarm_rank(Rule rule, Severity severity) {
    const int extra = rule == Rule::thermal_runaway ? 2 : rule == Rule::cell_venting ? 1 : 0;
    return 3 * static_cast<int>(severity) + extra;
}

}  // namespace

bool alarm_latches(Rule rule, Severity severity) {
    switch (rule) {
        case Rule::thermal_runaway:
        case Rule::cell_venting:
            return true;
        case Rule::cell_overvoltage:
        case Rule::cell_undervoltage:
        case Rule::overtemperature_charge:
        case Rule::overtemperature_discharge:
        case Rule::undertemperature_charge:
        case Rule::undertemperature_discharge:
            return severity == Severity::critical;
        default:
            return false;
    }
}

AlarmEvent alarm_event_of(const BoardAlarm& alarm, AlarmTransition transition,
                          std::uint64_t now_ns) {
    AlarmEvent event;
    event.transition = transition;
    event.rule = alarm.rule;
    event.severity = alarm.severity;
    event.key = alarm.key;
    event.location = alarm.location;
    event.value = alarm.value;
    event.limit = alarm.limit;
    event.detected_realtime_ns = now_ns;
    event.id = alarm.id;
    event.state = alarm.state;
    event.worst_value = alarm.worst_value;
    event.raised_realtime_ns = alarm.raised_realtime_ns;
    event.latching = alarm.latching;
    event.suppressed = alarm.suppressed;
    event.first_out = alarm.first_out;
    event.first_out_id = alarm.first_out_id;
    event.shelved = alarm.shelved();
    event.shelved_until_realtime_ns = alarm.shelved_until_realtime_ns;
    return event;
}

namespace {

// The board's event for `alarm`, carrying the frame and the detail of the
// engine's event that caused it.
AlarmEvent board_event(const BoardAlarm& alarm, AlarmTransition transition, std::uint64_t now_ns,
                       AlarmEvent&& engine_event) {
    AlarmEvent out = alarm_event_of(alarm, transition, now_ns);
    out.frame_number = engine_event.frame_number;
    out.frame_realtime_ns = engine_event.frame_realtime_ns;
    out.publish_monotonic_ns = engine_event.publish_monotonic_ns;
    out.detail = std::move(engine_event.detail);
    return out;
}

// The engine's label, place and values now.
void take_values(BoardAlarm& alarm, const AlarmEvent& event) {
    alarm.rule = event.rule;
    alarm.location = event.location;
    alarm.value = event.value;
    alarm.limit = event.limit;
}

}  // namespace

void AlarmBoard::join_group(BoardAlarm& alarm, std::uint64_t now_ns) {
    if (alarm.location.rack == kNoIndex || alarm.location.module == kNoIndex) {
        return;  // rack-wide (current) and system alarms stand alone
    }
    alarm.group_rack = alarm.location.rack;
    alarm.group_module = alarm.location.module;
    const GroupKey where{alarm.group_rack, alarm.group_module};
    const int rank = alarm_rank(alarm.rule, alarm.severity);
    auto found = groups_.find(where);
    if (found != groups_.end() && now_ns - found->second.started_ns > kFirstOutWindowNs) {
        // Too long after its first-out to be its consequence: a group of
        // its own starts when the old one empties.
        alarm.group_rack = kNoIndex;
        alarm.group_module = kNoIndex;
        return;
    }
    if (found == groups_.end()) {
        found = groups_.emplace(where, Group{alarm.id, now_ns, rank, 0}).first;
        alarm.first_out = true;
    } else if (rank > found->second.highest_rank) {
        found->second.highest_rank = rank;
    } else {
        alarm.suppressed = true;
    }
    alarm.first_out_id = found->second.first_out_id;
    ++found->second.members;
}

BoardAlarm& AlarmBoard::add(const AlarmEvent& raise, std::uint64_t now_ns) {
    BoardAlarm alarm;
    alarm.id = next_id_++;
    alarm.key = raise.key;
    alarm.rule = raise.rule;
    alarm.severity = raise.severity;
    alarm.location = raise.location;
    alarm.value = raise.value;
    alarm.worst_value = raise.value;
    alarm.limit = raise.limit;
    alarm.latching = alarm_latches(raise.rule, raise.severity);
    alarm.raised_realtime_ns = raise.detected_realtime_ns;
    alarm.changed_realtime_ns = now_ns;
    alarm.raised_frame = raise.frame_number;
    const auto shelf = shelves_.find(raise.key);
    if (shelf != shelves_.end()) {
        alarm.shelved_until_realtime_ns = shelf->second.until_ns;
    }
    join_group(alarm, now_ns);
    by_key_[alarm.key] = alarm.id;
    return alarms_.emplace(alarm.id, std::move(alarm)).first->second;
}

void AlarmBoard::remove(std::uint64_t id) {
    const auto found = alarms_.find(id);
    if (found == alarms_.end()) {
        return;
    }
    const BoardAlarm& alarm = found->second;
    if (alarm.group_rack != kNoIndex) {
        const auto group = groups_.find({alarm.group_rack, alarm.group_module});
        if (group != groups_.end() && --group->second.members == 0) {
            groups_.erase(group);
        }
    }
    by_key_.erase(alarm.key);
    alarms_.erase(found);
}

std::vector<AlarmEvent> AlarmBoard::apply(std::vector<AlarmEvent> engine_events,
                                          std::uint64_t now_ns) {
    std::vector<AlarmEvent> out;
    out.reserve(engine_events.size());
    for (AlarmEvent& event : engine_events) {
        const auto known = by_key_.find(event.key);
        if (event.transition == AlarmTransition::raise) {
            if (known != by_key_.end()) {
                BoardAlarm& alarm = alarms_.at(known->second);
                take_values(alarm, event);
                alarm.active = true;
                if (alarm.adopted) {
                    // The predecessor's alarm, confirmed: it keeps its
                    // state, nothing new to announce.
                    alarm.adopted = false;
                    continue;
                }
                // Back before it was acknowledged: the same alarm again, an
                // event for the log but no new annunciation (it never left
                // the operator's list).
                alarm.state = AlarmState::unacknowledged;
                alarm.changed_realtime_ns = now_ns;
                alarm.raised_frame = event.frame_number;
                out.push_back(board_event(alarm, AlarmTransition::raise, now_ns, std::move(event)));
                continue;
            }
            BoardAlarm& alarm = add(event, now_ns);
            ++raised_total_;
            annunciated_total_ += alarm.annunciated() ? 1 : 0;
            const std::uint64_t detected_ns = event.detected_realtime_ns;
            AlarmEvent raised =
                board_event(alarm, AlarmTransition::raise, now_ns, std::move(event));
            raised.detected_realtime_ns = detected_ns;  // the engine's, for latency figures
            out.push_back(std::move(raised));
        } else if (event.transition == AlarmTransition::clear && known != by_key_.end()) {
            BoardAlarm& alarm = alarms_.at(known->second);
            take_values(alarm, event);
            return_to_normal(alarm, now_ns, out, std::move(event));
        }
    }
    return out;
}

void AlarmBoard::return_to_normal(BoardAlarm& alarm, std::uint64_t now_ns,
                                  std::vector<AlarmEvent>& out, AlarmEvent event) {
    alarm.active = false;
    alarm.adopted = false;
    alarm.changed_realtime_ns = now_ns;
    const bool remove_now = alarm.state == AlarmState::acknowledged && !alarm.latching;
    alarm.state = remove_now ? AlarmState::normal : AlarmState::returned_unacknowledged;
    out.push_back(board_event(alarm, AlarmTransition::clear, now_ns, std::move(event)));
    if (remove_now) {
        remove(alarm.id);
    }
}

void AlarmBoard::update_value(const ActiveAlarm& live) {
    const auto known = by_key_.find(live.key);
    if (known == by_key_.end()) {
        return;
    }
    BoardAlarm& alarm = alarms_.at(known->second);
    if (!alarm.active || alarm.adopted) {
        return;
    }
    alarm.rule = live.rule;
    alarm.location = live.location;
    alarm.value = live.value;
    alarm.limit = live.limit;
    if (std::isfinite(live.worst_value) &&
        (std::isnan(alarm.worst_value) ||
         (rule_lower_is_worse(live.rule)
              ? live.worst_value < alarm.worst_value
              : std::fabs(live.worst_value) > std::fabs(alarm.worst_value)))) {
        alarm.worst_value = live.worst_value;
    }
}

void AlarmBoard::acknowledge_one(BoardAlarm& alarm, const std::string& by, std::uint64_t now_ns,
                                 std::vector<AlarmEvent>& out) {
    if (alarm.state == AlarmState::acknowledged) {
        return;
    }
    alarm.acknowledged_by = by;
    alarm.changed_realtime_ns = now_ns;
    const bool reset = alarm.state == AlarmState::returned_unacknowledged;
    alarm.state = reset ? AlarmState::normal : AlarmState::acknowledged;
    AlarmEvent event = alarm_event_of(alarm, AlarmTransition::acknowledge, now_ns);
    event.by = by;
    out.push_back(std::move(event));
    if (reset) {
        remove(alarm.id);
    }
}

BoardAnswer AlarmBoard::acknowledge(std::uint64_t id, const std::string& by, std::uint64_t now_ns,
                                    std::vector<AlarmEvent>& out) {
    std::vector<std::uint64_t> ids;
    if (id == 0) {
        for (const auto& [each, alarm] : alarms_) {
            ids.push_back(each);
        }
    } else {
        const auto found = alarms_.find(id);
        if (found == alarms_.end()) {
            return BoardAnswer::no_such_alarm;
        }
        ids.push_back(id);
        if (found->second.first_out) {
            // The group is acknowledged with its first-out.
            for (const auto& [each, alarm] : alarms_) {
                if (alarm.suppressed && alarm.first_out_id == id) {
                    ids.push_back(each);
                }
            }
        }
    }
    for (const std::uint64_t each : ids) {
        const auto found = alarms_.find(each);
        if (found != alarms_.end()) {
            acknowledge_one(found->second, by, now_ns, out);
        }
    }
    return BoardAnswer::applied;
}

BoardAnswer AlarmBoard::shelve(std::uint64_t id, double duration_s, const std::string& by,
                               std::uint64_t now_ns, std::vector<AlarmEvent>& out) {
    const auto found = alarms_.find(id);
    if (found == alarms_.end()) {
        return BoardAnswer::no_such_alarm;
    }
    if (!std::isfinite(duration_s) || duration_s <= 0 || duration_s > kMaxShelveS) {
        return BoardAnswer::bad_argument;
    }
    BoardAlarm& alarm = found->second;
    const std::uint64_t until = now_ns + static_cast<std::uint64_t>(duration_s * 1e9);
    shelves_[alarm.key] = Shelf{until, by};
    alarm.shelved_until_realtime_ns = until;
    alarm.changed_realtime_ns = now_ns;
    AlarmEvent event = alarm_event_of(alarm, AlarmTransition::shelve, now_ns);
    event.by = by;
    out.push_back(std::move(event));
    return BoardAnswer::applied;
}

BoardAnswer AlarmBoard::unshelve(std::uint64_t id, const std::string& by, std::uint64_t now_ns,
                                 std::vector<AlarmEvent>& out) {
    const auto found = alarms_.find(id);
    if (found == alarms_.end()) {
        return BoardAnswer::no_such_alarm;
    }
    BoardAlarm& alarm = found->second;
    if (!alarm.shelved()) {
        return BoardAnswer::applied;
    }
    shelves_.erase(alarm.key);
    alarm.shelved_until_realtime_ns = 0;
    alarm.changed_realtime_ns = now_ns;
    AlarmEvent event = alarm_event_of(alarm, AlarmTransition::unshelve, now_ns);
    event.by = by;
    out.push_back(std::move(event));
    return BoardAnswer::applied;
}

void AlarmBoard::expire_shelves(std::uint64_t now_ns, std::vector<AlarmEvent>& out) {
    for (auto shelf = shelves_.begin(); shelf != shelves_.end();) {
        if (shelf->second.until_ns > now_ns) {
            ++shelf;
            continue;
        }
        const auto known = by_key_.find(shelf->first);
        shelf = shelves_.erase(shelf);
        if (known != by_key_.end()) {
            BoardAlarm& alarm = alarms_.at(known->second);
            alarm.shelved_until_realtime_ns = 0;
            alarm.changed_realtime_ns = now_ns;
            AlarmEvent event = alarm_event_of(alarm, AlarmTransition::unshelve, now_ns);
            event.by = "shelf expired";
            out.push_back(std::move(event));
        }
    }
}

void AlarmBoard::adopt(const std::vector<BoardAlarm>& previous) {
    for (BoardAlarm alarm : previous) {
        if (alarm.id == 0 || alarms_.count(alarm.id) != 0 || by_key_.count(alarm.key) != 0) {
            continue;  // a damaged list: keep what is consistent
        }
        alarm.adopted = alarm.active;
        alarm.group_rack = kNoIndex;
        alarm.group_module = kNoIndex;
        if (alarm.location.rack != kNoIndex && alarm.location.module != kNoIndex) {
            alarm.group_rack = alarm.location.rack;
            alarm.group_module = alarm.location.module;
            Group& group = groups_[{alarm.group_rack, alarm.group_module}];
            if (alarm.first_out || group.first_out_id == 0) {
                group.first_out_id = alarm.first_out ? alarm.id : alarm.first_out_id;
                group.started_ns = alarm.raised_realtime_ns;
            }
            if (!alarm.suppressed) {
                group.highest_rank =
                    std::max(group.highest_rank, alarm_rank(alarm.rule, alarm.severity));
            }
            ++group.members;
        }
        if (alarm.shelved()) {
            shelves_[alarm.key] = Shelf{alarm.shelved_until_realtime_ns, "adopted"};
        }
        next_id_ = std::max(next_id_, alarm.id + 1);
        by_key_[alarm.key] = alarm.id;
        alarms_.emplace(alarm.id, std::move(alarm));
    }
}

void AlarmBoard::settle_adopted(std::uint64_t now_ns, std::vector<AlarmEvent>& out) {
    std::vector<std::uint64_t> pending;
    for (const auto& [id, alarm] : alarms_) {
        if (alarm.adopted) {
            pending.push_back(id);
        }
    }
    for (const std::uint64_t id : pending) {
        BoardAlarm& alarm = alarms_.at(id);
        AlarmEvent event;
        event.detail = "not confirmed after the monitor restarted";
        return_to_normal(alarm, now_ns, out, std::move(event));
    }
}

std::size_t AlarmBoard::adopted_pending() const {
    return static_cast<std::size_t>(std::count_if(
        alarms_.begin(), alarms_.end(), [](const auto& entry) { return entry.second.adopted; }));
}

std::vector<BoardAlarm> AlarmBoard::alarms() const {
    std::vector<BoardAlarm> list;
    list.reserve(alarms_.size());
    for (const auto& [id, alarm] : alarms_) {
        list.push_back(alarm);
    }
    std::stable_sort(list.begin(), list.end(), [](const BoardAlarm& a, const BoardAlarm& b) {
        if (a.severity != b.severity) {
            return a.severity > b.severity;
        }
        return a.id < b.id;
    });
    return list;
}

const BoardAlarm* AlarmBoard::find(std::uint64_t id) const {
    const auto found = alarms_.find(id);
    return found == alarms_.end() ? nullptr : &found->second;
}

}  // namespace brt
