// bench_wake_latency: time from a frame's publication by the writer to the
// moment a reader in another process runs with it.
//
// The parent is the writer: it publishes --frames frames, one every
// --period-us, sleeping in between (so a futex reader really is asleep when a
// frame comes). A fork()ed child is the reader. For every frame it reads it
// records
//   wake  = CLOCK_MONOTONIC right after it learns of the frame
//           - the frame's SlotHeader publish_monotonic_ns
//   +read = the same, taken after read_latest() has copied the frame
// and sends them to the parent through a pipe at the end. publish_monotonic_ns
// is stamped in commit_frame() before the sequence, latest_frame and futex
// stores and the FUTEX_WAKE, so "wake" covers the whole publish-to-wake path.
//
// Two readers are compared, each in its own child:
//   futex  SegmentReader::wait_for_frame() (sleeps in FUTEX_WAIT)
//   poll   spins on the header's latest_frame without sleeping (one core at 100%)
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_support.hpp"
#include "common/cli/cli_common.hpp"
#include "common/cli/exit_codes.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/segment_reader.hpp"
#include "common/segment/segment_writer.hpp"

namespace brt::bench {
namespace {

enum class ReaderKind { futex, poll };

// Published before the measured frames, at the same pace and not counted:
// the reader's first reads fault in its buffers and the slot pages.
constexpr std::uint64_t kWarmupFrames = 100;

struct Options {
    std::uint64_t frames = 10'000;
    std::uint64_t period_us = 200;
    std::string mode = "both";
    std::string range = "module";
    std::uint32_t racks = 20;
    std::uint32_t modules = 10;
    std::uint32_t cells = 32;
    bool pin = false;
    bool json = false;
};

// What the child sends back before its samples.
struct ChildSummary {
    std::uint64_t frames_read = 0;
    std::uint64_t not_asleep = 0;  // a newer frame was already there when it went to wait
    std::uint64_t overtaken = 0;   // read a frame published after the wake: no sample
    std::uint64_t busy_reads = 0;
    std::uint64_t read_retries = 0;
    std::uint64_t cpu_ns = 0;   // user + system time of the reader
    std::uint64_t wall_ns = 0;  // from ready to done
    std::uint64_t sample_count = 0;
    std::uint64_t missed_before_first = 0;  // measured frames published before its first read
};

struct Sample {
    std::int64_t wake_ns;
    std::int64_t read_ns;
    std::uint64_t frame_number;
    std::int32_t reader_cpu;  // where the reader ran when it woke
    std::int32_t padding;
};

struct Percentiles {
    double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0, mean_us = 0;
};

struct RunResult {
    ReaderKind kind;
    std::uint64_t published = 0;
    std::uint64_t late_publishes = 0;  // the writer woke a whole period late
    std::uint64_t same_cpu = 0;        // samples where the reader woke on the writer's CPU
    ChildSummary child;
    Percentiles wake;
    Percentiles read;
};

const char* kind_name(ReaderKind kind) {
    return kind == ReaderKind::futex ? "futex" : "poll";
}

void write_all(int fd, const void* data, std::size_t bytes) {
    const auto* p = static_cast<const char*>(data);
    while (bytes > 0) {
        const ssize_t n = ::write(fd, p, bytes);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw std::runtime_error("write to pipe: " + errno_text(errno));
        }
        p += n;
        bytes -= static_cast<std::size_t>(n);
    }
}

// False on end of file before `bytes`.
bool read_all(int fd, void* data, std::size_t bytes) {
    auto* p = static_cast<char*>(data);
    while (bytes > 0) {
        const ssize_t n = ::read(fd, p, bytes);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw std::runtime_error("read from pipe: " + errno_text(errno));
        }
        if (n == 0) {
            return false;
        }
        p += n;
        bytes -= static_cast<std::size_t>(n);
    }
    return true;
}

void pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        throw std::runtime_error(fmt::format("cannot pin to CPU {}: {}", cpu, errno_text(errno)));
    }
}

std::uint64_t process_cpu_ns() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto ns = [](const timeval& tv) {
        return static_cast<std::uint64_t>(tv.tv_sec) * 1'000'000'000ull +
               static_cast<std::uint64_t>(tv.tv_usec) * 1000ull;
    };
    return ns(usage.ru_utime) + ns(usage.ru_stime);
}

bool writer_done(const SegmentHeader& header) {
    const auto state =
        static_cast<WriterState>(header.writer_state.load(std::memory_order_acquire));
    return state == WriterState::stopped || state == WriterState::failed;
}

