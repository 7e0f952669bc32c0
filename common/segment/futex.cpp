#include "futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <ctime>

namespace brt {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

void futex_wait_shared(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                       std::chrono::nanoseconds timeout) {
    if (timeout.count() <= 0) {
        return;
    }
    timespec relative{};
    relative.tv_sec = static_cast<time_t>(timeout.count() / 1'000'000'000);
    relative.tv_nsec = static_cast<long>(timeout.count() % 1'000'000'000);
    // EAGAIN (value changed), EINTR and ETIMEDOUT all mean "re-check".
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, expected, &relative,
            nullptr, 0);
}

void futex_wake_all_shared(std::atomic<std::uint32_t>& word) {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, INT_MAX, nullptr,
            nullptr, 0);
}

void futex_bump_and_wake(std::atomic<std::uint32_t>& word, std::atomic<std::uint32_t>& waiters) {
    word.fetch_add(1, std::memory_order_seq_cst);
    if (waiters.load(std::memory_order_seq_cst) != 0) {
        futex_wake_all_shared(word);
    }
}

void futex_announce_and_wait(std::atomic<std::uint32_t>& word, std::atomic<std::uint32_t>& waiters,
                             std::uint32_t expected, std::chrono::nanoseconds timeout) {
    waiters.fetch_add(1, std::memory_order_seq_cst);
    futex_wait_shared(word, expected, timeout);
    waiters.fetch_sub(1, std::memory_order_seq_cst);
}

bool futex_wait_for_news(std::atomic<std::uint32_t>& word, std::atomic<std::uint32_t>& waiters,
                         const std::atomic<std::uint32_t>& writer_state,
                         std::chrono::nanoseconds timeout, const std::function<bool()>& news) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const std::uint32_t initial_state = writer_state.load(std::memory_order_acquire);
    for (;;) {
        const std::uint32_t seen = word.load(std::memory_order_seq_cst);
        if (news()) {
            return true;
        }
        if (writer_state.load(std::memory_order_acquire) != initial_state) {
            return false;  // let the caller look at the writer's new state
        }
        const auto remaining = deadline - std::chrono::steady_clock::now();
        if (remaining <= std::chrono::nanoseconds::zero()) {
            return false;
        }
        // Announce the sleep before the kernel re-checks the word: a writer
        // that publishes after this sees waiters != 0 and wakes us; one that
        // published before changed the word, so FUTEX_WAIT returns at once.
        futex_announce_and_wait(word, waiters, seen,
                                std::chrono::duration_cast<std::chrono::nanoseconds>(remaining));
    }
}

}  // namespace brt
