// The systemd side of the sd_notify protocol, for tests: a datagram socket a
// tool under test gets as $NOTIFY_SOCKET, and the messages it receives with
// the kernel's arrival time (so the test's own scheduling delays do not
// distort the measured watchdog cadence).
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "support/test_segment.hpp"

namespace brt::test {

struct NotifyMessage {
    std::string text;                     // e.g. "WATCHDOG=1"
    std::chrono::nanoseconds arrival{0};  // CLOCK_REALTIME, from SO_TIMESTAMPNS
};

class NotifySocket {
  public:
    NotifySocket() : path_("/tmp/" + unique_segment_name("notify") + ".sock") {
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path_.c_str(), sizeof address.sun_path - 1);
        const int on = 1;
        if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0) {
            throw std::runtime_error("cannot bind a notification socket at " + path_);
        }
    }
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;
    ~NotifySocket() {
        close(fd_);
        unlink(path_.c_str());
    }

    // "NOTIFY_SOCKET=<path>" for the tool's environment.
    std::string environment() const { return "NOTIFY_SOCKET=" + path_; }

    // The next message, or nothing when none comes within `timeout`.
    std::optional<NotifyMessage> receive(std::chrono::milliseconds timeout) {
        timeval wait{static_cast<time_t>(timeout.count() / 1000),
                     static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
        char text[4096];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
        iovec vector{text, sizeof text};
        msghdr header{};
        header.msg_iov = &vector;
        header.msg_iovlen = 1;
        header.msg_control = control;
        header.msg_controllen = sizeof control;
        const ssize_t count = recvmsg(fd_, &header, 0);
        if (count < 0) {
            return std::nullopt;
        }
        NotifyMessage message{std::string(text, static_cast<std::size_t>(count)), {}};
        for (cmsghdr* item = CMSG_FIRSTHDR(&header); item != nullptr;
             item = CMSG_NXTHDR(&header, item)) {
            if (item->cmsg_level == SOL_SOCKET && item->cmsg_type == SCM_TIMESTAMPNS) {
                timespec stamp{};
                std::memcpy(&stamp, CMSG_DATA(item), sizeof stamp);
                message.arrival =
                    std::chrono::seconds(stamp.tv_sec) + std::chrono::nanoseconds(stamp.tv_nsec);
            }
        }
        return message;
    }

    // Reads messages until one has a line that starts with `prefix` and
    // contains `part`; that line, or "" when none came within `timeout`.
    std::string wait_for_line(const std::string& prefix, const std::string& part,
                              std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto message = receive(std::chrono::milliseconds(500));
            if (!message) {
                continue;
            }
            std::istringstream lines(message->text);
            std::string line;
            while (std::getline(lines, line)) {
                if (line.starts_with(prefix) && line.find(part) != std::string::npos) {
                    return line;
                }
            }
        }
        return {};
    }

  private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace brt::test