// The reader process. Returns its exit status; never returns to main's
// unwinding (the caller _exit()s), so the parent's objects are left alone.
int run_child(const Options& options, ReaderKind kind, const std::string& segment_name,
              int ready_fd, int result_fd) {
    if (options.pin) {
        pin_to_cpu(1);
    }
    SegmentReader reader(segment_name);
    reader.require_attached();
    const SegmentHeader& header = reader.header();
    const Geometry& geometry = reader.layout().geometry;
    const CellRange range =
        options.range == "frame" ? whole_frame(geometry) : module_range(geometry, 0, 0);

    std::uint64_t last = header.latest_frame.load(std::memory_order_acquire);
    const std::uint64_t measure_after = last + kWarmupFrames;
    const std::uint64_t final_frame = measure_after + options.frames;
    FrameBuffer buffer;
    std::vector<Sample> samples;
    samples.reserve(options.frames);
    ChildSummary summary;

    const char ready = 'r';
    write_all(ready_fd, &ready, 1);
    close(ready_fd);
    const std::uint64_t start_ns = monotonic_ns();
    const std::uint64_t cpu_start_ns = process_cpu_ns();
    std::uint64_t last_progress_ns = start_ns;
    bool writer_started = false;

    while (last < final_frame) {
        std::uint64_t now = monotonic_ns();
        // The writer may stop early (an error in the parent); do not hang.
        if (now - last_progress_ns > 5'000'000'000ull) {
            break;
        }
        if (kind == ReaderKind::futex) {
            if (header.latest_frame.load(std::memory_order_acquire) > last) {
                ++summary.not_asleep;
            } else if (writer_started && writer_done(header)) {
                break;
            }
            if (!reader.wait_for_frame(last, std::chrono::milliseconds(100))) {
                writer_started = writer_started || !writer_done(header);
                continue;
            }
        } else {
            std::uint64_t spins = 0;
            while (header.latest_frame.load(std::memory_order_acquire) <= last) {
                if ((++spins & 0xFFFFu) == 0) {
                    now = monotonic_ns();
                    if (now - last_progress_ns > 5'000'000'000ull) {
                        break;
                    }
                }
            }
            if (header.latest_frame.load(std::memory_order_acquire) <= last) {
                continue;  // the timeout above: let the outer check decide
            }
        }
        const std::uint64_t wake_ns = monotonic_ns();
        const int reader_cpu = sched_getcpu();
        const ReadOutcome outcome = reader.read_latest(buffer, range);
        const std::uint64_t read_ns = monotonic_ns();
        if (outcome != ReadOutcome::ok) {
            ++summary.busy_reads;
            continue;
        }
        last = buffer.frame_number;
        last_progress_ns = read_ns;
        writer_started = true;
        if (last <= measure_after) {
            continue;
        }
        if (summary.frames_read == 0) {
            summary.missed_before_first = last - measure_after - 1;
        }
        ++summary.frames_read;
        if (buffer.publish_monotonic_ns > wake_ns) {
            ++summary.overtaken;
            continue;
        }
        samples.push_back({static_cast<std::int64_t>(wake_ns - buffer.publish_monotonic_ns),
                           static_cast<std::int64_t>(read_ns - buffer.publish_monotonic_ns),
                           buffer.frame_number, reader_cpu, 0});
    }
    summary.wall_ns = monotonic_ns() - start_ns;
    summary.cpu_ns = process_cpu_ns() - cpu_start_ns;
    summary.read_retries = reader.read_retries();
    summary.sample_count = samples.size();
    write_all(result_fd, &summary, sizeof summary);
    write_all(result_fd, samples.data(), samples.size() * sizeof(Sample));
    close(result_fd);
    return 0;
}

Percentiles percentiles_us(std::vector<std::int64_t> values) {
    Percentiles p;
    if (values.empty()) {
        return p;
    }
    std::sort(values.begin(), values.end());
    double sum = 0;
    for (auto v : values) {
        sum += static_cast<double>(v);
    }
    p.p50_us = static_cast<double>(percentile_sorted(values, 0.50)) / 1000.0;
    p.p99_us = static_cast<double>(percentile_sorted(values, 0.99)) / 1000.0;
    p.p999_us = static_cast<double>(percentile_sorted(values, 0.999)) / 1000.0;
    p.max_us = static_cast<double>(values.back()) / 1000.0;
    p.mean_us = sum / static_cast<double>(values.size()) / 1000.0;
    return p;
}

// Frame data in the writer's private memory, published over and over.
struct WriterFrame {
    std::vector<std::vector<float>> columns;
    std::vector<std::uint32_t> status;
    std::vector<RackRecord> racks;
    FrameData frame;

