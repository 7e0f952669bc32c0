#include "anomaly_monitor/monitor.hpp"

#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "anomaly_monitor/critical_command.hpp"
#include "common/alarm/alarm_engine.hpp"
#include "common/cli/cli_common.hpp"
#include "common/segment/clock.hpp"
#include "common/segment/segment_reader.hpp"
#include "common/cli/stop_signal.hpp"
#include "common/systemd/systemd_notify.hpp"

namespace brt {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// How long one wait for a frame may sleep: the liveness rule is checked at
// least this often, so a writer that dies is noticed within its stale time.
constexpr auto kWaitSlice = 50ms;
// Re-resolve the segment name this often (re-created or removed segment).
constexpr auto kRefreshEvery = 1s;
constexpr auto kStatusEvery = 1s;
// A note on stderr about missed frames at most this often.
constexpr auto kMissedNoteEvery = 10s;

class Monitor {
  public:
    explicit Monitor(const MonitorOptions& options)
        : options_(options),
          reader_(options.shm_name),
          output_(options.format, options.min_severity) {
        if (!options.on_critical.empty()) {
            critical_command_ =
                std::make_unique<CriticalCommand>(split_command_words(options.on_critical));
        }
    }

    int run() {
        reader_.require_attached();
        build_engine();
        const auto started = Clock::now();
        systemd_.ready();
        int exit_code = 0;
        auto last_refresh = Clock::now();
        auto last_status = Clock::time_point{};
        auto last_liveness = Clock::time_point{};
        // The first miss is noted at once, later ones at most every 10 s.
        auto last_missed_note = Clock::time_point{};
        std::uint64_t missed_noted = 0;
        while (!stop_requested() && exit_code == 0) {
            if (reader_.wait_for_frame(reader_.last_frame_read(), kWaitSlice)) {
                exit_code = check_next_frame();
            }
            const auto now = Clock::now();
            // The writer's status costs a look at the lock (/proc/locks): once
            // per wait slice is enough to notice a dead writer in time.
            if (exit_code == 0 && now - last_liveness >= kWaitSlice) {
                last_liveness = now;
                exit_code =
                    handle(engine_->evaluate_liveness(reader_.writer_status(), realtime_ns()));
            }
            if (now - last_refresh >= kRefreshEvery) {
                last_refresh = now;
                follow_segment();
            }
            totals_.frames_missed = reader_.frames_missed();
            if (totals_.frames_missed > missed_noted &&
                now - last_missed_note >= kMissedNoteEvery) {
                fmt::print(stderr,
                           "{}: missed {} frames ({} in all): the writer published faster "
                           "than they could be checked\n",
                           tool_, totals_.frames_missed - missed_noted, totals_.frames_missed);
                missed_noted = totals_.frames_missed;
                last_missed_note = now;
            }
            if (now - last_status >= kStatusEvery) {
                last_status = now;
                systemd_.status(status_text());
            }
            systemd_.watchdog_if_due();
            systemd_.stall_point_for_tests();
            if (critical_command_) {
                critical_command_->reap();
            }
            if (options_.frames != 0 && totals_.frames_checked >= options_.frames) {
                break;
            }
            if (options_.duration_s > 0 &&
                std::chrono::duration<double>(now - started).count() >= options_.duration_s) {
                break;
            }
        }
        systemd_.stopping();
        totals_.read_retries = reader_.read_retries();
        totals_.frames_missed = reader_.frames_missed();
        totals_.wall_s = std::chrono::duration<double>(Clock::now() - started).count();
        const std::string summary = options_.format == OutputFormat::json
                                        ? summary_json(*engine_, totals_)
                                        : tool_ + ": " + summary_text(*engine_, totals_);
        std::fputs(summary.c_str(), stderr);
        return exit_code;
    }

  private:
    void build_engine() {
        engine_ = std::make_unique<AlarmEngine>(
            AlarmEngine::for_segment(options_.config, reader_.segment()));
        range_ = options_.rack ? rack_range(reader_.layout().geometry, *options_.rack)
                               : whole_frame(reader_.layout().geometry);
    }

    // After a re-creation the geometry may differ: start a new engine. Its
    // alarms start over; say so on stderr.
    void follow_segment() {
        const AttachChange change = reader_.refresh();
        if (change == AttachChange::reattached || change == AttachChange::attached) {
            fmt::print(stderr, "{}: segment {} {}; alarm state starts over\n", tool_,
                       options_.shm_name,
                       change == AttachChange::attached ? "appeared" : "was re-created");
            if (options_.rack && *options_.rack >= reader_.layout().geometry.racks) {
                throw UsageError(fmt::format("--rack {}: the re-created segment has racks 0..{}",
                                             *options_.rack, reader_.layout().geometry.racks - 1));
            }
            build_engine();
        } else if (change == AttachChange::detached) {
            fmt::print(stderr, "{}: segment {} went away; waiting for it to come back\n", tool_,
                       options_.shm_name);
        }
    }

    int check_next_frame() {
        // Frame by frame: after a stall (a slow --on-critical fork, the
        // scheduler) the frames still in the ring are checked in order, not
        // skipped. read_next falls back to the newest frame when the writer
        // is a whole ring ahead; still busy, the main loop's next wait returns
        // at once and this reads again.
        if (reader_.read_next(frame_, range_) != ReadOutcome::ok ||
            frame_.frame_number == engine_->last_frame_evaluated()) {
            return 0;
        }
        ++totals_.frames_checked;
        return handle(engine_->evaluate(frame_, realtime_ns()));
    }

    int handle(const std::vector<AlarmEvent>& events) {
        if (events.empty()) {
            return 0;
        }
        totals_.events_written += output_.write(events);
        int exit_code = 0;
        for (const AlarmEvent& event : events) {
            if (event.transition != AlarmTransition::raise) {
                continue;
            }
            if (critical_command_ && event.severity == Severity::critical) {
                critical_command_->run(event);
            }
            if (options_.exit_on && event.severity >= *options_.exit_on) {
                exit_code = kExitAlarm;
            }
        }
        if (exit_code != 0) {
            fmt::print(stderr, "{}: exiting with code {}: a {} alarm was raised (--exit-on)\n",
                       tool_, exit_code, severity_name(*options_.exit_on));
        }
        return exit_code;
    }

    std::string status_text() const {
        return fmt::format("active alarms: {}; {} frames checked, {} missed",
                           counts_text(engine_->active_counts()), totals_.frames_checked,
                           totals_.frames_missed);
    }

    const MonitorOptions& options_;
    std::string tool_ = tool_name("anomaly_monitor");
    SegmentReader reader_;
    EventOutput output_;
    SystemdNotifier systemd_;
    std::unique_ptr<AlarmEngine> engine_;
    std::unique_ptr<CriticalCommand> critical_command_;
    CellRange range_;
    FrameBuffer frame_;
    MonitorTotals totals_;
};

}  // namespace

int run_monitor(const MonitorOptions& options) {
    Monitor monitor(options);
    return monitor.run();
}

}  // namespace brt
