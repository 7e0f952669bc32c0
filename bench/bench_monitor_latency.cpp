// bench_monitor_latency: how fast brt-anomaly-monitor reacts. A writer
// thread publishes frames at a fixed pace in which one cell crosses every
// voltage level and comes back on alternate frames, so every frame makes
// events (three raises, then three clears). The real monitor runs as a
// process writing JSON lines into a pipe; the latency of a frame is from the
// writer's publish timestamp (the frame's CLOCK_REALTIME, which the event
// carries as time_ns) to the moment its first event line arrives here.
// Beside it, a reader thread of the alarm segment (what the bridge and the
// viewer read): the latency of a frame is from its publish (CLOCK_MONOTONIC)
// to the moment a publication of the alarm list computed from it is copied
// out of the alarm segment here.
// Baseline in the same run: a reader thread that only waits and copies the
// frame (read_latest), timed the same way. CPU per frame: the monitor's user
// + system time over the frames it checked (wait4 rusage), against the
// baseline thread's CPU time.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "bench/bench_support.hpp"
#include "bench/paced_writer.hpp"
#include "common/alarm/alarm_engine.hpp"
#include "common/alarm_segment/alarm_segment_reader.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/segment_reader.hpp"
#include "common/segment/segment_writer.hpp"

extern char** environ;

using namespace brt;