    explicit WriterFrame(const Geometry& geometry)
        : columns(6, std::vector<float>(geometry.cell_count(), 3.6f)),
          status(geometry.cell_count(), 0),
          racks(geometry.racks, RackRecord{0.0f, 25.0f, 0, 0}) {
        for (std::uint32_t field = 0; field < 6; ++field) {
            frame.columns[field] = columns[field];
        }
        frame.status = status;
        frame.racks = racks;
    }
};

RunResult run_once(const Options& options, ReaderKind kind, const std::string& segment_name,
                   WriterFrame& data) {
    int ready_pipe[2];
    int result_pipe[2];
    if (pipe2(ready_pipe, O_CLOEXEC) != 0 || pipe2(result_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe: " + errno_text(errno));
    }
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t parent = getpid();
    const pid_t child = fork();
    if (child < 0) {
        throw std::runtime_error("fork: " + errno_text(errno));
    }
    if (child == 0) {
        // Do not outlive a writer killed by a signal.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(1);
        }
        // Only the parent removes the segment, whatever signal comes.
        for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
            std::signal(signal_number, SIG_DFL);
        }
        close(ready_pipe[0]);
        close(result_pipe[0]);
        int status = 1;
        try {
            status = run_child(options, kind, segment_name, ready_pipe[1], result_pipe[1]);
        } catch (const std::exception& error) {
            fmt::print(stderr, "bench_wake_latency (reader): {}\n", error.what());
        }
        _exit(status);
    }
    close(ready_pipe[1]);
    close(result_pipe[1]);

    RunResult result;
    result.kind = kind;
    // The CPU the writer published each frame from, by frame number.
    std::vector<int> writer_cpu(kWarmupFrames + options.frames, -1);
    std::uint64_t first_frame = 0;
    try {
        char ready = 0;
        if (!read_all(ready_pipe[0], &ready, 1)) {
            throw std::runtime_error("the reader process exited before attaching");
        }
        close(ready_pipe[0]);
        // The writer is (re)acquired for each run: state `running` now, and
        // `stopped` at the end, which wakes the reader out of its last wait.
        SegmentWriter writer = SegmentWriter::acquire(segment_name, options.period_us * 1000);
        // Let the reader settle into its first wait.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));

        const std::uint64_t period_ns = options.period_us * 1000;
        timespec next{};
        clock_gettime(CLOCK_MONOTONIC, &next);
        for (std::uint64_t i = 0; i < kWarmupFrames + options.frames; ++i) {
            next.tv_nsec += static_cast<long>(period_ns);
            while (next.tv_nsec >= 1'000'000'000) {
                next.tv_nsec -= 1'000'000'000;
                ++next.tv_sec;
            }
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) == EINTR) {
            }
            const std::uint64_t due_ns =
                static_cast<std::uint64_t>(next.tv_sec) * 1'000'000'000ull +
                static_cast<std::uint64_t>(next.tv_nsec);
            if (monotonic_ns() > due_ns + period_ns) {
                // Woken a whole period late (the vCPU or the process was not
                // running): start the schedule again from now instead of
                // publishing the overdue frames back to back, which would
                // count as reader misses what is the writer's hiccup.
                result.late_publishes += i >= kWarmupFrames ? 1 : 0;
                clock_gettime(CLOCK_MONOTONIC, &next);
            }
            data.frame.sim_time_ns = i * period_ns;
            const int cpu = sched_getcpu();
            const std::uint64_t frame_number = writer.publish_frame(data.frame);
            if (i == 0) {
                first_frame = frame_number;
            }
            writer_cpu[frame_number - first_frame] = cpu;
            if (i >= kWarmupFrames) {
                ++result.published;
            }
        }
        writer.finish(WriterState::stopped);
    } catch (...) {
        kill(child, SIGTERM);
        waitpid(child, nullptr, 0);
        throw;
    }

    ChildSummary summary;
    std::vector<Sample> samples;
    const bool have_summary = read_all(result_pipe[0], &summary, sizeof summary);
    if (have_summary) {
        samples.resize(summary.sample_count);
        if (!read_all(result_pipe[0], samples.data(), samples.size() * sizeof(Sample))) {
            samples.clear();
        }
    }
    close(result_pipe[0]);
    int status = 0;
    waitpid(child, &status, 0);
    if (!have_summary || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error(fmt::format("the {} reader process failed", kind_name(kind)));
    }
    result.child = summary;
    std::vector<std::int64_t> wake;
    std::vector<std::int64_t> read;
    wake.reserve(samples.size());
    read.reserve(samples.size());
    for (const Sample& s : samples) {
        wake.push_back(s.wake_ns);
        read.push_back(s.read_ns);
        const std::uint64_t index = s.frame_number - first_frame;
        if (index < writer_cpu.size() && writer_cpu[index] == s.reader_cpu) {
            ++result.same_cpu;
        }
    }
    result.wake = percentiles_us(std::move(wake));
    result.read = percentiles_us(std::move(read));
    return result;
}

