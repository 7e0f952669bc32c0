#include "simulator/run_loop.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <thread>

#include "common/cli/exit_codes.hpp"
#include "common/cli/stop_signal.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/clock.hpp"
#include "common/segment/command_ring.hpp"
#include "common/segment/liveness.hpp"
#include "common/segment/segment_writer.hpp"
#include "common/systemd/systemd_notify.hpp"
#include "simulator/rack_control.hpp"

namespace brt {

namespace {

// Heartbeats while the loop computes a frame: at a slow rate, a high speed
// or a large segment one frame's physics can take longer than readers wait
// for a heartbeat (fresh_heartbeat_ns, stale_after_ns), and stepping in
// pieces would change the model's results. Only while computing: a loop
// stuck anywhere else stops heartbeating, and readers call it stale.
class ComputeHeartbeat {
  public:
    explicit ComputeHeartbeat(SegmentWriter& writer)
        : writer_(writer), thread_([this] { run(); }) {}
    ~ComputeHeartbeat() {
        {
            const std::lock_guard lock(mutex_);
            quit_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }
    ComputeHeartbeat(const ComputeHeartbeat&) = delete;
    ComputeHeartbeat& operator=(const ComputeHeartbeat&) = delete;

    // Calls `compute` with heartbeats every half interval until it returns.
    template <typename Compute>
    void during(Compute&& compute) {
        set_computing(true);
        try {
            compute();
        } catch (...) {
            set_computing(false);
            throw;
        }
        set_computing(false);
    }

  private:
    void set_computing(bool computing) {
        {
            const std::lock_guard lock(mutex_);
            computing_ = computing;
        }
        wake_.notify_all();
    }
    void run() {
        std::unique_lock lock(mutex_);
        while (!quit_) {
            if (!computing_) {
                wake_.wait(lock, [this] { return computing_ || quit_; });
                continue;
            }
            wake_.wait_for(lock, std::chrono::nanoseconds(kMaxHeartbeatIntervalNs / 2),
                           [this] { return !computing_ || quit_; });
            if (computing_ && !quit_) {
                writer_.heartbeat();
            }
        }
    }

    SegmentWriter& writer_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool computing_ = false;
    bool quit_ = false;
    std::thread thread_;  // last: starts once the members above exist
};

void sleep_until_monotonic(std::uint64_t deadline_ns) {
    timespec deadline{};
    deadline.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000);
    deadline.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000);
    // EINTR (a stop signal) returns early; the loop then checks the flag.
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr);
}

std::string describe_command(const ReceivedCommand& received) {
    const Command& command = received.command;
    const Target target{command.rack, command.module, command.cell};
    switch (static_cast<CommandKind>(received.raw_kind)) {
        case CommandKind::apply_scenario: {
            const ScenarioInfo* info = find_scenario(static_cast<ScenarioKind>(command.code));
            return fmt::format("apply {} at {}", info ? info->name : "unknown scenario",
                               target_text(target));
        }
        case CommandKind::clear_scenario: {
            const ScenarioInfo* info = find_scenario(static_cast<ScenarioKind>(command.code));
            return fmt::format("clear {} at {}", info ? info->name : "all scenarios",
                               target_text(target));
        }
        case CommandKind::set_rack_mode:
            return fmt::format("mode {} at {}", rack_mode_name(static_cast<RackMode>(command.code)),
                               target_text(target));
        case CommandKind::set_ambient:
            return fmt::format("ambient {} C", command.args[0]);
        case CommandKind::pause:
            return "pause";
        case CommandKind::resume:
            return "resume";
        case CommandKind::reset_protection:
            return command.rack == kAllTargets
                       ? std::string("reset protection of every rack")
                       : fmt::format("reset protection of rack {}", command.rack);
        case CommandKind::alarm_acknowledge:
        case CommandKind::alarm_shelve:
        case CommandKind::alarm_unshelve:
            break;  // the alarm segment's commands: unknown to the simulator
    }
    return fmt::format("unknown command kind {}", received.raw_kind);
}

