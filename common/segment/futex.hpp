// Cross-process sleep and wake on a 32-bit word in the segment. These use
// FUTEX_WAIT/FUTEX_WAKE without FUTEX_PRIVATE_FLAG: the private variants (and
// libstdc++'s std::atomic::wait) key on the process's own address space and
// never wake a sleeper in another process.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

namespace brt {

// Sleeps while *word == expected, at most `timeout`. Returns early (spuriously,
// on a signal, or because the word already differs); callers re-check.
void futex_wait_shared(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                       std::chrono::nanoseconds timeout);

// Wakes every process sleeping on `word`.
void futex_wake_all_shared(std::atomic<std::uint32_t>& word);

// The segments' wake-up protocol (docs/segment-format.md, "Futex"), shared
// by the telemetry and the alarm segment. Writer: change the word, then wake
// only when a reader has said it sleeps. Reader: say so, then sleep while the
// word still holds `expected`. All seq_cst, so either the writer's load sees
// the reader's announcement, or the reader's FUTEX_WAIT sees the new word.
void futex_bump_and_wake(std::atomic<std::uint32_t>& word, std::atomic<std::uint32_t>& waiters);
void futex_announce_and_wait(std::atomic<std::uint32_t>& word, std::atomic<std::uint32_t>& waiters,
                             std::uint32_t expected, std::chrono::nanoseconds timeout);

// A reader's wait for news (docs/segment-format.md, "Futex", reader steps
// 1-8): true as soon as `news()` is true; false when `writer_state` leaves
// the value it had at the call (the caller looks at the writer) or when
// `timeout` passes. `news` is asked after each load of the word, so a
// publication between the two is never slept through.
bool futex_wait_for_news(std::atomic<std::uint32_t>& word, std::atomic<std::uint32_t>& waiters,
                         const std::atomic<std::uint32_t>& writer_state,
                         std::chrono::nanoseconds timeout, const std::function<bool()>& news);

}  // namespace brt