std::string range_description(const Options& options, const Geometry& geometry) {
    return options.range == "frame"
               ? fmt::format("whole frame ({} cells)", geometry.cell_count())
               : fmt::format("first module ({} cells)", geometry.cells_per_module);
}

double same_cpu_percent(const RunResult& r) {
    return r.child.sample_count > 0
               ? 100.0 * static_cast<double>(r.same_cpu) / static_cast<double>(r.child.sample_count)
               : 0.0;
}

std::uint64_t missed(const RunResult& r) {
    return r.published > r.child.frames_read ? r.published - r.child.frames_read : 0;
}

void print_table(const Options& options, const Geometry& geometry,
                 const std::vector<RunResult>& results) {
    const int cpus = usable_cpus();
    fmt::print("bench_wake_latency: publish-to-wake latency, writer and reader in two processes\n");
    fmt::print("machine: {}\n", machine_line());
    if (cpus <= 2) {
        fmt::print(
            "note: only {} CPU core(s): the writer and the reader get one each and share\n"
            "      them with everything else; a polling reader keeps one core busy.\n",
            cpus);
    }
    fmt::print(
        "geometry {}x{}x{} ({} cells); reader copies the {};\n{} frames (after {} warm-up "
        "frames), one every {} us{}\n\n",
        geometry.racks, geometry.modules_per_rack, geometry.cells_per_module, geometry.cell_count(),
        range_description(options, geometry), options.frames, kWarmupFrames, options.period_us,
        options.pin ? "; writer pinned to CPU 0, reader to CPU 1" : "");
    fmt::print("{:<7} {:<6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>11} {:>10} {:>9}\n", "reader",
               "point", "p50 us", "p99 us", "p99.9 us", "max us", "mean us", "missed", "not asleep",
               "reader CPU", "same CPU");
    for (const RunResult& r : results) {
        const double cpu_share = r.child.wall_ns > 0 ? 100.0 * static_cast<double>(r.child.cpu_ns) /
                                                           static_cast<double>(r.child.wall_ns)
                                                     : 0.0;
        const std::string not_asleep =
            r.kind == ReaderKind::futex ? std::to_string(r.child.not_asleep) : "-";
        for (int point = 0; point < 2; ++point) {
            const Percentiles& p = point == 0 ? r.wake : r.read;
            fmt::print(
                "{:<7} {:<6} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.1f} {:>7} {:>11} {:>10} "
                "{:>9}\n",
                point == 0 ? kind_name(r.kind) : "", point == 0 ? "wake" : "+read", p.p50_us,
                p.p99_us, p.p999_us, p.max_us, p.mean_us,
                point == 0 ? std::to_string(missed(r)) : "", point == 0 ? not_asleep : "",
                point == 0 ? fmt::format("{:.0f}%", cpu_share) : "",
                point == 0 ? fmt::format("{:.0f}%", same_cpu_percent(r)) : "");
        }
    }
    fmt::print(
        "\nwake: reader's CLOCK_MONOTONIC when it learns of the frame - the frame's "
        "publish_monotonic_ns;\n+read: the same after read_latest() copied it. missed: "
        "published - read. not asleep: a newer\nframe was already there when the futex reader "
        "came back to wait. reader CPU: CPU time / wall time.\nsame CPU: "
        "samples where the reader woke on the CPU the writer published from.\n");
    for (const RunResult& r : results) {
        fmt::print(
            "{}: writer woke a whole period late: {} (schedule restarted); missed before "
            "the first read: {}; overtaken: {}; busy reads: {}\n",
            kind_name(r.kind), r.late_publishes, r.child.missed_before_first, r.child.overtaken,
            r.child.busy_reads);
    }
}

void json_percentiles(JsonWriter& json, const char* name, const Percentiles& p) {
    json.key(name).begin_object();
    json.key("p50_us").value(p.p50_us);
    json.key("p99_us").value(p.p99_us);
    json.key("p999_us").value(p.p999_us);
    json.key("max_us").value(p.max_us);
    json.key("mean_us").value(p.mean_us);
    json.end_object();
}

