// bench_cuda: the CUDA backend's speed in cell-steps per second for 6,400 to
// 100 million cells; the bytes a step moves and the bandwidth that makes,
// next to a device-to-device copy measured in the same run; and the time to
// publish a frame (measure on the device, copy into the registered segment
// slot) next to the host link's bandwidth (a device-to-pinned-host copy of
// the same bytes), also in the same run. Without a usable GPU it says why and
// exits 0 (benchmarks never fail on the machine), or 1 with BRT_REQUIRE_CUDA=1.
//
// --setup-only builds each size's segment and simulation, everything before
// the first CUDA call, and stops there: the test suite runs it on machines
// without a GPU so that the setup cannot break unnoticed.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>

#include "bench/bench_support.hpp"
#include "bench/cuda_bandwidth.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/segment_writer.hpp"
#include "simulator/cuda_probe.hpp"
#include "simulator/cuda_stepper.hpp"

using namespace brt;

namespace {

// What a step of a cell between ageing and coefficient steps (nine steps in
// ten) reads and writes, from cell_step.hpp and the kernel:
// reads  voltage 4, soc 8, v_rc 4, temperature 8 (+8 for the neighbours'
//        pass), ah 8, runaway 4, r0/r1/capacity 12, external heat 4,
//        short 4, ageing multiplier 4, conduction scratch 4   = 72 + 8
// writes soc 8, v_rc 4, temperature 8, ah 8, runaway 4, voltage 4,
//        current 4, balancing 4, conduction scratch 4          = 48
// These are bytes the kernel touches, not bytes device memory moves: a block
// keeps its rack for all the steps of a launch, so while the racks in flight
// fit in L2 (a few MB against 50 MB on an H100/H200) most of them are L2 hits.
constexpr double kBytesTouchedPerCellStep = 128;
// What device memory moves when they do fit: each column the launch uses
// read once (the 64 distinct bytes above, plus 32 of slow state on the
// coefficient steps: fade, growth, calendar age, capacity and resistance
// factors) and the 48 bytes written back once, per launch of 100 steps.
constexpr double kStepsPerLaunch = 100;  // measure() launches 100 steps at a time
constexpr double kL2ResidentBytesPerCellPerLaunch = 64 + 32 + 48;
constexpr double kL2ResidentBytesPerCellStep = kL2ResidentBytesPerCellPerLaunch / kStepsPerLaunch;

double seconds_since(std::uint64_t start_ns) {
    return (monotonic_ns() - start_ns) / 1e9;
}

// Racks of 10 modules; cells per module grow so that racks stay within the
// segment's limit.
Geometry geometry_for(std::uint64_t cells) {
    const std::uint32_t cells_per_module = cells <= 20'000'000 ? 32 : 320;
    return Geometry{static_cast<std::uint32_t>(cells / (10 * cells_per_module)), 10,
                    cells_per_module};
}

struct Row {
    std::uint64_t cells = 0;
    double cell_steps_per_s = 0;
    double touched_gb_per_s = 0;      // kBytesTouchedPerCellStep, mostly L2
    double l2_resident_gb_per_s = 0;  // device memory, if the racks in flight fit in L2
    double device_copy_gb_per_s = 0;
    double frame_mib = 0;
    double publish_ms = 0;
    double publish_gb_per_s = 0;
    double host_link_gb_per_s = 0;
    std::string publish_path;
};

// Everything a size needs before the first CUDA call: the segment with the
// fewest slots the format allows (the benchmark has no readers, and 100
// million cells take 8.4 GB of /dev/shm as it is), its writer, and the
// simulation (about 3 s per 10 million cells to build).
struct Setup {
    explicit Setup(std::uint64_t cells)
        : geometry(geometry_for(cells)),
          segment("cuda", geometry, kMinSlots),
          writer(SegmentWriter::acquire(segment.name(), 100'000'000)),
          simulation(writer.segment(), SimulationConfig{}) {}
    Geometry geometry;
    bench::BenchSegment segment;
    SegmentWriter writer;  // declared before the stepper that registers its slots
    Simulation simulation;
};

Row measure(std::uint64_t cells, int device, double target_s) {
    Setup setup(cells);
    const Geometry& geometry = setup.geometry;
    SegmentWriter& writer = setup.writer;
    Simulation& simulation = setup.simulation;
    CudaStepper stepper(simulation, device);
    simulation.prepare_interval();
    stepper.run(10);  // warm-up

    const std::uint64_t probe_start = monotonic_ns();
    stepper.run(100);
    const double per_100_s = seconds_since(probe_start);
    const auto steps = std::max<std::uint64_t>(
        100, static_cast<std::uint64_t>(target_s / per_100_s * 100) / 100 * 100);
    const std::uint64_t start = monotonic_ns();
    for (std::uint64_t done = 0; done < steps; done += 100) {
        simulation.prepare_interval();
        stepper.run(100);
    }
    const double stepping_s = seconds_since(start);

    std::vector<double> publishes;
    for (int i = 0; i < 6; ++i) {
        const std::uint64_t publish_start = monotonic_ns();
        stepper.publish(writer);
        publishes.push_back(seconds_since(publish_start));
    }
    publishes.erase(publishes.begin());  // the first registers the segment
    const std::uint64_t frame_bytes = kFieldCount * writer.layout().column_stride;

    Row row;
    row.cells = geometry.cell_count();
    row.cell_steps_per_s = static_cast<double>(steps) * row.cells / stepping_s;
    row.touched_gb_per_s = row.cell_steps_per_s * kBytesTouchedPerCellStep / 1e9;
    row.l2_resident_gb_per_s = row.cell_steps_per_s * kL2ResidentBytesPerCellStep / 1e9;
    row.device_copy_gb_per_s =
        bench::device_copy_gb_per_s(std::max<std::uint64_t>(256ull << 20, row.cells * 64));
    row.frame_mib = frame_bytes / 1048576.0;
    row.publish_ms = bench::median(publishes) * 1e3;
    row.publish_gb_per_s = frame_bytes / bench::median(publishes) / 1e9;
    row.host_link_gb_per_s = bench::host_link_gb_per_s(frame_bytes);
    row.publish_path = stepper.publish_path();
    return row;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::uint64_t> cell_counts{6'400, 100'000, 1'000'000, 10'000'000, 100'000'000};
    double target_s = 1.0;
    bool json = false;
    CLI::App app{"The CUDA backend's cell-steps per second and publish time (docs/performance.md)",
                 "bench_cuda"};
    app.add_option("--cells", cell_counts, "Cell counts to measure")->capture_default_str();
    app.add_option("--seconds", target_s, "Stepping time per cell count")->capture_default_str();
    app.add_flag("--json", json, "One JSON object per cell count");
    bool setup_only = false;
    app.add_flag("--setup-only", setup_only,
                 "Build each size's segment and simulation, then stop before the first CUDA call");
    CLI11_PARSE(app, argc, argv);
    // Smallest first: the figures that take seconds come before the sizes
    // that take minutes and most of /dev/shm.
    std::sort(cell_counts.begin(), cell_counts.end());
    cell_counts.erase(std::unique(cell_counts.begin(), cell_counts.end()), cell_counts.end());

    if (setup_only) {
        try {
            for (const std::uint64_t cells : cell_counts) {
                const std::uint64_t start = monotonic_ns();
                const Setup setup(cells);
                const double setup_s = seconds_since(start);
                const SegmentLayout& layout = setup.writer.layout();
                if (json) {
                    JsonWriter out;
                    out.begin_object()
                        .key("bench")
                        .value("cuda")
                        .key("setup_only")
                        .value(true)
                        .key("cells")
                        .value(setup.geometry.cell_count())
                        .key("racks")
                        .value(setup.geometry.racks)
                        .key("slots")
                        .value(layout.slot_count)
                        .key("segment_mib")
                        .value(layout.segment_size / 1048576.0)
                        .key("setup_s")
                        .value(setup_s)
                        .end_object();
                    fmt::print("{}\n", out.str());
                } else {
                    fmt::print(
                        "{:>11} cells: {} racks of {} x {}, segment {:.1f} MiB in {} slots, built "
                        "in {:.2f} s\n",
                        setup.geometry.cell_count(), setup.geometry.racks,
                        setup.geometry.modules_per_rack, setup.geometry.cells_per_module,
                        layout.segment_size / 1048576.0, layout.slot_count, setup_s);
                }
                std::fflush(stdout);
            }
        } catch (const std::exception& error) {
            std::fprintf(stderr, "bench_cuda: %s\n", error.what());
            return 1;
        }
        return 0;
    }

    const CudaProbe probe = probe_cuda();
    if (!probe.usable) {
        if (cuda_required()) {
            std::fprintf(stderr, "bench_cuda: %s\n", cuda_required_failure(probe).c_str());
            return 1;
        }
        std::fprintf(stderr, "bench_cuda: skipped: %s\n", probe.why_not.c_str());
        return 0;
    }
    try {
        if (!json) {
            fmt::print("bench_cuda on {} ({} MB L2); host {}\n", probe.description,
                       bench::l2_cache_bytes(probe.device) / 1000000, bench::machine_line());
            fmt::print("{:>11} {:>14} {:>12} {:>9} {:>9} {:>6} {:>9} {:>10} {:>9} {:>9} {:>6}\n",
                       "cells", "cell-steps/s", "touched GB/s", "DRAM est", "D2D GB/s", "ratio",
                       "frame MiB", "publish ms", "pub GB/s", "link GB/s", "ratio");
        }
        for (const std::uint64_t cells : cell_counts) {
            const Row row = measure(cells, probe.device, target_s);
            if (json) {
                JsonWriter out;
                out.begin_object()
                    .key("bench")
                    .value("cuda")
                    .key("gpu")
                    .value(probe.description)
                    .key("cells")
                    .value(row.cells)
                    .key("cell_steps_per_s")
                    .value(row.cell_steps_per_s)
                    .key("bytes_touched_per_cell_step")
                    .value(kBytesTouchedPerCellStep)
                    .key("touched_gb_per_s")
                    .value(row.touched_gb_per_s)
                    .key("l2_resident_bytes_per_cell_step")
                    .value(kL2ResidentBytesPerCellStep)
                    .key("l2_resident_gb_per_s")
                    .value(row.l2_resident_gb_per_s)
                    .key("device_copy_gb_per_s")
                    .value(row.device_copy_gb_per_s)
                    .key("frame_mib")
                    .value(row.frame_mib)
                    .key("publish_ms")
                    .value(row.publish_ms)
                    .key("publish_gb_per_s")
                    .value(row.publish_gb_per_s)
                    .key("host_link_gb_per_s")
                    .value(row.host_link_gb_per_s)
                    .key("publish_path")
                    .value(row.publish_path)
                    .end_object();
                fmt::print("{}\n", out.str());
            } else {
                fmt::print(
                    "{:>11} {:>14.3g} {:>12.0f} {:>9.0f} {:>9.0f} {:>6.2f} {:>9.1f} {:>10.2f} "
                    "{:>9.1f} {:>9.1f} {:>6.2f}\n",
                    row.cells, row.cell_steps_per_s, row.touched_gb_per_s, row.l2_resident_gb_per_s,
                    row.device_copy_gb_per_s, row.l2_resident_gb_per_s / row.device_copy_gb_per_s,
                    row.frame_mib, row.publish_ms, row.publish_gb_per_s, row.host_link_gb_per_s,
                    row.publish_gb_per_s / row.host_link_gb_per_s);
            }
            std::fflush(stdout);
        }
        if (!json) {
            fmt::print(
                "touched: {:.0f} bytes per cell-step that the kernel reads and writes, mostly in "
                "L2;\nDRAM est: {:.2f} bytes per cell-step, if the racks in flight stay in L2 "
                "for a launch of {:.0f} steps;\nratio: DRAM est / D2D (a device-to-device "
                "copy)\n",
                kBytesTouchedPerCellStep, kL2ResidentBytesPerCellStep, kStepsPerLaunch);
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bench_cuda: %s\n", error.what());
        return 1;
    }
    return 0;
}
