// Runs a tool (brt-viewer, brt-anomaly-monitor) on a pseudo-terminal of a
// given size, as a user's terminal would: the test types keys, reads what the
// tool drew, and replays it on a virtual screen to check what a person would
// see.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "support/run_command.hpp"

extern char** environ;

namespace brt::test {

// The screen a terminal would show after the viewer's output: only the
// sequences the viewer uses are understood (cursor position, clear screen,
// clear to end of line, SGR and private modes are skipped). The viewer only
// writes ASCII text, so one byte is one column.
class VirtualScreen {
  public:
    VirtualScreen(int rows, int columns) { resize(rows, columns); }
    void resize(int rows, int columns) {
        rows_ = rows;
        columns_ = columns;
        lines_.assign(static_cast<std::size_t>(rows), std::string());
    }
    void feed(std::string_view bytes) {
        // An escape sequence may be split between two reads.
        pending_.append(bytes);
        const std::string out = std::move(pending_);
        pending_.clear();
        std::size_t i = 0;
        while (i < out.size()) {
            const char c = out[i];
            if (c == '\x1b' && i + 1 == out.size()) {
                pending_ = "\x1b";  // the rest of the sequence comes with the next read
                return;
            }
            if (c == '\x1b' && out[i + 1] == '[') {
                std::size_t end = i + 2;
                while (end < out.size() && !(out[end] >= 0x40 && out[end] <= 0x7e)) {
                    ++end;
                }
                if (end >= out.size()) {
                    pending_ = out.substr(i);
                    return;
                }
                sequence(std::string_view(out).substr(i + 2, end - i - 2), out[end]);
                i = end + 1;
                continue;
            }
            if (c == '\r') {
                column_ = 0;
            } else if (c == '\n') {
                ++row_;
            } else if (static_cast<unsigned char>(c) >= 0x20) {
                put(c);
            }
            ++i;
        }
    }
    const std::vector<std::string>& lines() const { return lines_; }
    // True when some text went past the right edge or below the last row.
    bool overflowed() const { return overflowed_; }
    std::string text() const {
        std::string all;
        for (const auto& line : lines_) {
            all += line + "\n";
        }
        return all;
    }
    // The first row containing `needle`, or an empty string.
    std::string line_with(std::string_view needle) const {
        for (const auto& line : lines_) {
            if (line.find(needle) != std::string::npos) {
                return line;
            }
        }
        return {};
    }

