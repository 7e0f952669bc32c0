// --on-critical: runs the user's command for every critical raise event,
// with the event in environment variables (BRT_RULE, BRT_RACK, ...). The
// command's words come from the user alone and it is started with
// posix_spawnp, never through a shell, so nothing read from the segment can
// become part of a command line.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/alarm/alarm_engine.hpp"

namespace brt {

// Splits a command line into words at blanks; single or double quotes group
// words ("notify-send 'battery alarm'"). No expansion of any kind. Throws
// UsageError on an empty command or an unterminated quote.
std::vector<std::string> split_command_words(const std::string& command);

// "BRT_EVENT=raise", "BRT_RULE=thermal_runaway", ... for `event`.
std::vector<std::string> event_environment(const AlarmEvent& event);

class CriticalCommand {
  public:
    explicit CriticalCommand(std::vector<std::string> argv) : argv_(std::move(argv)) {}
    CriticalCommand(const CriticalCommand&) = delete;
    CriticalCommand& operator=(const CriticalCommand&) = delete;
    // Waits (up to a few seconds) for the commands still running.
    ~CriticalCommand();

    // Starts the command for `event` without waiting for it; its stdout goes
    // to our stderr so stdout keeps only events. Returns false (and says why
    // on stderr) when it cannot be started.
    bool run(const AlarmEvent& event);
    // Reaps finished commands; reports a failing exit status on stderr.
    void reap();

  private:
    std::vector<std::string> argv_;
    std::vector<pid_t> children_;
};

}  // namespace brt
