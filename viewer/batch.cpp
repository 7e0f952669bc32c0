#include "viewer/batch.hpp"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <stdexcept>

#include "common/cli/cli_common.hpp"
#include "common/cli/exit_codes.hpp"
#include "common/cli/stop_signal.hpp"
#include "common/reader/reader_loop.hpp"
#include "common/segment/clock.hpp"
#include "common/segment/shm_name.hpp"
#include "viewer/snapshot.hpp"

namespace brt::viewer {

namespace {

// Sleeps until `deadline_ns` (CLOCK_MONOTONIC) or a stop signal.
void sleep_until(std::uint64_t deadline_ns) {
    const timespec deadline{static_cast<time_t>(deadline_ns / 1'000'000'000),
                            static_cast<long>(deadline_ns % 1'000'000'000)};
    while (!stop_requested() &&
           clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
    }
}

// Throws UsageError when the selected rack or module does not exist.
CellRange range_for(const Geometry& g, const Selection& selection) {
    if (selection.rack && selection.module) {
        module_range(g, *selection.rack, *selection.module);
    }
    // A rack's figures need all its cells, even when one module is selected.
    return selection.rack ? rack_range(g, *selection.rack) : whole_frame(g);
}

std::string nothing_to_show(const Snapshot& snapshot) {
    if (snapshot.writer.liveness == Liveness::no_segment) {
        return snapshot.writer.detail;
    }
    return fmt::format(
        "no frame has been published in {} yet; start the writer (brt-simulator --shm-name {})",
        shm_path(snapshot.segment_name), snapshot.segment_name);
}

// Batch snapshots on the common reader loop, paced by the interval.
class BatchPrinter : public ReaderTool {
  public:
    explicit BatchPrinter(const BatchOptions& options)
        : options_(options),
          interval_ns_(static_cast<std::uint64_t>(options.interval_s * 1e9)),
          next_ns_(monotonic_ns()) {}

    // Sleeps until the next snapshot is due (or `longest`, or a signal).
    bool wait(SegmentReader&, std::chrono::nanoseconds longest) override {
        sleep_until(
            std::min(next_ns_, monotonic_ns() + static_cast<std::uint64_t>(longest.count())));
        return false;  // snapshots are taken at the interval, in on_tick
    }

    StepResult on_tick(SegmentReader& reader, const WriterStatus&, Clock::time_point) override {
        if (monotonic_ns() < next_ns_) {
            return keep_going;
        }
        next_ns_ += interval_ns_;
        print_snapshot(reader);
        ++taken_;
        return options_.count != 0 && taken_ >= options_.count ? StepResult(kExitOk) : keep_going;
    }

  private:
    void print_snapshot(SegmentReader& reader) {
        CellRange range{};
        std::string why_nothing;
        if (reader.attached()) {
            // The selection was checked at start; a re-created segment may be
            // smaller, and then this snapshot has nothing to show.
            try {
                range = range_for(reader.layout().geometry, options_.format.selection);
            } catch (const UsageError& error) {
                why_nothing = fmt::format("{} in the re-created segment", error.what());
            }
        }
        if (why_nothing.empty()) {
            take_snapshot(reader, range, rate_, snapshot_);
            if (!snapshot_.has_frame) {
                why_nothing = reader.unreadable_reason().empty() ? nothing_to_show(snapshot_)
                                                                 : reader.unreadable_reason();
            }
        }
        if (!why_nothing.empty()) {
            if (options_.count == 1) {
                throw std::runtime_error(why_nothing);  // run_tool: "error: ...", exit 1
            }
            fmt::print(stderr, "{}: {} (snapshot {} skipped)\n", tool_name("viewer"), why_nothing,
                       taken_ + 1);
            return;
        }
        std::string text = format_snapshot(snapshot_, options_.format, first_);
        if (!first_ && options_.format.format == BatchFormat::table) {
            text.insert(0, "\n");
        }
        first_ = false;
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
    }

    const BatchOptions& options_;
    const std::uint64_t interval_ns_;
    std::uint64_t next_ns_;
    std::uint64_t taken_ = 0;
    Snapshot snapshot_;
    RateMeter rate_;
    bool first_ = true;
};

}  // namespace

int run_batch(SegmentReader& reader, const BatchOptions& options) {
    BatchPrinter printer(options);
    ReaderLoopOptions loop;
    // Each snapshot sees a re-created or removed segment, as it would when
    // run on its own: look the name up at least once per snapshot.
    loop.refresh_every =
        std::min(loop.refresh_every,
                 std::chrono::milliseconds(static_cast<long>(options.interval_s * 1000)));
    return run_reader_loop(reader, printer, loop);
}

}  // namespace brt::viewer
