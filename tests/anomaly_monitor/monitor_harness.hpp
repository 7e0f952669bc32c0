// Runs brt-anomaly-monitor against the real simulator, as a user would: a
// private segment, the monitor in the background writing JSON lines to a
// log, the simulator in the foreground as fast as it goes.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/alarm_segment/alarm_segment_reader.hpp"
#include "common/segment/segment_file.hpp"
#include "support/run_command.hpp"
#include "support/test_segment.hpp"

namespace brt::test {

// The sanitizer builds run everything several times slower: their
// end-to-end runs use fewer cells (never fewer rules or simulated seconds).
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

class MonitorRun {
  public:
    explicit MonitorRun(const std::string& tag, Geometry geometry = {2, 2, 8},
                        std::vector<Chemistry> chemistry = {Chemistry::nmc},
                        std::uint32_t slots = kDefaultSlots)
        : name_(unique_segment_name(tag)), log_("/tmp/" + name_ + ".log") {
        CreateOptions options;
        options.geometry = geometry;
        options.rack_chemistry = std::move(chemistry);
        options.slot_count = slots;
        create_segment(name_, options);
    }
    ~MonitorRun() {
        {
            KillOnExit monitor{std::move(guard_.pids)};  // killed and reaped here
        }
        remove_test_segments(name_);
        unlink(log_.c_str());
    }
    MonitorRun(const MonitorRun&) = delete;
    MonitorRun& operator=(const MonitorRun&) = delete;

    const std::string& name() const { return name_; }
    const std::string& log_path() const { return log_; }
    pid_t monitor_pid() const { return monitor_; }

    // Starts the monitor (JSON lines) and waits until it serves: its alarm
    // segment says it is live. Without a start-up grace in `extra`, none:
    // these tests see the writer's liveness at once.
    void start_monitor(std::vector<std::string> extra = {},
                       const std::vector<std::string>& env = {}) {
        std::vector<std::string> argv = {tool_path("BRT_ANOMALY_MONITOR"), "--shm-name", name_,
                                         "--format", "json"};
        if (std::find(extra.begin(), extra.end(), "--startup-grace") == extra.end()) {
            argv.insert(argv.end(), {"--startup-grace", "0"});
        }
        argv.insert(argv.end(), extra.begin(), extra.end());
        monitor_ = spawn_background(argv, log_, env);
        guard_.pids.push_back(monitor_);
        AlarmSegmentReader alarms(alarm_segment_name(name_));
        for (int waited = 0; waited < 30000; waited += 10) {
            if (alarms.try_attach()) {
                const WriterStatus status = alarms.writer_status();
                if (status.liveness == Liveness::live && status.pid == monitor_) {
                    return;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }

    // SIGKILL to the monitor, as a crash would; waits for it to be gone.
    void kill_monitor() {
        kill(monitor_, SIGKILL);
        wait_for_exit(monitor_, 20000);
        guard_.pids.clear();
    }

    // Runs the simulator to the end of `args` (which should bound it): as
    // fast as it goes, or paced (its own --speed and --rate in `args`), on
    // one thread unless `args` say otherwise.
    CommandOutput simulate(std::vector<std::string> args, bool max_speed = true) {
        std::vector<std::string> argv = {tool_path("BRT_SIMULATOR"), "--shm-name", name_};
        if (max_speed) {
            argv.push_back("--max-speed");
        }
        if (std::find(args.begin(), args.end(), "--threads") == args.end()) {
            argv.insert(argv.end(), {"--threads", "1"});
        }
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    }

    // SIGINT to the monitor; its exit code.
    int stop_monitor() {
        kill(monitor_, SIGINT);
        const int code = wait_for_exit(monitor_, 20000);
        guard_.pids.clear();
        return code;
    }

    std::string log() const { return read_file(log_); }
    std::vector<std::string> lines_with(const std::string& text) const {
        std::vector<std::string> found;
        const std::string content = log();
        std::size_t begin = 0;
        while (begin < content.size()) {
            std::size_t end = content.find('\n', begin);
            if (end == std::string::npos) {
                end = content.size();
            }
            const std::string line = content.substr(begin, end - begin);
            if (line.find(text) != std::string::npos) {
                found.push_back(line);
            }
            begin = end + 1;
        }
        return found;
    }
    // Raise events of `rule` (JSON lines), optionally at one location.
    std::vector<std::string> raises(const std::string& rule,
                                    const std::string& location = {}) const {
        std::vector<std::string> found;
        for (const auto& line : lines_with("\"rule\":\"" + rule + "\"")) {
            if (line.find("\"event\":\"raise\"") != std::string::npos &&
                line.find(location) != std::string::npos) {
                found.push_back(line);
            }
        }
        return found;
    }
    bool wait_for_log(const std::string& text, int timeout_ms = 30000) const {
        for (int waited = 0; waited < timeout_ms; waited += 10) {
            if (log().find(text) != std::string::npos) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

  private:
    std::string name_;
    std::string log_;
    pid_t monitor_ = -1;
    KillOnExit guard_;
};

// A number in a JSON line: "key":123 -> 123 (-1 when the key is missing).
inline long json_number(const std::string& line, const std::string& key) {
    const std::string quoted = "\"" + key + "\":";
    const auto at = line.find(quoted);
    return at == std::string::npos ? -1 : std::stol(line.substr(at + quoted.size()));
}

inline std::string cell_at(int rack, int module, int cell) {
    return "\"rack\":" + std::to_string(rack) + ",\"module\":" + std::to_string(module) +
           ",\"cell\":" + std::to_string(cell);
}
inline std::string module_at(int rack, int module) {
    return "\"rack\":" + std::to_string(rack) + ",\"module\":" + std::to_string(module) +
           ",\"cell\":null";
}
inline std::string rack_at(int rack) {
    return "\"rack\":" + std::to_string(rack) + ",";
}

}  // namespace brt::test