struct RunSummary {
    std::uint64_t frames = 0;
    std::uint64_t steps = 0;
    std::uint64_t overruns = 0;
    std::uint64_t commands = 0;
    double wall_s = 0;
    double sim_s = 0;
    std::uint64_t cells = 0;
    std::string backend;  // "cpu" or "cuda"
    std::string workers;  // "8 threads", "the GPU"
    unsigned threads = 1;
};

void print_summary(const RunSummary& summary, bool json) {
    const double frame_rate = summary.wall_s > 0 ? summary.frames / summary.wall_s : 0;
    const double cell_steps_per_s =
        summary.wall_s > 0 ? static_cast<double>(summary.steps) * summary.cells / summary.wall_s
                           : 0;
    if (json) {
        JsonWriter out;
        out.begin_object()
            .key("frames")
            .value(summary.frames)
            .key("physics_steps")
            .value(summary.steps)
            .key("simulated_s")
            .seconds(summary.sim_s)
            .key("wall_s")
            .seconds(summary.wall_s)
            .key("frame_rate_hz")
            .value(frame_rate)
            .key("cell_steps_per_s")
            .value(cell_steps_per_s)
            .key("overruns")
            .value(summary.overruns)
            .key("commands")
            .value(summary.commands)
            .key("backend")
            .value(summary.backend)
            .key("threads")
            .value(summary.threads)
            .end_object();
        fmt::print("{}\n", out.str());
    } else {
        fmt::print(
            "published {} frames ({:.1f} Hz), simulated {:.1f} s in {:.1f} s, {:.3g} cell-steps/s "
            "on {}, {} overruns, {} commands\n",
            summary.frames, frame_rate, summary.sim_s, summary.wall_s, cell_steps_per_s,
            summary.workers, summary.overruns, summary.commands);
    }
}

}  // namespace

