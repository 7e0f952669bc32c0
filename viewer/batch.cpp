#include "viewer/batch.hpp"

#include <fmt/format.h>
#include <time.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>

#include "common/cli/cli_common.hpp"
#include "common/segment/clock.hpp"
#include "common/cli/exit_codes.hpp"
#include "common/segment/shm_name.hpp"
#include "common/cli/stop_signal.hpp"
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

}  // namespace

int run_batch(SegmentReader& reader, const BatchOptions& options) {
    const auto interval_ns = static_cast<std::uint64_t>(options.interval_s * 1e9);
    Snapshot snapshot;
    RateMeter rate;
    bool first = true;
    std::uint64_t next_ns = monotonic_ns();
    for (std::uint64_t i = 0; options.count == 0 || i < options.count; ++i) {
        if (i > 0) {
            sleep_until(next_ns);
        }
        if (stop_requested()) {
            break;
        }
        next_ns += interval_ns;
        reader.refresh();
        CellRange range{};
        std::string why_nothing;
        if (reader.attached()) {
            // The selection was checked at start; a re-created segment may be
            // smaller, and then this snapshot has nothing to show.
            try {
                range = range_for(reader.layout().geometry, options.format.selection);
            } catch (const UsageError& error) {
                why_nothing = fmt::format("{} in the re-created segment", error.what());
            }
        }
        if (why_nothing.empty()) {
            take_snapshot(reader, range, rate, snapshot);
            if (!snapshot.has_frame) {
                why_nothing = nothing_to_show(snapshot);
            }
        }
        if (!why_nothing.empty()) {
            if (options.count == 1) {
                throw std::runtime_error(why_nothing);  // run_tool: "error: ...", exit 1
            }
            fmt::print(stderr, "{}: {} (snapshot {} skipped)\n", tool_name("viewer"), why_nothing,
                       i + 1);
            continue;
        }
        std::string text = format_snapshot(snapshot, options.format, first);
        if (!first && options.format.format == BatchFormat::table) {
            text.insert(0, "\n");
        }
        first = false;
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
    }
    return kExitOk;
}

}  // namespace brt::viewer
