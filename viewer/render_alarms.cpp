// The alarm view (`a`): the monitor's alarm list, most severe first, with
// its state, place, live and worst value and age; the operator acknowledges
// and shelves from here (the dashboard posts the commands).
#include <fmt/format.h>

#include <algorithm>

#include "common/alarm/alarm_event_format.hpp"
#include "viewer/render.hpp"
#include "viewer/styled_line.hpp"

namespace brt::viewer {

std::vector<const BoardAlarm*> listed_alarms(const AlarmList& list, bool show_suppressed) {
    std::vector<const BoardAlarm*> shown;
    for (const BoardAlarm& alarm : list.alarms) {
        if (show_suppressed || !alarm.suppressed) {
            shown.push_back(&alarm);
        }
    }
    return shown;
}

namespace detail {

namespace {

std::string_view severity_word(Severity severity) {
    switch (severity) {
        case Severity::critical:
            return "CRIT";
        case Severity::warning:
            return "WARN";
        case Severity::info:
            return "INFO";
    }
    return "?";
}

// UNACK (bright), ACK, RTN (back to normal, not acknowledged).
std::string_view state_word(AlarmState state) {
    switch (state) {
        case AlarmState::unacknowledged:
            return "UNACK";
        case AlarmState::acknowledged:
            return "ack";
        case AlarmState::returned_unacknowledged:
            return "RTN";
        case AlarmState::normal:
            return "-";
    }
    return "?";
}

std::string place(const AlarmLocation& at) {
    if (at.rack == kNoIndex) {
        return "system";
    }
    if (at.module == kNoIndex) {
        return fmt::format("r{}", at.rack);
    }
    if (at.cell == kNoIndex) {
        return fmt::format("r{} m{}", at.rack, at.module);
    }
    return fmt::format("r{} m{} c{}", at.rack, at.module, at.cell);
}

// "12:03:04" (UTC, as the event lines); the date when not today is in the
// JSON forms.
std::string since(std::uint64_t realtime_ns) {
    const std::string stamp = utc_timestamp(realtime_ns);
    return stamp.size() >= 19 ? stamp.substr(11, 8) : stamp;
}

// L latching, F first-out, ~ suppressed, S shelved.
std::string marks(const BoardAlarm& alarm) {
    std::string text;
    text += alarm.latching ? 'L' : ' ';
    text += alarm.first_out ? 'F' : alarm.suppressed ? '~' : ' ';
    text += alarm.shelved() ? 'S' : ' ';
    return text;
}

}  // namespace

void render_alarms(ViewState& state, const RenderInput& input, std::vector<std::string>& lines) {
    const int width = input.size.columns;
    static const AlarmList kNone;
    const AlarmList& list = input.alarms != nullptr ? *input.alarms : kNone;
    const std::vector<const BoardAlarm*> shown = listed_alarms(list, state.show_suppressed);
    std::size_t unacknowledged = 0;
    for (const BoardAlarm* alarm : shown) {
        unacknowledged += alarm->state != AlarmState::acknowledged ? 1 : 0;
    }
    const std::size_t hidden = list.alarms.size() - shown.size();
    std::string title =
        fmt::format("Alarms: {} listed, {} unacknowledged", shown.size(), unacknowledged);
    if (hidden != 0) {
        title += fmt::format(", {} suppressed (S shows them)", hidden);
    }
    if (!list.monitor_running && !list.monitor_problem.empty()) {
        title = "Alarms: alarm monitor not running: " + list.monitor_problem;
    }
    render_header(input, title, lines);

    lines.push_back(StyledLine(width)
                        .styled(kBold, fmt::format("  {:>5} {:<4} {:<5} {:<3} {:<26} {:<12} "
                                                   "{:>10} {:>10} {:>8}",
                                                   "#", "Sev", "State", "", "Rule", "Where",
                                                   "Value", "Worst", "Since"))
                        .take());
    const std::int64_t count = static_cast<std::int64_t>(shown.size());
    if (count == 0) {
        state.alarm = 0;
        lines.push_back(StyledLine(width)
                            .text(list.monitor_running ? "  No alarms: all normal."
                                                       : "  No alarm list: " + list.monitor_problem)
                            .take());
    } else {
        state.alarm = std::min<std::uint32_t>(state.alarm, static_cast<std::uint32_t>(count - 1));
        const std::int64_t visible = std::max(input.size.rows - 4, 1);
        keep_visible(state.alarm, visible, count, state.first_alarm);
        for (std::int64_t i = state.first_alarm; i < std::min(count, state.first_alarm + visible);
             ++i) {
            const BoardAlarm& alarm = *shown[static_cast<std::size_t>(i)];
            const bool selected = i == state.alarm;
            StyledLine line(width);
            line.styled(selected ? kReverse : "", selected ? ">" : " ");
            line.text(alarm.id == 0 ? std::string("     -") : fmt::format(" {:>5}", alarm.id));
            line.text(" ");
            // The severity is a coloured block; an unacknowledged alarm's
            // state is bright, an acknowledged one's plain.
            line.styled(severity_style(input.scale, alarm.severity), severity_word(alarm.severity));
            line.text(" ");
            const bool pending = alarm.state != AlarmState::acknowledged;
            line.styled(pending ? kBold : "", fmt::format("{:<5}", state_word(alarm.state)));
            line.text(" ").text(marks(alarm)).text(" ");
            line.text(fmt::format(
                "{:<26} {:<12} {:>10} {:>10} {:>8}", rule_name(alarm.rule), place(alarm.location),
                alarm_value_text(alarm.value, alarm.rule),
                alarm.id == 0 ? std::string() : alarm_value_text(alarm.worst_value, alarm.rule),
                alarm.id == 0 ? std::string() : since(alarm.raised_realtime_ns)));
            lines.push_back(line.take());
        }
    }
    lines.resize(static_cast<std::size_t>(std::max(input.size.rows - 1, 0)));
    lines.push_back(StyledLine(width)
                        .text("Enter ack  A ack all  s shelve 1 h  u unshelve  S suppressed  "
                              "L latching F first-out ~ suppressed S shelved  a/Esc back")
                        .take());
}

}  // namespace detail
}  // namespace brt::viewer
