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
#include "viewer/alarm_client.hpp"
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
// After a command, the next refresh comes this soon, to show the answer.
constexpr auto kAnswerPoll = std::chrono::milliseconds(100);
// How long a command's news stays on the second line.
constexpr auto kAlarmMessageFor = std::chrono::seconds(5);

std::uint32_t step(std::uint32_t value, std::int64_t delta, std::uint32_t count) {
    const std::int64_t moved = static_cast<std::int64_t>(value) + delta;
    return static_cast<std::uint32_t>(std::clamp<std::int64_t>(moved, 0, count - 1));
}

// What a key asks of the alarm server.
struct AlarmAction {
    CommandKind kind = CommandKind::alarm_acknowledge;
    std::uint64_t id = 0;
    double seconds = 0;
};

// The shelf `s` puts an alarm on.
constexpr double kShelveS = 3600;

// Keys of the alarm view; false when the key is not one of its own.
bool handle_alarm_key(Key key, ViewState& state, const AlarmList& alarms, int page,
                      std::optional<AlarmAction>& action) {
    const std::vector<const BoardAlarm*> shown = listed_alarms(alarms, state.show_suppressed);
    const auto count = static_cast<std::uint32_t>(std::max<std::size_t>(shown.size(), 1));
    const std::uint64_t selected_id =
        state.alarm < shown.size() ? shown[state.alarm]->id : std::uint64_t{0};
    switch (key) {
        case Key::up:
        case Key::down:
        case Key::page_up:
        case Key::page_down: {
            const std::int64_t delta = key == Key::up        ? -1
                                       : key == Key::down    ? 1
                                       : key == Key::page_up ? -page
                                                             : page;
            state.alarm = step(state.alarm, delta, count);
            return true;
        }
        case Key::home:
            state.alarm = 0;
            return true;
        case Key::end:
            state.alarm = count - 1;
            return true;
        case Key::enter:
            if (selected_id != 0) {  // #- (the alarm system's own) takes no command
                action = AlarmAction{CommandKind::alarm_acknowledge, selected_id, 0};
            }
            return true;
        case Key::acknowledge_all:
            action = AlarmAction{CommandKind::alarm_acknowledge, 0, 0};
            return true;
        case Key::shelve:
            if (selected_id != 0) {
                action = AlarmAction{CommandKind::alarm_shelve, selected_id, kShelveS};
            }
            return true;
        case Key::unshelve:
            if (selected_id != 0) {
                action = AlarmAction{CommandKind::alarm_unshelve, selected_id, 0};
            }
            return true;
        case Key::toggle_suppressed:
            state.show_suppressed = !state.show_suppressed;
            return true;
        case Key::escape:
        case Key::backspace:
        case Key::alarms:
            state.view = state.before_alarms;
            return true;
        default:
            return false;
    }
}

// Applies one key; returns false on quit. Sets `reread` when the view now
// needs another part of the frame; `action` when it asks the alarm server.
bool handle_key(Key key, ViewState& state, const Geometry& g, const AlarmList& alarms, int page,
                bool& reread, bool& redraw_all, std::optional<AlarmAction>& action) {
    if (key == Key::quit) {
        return false;
    }
    if (state.help) {
        state.help = false;  // any other key closes the help
        return true;
    }
    if (state.view == View::alarms && handle_alarm_key(key, state, alarms, page, action)) {
        return true;
    }
    if (key == Key::alarms) {
        state.before_alarms = state.view;
        state.view = View::alarms;
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
        case Key::alarms:
        case Key::acknowledge_all:
        case Key::shelve:
        case Key::unshelve:
        case Key::toggle_suppressed:
            break;
    }
    // The overview needs the whole frame; the other views read one rack.
    reread = reread || (before == View::overview) != (state.view == View::overview);
    return true;
}

CellRange range_for(const ViewState& state, const Geometry& g) {
    const View view = state.view == View::alarms ? state.before_alarms : state.view;
    return view == View::overview ? whole_frame(g) : rack_range(g, state.rack);
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
          geometry_(reader.layout().geometry),
          alarms_(reader.name()),
          color_mode_(options.color_mode) {
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
            alarms_.refresh(now);
            if (auto answer = alarms_.answer(now)) {
                show_alarm_message(*answer, now);
            }
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
            std::optional<AlarmAction> action;
            if (!handle_key(key, state_, geometry_, alarms_.list(), page, reread_, redraw_all,
                            action)) {
                return kExitOk;
            }
            if (action) {
                show_alarm_message(alarms_.post(action->kind, action->id, action->seconds), now);
                next_refresh_ = std::min(next_refresh_, now + kAnswerPoll);
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
        const bool alarm_news = !alarm_message_.empty() && Clock::now() < alarm_message_until_;
        const RenderInput input{snapshot_,
                                scale_,
                                size,
                                alarm_news ? alarm_message_ : watch_.message(),
                                alarm_news ? false : watch_.alert(),
                                &alarms_.list(),
                                color_mode_};
        terminal_.write_all(screen_.update(render(state_, input), size.rows));
    }

    void show_alarm_message(std::string message, Clock::time_point now) {
        alarm_message_ = std::move(message);
        alarm_message_until_ = now + kAlarmMessageFor;
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
    AlarmClient alarms_;
    ColorMode color_mode_;
    std::string alarm_message_;  // the last command's news, for a while
    Clock::time_point alarm_message_until_{};
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
