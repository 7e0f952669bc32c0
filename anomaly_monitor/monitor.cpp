#include "anomaly_monitor/monitor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

#include "anomaly_monitor/alarm_server.hpp"
#include "anomaly_monitor/critical_command.hpp"
#include "common/alarm/alarm_board.hpp"
#include "common/alarm/alarm_engine.hpp"
#include "common/cli/cli_common.hpp"
#include "common/cli/exit_codes.hpp"
#include "common/reader/reader_loop.hpp"
#include "common/segment/clock.hpp"
#include "common/segment/segment_reader.hpp"

namespace brt {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A note on stderr about missed frames at most this often.
constexpr auto kMissedNoteEvery = 10s;
// Simulated seconds beyond the outlier window before an adopted alarm the
// engine has not confirmed returns to normal.
constexpr double kAdoptionMarginS = 5.0;

class Monitor : public ReaderTool {
  public:
    explicit Monitor(const MonitorOptions& options)
        : options_(options), output_(options.format, options.min_severity) {
        if (!options.on_critical.empty()) {
            critical_command_ =
                std::make_unique<CriticalCommand>(split_command_words(options.on_critical));
        }
    }

    int run(SegmentReader& reader) {
        started_ = Clock::now();
        ReaderLoopOptions loop;
        loop.duration_s = options_.duration_s;
        // The writer's status is checked every slice, so a writer that dies
        // is noticed within its stale time.
        loop.wait_slice = 50ms;
        int exit_code = 0;
        try {
            exit_code = run_reader_loop(reader, *this, loop);
        } catch (...) {
            if (server_) {
                server_->stop(true);
            }
            throw;
        }
        if (server_) {
            server_->stop(false);
        }
        totals_.read_retries = reader.read_retries();
        totals_.frames_missed = reader.frames_missed();
        totals_.wall_s = std::chrono::duration<double>(Clock::now() - started_).count();
        if (engine_) {
            const std::string summary = options_.format == OutputFormat::json
                                            ? summary_json(*engine_, totals_)
                                            : tool_ + ": " + summary_text(*engine_, totals_);
            std::fputs(summary.c_str(), stderr);
        }
        return exit_code;
    }

    // After a re-creation the geometry may differ: start a new engine. Its
    // alarms start over; say so on stderr.
    StepResult on_attach(SegmentReader& reader, AttachChange change) override {
        if (engine_) {
            fmt::print(stderr, "{}: segment {} {}; alarm state starts over\n", tool_,
                       options_.shm_name,
                       change == AttachChange::attached ? "appeared" : "was re-created");
        }
        if (options_.rack && *options_.rack >= reader.layout().geometry.racks) {
            throw UsageError(fmt::format("--rack {}: the re-created segment has racks 0..{}",
                                         *options_.rack, reader.layout().geometry.racks - 1));
        }
        engine_ = std::make_unique<AlarmEngine>(
            AlarmEngine::for_segment(options_.config, reader.segment()));
        if (!server_) {
            // Once there is a telemetry segment to watch: a monitor that
            // exits for the lack of one leaves no alarm segment behind.
            server_ = std::make_unique<AlarmServer>(options_.shm_name, options_.reset_alarms);
        }
        const std::size_t adopted = server_->attach(reader.segment().header().generation);
        adoption_started_sim_ns_.reset();
        if (adopted != 0) {
            fmt::print(stderr,
                       "{}: adopted {} alarms from the previous monitor in {}, with their "
                       "acknowledgements and shelving\n",
                       tool_, adopted, server_->name());
        }
        range_ = options_.rack ? rack_range(reader.layout().geometry, *options_.rack)
                               : whole_frame(reader.layout().geometry);
        return keep_going;
    }

    void on_detach(SegmentReader&) override {
        fmt::print(stderr, "{}: segment {} went away; waiting for it to come back\n", tool_,
                   options_.shm_name);
    }

    StepResult on_frame(SegmentReader& reader) override {
        // Frame by frame: after a stall (a slow --on-critical fork, the
        // scheduler) the frames still in the ring are checked in order, not
        // skipped. read_next falls back to the newest frame when the writer
        // is a whole ring ahead; still busy, the next wait returns at once
        // and this reads again.
        const ReadOutcome outcome = reader.read_next(frame_, range_);
        if (outcome == ReadOutcome::busy && reader.unreadable_reason() != unreadable_noted_) {
            // Said once per cause; the reader sleeps until the writer
            // publishes again rather than retrying.
            unreadable_noted_ = reader.unreadable_reason();
            fmt::print(stderr, "{}: {}\n", tool_, unreadable_noted_);
        }
        if (outcome != ReadOutcome::ok || frame_.frame_number == engine_->last_frame_evaluated()) {
            return keep_going;
        }
        unreadable_noted_.clear();
        ++totals_.frames_checked;
        const std::uint64_t now = realtime_ns();
        AlarmBoard& board = server_->board();
        std::vector<AlarmEvent> events = board.apply(engine_->evaluate(frame_, now), now);
        engine_->for_each_active([&board](const ActiveAlarm& live) { board.update_value(live); });
        server_->frame_evaluated(frame_.frame_number, frame_.publish_monotonic_ns);
        settle_adopted(now, events);
        return handle(events);
    }

