#include "viewer/terminal.hpp"

#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <stdexcept>

#include "common/cli/stop_signal.hpp"

namespace brt::viewer {

namespace {

// What the signal handlers need, in static storage (handlers may touch
// nothing else). g_active says whether the terminal is in dashboard mode.
termios g_saved_mode{};
termios g_raw_mode{};
int g_in_fd = -1;
int g_out_fd = -1;
volatile std::sig_atomic_t g_active = 0;
volatile std::sig_atomic_t g_redraw = 0;

void write_raw(std::string_view bytes) noexcept {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(g_out_fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;  // the terminal is gone; nothing more to restore
        }
        done += static_cast<std::size_t>(n);
    }
}

// Async-signal-safe: write() and tcsetattr() only.
void leave_screen() noexcept {
    if (g_active == 0) {
        return;
    }
    g_active = 0;
    write_raw(kLeaveScreen);
    tcsetattr(g_in_fd, TCSAFLUSH, &g_saved_mode);
}

void enter_screen() noexcept {
    tcsetattr(g_in_fd, TCSAFLUSH, &g_raw_mode);
    write_raw(kEnterScreen);
    g_active = 1;
}

void on_window_change(int) {
    g_redraw = 1;
}

void on_hangup(int) {
    request_stop();
}

// Ctrl-Z: give the shell its terminal back while stopped.
void on_suspend(int) {
    const int saved_errno = errno;
    leave_screen();
    raise(SIGSTOP);
    // Resumed (SIGCONT).
    enter_screen();
    g_redraw = 1;
    errno = saved_errno;
}

void on_fatal(int signal_number) {
    leave_screen();
    std::signal(signal_number, SIG_DFL);
    raise(signal_number);
}

void restore_at_exit() {
    leave_screen();
}

void install(int signal_number, void (*handler)(int), int flags) {
    struct sigaction action {};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = flags;
    sigaction(signal_number, &action, nullptr);
}

}  // namespace

TerminalSession::TerminalSession(int in_fd, int out_fd) : out_fd_(out_fd) {
    if (isatty(in_fd) == 0 || isatty(out_fd) == 0) {
        throw std::runtime_error("the interactive viewer needs a terminal on stdin and stdout");
    }
    if (tcgetattr(in_fd, &g_saved_mode) != 0) {
        throw std::runtime_error("cannot read the terminal's settings");
    }
    g_in_fd = in_fd;
    g_out_fd = out_fd;
    g_raw_mode = g_saved_mode;
    // Keys arrive one by one, unechoed; ISIG stays on so Ctrl-C is SIGINT
    // and Ctrl-Z is SIGTSTP, which the handlers turn into a clean exit or stop.
    g_raw_mode.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO | IEXTEN);
    g_raw_mode.c_iflag &= ~static_cast<tcflag_t>(IXON | ICRNL | INLCR | ISTRIP);
    g_raw_mode.c_cc[VMIN] = 1;
    g_raw_mode.c_cc[VTIME] = 0;

    // No SA_RESTART: a signal must interrupt the main loop's wait.
    install(SIGWINCH, on_window_change, 0);
    install(SIGHUP, on_hangup, 0);
    install(SIGTSTP, on_suspend, 0);
    for (int fatal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) {
        install(fatal, on_fatal, SA_RESETHAND);
    }
    static bool registered = false;
    if (!registered) {
        std::atexit(restore_at_exit);
        registered = true;
    }
    enter_screen();
}

TerminalSession::~TerminalSession() {
    leave_screen();
    for (int signal_number :
         {SIGWINCH, SIGHUP, SIGTSTP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) {
        std::signal(signal_number, SIG_DFL);
    }
}

TerminalSize TerminalSession::size() const {
    winsize window{};
    if (ioctl(out_fd_, TIOCGWINSZ, &window) == 0 && window.ws_row > 0 && window.ws_col > 0) {
        return {window.ws_row, window.ws_col};
    }
    return {};
}

bool TerminalSession::take_redraw_request() {
    if (g_redraw == 0) {
        return false;
    }
    g_redraw = 0;
    return true;
}

void TerminalSession::write_all(std::string_view bytes) const {
    write_raw(bytes);
}

}  // namespace brt::viewer
