#include "viewer/dashboard.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <utility>

#include "common/cli/exit_codes.hpp"
#include "common/reader/reader_loop.hpp"
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

// The dashboard on the common reader loop. It paces itself: a snapshot every
// interval (not every frame), and between them it waits on the keyboard.
class Dashboard : public ReaderTool {
  public:
    Dashboard(SegmentReader& reader, const DashboardOptions& options, sigset_t during_wait)
        : terminal_(STDIN_FILENO, STDOUT_FILENO),
          scale_(options.color),
          interval_(std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(options.interval_s))),
          during_wait_(during_wait),
          geometry_(reader.layout().geometry) {
        state_.metric = options.metric;
        if (options.rack) {
            state_.rack = *options.rack;
            state_.view = View::rack;
            if (options.module) {
                state_.module = *options.module;
                state_.view = View::module;
            }
        }
    }

    StepResult on_attach(SegmentReader& reader, AttachChange change) override {
        change_ = change;
        geometry_ = reader.layout().geometry;
        state_.rack = std::min(state_.rack, geometry_.racks - 1);
        state_.module = std::min(state_.module, geometry_.modules_per_rack - 1);
        state_.cell = std::min(state_.cell, geometry_.cells_per_module - 1);
        reread_ = true;
        return keep_going;
    }

    void on_detach(SegmentReader&) override {
        change_ = AttachChange::detached;
        reread_ = true;
    }

    // Waits for a key, a signal or the next refresh, whichever comes first.
    // Signals only arrive in here (ppoll), so none is lost between the
    // loop's check and the sleep.
    bool wait(SegmentReader&, std::chrono::nanoseconds longest) override {
        const auto now = Clock::now();
        auto wait = next_refresh_ > now ? next_refresh_ - now : Clock::duration::zero();
        wait = std::min<Clock::duration>(wait, longest);
        if (decoder_.pending()) {
            wait = std::min<Clock::duration>(wait, kEscapeWait);
        }
        const auto wait_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
        timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000),
                         static_cast<long>(wait_ns % 1'000'000'000)};
        pollfd input_fd{STDIN_FILENO, POLLIN, 0};
        const int ready = ppoll(&input_fd, 1, &timeout, &during_wait_);
        if (ready > 0) {
            char bytes[256];
            const ssize_t n = read(STDIN_FILENO, bytes, sizeof bytes);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
                quit_ = true;  // the terminal is gone
            } else if (n > 0) {
                keys_ = decoder_.feed(std::string_view(bytes, static_cast<std::size_t>(n)));
            }
        } else if (ready == 0 && decoder_.pending()) {
            keys_ = decoder_.flush();
        }
        return false;  // frames are taken at the refresh interval, in on_tick
    }

    StepResult on_tick(SegmentReader& reader, const WriterStatus&, Clock::time_point) override {
        if (quit_) {
            return kExitOk;
        }
        auto now = Clock::now();
        bool dirty = false;
        if (reread_ || now >= next_refresh_) {
            take_snapshot(reader, range_for(state_, geometry_), rate_, snapshot_);
            watch_.update(change_, snapshot_.writer, now);
            change_ = AttachChange::unchanged;
            if (!reread_) {
                next_refresh_ += interval_;
                if (next_refresh_ <= now) {
                    next_refresh_ = now + interval_;  // fell behind: do not try to catch up
                }
            }
            reread_ = false;
            dirty = true;
        }
        if (terminal_.take_redraw_request()) {
            screen_.invalidate();
            dirty = true;
        }
        const TerminalSize size = terminal_.size();
        if (dirty) {
            draw(size);
        }
        bool changed = false;
        for (Key key : std::exchange(keys_, {})) {
            bool redraw_all = false;
            const int page = std::max(size.rows - 5, 1);
            if (!handle_key(key, state_, geometry_, page, reread_, redraw_all)) {
                return kExitOk;
            }
            if (redraw_all) {
                screen_.invalidate();
            }
            changed = true;
        }
        if (changed && !reread_) {
            draw(size);
        }
        return keep_going;
    }

  private:
    void draw(const TerminalSize& size) {
        const RenderInput input{snapshot_, scale_, size, watch_.message(), watch_.alert()};
        terminal_.write_all(screen_.update(render(state_, input), size.rows));
    }

    TerminalSession terminal_;
    const ColorScale scale_;
    const Clock::duration interval_;
    sigset_t during_wait_;
    Geometry geometry_;
    ViewState state_;
    Screen screen_;
    KeyDecoder decoder_;
    Snapshot snapshot_;
    RateMeter rate_;
    WriterWatch watch_;
    AttachChange change_ = AttachChange::unchanged;
    std::vector<Key> keys_;
    Clock::time_point next_refresh_ = Clock::now();
    bool reread_ = true;
    bool quit_ = false;
};

}  // namespace

int run_dashboard(SegmentReader& reader, const DashboardOptions& options) {
    // SIGINT/SIGTERM/SIGWINCH/SIGHUP only arrive inside ppoll() (in
    // Dashboard::wait): the loop checks the flags right after.
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
    int exit_code = kExitOk;
    {
        Dashboard dashboard(reader, options, during_wait);
        ReaderLoopOptions loop;
        // The keyboard is read at least this often while a refresh is far off.
        loop.wait_slice = std::chrono::milliseconds(250);
        exit_code = run_reader_loop(reader, dashboard, loop);
    }
    sigprocmask(SIG_UNBLOCK, &blocked, nullptr);
    return exit_code;
}

}  // namespace brt::viewer