  private:
    void put(char c) {
        if (row_ < 0 || row_ >= rows_ || column_ >= columns_) {
            overflowed_ = true;
            return;
        }
        std::string& line = lines_[static_cast<std::size_t>(row_)];
        if (line.size() <= static_cast<std::size_t>(column_)) {
            line.resize(static_cast<std::size_t>(column_) + 1, ' ');
        }
        line[static_cast<std::size_t>(column_)] = c;
        ++column_;
    }
    void sequence(std::string_view parameters, char final_byte) {
        if (!parameters.empty() && parameters[0] == '?') {
            return;  // private modes: alternate screen, cursor, wrap, sync
        }
        if (final_byte == 'H') {
            const auto semicolon = parameters.find(';');
            row_ = parameters.empty() ? 0
                                      : std::stoi(std::string(parameters.substr(0, semicolon))) - 1;
            column_ = semicolon == std::string_view::npos
                          ? 0
                          : std::stoi(std::string(parameters.substr(semicolon + 1))) - 1;
        } else if (final_byte == 'J' && parameters == "2") {
            lines_.assign(static_cast<std::size_t>(rows_), std::string());
        } else if (final_byte == 'K' && row_ >= 0 && row_ < rows_) {
            std::string& line = lines_[static_cast<std::size_t>(row_)];
            if (line.size() > static_cast<std::size_t>(column_)) {
                line.resize(static_cast<std::size_t>(column_));
            }
        }
    }
    int rows_ = 0;
    int columns_ = 0;
    int row_ = 0;
    int column_ = 0;
    bool overflowed_ = false;
    std::vector<std::string> lines_;
    std::string pending_;
};

class PtySession {
  public:
    // `env_changes`: "NAME=value" to set, "NAME" alone to remove.
    PtySession(const std::vector<std::string>& argv, int rows, int columns,
               const std::vector<std::string>& env_changes)
        : screen_(rows, columns) {
        std::vector<std::string> environment;
        for (char** entry = environ; *entry != nullptr; ++entry) {
            const std::string_view text(*entry);
            bool replaced = false;
            for (const auto& change : env_changes) {
                const std::string name = change.substr(0, change.find('='));
                replaced = replaced || text.substr(0, text.find('=')) == name;
            }
            if (!replaced) {
                environment.emplace_back(text);
            }
        }
        for (const auto& change : env_changes) {
            if (change.find('=') != std::string::npos) {
                environment.push_back(change);
            }
        }
        // Kept alive until execve: `args` points into it.
        const std::vector<std::string> started = with_exe_wrapper(argv);
        std::vector<char*> args;
        for (const auto& arg : started) {
            args.push_back(const_cast<char*>(arg.c_str()));
        }
        args.push_back(nullptr);
        std::vector<char*> envp;
        for (auto& entry : environment) {
            envp.push_back(entry.data());
        }
        envp.push_back(nullptr);
        winsize size{};
        size.ws_row = static_cast<unsigned short>(rows);
        size.ws_col = static_cast<unsigned short>(columns);
        pid_ = forkpty(&master_, nullptr, nullptr, &size);
        if (pid_ < 0) {
            throw std::runtime_error(std::string("forkpty: ") + std::strerror(errno));
        }
        if (pid_ == 0) {
            execve(args[0], args.data(), envp.data());
            _exit(127);
        }
        fcntl(master_, F_SETFL, fcntl(master_, F_GETFL) | O_NONBLOCK);
    }
    ~PtySession() {
        if (pid_ > 0 && !exited_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        close(master_);
    }
    PtySession(const PtySession&) = delete;
    PtySession& operator=(const PtySession&) = delete;

    pid_t pid() const { return pid_; }
    const std::string& output() const { return output_; }
    const VirtualScreen& screen() const { return screen_; }

    void send(std::string_view keys) {
        if (::write(master_, keys.data(), keys.size()) != static_cast<ssize_t>(keys.size())) {
            throw std::runtime_error("cannot write to the pty");
        }
    }
    void resize(int rows, int columns) {
        winsize size{};
        size.ws_row = static_cast<unsigned short>(rows);
        size.ws_col = static_cast<unsigned short>(columns);
        ioctl(master_, TIOCSWINSZ, &size);  // the kernel sends SIGWINCH to the viewer
        screen_.resize(rows, columns);
    }
    // Reads until the virtual screen shows `needle` somewhere; false after
    // `timeout_ms`. Generous timeouts: the machine is shared and sanitizers slow.
    bool wait_for_screen(std::string_view needle, int timeout_ms = 20000) {
        return wait_until([&] { return screen_.text().find(needle) != std::string::npos; },
                          timeout_ms);
    }
    // Reads until a line containing `needle` also contains `part` (a line
    // may arrive in pieces).
    bool wait_for_line(std::string_view needle, std::string_view part, int timeout_ms = 20000) {
        return wait_until([&] { return screen_.line_with(needle).find(part) != std::string::npos; },
                          timeout_ms);
    }
    // Reads until the raw output since `from` contains `needle`.
    bool wait_for_output(std::string_view needle, std::size_t from, int timeout_ms = 20000) {
        return wait_until([&] { return output_.find(needle, from) != std::string::npos; },
                          timeout_ms);
    }
    // Reads whatever arrives during `ms` milliseconds.
    void pump_for(int ms) {
        wait_until([] { return false; }, ms);
    }
    // Waits for the viewer to exit (reading its last output); its exit code,
    // 128 + signal, or -1 on timeout.
    int wait_exit(int timeout_ms = 20000) {
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (std::chrono::steady_clock::now() < deadline) {
            read_available(20);
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                exited_ = true;
                read_available(50);
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
        }
        return -1;
    }

  private:
    template <typename Done>
    bool wait_until(Done done, int timeout_ms) {
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (!done()) {
            if (std::chrono::steady_clock::now() >= deadline) {
                return false;
            }
            read_available(20);
        }
        return true;
    }
    void read_available(int wait_ms) {
        pollfd fd{master_, POLLIN, 0};
        if (poll(&fd, 1, wait_ms) <= 0) {
            return;
        }
        char buffer[65536];
        for (;;) {
            const ssize_t n = ::read(master_, buffer, sizeof buffer);
            if (n <= 0) {
                return;  // EAGAIN, or EIO once the viewer has exited
            }
            output_.append(buffer, static_cast<std::size_t>(n));
            screen_.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
        }
    }
    int master_ = -1;
    pid_t pid_ = -1;
    bool exited_ = false;
    std::string output_;
    VirtualScreen screen_;
};

}  // namespace brt::test
