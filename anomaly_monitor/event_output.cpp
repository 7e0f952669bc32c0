#include "anomaly_monitor/event_output.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "common/cli/cli_common.hpp"
#include "common/json/json_writer.hpp"
#include "common/json/number_format.hpp"

namespace brt {

EventOutput::EventOutput(OutputFormat format, Severity min_severity, std::FILE* out)
    : format_(format), min_severity_(min_severity), out_(out) {
    style_.syslog_prefix = stdout_is_journal();
    style_.color = !style_.syslog_prefix && color_enabled(out);
}

std::size_t EventOutput::write(const std::vector<AlarmEvent>& events) {
    buffer_.clear();
    std::size_t written = 0;
    for (const AlarmEvent& event : events) {
        if (event.severity < min_severity_) {
            continue;
        }
        if (format_ == OutputFormat::json) {
            if (style_.syslog_prefix) {
                buffer_ += fmt::format("<{}>", event.transition == AlarmTransition::raise
                                                   ? syslog_priority(event.severity)
                                                   : kSyslogPriorityClear);
            }
            buffer_ += alarm_event_json(event);
        } else {
            buffer_ += alarm_event_text(event, style_);
        }
        buffer_ += '\n';
        ++written;
    }
    if (!buffer_.empty()) {
        std::fwrite(buffer_.data(), 1, buffer_.size(), out_);
        std::fflush(out_);
    }
    return written;
}

bool stdout_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (stream == nullptr || stream[0] == '\0') {
        return false;
    }
    unsigned long long device = 0;
    unsigned long long inode = 0;
    if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) {
        return false;
    }
    struct stat info {};
    if (fstat(STDOUT_FILENO, &info) != 0) {
        return false;
    }
    return info.st_dev == device && info.st_ino == inode;
}

std::string counts_text(const AlarmCounts& counts) {
    return fmt::format("{} critical, {} warning, {} info", counts.at(Severity::critical),
                       counts.at(Severity::warning), counts.at(Severity::info));
}

std::string summary_text(const AlarmEngine& engine, const MonitorTotals& totals) {
    const auto active = engine.active_alarms();
    std::string text = fmt::format(
        "summary: {} frames checked, {} missed, {} read retries in {} s; raised {} ({}); "
        "{} active ({})\n",
        totals.frames_checked, totals.frames_missed, totals.read_retries,
        format_fixed(totals.wall_s, 1), engine.raised_counts().total(),
        counts_text(engine.raised_counts()), active.size(), counts_text(engine.active_counts()));
    for (const ActiveAlarm& alarm : active) {
        const std::string unit = rule_unit(alarm.rule).empty()
                                     ? std::string()
                                     : " " + std::string(rule_unit(alarm.rule));
        text += fmt::format("  active {:<8} {} {} since frame {} (value {}{}, limit {}{})\n",
                            severity_name(alarm.severity), rule_name(alarm.rule),
                            location_text(alarm.location), alarm.raised_frame,
                            format_alarm_value(alarm.value), unit, format_alarm_value(alarm.limit),
                            unit);
    }
    return text;
}

std::string summary_json(const AlarmEngine& engine, const MonitorTotals& totals) {
    JsonWriter json;
    auto counts = [&](const char* name, const AlarmCounts& c) {
        json.key(name).begin_object();
        for (Severity severity : {Severity::critical, Severity::warning, Severity::info}) {
            json.key(severity_name(severity)).value(c.at(severity));
        }
        json.end_object();
    };
    auto index = [&](const char* name, std::uint32_t value) {
        json.key(name);
        if (value == kNoIndex) {
            json.null();
        } else {
            json.value(value);
        }
    };
    json.begin_object().key("summary").begin_object();
    json.key("frames_checked").value(totals.frames_checked);
    json.key("frames_missed").value(totals.frames_missed);
    json.key("read_retries").value(totals.read_retries);
    json.key("wall_s").seconds(totals.wall_s);
    counts("raised", engine.raised_counts());
    counts("active_counts", engine.active_counts());
    json.key("active").begin_array();
    for (const ActiveAlarm& alarm : engine.active_alarms()) {
        json.begin_object();
        json.key("severity").value(severity_name(alarm.severity));
        json.key("rule").value(rule_name(alarm.rule));
        index("rack", alarm.location.rack);
        index("module", alarm.location.module);
        index("cell", alarm.location.cell);
        json.key("since_frame").value(alarm.raised_frame);
        json.key("value").value(alarm.value);
        json.key("limit").value(alarm.limit);
        json.end_object();
    }
    json.end_array().end_object().end_object();
    return json.str() + "\n";
}

}  // namespace brt