    StepResult on_tick(SegmentReader& reader, const WriterStatus& writer,
                       Clock::time_point now) override {
        const std::uint64_t now_ns = realtime_ns();
        StepResult result;
        // Judged only after the start-up grace: a pipeline started in any
        // order is not an alarm.
        if (now - started_ >= startup_grace_) {
            std::vector<AlarmEvent> events =
                server_->board().apply(engine_->evaluate_liveness(writer, now_ns), now_ns);
            if (!events.empty()) {
                server_->mark_changed();
            }
            result = handle(events);
        }
        // Operators' commands, expired shelves; publishes what changed.
        std::vector<AlarmEvent> commanded;
        server_->tick(now_ns, commanded);
        if (!result) {
            result = handle(commanded);
        }
        totals_.frames_missed = reader.frames_missed();
        // The first miss is noted at once, later ones at most every 10 s.
        if (totals_.frames_missed > missed_noted_ &&
            (missed_noted_ == 0 || now - last_missed_note_ >= kMissedNoteEvery)) {
            fmt::print(stderr,
                       "{}: missed {} frames ({} in all): the writer published faster "
                       "than they could be checked\n",
                       tool_, totals_.frames_missed - missed_noted_, totals_.frames_missed);
            missed_noted_ = totals_.frames_missed;
            last_missed_note_ = now;
        }
        if (critical_command_) {
            critical_command_->reap();
        }
        if (!result && options_.frames != 0 && totals_.frames_checked >= options_.frames) {
            result = kExitOk;
        }
        return result;
    }

    std::string status_text() const override {
        return fmt::format("{} alarms listed; active: {}; {} frames checked, {} missed",
                           server_->board().size(), counts_text(engine_->active_counts()),
                           totals_.frames_checked, totals_.frames_missed);
    }

  private:
    // A restarted monitor's adopted alarms wait for the engine to confirm
    // them: every rule re-raises within one outlier window (the slowest,
    // evaluated once per window) of simulated time, plus a margin.
    void settle_adopted(std::uint64_t now_ns, std::vector<AlarmEvent>& events) {
        if (!server_->adoption_pending()) {
            return;
        }
        if (!adoption_started_sim_ns_) {
            adoption_started_sim_ns_ = frame_.sim_time_ns;
        }
        const double waited_s =
            static_cast<double>(frame_.sim_time_ns -
                                std::min(frame_.sim_time_ns, *adoption_started_sim_ns_)) *
            1e-9;
        if (waited_s >= options_.config.outlier_window_s + kAdoptionMarginS) {
            server_->settle_adopted(now_ns, events);
        }
    }

    StepResult handle(const std::vector<AlarmEvent>& events) {
        if (events.empty()) {
            return keep_going;
        }
        totals_.events_written += output_.write(events);
        StepResult result;
        for (const AlarmEvent& event : events) {
            if (event.transition != AlarmTransition::raise) {
                continue;
            }
            if (critical_command_ && event.severity == Severity::critical) {
                critical_command_->run(event);
            }
            if (options_.exit_on && event.severity >= *options_.exit_on) {
                result = kExitAlarm;
            }
        }
        if (result) {
            fmt::print(stderr, "{}: exiting with code {}: a {} alarm was raised (--exit-on)\n",
                       tool_, *result, severity_name(*options_.exit_on));
        }
        return result;
    }

    const MonitorOptions& options_;
    std::string tool_ = tool_name("anomaly_monitor");
    EventOutput output_;
    std::unique_ptr<AlarmEngine> engine_;
    std::unique_ptr<AlarmServer> server_;
    std::optional<std::uint64_t> adoption_started_sim_ns_;
    std::chrono::nanoseconds startup_grace_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(options_.startup_grace_s));
    std::unique_ptr<CriticalCommand> critical_command_;
    CellRange range_;
    FrameBuffer frame_;
    MonitorTotals totals_;
    Clock::time_point started_;
    Clock::time_point last_missed_note_{};
    std::uint64_t missed_noted_ = 0;
    std::string unreadable_noted_;
};

}  // namespace

int run_monitor(const MonitorOptions& options) {
    SegmentReader reader(options.shm_name);
    Monitor monitor(options);
    return monitor.run(reader);
}

}  // namespace brt