namespace {

struct Percentiles {
    double p50_us = NAN, p99_us = NAN, p999_us = NAN, max_us = NAN;
    std::size_t samples = 0;
};

Percentiles percentiles(std::vector<double> latencies_us) {
    Percentiles p;
    std::sort(latencies_us.begin(), latencies_us.end());
    p.samples = latencies_us.size();
    if (!latencies_us.empty()) {
        p.p50_us = bench::percentile_sorted(latencies_us, 0.50);
        p.p99_us = bench::percentile_sorted(latencies_us, 0.99);
        p.p999_us = bench::percentile_sorted(latencies_us, 0.999);
        p.max_us = latencies_us.back();
    }
    return p;
}

// Healthy NMC cells at 3.7 V; cell 0 at 4.30 V (above MOL, RSL and MSL) on
// odd frames, so every frame makes events.
bench::PacedWriter crossing_writer(const std::string& name, const Geometry& geometry,
                                   std::chrono::microseconds period) {
    return bench::PacedWriter(
        name, geometry, period,
        [](int field, std::uint64_t) {
            constexpr float kHealthy[6] = {3.7f, 0.0f, 25.0f, 0.6f, 0.0004f, 0.98f};
            return kHealthy[field];
        },
        RackRecord{0.0f, 25.0f, 0, 0},
        [](std::uint64_t frame, bench::PacedWriter::Columns& columns) {
            columns[0][0] = frame % 2 == 1 ? 4.30f : 3.70f;
        });
}

struct PhaseResult {
    Percentiles latency;
    Percentiles alarm_segment;  // frame publish -> alarm list visible (monitor phase)
    double cpu_per_frame_us = NAN;
    std::uint64_t frames_checked = 0;
    std::uint64_t frames_missed = 0;
};

PhaseResult run_baseline(const std::string& name, std::uint64_t frames) {
    SegmentReader reader(name);
    reader.require_attached();
    FrameBuffer buffer;
    std::vector<double> latencies;
    latencies.reserve(frames);
    const std::uint64_t cpu_start_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    std::uint64_t missed_start = 0;
    bool first = true;
    while (latencies.size() < frames) {
        if (!reader.wait_for_frame(reader.last_frame_read(), std::chrono::seconds(1))) {
            continue;
        }
        if (reader.read_latest(buffer) != ReadOutcome::ok) {
            continue;
        }
        const double latency_us = static_cast<double>(realtime_ns() - buffer.wall_time_ns) * 1e-3;
        if (first) {  // the first read may find an old frame
            first = false;
            missed_start = reader.frames_missed();
            continue;
        }
        latencies.push_back(latency_us);
    }
    PhaseResult result;
    result.cpu_per_frame_us =
        static_cast<double>(clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu_start_ns) / 1e3 /
        static_cast<double>(frames);
    result.latency = percentiles(std::move(latencies));
    result.frames_checked = frames;
    result.frames_missed = reader.frames_missed() - missed_start;
    return result;
}

// The engine alone: evaluate() on frames copied from the segment, in this
// thread; CPU microseconds per frame (the rest of the monitor's cost is the
// copy, the wake-up and the output).
double engine_cpu_per_frame_us(const std::string& name, std::uint64_t frames) {
    SegmentReader reader(name);
    reader.require_attached();
    AlarmConfig config;
    config.voltage_debounce = {1, 1};
    AlarmEngine engine = AlarmEngine::for_segment(config, reader.segment());
    FrameBuffer buffer;
    while (reader.read_latest(buffer) != ReadOutcome::ok) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const std::uint64_t cpu_start_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    for (std::uint64_t i = 0; i < frames; ++i) {
        buffer.sim_time_ns += 100'000'000;
        ++buffer.frame_number;
        bench::keep(engine.evaluate(buffer, realtime_ns()).data());
    }
    return static_cast<double>(clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu_start_ns) / 1e3 /
           static_cast<double>(frames);
}

std::uint64_t json_number(const std::string& text, const std::string& key) {
    const auto at = text.find("\"" + key + "\":");
    if (at == std::string::npos) {
        return 0;
    }
    return std::stoull(text.substr(at + key.size() + 3));
}

PhaseResult run_monitor(const std::string& monitor, const std::string& name, std::uint64_t frames) {
    int out_pipe[2];
    if (pipe(out_pipe) != 0) {
        throw std::runtime_error("pipe failed");
    }
    const std::string err_path = "/tmp/" + name + ".monitor-stderr";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    std::vector<std::string> args = {monitor,    "--shm-name", name,
                                     "--format", "json",       "--voltage-debounce",
                                     "1,1",      "--frames",   std::to_string(frames + 1)};
    std::vector<char*> argv;
    for (auto& arg : args) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int error = posix_spawn(&pid, monitor.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    if (error != 0) {
        throw std::runtime_error("cannot start " + monitor + ": " + std::strerror(error));
    }

    // The alarm segment's reader: every publication of a new frame's list.
    std::atomic<bool> stop_watching{false};
    std::vector<double> visible_us;
    std::thread watcher([&] {
        AlarmSegmentReader alarms(alarm_segment_name(name));
        AlarmTable table;
        std::uint64_t last_frame = 0;
        std::uint64_t version = 0;
        bool first = true;
        while (!stop_watching.load()) {
            if (!alarms.try_attach()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
                continue;
            }
            alarms.wait_for_publication(version, std::chrono::milliseconds(50));
            if (alarms.read(table) != AlarmSegmentReader::ReadOutcome::ok) {
                continue;
            }
            const std::uint64_t seen_ns = monotonic_ns();
            version = table.version;
            if (table.info.frame_number == 0 || table.info.frame_number == last_frame) {
                continue;
            }
            last_frame = table.info.frame_number;
            if (first) {  // the first may be an old frame's
                first = false;
                continue;
            }
            visible_us.push_back(
                static_cast<double>(seen_ns - table.info.frame_publish_monotonic_ns) * 1e-3);
        }
    });

    std::vector<double> latencies;
    latencies.reserve(frames);
    std::string pending;
    std::uint64_t last_frame = 0;
    bool first = true;
    char chunk[65536];
    for (;;) {
        const ssize_t count = read(out_pipe[0], chunk, sizeof chunk);
        const std::uint64_t arrived_ns = realtime_ns();
        if (count <= 0) {
            break;
        }
        pending.append(chunk, static_cast<std::size_t>(count));
        std::size_t begin = 0;
        for (std::size_t end; (end = pending.find('\n', begin)) != std::string::npos;
             begin = end + 1) {
            const std::string line = pending.substr(begin, end - begin);
            const std::uint64_t frame = json_number(line, "frame");
            if (frame == 0 || frame == last_frame ||
                line.find("cell_overvoltage") == std::string::npos) {
                continue;  // liveness, or not the frame's first event
            }
            last_frame = frame;
            if (first) {  // the first frame may be an old one
                first = false;
                continue;
            }
            latencies.push_back(static_cast<double>(arrived_ns - json_number(line, "time_ns")) *
                                1e-3);
        }
        pending.erase(0, begin);
    }
    close(out_pipe[0]);
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    stop_watching = true;
    watcher.join();
    remove_alarm_segment(alarm_segment_name(name));
    std::ifstream err_file(err_path);
    const std::string summary((std::istreambuf_iterator<char>(err_file)),
                              std::istreambuf_iterator<char>());
    unlink(err_path.c_str());

    PhaseResult result;
    result.frames_checked = json_number(summary, "frames_checked");
    result.frames_missed = json_number(summary, "frames_missed");
    const double cpu_s =
        static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
        static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
    result.cpu_per_frame_us =
        result.frames_checked > 0 ? cpu_s / static_cast<double>(result.frames_checked) * 1e6 : NAN;
    result.latency = percentiles(std::move(latencies));
    result.alarm_segment = percentiles(std::move(visible_us));
    return result;
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t frames = 10000;
    std::uint64_t baseline_frames = 2000;
    std::int64_t small_period_us = 5000;
    std::int64_t large_period_us = 60000;
    bool skip_large = false;
    bool json_output = false;
    CLI::App app{
        "Reaction latency of brt-anomaly-monitor: writer publish to event line, "
        "at 6,400 and at 1 million cells, against a read_latest-only baseline",
        "bench_monitor_latency"};
    app.add_option("--frames", frames, "Frames measured through the monitor, per size")
        ->capture_default_str();
    app.add_option("--baseline-frames", baseline_frames, "Frames for the read_latest baseline")
        ->capture_default_str();
    app.add_option("--small-period-us", small_period_us, "Publish period at 6,400 cells")
        ->capture_default_str();
    app.add_option("--large-period-us", large_period_us, "Publish period at 1 million cells")
        ->capture_default_str();
    app.add_flag("--skip-large", skip_large, "Only the 6,400-cell case");
    app.add_flag("--json", json_output, "One JSON object per size");
    CLI11_PARSE(app, argc, argv);

    const std::string monitor =
        (std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() /
         "anomaly_monitor" / "brt-anomaly-monitor")
            .string();
    if (!json_output) {
        fmt::print("machine: {}\n", bench::machine_line());
    }
    struct Case {
        const char* label;
        Geometry geometry;
        std::int64_t period_us;
    };
    std::vector<Case> cases = {{"6,400 cells", {20, 10, 32}, small_period_us}};
    if (!skip_large) {
        cases.push_back({"1,000,000 cells", {100, 10, 1000}, large_period_us});
    }
    for (const Case& c : cases) {
        bench::BenchSegment segment("monitor", c.geometry, kDefaultSlots);
        const bench::PacedWriter writer =
            crossing_writer(segment.name(), c.geometry, std::chrono::microseconds(c.period_us));
        const PhaseResult baseline = run_baseline(segment.name(), baseline_frames);
        const PhaseResult tool = run_monitor(monitor, segment.name(), frames);
        const double engine_us =
            engine_cpu_per_frame_us(segment.name(), c.geometry.cell_count() > 100000 ? 50 : 1000);
        const std::uint64_t late = writer.late();
        if (json_output) {
            JsonWriter json;
            json.begin_object()
                .key("cells")
                .value(c.geometry.cell_count())
                .key("period_us")
                .value(static_cast<std::int64_t>(c.period_us));
            for (const auto& [name, phase] :
                 {std::pair{"baseline", &baseline}, {"monitor", &tool}}) {
                json.key(name)
                    .begin_object()
                    .key("samples")
                    .value(static_cast<std::uint64_t>(phase->latency.samples))
                    .key("p50_us")
                    .value(phase->latency.p50_us)
                    .key("p99_us")
                    .value(phase->latency.p99_us)
                    .key("p999_us")
                    .value(phase->latency.p999_us)
                    .key("max_us")
                    .value(phase->latency.max_us)
                    .key("cpu_per_frame_us")
                    .value(phase->cpu_per_frame_us)
                    .key("frames_missed")
                    .value(phase->frames_missed)
                    .end_object();
            }
            json.key("alarm_segment_visible")
                .begin_object()
                .key("samples")
                .value(static_cast<std::uint64_t>(tool.alarm_segment.samples))
                .key("p50_us")
                .value(tool.alarm_segment.p50_us)
                .key("p99_us")
                .value(tool.alarm_segment.p99_us)
                .key("max_us")
                .value(tool.alarm_segment.max_us)
                .end_object();
            json.key("engine_cpu_per_frame_us").value(engine_us);
            json.key("writer_late_frames").value(late).end_object();
            fmt::print("{}\n", json.str());
            continue;
        }
        fmt::print("\n{} ({} x {} x {}), a frame every {} us; writer late {} times\n", c.label,
                   c.geometry.racks, c.geometry.modules_per_rack, c.geometry.cells_per_module,
                   c.period_us, late);
        fmt::print("{:<34} {:>8} {:>10} {:>10} {:>10} {:>10} {:>12} {:>8}\n", "publish ->",
                   "frames", "p50 us", "p99 us", "p99.9 us", "max us", "CPU/frame us", "missed");
        for (const auto& [label, phase] : {std::pair{"read_latest only (baseline)", &baseline},
                                           {"brt-anomaly-monitor event line", &tool}}) {
            fmt::print("{:<34} {:>8} {:>10.1f} {:>10.1f} {:>10.1f} {:>10.1f} {:>12.1f} {:>8}\n",
                       label, phase->latency.samples, phase->latency.p50_us, phase->latency.p99_us,
                       phase->latency.p999_us, phase->latency.max_us, phase->cpu_per_frame_us,
                       phase->frames_missed);
        }
        fmt::print("{:<34} {:>8} {:>10.1f} {:>10.1f} {:>10.1f} {:>10.1f}\n",
                   "alarm list visible in its segment", tool.alarm_segment.samples,
                   tool.alarm_segment.p50_us, tool.alarm_segment.p99_us, tool.alarm_segment.p999_us,
                   tool.alarm_segment.max_us);
        fmt::print("{:<34} {:>8} {:>10} {:>10} {:>10} {:>10} {:>12.1f}\n",
                   "AlarmEngine::evaluate alone", "", "", "", "", "", engine_us);
        fmt::print("ratio monitor / baseline: p50 {:.2f}x, p99 {:.2f}x, CPU {:.2f}x\n",
                   tool.latency.p50_us / baseline.latency.p50_us,
                   tool.latency.p99_us / baseline.latency.p99_us,
                   tool.cpu_per_frame_us / baseline.cpu_per_frame_us);
    }
    return 0;
}
