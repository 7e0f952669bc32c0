#include "common/reader/reader_loop.hpp"

#include "common/cli/exit_codes.hpp"
#include "common/cli/stop_signal.hpp"
#include "common/systemd/systemd_notify.hpp"

namespace brt {

namespace {

using Clock = ReaderTool::Clock;
constexpr auto kStatusEvery = std::chrono::seconds(1);

}  // namespace

int run_reader_loop(SegmentReader& reader, ReaderTool& tool, const ReaderLoopOptions& options) {
    // A reader the tool attached itself has been set up by the tool.
    const bool attached_by_tool = reader.attached();
    if (options.require_segment) {
        reader.require_attached();
    } else {
        reader.refresh();
    }
    if (reader.attached() && !attached_by_tool) {
        if (const StepResult stop = tool.on_attach(reader, AttachChange::attached)) {
            return *stop;
        }
    }
    SystemdNotifier systemd;
    const auto started = Clock::now();
    WriterStatus writer = reader.writer_status();
    tool.on_writer_change(writer);
    systemd.ready();

    StepResult result;
    auto last_refresh = started;
    auto last_writer_check = started;
    auto last_status = Clock::time_point{};
    std::string last_status_text;
    while (!result && !stop_requested()) {
        // Detached, the futex wait sleeps the slice: the loop never spins.
        if (tool.wait(reader, options.wait_slice) && reader.attached()) {
            result = tool.on_frame(reader);
        }
        auto now = Clock::now();
        // A file shrunk under the reader is looked at now, not in a second.
        if (!result && (!reader.attached() || reader.truncated() ||
                        now - last_refresh >= options.refresh_every)) {
            last_refresh = now;
            const AttachChange change = reader.refresh();
            if (change == AttachChange::attached || change == AttachChange::reattached) {
                result = tool.on_attach(reader, change);
            } else if (change == AttachChange::detached) {
                tool.on_detach(reader);
            }
        }
        if (!result && now - last_writer_check >= options.wait_slice) {
            last_writer_check = now;
            const WriterStatus current = reader.writer_status();
            const bool changed = current.liveness != writer.liveness;
            writer = current;
            if (changed) {
                tool.on_writer_change(writer);
            }
        }
        if (!result) {
            result = tool.on_tick(reader, writer, now);
        }
        if (now - last_status >= kStatusEvery) {
            last_status = now;
            std::string text = tool.status_text();
            if (!text.empty() && text != last_status_text) {
                systemd.status(text);
                last_status_text = std::move(text);
            }
        }
        if (tool.healthy()) {
            systemd.watchdog_if_due();
        }
        systemd.stall_point_for_tests();
        if (options.duration_s > 0 &&
            std::chrono::duration<double>(now - started).count() >= options.duration_s) {
            break;
        }
    }
    systemd.stopping();
    return result.value_or(kExitOk);
}

}  // namespace brt
