#include "common/systemd/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <thread>

namespace brt {

SystemdNotifier::SystemdNotifier() {
    if (const char* stall_file = std::getenv("BRT_TEST_STALL_FILE")) {
        stall_file_ = stall_file;
    }
    const char* socket_path = std::getenv("NOTIFY_SOCKET");
    if (socket_path == nullptr || socket_path[0] == '\0') {
        return;
    }
    socket_path_ = socket_path;
    if (socket_path_.size() >= sizeof(sockaddr_un::sun_path)) {
        return;
    }
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const char* watchdog_usec = std::getenv("WATCHDOG_USEC");
    const char* watchdog_pid = std::getenv("WATCHDOG_PID");
    const bool for_us =
        watchdog_pid == nullptr || std::strtol(watchdog_pid, nullptr, 10) == getpid();
    if (watchdog_usec != nullptr && for_us) {
        const long long usec = std::strtoll(watchdog_usec, nullptr, 10);
        if (usec > 0) {
            watchdog_interval_ = std::chrono::microseconds(usec / 2);
        }
    }
    last_watchdog_ = std::chrono::steady_clock::now();
}

SystemdNotifier::~SystemdNotifier() {
    if (fd_ >= 0) {
        close(fd_);
    }
}

void SystemdNotifier::send(const std::string& message) {
    if (fd_ < 0) {
        return;
    }
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, socket_path_.data(), socket_path_.size());
    if (address.sun_path[0] == '@') {
        address.sun_path[0] = '\0';  // abstract namespace
    }
    const auto length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
    // Best effort: systemd not listening is not a reason to stop working.
    sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL,
           reinterpret_cast<const sockaddr*>(&address), length);
}

void SystemdNotifier::ready() {
    send("READY=1");
}

void SystemdNotifier::stopping() {
    send("STOPPING=1");
}

void SystemdNotifier::status(const std::string& text) {
    send("STATUS=" + text);
}

void SystemdNotifier::watchdog_if_due() {
    if (!watchdog_enabled()) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_watchdog_ >= watchdog_interval_) {
        send("WATCHDOG=1");
        last_watchdog_ = now;
    }
}

void SystemdNotifier::stall_point_for_tests() {
    if (stall_file_.empty() || access(stall_file_.c_str(), F_OK) != 0) {
        return;
    }
    status("stalled by BRT_TEST_STALL_FILE (test hook)");
    while (access(stall_file_.c_str(), F_OK) == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace brt
