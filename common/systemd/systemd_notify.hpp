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

    void ready();
    void stopping();
    void status(const std::string& text);
    // Sends WATCHDOG=1 when the interval has passed since the last one. Call
    // it from the main loop only, so a stuck loop stops the pings.
    void watchdog_if_due();

    // Test-only hook: when $BRT_TEST_STALL_FILE names a file that exists, this
    // sends STATUS=stalled... and blocks the calling thread until the file is
    // removed. A tool calls it in its main loop, so a test can stall that loop
    // while the rest of the process runs and prove the WATCHDOG=1 pings stop
    // with it (SIGSTOP cannot tell: it would also freeze a pinging thread).
    // Without the variable it costs nothing; never set it in production.
    void stall_point_for_tests();

  private:
    void send(const std::string& message);
    int fd_ = -1;
    std::string socket_path_;
    std::chrono::microseconds watchdog_interval_{
        0};  // half of WATCHDOG_USEC, as systemd recommends
    std::chrono::steady_clock::time_point last_watchdog_{};
    std::string stall_file_;
};

}  // namespace brt
