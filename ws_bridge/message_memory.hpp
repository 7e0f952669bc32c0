// The bytes of serialized messages the bridge holds (issue 20, item 8):
// every encoding a snapshot caches or a WebSocket client has queued or in
// flight, each counted once however many clients share it. The cap on this
// total (--max-queued-mib) is what bounds the bridge's memory in all,
// whatever the number of clients; the per-client queue only bounds one.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace brt::bridge {

// `bytes` as a shared message, counted in message_bytes() until the last
// holder lets go of it.
std::shared_ptr<const std::string> counted_message(std::string bytes);

// The bytes of every counted message alive now, in this process.
std::size_t message_bytes();
// The most message_bytes() has been since the process started.
std::size_t message_bytes_peak();

// glibc keeps the memory of freed messages in its arenas; this gives it
// back to the system (malloc_trim), at most about once a second and only
// when asked since the last time. Returns whether it trimmed.
void request_memory_release();
bool release_memory_if_requested();

}  // namespace brt::bridge
