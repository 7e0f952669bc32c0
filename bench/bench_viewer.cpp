// bench_viewer: what the dashboard costs. Two measurements:
//
//  1. In process, the refresh path of the dashboard exactly as it runs every
//     interval (take_snapshot: copy the frame and summarise every module and
//     rack; render the overview; diff against the previous screen; write the
//     bytes to /dev/null), for a new frame every refresh (every line changes:
//     the worst case) and for an unchanged frame (nothing is written). Thread
//     CPU time per refresh, against a same-run baseline: memcpy of the same
//     frame bytes (7 columns and the rack table) out of the segment.
//     "% core at 2 Hz" = CPU seconds per refresh x 2 x 100.
//  2. End to end, the real brt-viewer on a pseudo-terminal at the default
//     0.5 s interval for --seconds while this process publishes 10 frames/s:
//     the viewer's own user+system CPU time (wait4) over the wall time.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "bench/bench_support.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/segment_reader.hpp"
#include "common/segment/segment_writer.hpp"
#include "viewer/render.hpp"
#include "viewer/screen.hpp"
#include "viewer/snapshot.hpp"

namespace brt::bench {
namespace {

struct Config {
    const char* label;
    Geometry geometry;
    int refreshes;  // timed refreshes per case
};

// Plausible, frame-dependent cell values, so every refresh has new numbers.
class FrameSource {
  public:
    explicit FrameSource(const Geometry& g)
        : cells_(g.cell_count()), racks_(g.racks), status_(cells_, 0) {
        for (auto& column : columns_) {
            column.resize(cells_);
        }
        for (auto& rack : racks_) {
            rack = RackRecord{10.0f, 25.0f, 1, 0};
        }
    }
    FrameData make(std::uint64_t frame) {
        const float shift = static_cast<float>(frame % 7) * 0.001f;
        for (std::uint64_t c = 0; c < cells_; ++c) {
            const float wobble = static_cast<float>((c * 2654435761u) % 1000) * 1e-4f;
            columns_[0][c] = 3.6f + wobble + shift;
            columns_[1][c] = 10.0f + shift;
            columns_[2][c] = 25.0f + wobble * 10 + shift;
            columns_[3][c] = 0.5f + wobble + shift;
            columns_[4][c] = 0.0004f + wobble * 1e-4f;
            columns_[5][c] = 0.98f + wobble * 0.1f;
        }
        FrameData data;
        for (int f = 0; f < 6; ++f) {
            data.columns[f] = columns_[f];
        }
        data.status = status_;
        data.racks = racks_;
        data.sim_time_ns = frame * 100'000'000;
        return data;
    }

