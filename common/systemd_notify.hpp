// The sd_notify protocol, without libsystemd: one datagram per message to
// $NOTIFY_SOCKET. Outside systemd (no NOTIFY_SOCKET) every call is a no-op.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace brt {

class SystemdNotifier {
  public:
    // Reads NOTIFY_SOCKET and WATCHDOG_USEC (and WATCHDOG_PID, which must
    // match this process when set).
    SystemdNotifier();
    SystemdNotifier(const SystemdNotifier&) = delete;
    SystemdNotifier& operator=(const SystemdNotifier&) = delete;
    ~SystemdNotifier();

    bool enabled() const { return fd_ >= 0; }
    bool watchdog_enabled() const { return watchdog_interval_.count() > 0; }
    // Half of WATCHDOG_USEC, as systemd recommends; zero when not enabled.
    std::chrono::microseconds watchdog_interval() const { return watchdog_interval_; }

    void ready();
    void stopping();
    void status(const std::string& text);
    // Sends WATCHDOG=1 when the interval has passed since the last one. Call
    // it from the main loop only, so a stuck loop stops the pings.
    void watchdog_if_due();

  private:
    void send(const std::string& message);
    int fd_ = -1;
    std::string socket_path_;
    std::chrono::microseconds watchdog_interval_{0};
    std::chrono::steady_clock::time_point last_watchdog_{};
};

}  // namespace brt
