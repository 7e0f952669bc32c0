// Where brt-anomaly-monitor's events and summary go: events on stdout, one
// line each (text or JSON lines), flushed at once so a reader of the pipe
// sees them without delay; the summary on stderr so stdout holds nothing but
// events.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common/alarm/alarm_engine.hpp"
#include "common/alarm/alarm_event_format.hpp"

namespace brt {

enum class OutputFormat { text, json };

struct MonitorTotals {
    std::uint64_t frames_checked = 0;
    std::uint64_t frames_missed = 0;
    std::uint64_t read_retries = 0;
    std::uint64_t events_written = 0;
    double wall_s = 0;
};

class EventOutput {
  public:
    EventOutput(OutputFormat format, Severity min_severity, std::FILE* out = stdout);

    // Writes the events at or above the minimum severity and flushes.
    // Returns how many were written.
    std::size_t write(const std::vector<AlarmEvent>& events);

  private:
    OutputFormat format_;
    Severity min_severity_;
    std::FILE* out_;
    EventTextStyle style_;
    std::string buffer_;
};

// True when stdout is the journal: $JOURNAL_STREAM names stdout's device and
// inode (systemd.exec(5)), so a pipe to another program gets no prefixes.
bool stdout_is_journal();

// The exit summary: counts, missed frames, active alarms.
std::string summary_text(const AlarmEngine& engine, const MonitorTotals& totals);
std::string summary_json(const AlarmEngine& engine, const MonitorTotals& totals);
// "2 critical, 0 warning, 1 info"
std::string counts_text(const AlarmCounts& counts);

}  // namespace brt
