// Cross-process sleep and wake on a 32-bit word in the segment. These use
// FUTEX_WAIT/FUTEX_WAKE without FUTEX_PRIVATE_FLAG: the private variants (and
// libstdc++'s std::atomic::wait) key on the process's own address space and
// never wake a sleeper in another process.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace brt {

// Sleeps while *word == expected, at most `timeout`. Returns early (spuriously,
// on a signal, or because the word already differs); callers re-check.
void futex_wait_shared(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                       std::chrono::nanoseconds timeout);

// Wakes every process sleeping on `word`.
void futex_wake_all_shared(std::atomic<std::uint32_t>& word);

}  // namespace brt
