#include "viewer/dashboard.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>

#include "common/cli/stop_signal.hpp"
#include "viewer/input.hpp"
#include "viewer/render.hpp"
#include "viewer/screen.hpp"
#include "viewer/snapshot.hpp"
#include "viewer/terminal.hpp"
#include "viewer/writer_watch.hpp"

namespace brt::viewer {

namespace {

using Clock = std::chrono::steady_clock;

// How long a lone ESC waits for the rest of an escape sequence.
constexpr auto kEscapeWait = std::chrono::milliseconds(30);
// How often the reader looks for a re-created or removed segment.
constexpr auto kAttachCheck = std::chrono::seconds(1);

std::uint32_t step(std::uint32_t value, std::int64_t delta, std::uint32_t count) {
    const std::int64_t moved = static_cast<std::int64_t>(value) + delta;
    return static_cast<std::uint32_t>(std::clamp<std::int64_t>(moved, 0, count - 1));
}

// Applies one key; returns false on quit. Sets `reread` when the view now
// needs another part of the frame.
bool handle_key(Key key, ViewState& state, const Geometry& g, int page, bool& reread,
                bool& redraw_all) {
    if (key == Key::quit) {
        return false;
    }
    if (state.help) {
        state.help = false;  // any other key closes the help
        return true;
    }
    const View before = state.view;
    std::uint32_t* selected = &state.rack;
    std::uint32_t count = g.racks;
    if (state.view == View::rack) {
        selected = &state.module;
        count = g.modules_per_rack;
    } else if (state.view == View::module) {
        selected = &state.cell;
        count = g.cells_per_module;
    }
    switch (key) {
        case Key::up:
            *selected = step(*selected, -1, count);
            break;
        case Key::down:
            *selected = step(*selected, 1, count);
            break;
        case Key::page_up:
            *selected = step(*selected, -page, count);
            break;
        case Key::page_down:
            *selected = step(*selected, page, count);
            break;
        case Key::home:
            *selected = 0;
            break;
        case Key::end:
            *selected = count - 1;
            break;
        case Key::left:
        case Key::right: {
            const int delta = key == Key::left ? -1 : 1;
            if (state.view == View::rack) {
                state.cell = step(state.cell, delta, g.cells_per_module);
            } else if (state.view == View::module) {
                state.module = step(state.module, delta, g.modules_per_rack);
            }
            break;
        }
        case Key::enter:
            if (state.view == View::overview) {
                state.view = View::rack;
            } else if (state.view == View::rack) {
                state.view = View::module;
                state.first_row = 0;
            }
            break;
        case Key::escape:
        case Key::backspace:
            if (state.view == View::module) {
                state.view = View::rack;
            } else if (state.view == View::rack) {
                state.view = View::overview;
                state.first_row = 0;
            }
            break;
        case Key::cycle_metric:
            state.metric = next_metric(state.metric);
            break;
        case Key::help:
            state.help = true;
            break;
        case Key::redraw:
            redraw_all = true;
            break;
        case Key::quit:
        case Key::other:
            break;
    }
    // The overview needs the whole frame; the other views read one rack.
    reread = reread || (before == View::overview) != (state.view == View::overview);
    return true;
}

CellRange range_for(const ViewState& state, const Geometry& g) {
    return state.view == View::overview ? whole_frame(g) : rack_range(g, state.rack);
}

}  // namespace

int run_dashboard(SegmentReader& reader, const DashboardOptions& options) {
    // SIGINT/SIGTERM/SIGWINCH/SIGHUP only arrive inside ppoll(): the loop
    // checks the flags right after, so none is lost between check and sleep.
    sigset_t blocked;
    sigset_t during_wait;
    sigemptyset(&blocked);
    for (int signal_number : {SIGINT, SIGTERM, SIGWINCH, SIGHUP}) {
        sigaddset(&blocked, signal_number);
    }
    sigprocmask(SIG_BLOCK, &blocked, &during_wait);
    for (int signal_number : {SIGINT, SIGTERM, SIGWINCH, SIGHUP}) {
        sigdelset(&during_wait, signal_number);
    }

    TerminalSession terminal(STDIN_FILENO, STDOUT_FILENO);
    const ColorScale scale(options.color);
    const auto interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(options.interval_s));

    ViewState state;
    state.metric = options.metric;
    if (options.rack) {
        state.rack = *options.rack;
        state.view = View::rack;
        if (options.module) {
            state.module = *options.module;
            state.view = View::module;
        }
    }
    Screen screen;
    KeyDecoder decoder;
    Snapshot snapshot;
    RateMeter rate;
    WriterWatch watch;
    Geometry geometry = reader.layout().geometry;
    auto next_refresh = Clock::now();
    auto next_attach_check = Clock::now() + kAttachCheck;
    bool reread = true;
    bool running = true;

    while (running && !stop_requested()) {
        auto now = Clock::now();
        bool dirty = false;
        if (reread || now >= next_refresh) {
            AttachChange change = AttachChange::unchanged;
            if (!reader.attached() || now >= next_attach_check) {
                change = reader.refresh();
                next_attach_check = now + kAttachCheck;
            }
            if (reader.attached()) {
                geometry = reader.layout().geometry;
                state.rack = std::min(state.rack, geometry.racks - 1);
                state.module = std::min(state.module, geometry.modules_per_rack - 1);
                state.cell = std::min(state.cell, geometry.cells_per_module - 1);
            }
            take_snapshot(reader, range_for(state, geometry), rate, snapshot);
            watch.update(change, snapshot.writer, now);
            if (!reread) {
                next_refresh += interval;
                if (next_refresh <= now) {
                    next_refresh = now + interval;  // fell behind: do not try to catch up
                }
            }
            reread = false;
            dirty = true;
        }
        if (terminal.take_redraw_request()) {
            screen.invalidate();
            dirty = true;
        }
        const TerminalSize size = terminal.size();
        if (dirty) {
            const RenderInput input{snapshot, scale, size, watch.message(), watch.alert()};
            terminal.write_all(screen.update(render(state, input), size.rows));
        }

        now = Clock::now();
        auto wait = next_refresh > now ? next_refresh - now : Clock::duration::zero();
        if (decoder.pending()) {
            wait = std::min<Clock::duration>(wait, kEscapeWait);
        }
        const auto wait_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
        timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000),
                         static_cast<long>(wait_ns % 1'000'000'000)};
        pollfd input_fd{STDIN_FILENO, POLLIN, 0};
        const int ready = ppoll(&input_fd, 1, &timeout, &during_wait);
        std::vector<Key> keys;
        if (ready > 0) {
            char bytes[256];
            const ssize_t n = read(STDIN_FILENO, bytes, sizeof bytes);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
                break;  // the terminal is gone
            }
            if (n > 0) {
                keys = decoder.feed(std::string_view(bytes, static_cast<std::size_t>(n)));
            }
        } else if (ready == 0 && decoder.pending()) {
            keys = decoder.flush();
        }
        bool changed = false;
        for (Key key : keys) {
            bool redraw_all = false;
            const int page = std::max(size.rows - 5, 1);
            running = handle_key(key, state, geometry, page, reread, redraw_all);
            if (!running) {
                break;
            }
            if (redraw_all) {
                screen.invalidate();
            }
            changed = true;
        }
        if (changed && running && !reread) {
            const RenderInput input{snapshot, scale, size, watch.message(), watch.alert()};
            terminal.write_all(screen.update(render(state, input), size.rows));
        }
    }
    sigprocmask(SIG_UNBLOCK, &blocked, nullptr);
    return 0;
}

}  // namespace brt::viewer
