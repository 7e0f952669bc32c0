#include "viewer/render.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "common/json/number_format.hpp"
#include "common/segment/shm_name.hpp"
#include "viewer/styled_line.hpp"

namespace brt::viewer {

namespace detail {

std::string format_sim_time(std::uint64_t sim_time_ns) {
    const std::uint64_t tenths = sim_time_ns / 100'000'000;
    const std::uint64_t seconds = tenths / 10;
    const std::uint64_t days = seconds / 86400;
    const std::string clock = fmt::format("{:02}:{:02}:{:02}.{}", seconds / 3600 % 24,
                                          seconds / 60 % 60, seconds % 60, tenths % 10);
    return days > 0 ? fmt::format("{}d {}", days, clock) : clock;
}

void keep_visible(std::int64_t selected, std::int64_t visible, std::int64_t count,
                  std::int64_t& first) {
    visible = std::max<std::int64_t>(visible, 1);
    if (selected < first) {
        first = selected;
    } else if (selected >= first + visible) {
        first = selected - visible + 1;
    }
    first = std::clamp<std::int64_t>(first, 0, std::max<std::int64_t>(count - visible, 0));
}

namespace {

std::string_view liveness_style(const ColorScale& scale, Liveness liveness) {
    if (!scale.colored()) {
        return kBold;
    }
    switch (liveness) {
        case Liveness::live:
            return "\x1b[1;32m";
        case Liveness::stale:
        case Liveness::no_writer:
            return "\x1b[1;33m";
        case Liveness::stopped:
        case Liveness::no_segment:
            return "\x1b[1;31m";
    }
    return kBold;
}

}  // namespace

// "ALARMS 2C 1W 3 unack": every view's first glance. The counts
// are of the alarms annunciated (not suppressed, not shelved), each
// severity in its colour; a calm "no alarms" when there are none.
void render_alarm_counts(const RenderInput& input, StyledLine& line) {
    if (input.alarms == nullptr) {
        return;
    }
    std::array<std::size_t, kSeverityCount> active{};
    std::size_t unacknowledged = 0;
    for (const BoardAlarm& alarm : input.alarms->alarms) {
        if (!alarm.annunciated()) {
            continue;
        }
        active[static_cast<std::size_t>(alarm.severity)] += alarm.active ? 1 : 0;
        unacknowledged += alarm.state != AlarmState::acknowledged ? 1 : 0;
    }
    if (active[0] + active[1] + active[2] + unacknowledged == 0) {
        line.text("no alarms  ");
        return;
    }
    // Compact, to leave room at 80 columns: "ALARMS 2C 1W 3 unack".
    line.styled(kBold, "ALARMS");
    for (Severity severity : {Severity::critical, Severity::warning, Severity::info}) {
        const std::size_t n = active[static_cast<std::size_t>(severity)];
        if (n != 0) {
            line.text(" ").styled(severity_style(input.scale, severity),
                                  fmt::format("{}{}", n,
                                              severity == Severity::critical  ? 'C'
                                              : severity == Severity::warning ? 'W'
                                                                              : 'I'));
        }
    }
    if (unacknowledged != 0) {
        line.text(" ").styled(kReverse, fmt::format("{} unack", unacknowledged));
    }
    line.text("  ");
}

void render_header(const RenderInput& input, const std::string& title,
                   std::vector<std::string>& lines) {
    const Snapshot& snap = input.snapshot;
    // Most important first: the line is cut at the terminal's edge.
    StyledLine top(input.size.columns);
    top.styled(kBold, snap.segment_name).text("  ");
    render_alarm_counts(input, top);
    top.text("writer ");
    if (snap.writer.pid != 0) {
        top.text(fmt::format("{} ", snap.writer.pid));
    }
    top.styled(liveness_style(input.scale, snap.writer.liveness),
               liveness_name(snap.writer.liveness));
    if (snap.has_frame) {
        const std::string rate = std::isnan(snap.frames_per_second)
                                     ? std::string("-")
                                     : format_fixed(snap.frames_per_second, 1);
        top.text(fmt::format("  {} fps  sim {}  frame {}", rate,
                             format_sim_time(snap.frame.sim_time_ns), snap.frame.frame_number));
    }
    if (snap.writer.liveness != Liveness::no_segment) {
        const Geometry& g = snap.geometry;
        top.text(fmt::format("  {}x{}x{}", g.racks, g.modules_per_rack, g.cells_per_module));
    }
    lines.push_back(top.take());

    StyledLine second(input.size.columns);
    if (!input.message.empty()) {
        second.styled(
            input.message_alert ? (input.scale.colored() ? "\x1b[1;30;43m" : kReverse) : kBold,
            input.message);
        second.text("  ");
    }
    second.text(title);
    lines.push_back(second.take());
}

void push_legend(const RenderInput& input, Field field, const ScaleRange& range,
                 std::string_view keys, std::vector<std::string>& lines) {
    lines.resize(static_cast<std::size_t>(std::max(input.size.rows - 2, 0)));
    StyledLine line(input.size.columns);
    const DisplayUnit& unit = display_unit(field);
    const bool by_state = input.color_mode == ColorMode::state;
    if (by_state) {
        // What the colours mean: an alarm's severity, else calm.
        for (Severity severity : {Severity::critical, Severity::warning, Severity::info}) {
            const char letter = severity == Severity::critical  ? 'C'
                                : severity == Severity::warning ? 'W'
                                                                : 'I';
            line.styled(severity_style(input.scale, severity),
                        input.scale.colored() ? std::string(1, ' ') : std::string(1, letter))
                .text(severity == Severity::critical  ? " crit "
                      : severity == Severity::warning ? " warn "
                                                      : " info ");
        }
    }
    if (!range.empty()) {
        line.text(fmt::format("{}{} {} ", by_state ? "normal: " : "", unit.label, unit.unit));
        line.text(format_display(field, range.low)).text(" ");
        constexpr int kBarWidth = 12;
        for (int i = 0; i < kBarWidth; ++i) {
            const double t = (i + 0.5) / kBarWidth;
            if (input.scale.colored()) {
                line.styled(by_state ? input.scale.calm_style(t) : input.scale.style(t), " ");
            } else {
                line.text(std::string(1, input.scale.shade(t)));
            }
        }
        line.text(" ").text(format_display(field, range.high));
    }
    lines.push_back(line.take());
    lines.push_back(StyledLine(input.size.columns).text(keys).take());
}

}  // namespace detail

std::vector<std::string> render(ViewState& state, const RenderInput& input) {
    std::vector<std::string> lines;
    lines.reserve(static_cast<std::size_t>(std::max(input.size.rows, 0)));
    const Snapshot& snap = input.snapshot;
    if (snap.writer.liveness != Liveness::no_segment) {
        const Geometry& g = snap.geometry;
        state.rack = std::min(state.rack, g.racks - 1);
        state.module = std::min(state.module, g.modules_per_rack - 1);
        state.cell = std::min(state.cell, g.cells_per_module - 1);
    }
    if (state.help) {
        detail::render_help(input, lines);
    } else if (state.view == View::alarms) {
        detail::render_alarms(state, input, lines);
    } else if (snap.writer.liveness == Liveness::no_segment || !snap.has_frame) {
        detail::render_header(input, "", lines);
        lines.emplace_back();
        const int width = input.size.columns;
        lines.push_back(
            StyledLine(width)
                .text(snap.writer.liveness == Liveness::no_segment
                          ? "  No segment: waiting for it to be created (brt-shm-init)."
                          : "  No frame published yet: waiting for the writer (brt-simulator).")
                .take());
        if (!snap.writer.detail.empty()) {
            lines.push_back(StyledLine(width).text("  " + snap.writer.detail).take());
        }
    } else {
        switch (state.view) {
            case View::overview:
                detail::render_overview(state, input, lines);
                break;
            case View::rack:
                detail::render_rack(state, input, lines);
                break;
            case View::module:
                detail::render_module(state, input, lines);
                break;
            case View::alarms:
                break;  // drawn above
        }
    }
    // Exactly one string per row, each cut to the width by its builder.
    lines.resize(static_cast<std::size_t>(std::max(input.size.rows, 0)));
    return lines;
}

}  // namespace brt::viewer