int run_simulator(const std::string& shm_name, const SimulationConfig& config,
                  const RunOptions& options, const std::vector<ScenarioSpec>& scenarios) {
    // Bad input is refused before taking the writer role, so a typo never
    // marks the segment's writer as failed.
    {
        const MappedSegment segment = open_segment(shm_name, SegmentAccess::reader);
        for (const ScenarioSpec& spec : scenarios) {
            target_cells(segment.layout().geometry, spec.target);
        }
        if (!config.load_profile_csv.empty()) {
            LoadProfile::from_csv(config.load_profile_csv);
        }
    }
    // `--backend cuda` without a usable GPU fails here, before the writer
    // role is taken, so the segment keeps its state.
    const BackendChoice choice = choose_backend(options.backend);
    fmt::print(stderr, "backend: {}\n", choice.reason);
    install_stop_signal_handlers();
    const auto period_ns = static_cast<std::uint64_t>(std::llround(1e9 / options.rate_hz));
    SegmentWriter writer = SegmentWriter::acquire(shm_name, period_ns);
    try {
        Simulation simulation(writer.segment(), config);
        for (const ScenarioSpec& spec : scenarios) {
            simulation.apply_scenario(spec);
        }
        const std::unique_ptr<SimulatorBackend> backend = make_backend(choice, simulation);
        CommandRing commands(writer.segment());
        SystemdNotifier systemd;

        const double sim_s_per_frame = options.speed / options.rate_hz;
        const std::uint64_t steps_per_frame =
            steps_per_interval(sim_s_per_frame, config.physics_dt_s);
        fmt::print(stderr,
                   "{} cells in {} racks, {} physics steps of {} ms per frame at {} Hz{}, {}\n",
                   simulation.geometry().cell_count(), simulation.geometry().racks, steps_per_frame,
                   config.physics_dt_s * 1e3, options.rate_hz,
                   options.max_speed ? " (as fast as possible)"
                                     : fmt::format(" ({}x real time)", options.speed),
                   backend->describe());

        RunSummary summary;
        summary.cells = simulation.geometry().cell_count();
        summary.backend = choice.cuda ? "cuda" : "cpu";
        summary.workers = backend->workers();
        summary.threads = backend->threads();
        const std::uint64_t start_ns = monotonic_ns();
        std::uint64_t deadline_ns = start_ns;
        std::uint64_t last_status_ns = start_ns;
        std::uint64_t frames_at_last_status = 0;

        ComputeHeartbeat compute_heartbeat(writer);
        auto apply_commands = [&] {
            while (auto received = commands.try_consume()) {
                const CommandStatus status = simulation.handle_command(*received);
                commands.complete(received->position, status);
                ++summary.commands;
                fmt::print(stderr, "command from pid {}: {}: {}\n", received->sender_pid,
                           describe_command(*received), command_status_name(status));
            }
        };
        bool paused = false;
        // Until the next frame's deadline, heartbeat well within
        // kMaxHeartbeatIntervalNs (readers judge liveness from that, not
        // from the publish period; at half of it a reader never finds the
        // heartbeat late and never pays for the lock check) and take
        // commands, so a slow rate slows neither. Returns early on a stop
        // signal or a pause or resume.
        auto wait_until = [&](std::uint64_t deadline_ns) {
            for (std::uint64_t now_ns = monotonic_ns(); now_ns < deadline_ns;
                 now_ns = monotonic_ns()) {
                sleep_until_monotonic(std::min(deadline_ns, now_ns + kMaxHeartbeatIntervalNs / 2));
                writer.heartbeat();
                writer.check_intact();  // a file shrunk while nothing was published
                systemd.watchdog_if_due();
                apply_commands();
                if (stop_requested() || simulation.paused() != paused) {
                    return;
                }
            }
        };

        // Frame 1 is the initial state, so readers see the system at once.
        simulation.prepare_interval();
        backend->publish(writer);
        ++summary.frames;
        systemd.ready();

        while (!stop_requested()) {
            if (options.duration_s > 0 && simulation.sim_time_s() >= options.duration_s - 1e-9) {
                break;
            }
            apply_commands();
            if (simulation.paused() != paused) {
                paused = simulation.paused();
                writer.set_state(paused ? WriterState::paused : WriterState::running);
                // A resume publishes at once and paces from there.
                deadline_ns = monotonic_ns();
            }
            if (paused) {
                writer.heartbeat();
                writer.check_intact();
            } else {
                simulation.prepare_interval();
                compute_heartbeat.during([&] { backend->step(steps_per_frame); });
                summary.steps += steps_per_frame;
                backend->publish(writer);
                ++summary.frames;
            }
            systemd.stall_point_for_tests();
            systemd.watchdog_if_due();
            const std::uint64_t now_ns = monotonic_ns();
            if (now_ns - last_status_ns >= 1'000'000'000ull) {
                const double rate = (summary.frames - frames_at_last_status) * 1e9 /
                                    static_cast<double>(now_ns - last_status_ns);
                systemd.status(fmt::format("{:.1f} frames/s, simulated {:.0f} s{}", rate,
                                           simulation.sim_time_s(), paused ? ", paused" : ""));
                last_status_ns = now_ns;
                frames_at_last_status = summary.frames;
            }
            if (!options.max_speed || paused) {
                deadline_ns += period_ns;
                if (now_ns > deadline_ns + period_ns) {
                    ++summary.overruns;  // behind: start afresh rather than burst
                    deadline_ns = now_ns;
                } else {
                    wait_until(deadline_ns);
                }
            }
        }
        systemd.stopping();
        writer.finish(WriterState::stopped);
        summary.wall_s = static_cast<double>(monotonic_ns() - start_ns) / 1e9;
        summary.sim_s = simulation.sim_time_s();
        print_summary(summary, options.json);
        if (stop_signal_number() > 0) {
            fmt::print(stderr, "stopped by signal {}\n", stop_signal_number());
        }
        return kExitOk;
    } catch (...) {
        writer.finish(WriterState::failed);
        throw;
    }
}

}  // namespace brt
