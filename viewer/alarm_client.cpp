#include "viewer/alarm_client.hpp"

#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/segment/clock.hpp"
#include "common/segment/errors.hpp"

namespace brt::viewer {

namespace {

// A command not answered by then is reported as such (the monitor answers
// within 50 ms when it runs).
constexpr auto kAnswerTimeout = std::chrono::seconds(2);

std::string viewer_origin() {
    const passwd* user = getpwuid(getuid());
    return user != nullptr ? fmt::format("viewer {}", user->pw_name)
                           : fmt::format("viewer uid {}", getuid());
}

std::string what_of(CommandKind kind, std::uint64_t id, double seconds) {
    switch (kind) {
        case CommandKind::alarm_acknowledge:
            return id == 0 ? std::string("acknowledge all") : fmt::format("acknowledge #{}", id);
        case CommandKind::alarm_shelve:
            return fmt::format("shelve #{} for {} min", id, seconds / 60);
        case CommandKind::alarm_unshelve:
            return fmt::format("unshelve #{}", id);
        default:
            return "command";
    }
}

}  // namespace

AlarmClient::AlarmClient(const std::string& shm_name) : reader_(alarm_segment_name(shm_name)) {}

const AlarmList& AlarmClient::refresh(Clock::time_point now) {
    list_ = read_alarm_list(reader_, now - started_ >= kAlarmMonitorGrace, realtime_ns());
    return list_;
}

std::string AlarmClient::post(CommandKind kind, std::uint64_t id, double seconds) {
    const std::string what = what_of(kind, id, seconds);
    if (!list_.monitor_running) {
        return what + ": not sent, the alarm monitor is not running";
    }
    Command command;
    command.kind = kind;
    command.target_id = id;
    command.args[0] = seconds;
    set_command_origin(command, viewer_origin());
    try {
        const auto position = reader_.commands().post(command);
        if (!position) {
            return what + ": not sent, the monitor's command ring is full";
        }
        pending_ = position;
        pending_what_ = what;
        posted_at_ = Clock::now();
        return what + "...";
    } catch (const SegmentError& error) {
        return what + ": not sent: " + error.what();
    }
}

std::optional<std::string> AlarmClient::answer(Clock::time_point now) {
    if (!pending_ || !reader_.attached()) {
        return std::nullopt;
    }
    const auto status = reader_.commands().result(*pending_);
    if (!status) {
        if (now - posted_at_ < kAnswerTimeout) {
            return std::nullopt;
        }
        pending_.reset();
        return pending_what_ + ": no answer from the alarm monitor";
    }
    pending_.reset();
    switch (*status) {
        case CommandStatus::applied:
            return pending_what_ + ": done";
        case CommandStatus::rejected_target:
            return pending_what_ + ": no such alarm any more";
        default:
            return pending_what_ + ": refused (" + std::string(command_status_name(*status)) + ")";
    }
}

}  // namespace brt::viewer
