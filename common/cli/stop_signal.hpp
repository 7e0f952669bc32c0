// SIGINT, SIGTERM and SIGHUP ask a long-running tool to finish what it is doing and
// exit cleanly; the handler only sets a flag that the main loop checks.
#pragma once

namespace brt {

// Installs the handlers (without SA_RESTART, so sleeps return early with EINTR).
void install_stop_signal_handlers();
bool stop_requested();
// The signal that asked to stop, 0 if none.
int stop_signal_number();
// For tests and for tools that end on their own (e.g. --duration).
void request_stop();

}  // namespace brt