  private:
    std::uint64_t cells_;
    std::vector<float> columns_[6];
    std::vector<RackRecord> racks_;
    std::vector<std::uint32_t> status_;
};

struct CaseResult {
    std::string config;
    std::uint64_t cells = 0;
    int rows = 0;
    int columns = 0;
    double new_frame_cpu_us = 0;  // medians
    double new_frame_wall_us = 0;
    double same_frame_cpu_us = 0;
    double memcpy_us = 0;
    double bytes_written = 0;  // per refresh with a new frame
};

CaseResult measure(const Config& config, viewer::TerminalSize size) {
    BenchSegment segment("viewer", config.geometry, kDefaultSlots);
    SegmentWriter writer = SegmentWriter::acquire(segment.name(), 100'000'000);
    FrameSource source(config.geometry);
    SegmentReader reader(segment.name());
    reader.require_attached();

    const viewer::ColorScale scale(viewer::ColorDepth::truecolor);
    viewer::Snapshot snapshot;
    RateMeter rate;
    viewer::Screen screen;
    viewer::ViewState state;
    const int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    const CellRange all = whole_frame(config.geometry);

    auto refresh = [&]() -> std::size_t {
        viewer::take_snapshot(reader, all, rate, snapshot);
        const viewer::RenderInput input{snapshot, scale, size, "", false};
        const std::string bytes = screen.update(viewer::render(state, input), size.rows);
        if (!bytes.empty() && write(null_fd, bytes.data(), bytes.size()) < 0) {
            std::perror("write");
        }
        return bytes.size();
    };

    // The baseline: the frame's bytes copied out of the segment with memcpy.
    const SegmentLayout& layout = reader.layout();
    std::vector<std::byte> copy(layout.slot_stride);
    auto baseline = [&] {
        const std::byte* slot = reader.segment().bytes() + layout.slot_offset(0);
        for (std::uint32_t f = 0; f < kFieldCount; ++f) {
            std::memcpy(copy.data() + f * all.cell_count * 4,
                        slot + layout.column_offset_in_slot[f], all.cell_count * 4);
        }
        std::memcpy(copy.data(), slot + layout.rack_table_offset_in_slot,
                    config.geometry.racks * sizeof(RackRecord));
        keep(copy.data());
    };

    std::vector<double> new_cpu, new_wall, same_cpu, base;
    double bytes_total = 0;
    std::uint64_t frame = 1;
    writer.publish_frame(source.make(frame++));
    refresh();  // warm-up: first full draw
    for (int i = 0; i < config.refreshes; ++i) {
        writer.publish_frame(source.make(frame++));  // not timed: the writer's work
        const std::uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        const std::uint64_t wall0 = monotonic_ns();
        bytes_total += static_cast<double>(refresh());
        new_wall.push_back(static_cast<double>(monotonic_ns() - wall0) / 1e3);
        new_cpu.push_back(static_cast<double>(clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) / 1e3);

        const std::uint64_t cpu1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        refresh();  // the same frame again: nothing to write
        same_cpu.push_back(static_cast<double>(clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu1) / 1e3);

        const std::uint64_t cpu2 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        baseline();
        base.push_back(static_cast<double>(clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu2) / 1e3);
    }
    close(null_fd);
    return {config.label,
            config.geometry.cell_count(),
            size.rows,
            size.columns,
            median(new_cpu),
            median(new_wall),
            median(same_cpu),
            median(base),
            bytes_total / config.refreshes};
}

struct EndToEnd {
    bool ran = false;
    std::string error;
    double seconds = 0;
    double cpu_percent = 0;
    std::uint64_t bytes_drawn = 0;
};

// The real viewer in a 250x70 pty at its default interval, 10 frames/s.
EndToEnd end_to_end(const std::string& viewer_path, double seconds) {
    EndToEnd result;
    if (access(viewer_path.c_str(), X_OK) != 0) {
        result.error = "not found: " + viewer_path;
        return result;
    }
    const Geometry geometry{20, 10, 32};
    BenchSegment segment("viewer_e2e", geometry, kDefaultSlots);
    SegmentWriter writer = SegmentWriter::acquire(segment.name(), 100'000'000);
    FrameSource source(geometry);
    writer.publish_frame(source.make(1));

    winsize size{};
    size.ws_row = 70;
    size.ws_col = 250;
    int master = -1;
    const pid_t pid = forkpty(&master, nullptr, nullptr, &size);
    if (pid == 0) {
        setenv("TERM", "xterm-256color", 1);
        setenv("COLORTERM", "truecolor", 1);
        unsetenv("NO_COLOR");
        execl(viewer_path.c_str(), viewer_path.c_str(), "--shm-name", segment.name().c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
    }
    std::atomic<bool> stop{false};
    std::thread publisher([&] {
        std::uint64_t frame = 2;
        while (!stop.load()) {
            writer.publish_frame(source.make(frame++));
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });
    const std::uint64_t start = monotonic_ns();
    char buffer[65536];
    while (static_cast<double>(monotonic_ns() - start) < seconds * 1e9) {
        pollfd fd{master, POLLIN, 0};
        if (poll(&fd, 1, 100) > 0) {
            const ssize_t n = read(master, buffer, sizeof buffer);
            result.bytes_drawn += n > 0 ? static_cast<std::uint64_t>(n) : 0;
        }
    }
    const double elapsed = static_cast<double>(monotonic_ns() - start) / 1e9;
    if (write(master, "q", 1) != 1) {
        kill(pid, SIGTERM);
    }
    int status = 0;
    rusage usage{};
    while (wait4(pid, &status, WNOHANG, &usage) == 0) {
        pollfd fd{master, POLLIN, 0};
        if (poll(&fd, 1, 50) > 0 && read(master, buffer, sizeof buffer) <= 0) {
            continue;
        }
    }
    stop.store(true);
    publisher.join();
    close(master);
    const double cpu_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    result.ran = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!result.ran) {
        result.error = "the viewer did not exit cleanly";
    }
    result.seconds = elapsed;
    result.cpu_percent = cpu_s / elapsed * 100.0;
    return result;
}

double percent_at_2hz(double cpu_us) {
    return cpu_us * 1e-6 * 2 * 100;
}

}  // namespace
}  // namespace brt::bench

int main(int argc, char** argv) {
    using namespace brt;
    using namespace brt::bench;
    CLI::App app("CPU cost of the viewer's refresh, in process and end to end", "bench_viewer");
    bool json = false;
    double seconds = 10;
    int refreshes = 41;
    std::string viewer_path =
        (std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "viewer" /
         "brt-viewer")
            .string();
    app.add_flag("--json", json, "One JSON object on stdout");
    app.add_option("--refreshes", refreshes, "Timed refreshes per case (median reported)")
        ->check(CLI::Range(3, 10001))
        ->capture_default_str();
    app.add_option("--seconds", seconds, "Length of the end-to-end run (0: skip it)")
        ->capture_default_str();
    app.add_option("--viewer", viewer_path, "brt-viewer binary for the end-to-end run")
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    const std::vector<Config> configs = {
        {"20x10x32", {20, 10, 32}, refreshes},
        {"250x16x250", {250, 16, 250}, std::max(3, refreshes / 4)},
    };
    std::vector<CaseResult> results;
    for (const Config& config : configs) {
        for (const viewer::TerminalSize size :
             {viewer::TerminalSize{24, 80}, viewer::TerminalSize{70, 250}}) {
            results.push_back(measure(config, size));
        }
    }
    const EndToEnd e2e = seconds > 0 ? end_to_end(viewer_path, seconds) : EndToEnd{};

    if (json) {
        JsonWriter out;
        out.begin_object().key("benchmark").value("bench_viewer");
        out.key("machine").value(machine_line());
        out.key("results").begin_array();
        for (const CaseResult& r : results) {
            out.begin_object()
                .key("geometry")
                .value(r.config)
                .key("cells")
                .value(r.cells)
                .key("terminal")
                .value(fmt::format("{}x{}", r.columns, r.rows))
                .key("new_frame_cpu_us")
                .value(r.new_frame_cpu_us)
                .key("new_frame_wall_us")
                .value(r.new_frame_wall_us)
                .key("same_frame_cpu_us")
                .value(r.same_frame_cpu_us)
                .key("memcpy_us")
                .value(r.memcpy_us)
                .key("ratio_to_memcpy")
                .value(r.new_frame_cpu_us / r.memcpy_us)
                .key("core_percent_at_2hz")
                .value(percent_at_2hz(r.new_frame_cpu_us))
                .key("bytes_written")
                .value(r.bytes_written)
                .end_object();
        }
        out.end_array();
        out.key("end_to_end").begin_object().key("ran").value(e2e.ran);
        out.key("seconds").value(e2e.seconds).key("cpu_percent").value(e2e.cpu_percent);
        out.key("bytes_drawn").value(e2e.bytes_drawn).key("error").value(e2e.error);
        out.end_object().end_object();
        fmt::print("{}\n", out.str());
        return 0;
    }
    fmt::print("bench_viewer: CPU per dashboard refresh (overview, truecolour)\n");
    fmt::print("machine: {}\n", machine_line());
    fmt::print("median over the timed refreshes; thread CPU time\n\n");
    fmt::print("{:<11} {:>9} {:>8}  {:>12} {:>12} {:>12} {:>10} {:>9} {:>12} {:>9}\n", "geometry",
               "cells", "terminal", "new frame us", "wall us", "same frame", "memcpy us",
               "x memcpy", "% core 2 Hz", "bytes");
    for (const CaseResult& r : results) {
        fmt::print(
            "{:<11} {:>9} {:>8}  {:>12.0f} {:>12.0f} {:>12.0f} {:>10.0f} {:>9.1f} {:>12.3f} "
            "{:>9.0f}\n",
            r.config, r.cells, fmt::format("{}x{}", r.columns, r.rows), r.new_frame_cpu_us,
            r.new_frame_wall_us, r.same_frame_cpu_us, r.memcpy_us, r.new_frame_cpu_us / r.memcpy_us,
            percent_at_2hz(r.new_frame_cpu_us), r.bytes_written);
    }
    fmt::print(
        "\nnew frame: take_snapshot + render overview + screen diff + write to /dev/null, every\n"
        "line changed; same frame: the same with nothing new to draw; memcpy: the frame's 7\n"
        "columns and rack table copied out of the segment (baseline, same run).\n");
    if (seconds > 0) {
        if (e2e.ran) {
            fmt::print(
                "\nend to end: brt-viewer in a 250x70 pty, -d 0.5, 6,400 cells published at 10 "
                "Hz,\n{:.1f} s: {:.2f} % of one core (user+system), {} bytes drawn\n",
                e2e.seconds, e2e.cpu_percent, e2e.bytes_drawn);
        } else {
            fmt::print("\nend to end: not run ({})\n", e2e.error);
        }
    }
    return 0;
}
