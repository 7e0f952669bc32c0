#include "truncation_guard.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <utility>

#include "errors.hpp"
#include "message.hpp"

namespace brt {

namespace {

// The registry the handler searches. It must be readable from a signal
// handler: fixed chunks of atomics, allocated under a mutex by registering
// threads and never freed, so the handler only ever loads.
struct GuardedRange {
    enum State : std::uint32_t { free = 0, claimed = 1, active = 2 };
    std::atomic<std::uint32_t> state{free};
    std::atomic<std::uintptr_t> begin{0};
    std::atomic<std::uintptr_t> end{0};
    std::atomic<bool> truncated{false};
};

constexpr std::uint64_t kChunkRanges = 256;
constexpr std::uint64_t kChunks = kMaxGuardedRanges / kChunkRanges;
using Chunk = std::array<GuardedRange, kChunkRanges>;

std::array<std::atomic<Chunk*>, kChunks> g_chunks{};
std::mutex g_register_mutex;  // registering threads only, never the handler
std::uintptr_t g_page_size = 4096;
struct sigaction g_previous_action {};
bool g_installed = false;  // under g_register_mutex

static_assert(std::atomic<std::uintptr_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<bool>::is_always_lock_free);
static_assert(std::atomic<Chunk*>::is_always_lock_free);

GuardedRange& range_at(std::uint64_t slot) {
    return (*g_chunks[slot / kChunkRanges].load(std::memory_order_acquire))[slot % kChunkRanges];
}

// Async-signal-safe: atomic loads and stores, and mmap.
bool cover_with_zero_pages(std::uintptr_t address) {
    for (std::uint64_t chunk = 0; chunk < kChunks; ++chunk) {
        Chunk* ranges = g_chunks[chunk].load(std::memory_order_acquire);
        if (ranges == nullptr) {
            return false;  // chunks are allocated in order
        }
        for (GuardedRange& range : *ranges) {
            if (range.state.load(std::memory_order_acquire) != GuardedRange::active) {
                continue;
            }
            const std::uintptr_t begin = range.begin.load(std::memory_order_relaxed);
            const std::uintptr_t end = range.end.load(std::memory_order_relaxed);
            if (address < begin || address >= end) {
                continue;
            }
            // The flag first: a thread that reads the zero pages mapped
            // below and then looks at the flag finds it set.
            range.truncated.store(true, std::memory_order_seq_cst);
            const std::uintptr_t page = address & ~(g_page_size - 1);
            void* zeros = mmap(reinterpret_cast<void*>(page), end - page, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            return zeros != MAP_FAILED;
        }
    }
    return false;
}

void pass_on(int signal_number, siginfo_t* info, void* context) {
    const struct sigaction& previous = g_previous_action;
    if ((previous.sa_flags & SA_SIGINFO) != 0 && previous.sa_sigaction != nullptr) {
        previous.sa_sigaction(signal_number, info, context);
        return;
    }
    if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN &&
        previous.sa_handler != nullptr) {
        previous.sa_handler(signal_number);
        return;
    }
    // The default action, as if this handler had never been installed: a
    // fault repeats when the handler returns and now kills the process; a
    // signal sent with kill() is raised again (blocked until we return).
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    sigaction(SIGBUS, &default_action, nullptr);
    if (info == nullptr || info->si_code <= 0) {
        raise(SIGBUS);
    }
}

void on_sigbus(int signal_number, siginfo_t* info, void* context) {
    const int saved_errno = errno;
    if (info != nullptr && info->si_code == BUS_ADRERR &&
        cover_with_zero_pages(reinterpret_cast<std::uintptr_t>(info->si_addr))) {
        errno = saved_errno;
        return;  // the access is retried on the zero page
    }
    errno = saved_errno;
    pass_on(signal_number, info, context);
}

// Under g_register_mutex.
void install_handler() {
    if (g_installed) {
        return;
    }
    if (const long page = sysconf(_SC_PAGESIZE); page > 0) {
        g_page_size = static_cast<std::uintptr_t>(page);
    }
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGBUS, &action, &g_previous_action) != 0) {
        throw SegmentError(SegmentErrorKind::system,
                           segment_message::format("cannot install the SIGBUS handler that "
                                                   "survives a truncated segment: {}",
                                                   errno_text(errno)));
    }
    g_installed = true;
}

std::uint64_t claim_slot() {
    for (std::uint64_t chunk = 0; chunk < kChunks; ++chunk) {
        Chunk* ranges = g_chunks[chunk].load(std::memory_order_acquire);
        if (ranges == nullptr) {
            ranges = new Chunk();  // never freed: the handler may be reading it
            g_chunks[chunk].store(ranges, std::memory_order_release);
        }
        for (std::uint64_t index = 0; index < kChunkRanges; ++index) {
            std::uint32_t expected = GuardedRange::free;
            if ((*ranges)[index].state.compare_exchange_strong(expected, GuardedRange::claimed,
                                                               std::memory_order_acq_rel)) {
                return chunk * kChunkRanges + index;
            }
        }
    }
    throw SegmentError(SegmentErrorKind::system,
                       segment_message::format("this process already maps {} segment files; "
                                               "close some first",
                                               kMaxGuardedRanges));
}

}  // namespace

TruncationGuard::TruncationGuard(void* base, std::uint64_t size_bytes) {
    std::uint64_t slot = 0;
    {
        const std::lock_guard lock(g_register_mutex);
        install_handler();
        slot = claim_slot();
    }
    GuardedRange& range = range_at(slot);
    const auto begin = reinterpret_cast<std::uintptr_t>(base);
    range.begin.store(begin, std::memory_order_relaxed);
    range.end.store(begin + size_bytes, std::memory_order_relaxed);
    range.truncated.store(false, std::memory_order_relaxed);
    range.state.store(GuardedRange::active, std::memory_order_release);
    slot_ = static_cast<std::int64_t>(slot);
}

TruncationGuard::TruncationGuard(TruncationGuard&& other) noexcept
    : slot_(std::exchange(other.slot_, -1)) {}

TruncationGuard& TruncationGuard::operator=(TruncationGuard&& other) noexcept {
    if (this != &other) {
        reset();
        slot_ = std::exchange(other.slot_, -1);
    }
    return *this;
}

bool TruncationGuard::truncated() const {
    return slot_ >= 0 &&
           range_at(static_cast<std::uint64_t>(slot_)).truncated.load(std::memory_order_seq_cst);
}

void TruncationGuard::reset() noexcept {
    if (slot_ < 0) {
        return;
    }
    GuardedRange& range = range_at(static_cast<std::uint64_t>(slot_));
    range.state.store(GuardedRange::free, std::memory_order_release);
    slot_ = -1;
}

}  // namespace brt
