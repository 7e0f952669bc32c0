#include "ws_bridge/message_memory.hpp"

#include <malloc.h>

#include <atomic>

namespace brt::bridge {

namespace {

std::atomic<std::size_t> g_message_bytes{0};
std::atomic<std::size_t> g_message_bytes_peak{0};
std::atomic<bool> g_release_requested{false};

// The string's capacity is what it holds on the heap.
std::size_t held_bytes(const std::string& bytes) {
    return bytes.capacity() + sizeof(std::string);
}

}  // namespace

std::shared_ptr<const std::string> counted_message(std::string bytes) {
    auto* held = new std::string(std::move(bytes));
    const std::size_t now =
        g_message_bytes.fetch_add(held_bytes(*held), std::memory_order_relaxed) + held_bytes(*held);
    std::size_t peak = g_message_bytes_peak.load(std::memory_order_relaxed);
    while (now > peak &&
           !g_message_bytes_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
    return std::shared_ptr<const std::string>(held, [](const std::string* message) {
        g_message_bytes.fetch_sub(held_bytes(*message), std::memory_order_relaxed);
        delete message;
    });
}

std::size_t message_bytes() {
    return g_message_bytes.load(std::memory_order_relaxed);
}

std::size_t message_bytes_peak() {
    return g_message_bytes_peak.load(std::memory_order_relaxed);
}

void request_memory_release() {
    g_release_requested.store(true, std::memory_order_relaxed);
}

bool release_memory_if_requested() {
    if (!g_release_requested.exchange(false, std::memory_order_relaxed)) {
        return false;
    }
#if defined(__GLIBC__)
    // Frees whole free pages in every arena, not only the main heap's top:
    // a flood's queues were spread over the I/O threads' arenas.
    malloc_trim(0);
    return true;
#else
    return false;
#endif
}

}  // namespace brt::bridge
