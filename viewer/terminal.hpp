// The interactive terminal: raw keyboard input, the alternate screen, a
// hidden cursor, and the promise to put all of it back however the viewer
// ends: normal exit, SIGINT/SIGTERM/SIGHUP (through the main loop), a crash
// (SIGSEGV, SIGABRT, ... restored in the handler, then re-raised), Ctrl-Z
// (restored while stopped, re-entered on resume). Only one session at a time.
#pragma once

#include <string_view>

namespace brt::viewer {

struct TerminalSize {
    int rows = 24;
    int columns = 80;
};

// Bytes that enter and leave the dashboard's screen mode; leaving shows the
// cursor (ESC[?25h) and returns to the normal screen (ESC[?1049l).
inline constexpr std::string_view kEnterScreen = "\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[H\x1b[2J";
inline constexpr std::string_view kLeaveScreen = "\x1b[0m\x1b[?7h\x1b[?25h\x1b[?1049l";

class TerminalSession {
  public:
    // Throws std::runtime_error when in_fd is not a terminal.
    TerminalSession(int in_fd, int out_fd);
    ~TerminalSession();
    TerminalSession(const TerminalSession&) = delete;
    TerminalSession& operator=(const TerminalSession&) = delete;

    TerminalSize size() const;
    // True once after the window size changed (SIGWINCH) or the viewer was
    // resumed after Ctrl-Z: the screen must be redrawn in full.
    bool take_redraw_request();
    // Writes everything, retrying on EINTR and short writes.
    void write_all(std::string_view bytes) const;

  private:
    int out_fd_;
};

}  // namespace brt::viewer
