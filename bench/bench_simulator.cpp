// bench_simulator: the CPU backend's speed in cell-steps per second for
// 6,400 to 6.4 million cells, on one thread and on every core, next to a
// floor measured in the same run (one pass that reads and writes every state
// column, which no step can beat) and the general step alone (the quiet-cell
// SIMD path off); the cost of publishing a frame; the share of a core the
// real binary uses at 6,400 cells, 1 kHz physics, 10 Hz; and whether it
// keeps real time at 1,000,000 cells and 100 Hz physics.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "bench/bench_support.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/segment_writer.hpp"
#include "simulator/cpu_stepper.hpp"
#include "simulator/frame_builder.hpp"

using namespace brt;

namespace {

double seconds_since(std::uint64_t start_ns) {
    return (monotonic_ns() - start_ns) / 1e9;
}

// One pass over the state a step must read and write.
double state_pass_s(CellArrays& cells) {
    const std::uint64_t start = monotonic_ns();
    const std::size_t n = cells.soc.size();
    for (std::size_t c = 0; c < n; ++c) {
        cells.soc[c] += 1e-300;
        cells.v_rc_v[c] += 0.0f;
        cells.temperature_c[c] += 1e-300;
        cells.capacity_fade[c] += 1e-300;
        cells.resistance_growth[c] += 1e-300;
        cells.ah_throughput[c] += 1e-300;
        cells.calendar_age_s[c] += 1e-300;
        cells.runaway_progress[c] += 0.0f;
        cells.voltage_v[c] += 0.0f;
        cells.coefficient_r0_ohm[c] += 0.0f;
        cells.current_a[c] += 0.0f;
    }
    bench::keep(cells.soc.data());
    return seconds_since(start);
}

struct Row {
    std::uint64_t cells;
    unsigned threads;
    double cell_steps_per_s;
    double general_cell_steps_per_s;  // every cell through the general step
    double floor_cell_steps_per_s;
    double publish_ms;
};

Row measure(const Geometry& geometry, unsigned threads, double target_s) {
    bench::BenchSegment segment("sim", geometry, 4);
    SegmentWriter writer = SegmentWriter::acquire(segment.name(), 100'000'000);
    SimulationConfig config;
    config.threads = threads;
    Simulation simulation(writer.segment(), config);
    WorkerPool pool(threads);
    CpuStepper stepper(simulation, pool);
    FrameBuilder builder(geometry);
    simulation.prepare_interval();
    stepper.run(10);  // warm-up: pages touched, caches primed

    // Enough steps for about target_s, in whole frames of 10 steps.
    const std::uint64_t probe_start = monotonic_ns();
    stepper.run(10);
    const double per_frame_s = seconds_since(probe_start);
    const auto frames =
        std::max<std::uint64_t>(2, static_cast<std::uint64_t>(target_s / per_frame_s));
    const std::uint64_t start = monotonic_ns();
    for (std::uint64_t f = 0; f < frames; ++f) {
        simulation.prepare_interval();
        stepper.run(10);
    }
    const double stepping_s = seconds_since(start);
    // Baseline in the same run: the same frames with the quiet path off.
    stepper.set_quiet_path(false);
    const std::uint64_t general_start = monotonic_ns();
    for (std::uint64_t f = 0; f < frames; ++f) {
        simulation.prepare_interval();
        stepper.run(10);
    }
    const double general_s = seconds_since(general_start);

    std::vector<double> passes;
    for (int i = 0; i < 5; ++i) {
        passes.push_back(state_pass_s(simulation.cells()));
    }
    std::vector<double> publishes;
    for (int i = 0; i < 5; ++i) {
        const std::uint64_t publish_start = monotonic_ns();
        writer.publish_frame(builder.build(simulation, pool));
        publishes.push_back(seconds_since(publish_start));
    }
    Row row;
    row.cells = geometry.cell_count();
    row.threads = pool.thread_count();
    row.cell_steps_per_s = static_cast<double>(frames * 10 * row.cells) / stepping_s;
    row.general_cell_steps_per_s = static_cast<double>(frames * 10 * row.cells) / general_s;
    row.floor_cell_steps_per_s = row.cells / bench::median(passes);
    row.publish_ms = bench::median(publishes) * 1e3;
    return row;
}

// Runs the real simulator for `seconds` and returns the CPU it used as a
// share of one core.
double realtime_core_share(const std::string& simulator, double seconds) {
    bench::BenchSegment segment("simrt", Geometry{20, 10, 32}, 4);
    const std::string duration = fmt::format("{}", seconds);
    const pid_t pid = fork();
    if (pid == 0) {
        std::freopen("/dev/null", "w", stdout);
        std::freopen("/dev/null", "w", stderr);
        execl(simulator.c_str(), simulator.c_str(), "--shm-name", segment.name().c_str(),
              "--physics-dt", "0.001", "--rate", "10", "--threads", "1", "--duration",
              duration.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    const std::uint64_t start = monotonic_ns();
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    const double wall_s = seconds_since(start);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return -1;
    }
    const double cpu_s = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
                         usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
    return cpu_s / wall_s;
}

// Runs the real simulator as fast as it goes at 1,000,000 cells (100 racks
// of 10 x 1,000), 100 Hz physics and 10 Hz publish, on every core, for
// `seconds` of simulated time, and returns simulated seconds per wall second
// (1 or more keeps real time).
double realtime_factor_1m(const std::string& simulator, double seconds) {
    bench::BenchSegment segment("sim1m", Geometry{100, 10, 1000}, 4);
    const std::string duration = fmt::format("{}", seconds);
    int out[2];
    if (pipe(out) != 0) {
        return -1;
    }
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        std::freopen("/dev/null", "w", stderr);
        execl(simulator.c_str(), simulator.c_str(), "--shm-name", segment.name().c_str(),
              "--physics-dt", "0.01", "--rate", "10", "--max-speed", "--json", "--duration",
              duration.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    close(out[1]);
    std::string summary;
    char buffer[4096];
    for (ssize_t n; (n = read(out[0], buffer, sizeof buffer)) > 0;) {
        summary.append(buffer, static_cast<std::size_t>(n));
    }
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    auto number = [&](const std::string& key) {
        const std::size_t at = summary.find("\"" + key + "\":");
        return at == std::string::npos
                   ? -1.0
                   : std::strtod(summary.c_str() + at + key.size() + 3, nullptr);
    };
    const double wall_s = number("wall_s");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || wall_s <= 0) {
        return -1;
    }
    return number("simulated_s") / wall_s;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"CPU backend speed: cell-steps per second and publish cost per frame",
                 "bench_simulator"};
    bool json = false;
    double target_s = 1.0;
    std::uint64_t max_cells = 6'400'000;
    // The simulator built next to this benchmark (BUILD_DIR/bench -> BUILD_DIR/simulator).
    std::string simulator =
        (std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "simulator" /
         "brt-simulator")
            .string();
    double realtime_s = 10;
    app.add_flag("--json", json, "One JSON object on stdout");
    app.add_option("--seconds", target_s, "Stepping time per measurement")->capture_default_str();
    app.add_option("--max-cells", max_cells, "Largest system to measure")->capture_default_str();
    app.add_option("--simulator", simulator, "brt-simulator binary for the real-time run")
        ->capture_default_str();
    app.add_option("--realtime-seconds", realtime_s, "Length of the real-time run (0: skip)")
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    const unsigned all_threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<Row> rows;
    for (std::uint32_t racks : {20u, 200u, 2000u, 20000u}) {
        const Geometry geometry{racks, 10, 32};
        if (geometry.cell_count() > max_cells) {
            break;
        }
        rows.push_back(measure(geometry, 1, target_s));
        if (all_threads > 1) {
            rows.push_back(measure(geometry, all_threads, target_s));
        }
    }
    const double core_share = realtime_s > 0 ? realtime_core_share(simulator, realtime_s) : -1;
    const double factor_1m =
        realtime_s > 0 && max_cells >= 1'000'000 ? realtime_factor_1m(simulator, realtime_s) : -1;

    if (json) {
        JsonWriter out;
        out.begin_object().key("machine").value(bench::machine_line()).key("rows").begin_array();
        for (const Row& row : rows) {
            out.begin_object()
                .key("cells")
                .value(row.cells)
                .key("threads")
                .value(row.threads)
                .key("cell_steps_per_s")
                .value(row.cell_steps_per_s)
                .key("general_path_cell_steps_per_s")
                .value(row.general_cell_steps_per_s)
                .key("floor_cell_steps_per_s")
                .value(row.floor_cell_steps_per_s)
                .key("publish_ms")
                .value(row.publish_ms)
                .end_object();
        }
        out.end_array()
            .key("realtime_6400_cells_1khz_core_share")
            .value(core_share)
            .key("realtime_factor_1m_cells_100hz")
            .value(factor_1m)
            .end_object();
        fmt::print("{}\n", out.str());
        return 0;
    }
    fmt::print("bench_simulator: CPU backend, racks of 10 x 32 cells, frames of 10 steps\n{}\n\n",
               bench::machine_line());
    fmt::print("{:>10} {:>7} {:>14} {:>14} {:>10} {:>14} {:>8} {:>11}\n", "cells", "threads",
               "cell-steps/s", "general path", "x general", "floor", "x floor", "publish ms");
    for (const Row& row : rows) {
        fmt::print("{:>10} {:>7} {:>14.3g} {:>14.3g} {:>10.2f} {:>14.3g} {:>8.3f} {:>11.3f}\n",
                   row.cells, row.threads, row.cell_steps_per_s, row.general_cell_steps_per_s,
                   row.cell_steps_per_s / row.general_cell_steps_per_s, row.floor_cell_steps_per_s,
                   row.cell_steps_per_s / row.floor_cell_steps_per_s, row.publish_ms);
    }
    if (core_share >= 0) {
        fmt::print(
            "\nreal time, 6,400 cells, 1 kHz physics, 10 Hz publish, 1 thread: {:.1f} % of "
            "one core over {} s\n",
            core_share * 100, realtime_s);
    }
    if (factor_1m >= 0) {
        fmt::print(
            "1,000,000 cells, 100 Hz physics, 10 Hz publish, every thread, as fast as it goes: "
            "{:.2f} x real time over {} simulated s\n",
            factor_1m, realtime_s);
    }
    return 0;
}
