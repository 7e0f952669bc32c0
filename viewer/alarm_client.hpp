// The dashboard's side of the alarm server: reads the monitor's alarm list
// at every refresh and posts the operator's acknowledge and shelve commands
// to it without waiting (the answer shows on a later refresh).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/alarm/alarm_list.hpp"
#include "common/segment/command_ring.hpp"

namespace brt::viewer {

class AlarmClient {
  public:
    using Clock = std::chrono::steady_clock;
    // `shm_name`: the telemetry segment's (normalized).
    explicit AlarmClient(const std::string& shm_name);

    // Reads the list again. The monitor is judged (the alarm_system alarm)
    // only after a start-up grace, as the other readers do.
    const AlarmList& refresh(Clock::time_point now);
    const AlarmList& list() const { return list_; }

    // Posts a command for alarm `id` (0: every one, for acknowledge);
    // returns what to tell the user now.
    std::string post(CommandKind kind, std::uint64_t id, double seconds = 0);
    // The monitor's answer to the last command, once, when it came (or
    // when it did not come in time).
    std::optional<std::string> answer(Clock::time_point now);

  private:
    AlarmSegmentReader reader_;
    AlarmList list_;
    Clock::time_point started_ = Clock::now();
    std::optional<std::uint64_t> pending_;  // ring position of the last command
    std::string pending_what_;
    Clock::time_point posted_at_{};
};

// The grace before "alarm monitor not running" shows, as the monitor's and
// the bridge's --startup-grace default.
inline constexpr std::chrono::seconds kAlarmMonitorGrace{5};

}  // namespace brt::viewer
