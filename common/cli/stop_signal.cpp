#include "common/cli/stop_signal.hpp"

#include <csignal>

namespace brt {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

void on_stop_signal(int signal_number) {
    g_stop_signal = signal_number;
}

}  // namespace

void install_stop_signal_handlers() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    // A closed terminal or `systemctl reload`-style HUP ends a tool cleanly
    // too, rather than killing it mid-write.
    sigaction(SIGHUP, &action, nullptr);
}

bool stop_requested() {
    return g_stop_signal != 0;
}

int stop_signal_number() {
    return g_stop_signal;
}

void request_stop() {
    g_stop_signal = -1;
}

}  // namespace brt