void print_json(const Options& options, const Geometry& geometry,
                const std::vector<RunResult>& results) {
    JsonWriter json;
    json.begin_object();
    json.key("benchmark").value("bench_wake_latency");
    json.key("machine").begin_object();
    json.key("cpu_model").value(cpu_model());
    json.key("usable_cpus").value(static_cast<std::int64_t>(usable_cpus()));
    json.key("build").value(build_type());
    json.end_object();
    json.key("geometry").begin_object();
    json.key("racks").value(geometry.racks);
    json.key("modules_per_rack").value(geometry.modules_per_rack);
    json.key("cells_per_module").value(geometry.cells_per_module);
    json.key("cells").value(geometry.cell_count());
    json.end_object();
    json.key("reader_range").value(options.range);
    json.key("frames").value(options.frames);
    json.key("warmup_frames").value(kWarmupFrames);
    json.key("period_us").value(options.period_us);
    json.key("pinned").value(options.pin);
    json.key("runs").begin_array();
    for (const RunResult& r : results) {
        json.begin_object();
        json.key("reader").value(kind_name(r.kind));
        json.key("published").value(r.published);
        json.key("frames_read").value(r.child.frames_read);
        json.key("frames_missed").value(missed(r));
        json.key("missed_before_first_read").value(r.child.missed_before_first);
        json.key("samples").value(r.child.sample_count);
        json.key("overtaken").value(r.child.overtaken);
        json.key("busy_reads").value(r.child.busy_reads);
        json.key("read_retries").value(r.child.read_retries);
        json.key("late_publishes").value(r.late_publishes);
        if (r.kind == ReaderKind::futex) {
            json.key("not_asleep").value(r.child.not_asleep);
        }
        json.key("reader_cpu_fraction")
            .value(r.child.wall_ns > 0
                       ? static_cast<double>(r.child.cpu_ns) / static_cast<double>(r.child.wall_ns)
                       : 0.0);
        json.key("same_cpu_fraction").value(same_cpu_percent(r) / 100.0);
        json_percentiles(json, "wake", r.wake);
        json_percentiles(json, "wake_and_read", r.read);
        json.end_object();
    }
    json.end_array();
    json.end_object();
    fmt::print("{}\n", json.str());
}

}  // namespace
}  // namespace brt::bench

int main(int argc, char** argv) {
    using namespace brt;
    using namespace brt::bench;
    Options options;
    CLI::App app("Publish-to-wake latency across processes: futex reader and polling reader",
                 "bench_wake_latency");
    app.add_option("--frames", options.frames, "Frames to publish per reader")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}))
        ->capture_default_str();
    app.add_option("--period-us", options.period_us, "Publish period in microseconds")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}))
        ->capture_default_str();
    app.add_option("--mode", options.mode, "Which reader: futex, poll or both")
        ->check(CLI::IsMember({"futex", "poll", "both"}))
        ->capture_default_str();
    app.add_option("--range", options.range,
                   "What the reader copies: module (the first module) or frame (every cell)")
        ->check(CLI::IsMember({"module", "frame"}))
        ->capture_default_str();
    app.add_option("--racks", options.racks, "Racks")
        ->check(CLI::Range(1u, kMaxRacks))
        ->capture_default_str();
    app.add_option("--modules", options.modules, "Modules per rack")
        ->check(CLI::Range(1u, kMaxModulesPerRack))
        ->capture_default_str();
    app.add_option("--cells", options.cells, "Cells per module")
        ->check(CLI::Range(1u, kMaxCellsPerModule))
        ->capture_default_str();
    app.add_flag("--pin", options.pin, "Pin the writer to CPU 0 and the reader to CPU 1");
    app.add_flag("--json", options.json, "Print one JSON object instead of the table");
    return run_tool(app, argc, argv, [&] {
        const Geometry geometry{options.racks, options.modules, options.cells};
        validate_geometry(geometry, kDefaultSlots);
        if (options.pin) {
            if (usable_cpus() < 2) {
                throw UsageError("--pin needs two CPUs");
            }
            pin_to_cpu(0);
        }
        // Sleep to the microsecond, not to the default 50 us timer slack.
        prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
        BenchSegment segment("wake", geometry, kDefaultSlots);
        WriterFrame data(geometry);
        std::vector<RunResult> results;
        if (options.mode != "poll") {
            results.push_back(run_once(options, ReaderKind::futex, segment.name(), data));
        }
        if (options.mode != "futex") {
            results.push_back(run_once(options, ReaderKind::poll, segment.name(), data));
        }
        if (options.json) {
            print_json(options, geometry, results);
        } else {
            print_table(options, geometry, results);
        }
        return kExitOk;
    });
}
