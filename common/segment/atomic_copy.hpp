// Word-wise copies to and from shared memory with relaxed atomic accesses.
// Inside a seqlock, a plain memcpy racing the writer is a data race (undefined
// behaviour in C++, and torn data in practice on ARM); relaxed atomics make
// every access well-defined, and the seqlock's fences order them.
//
// Both functions need 4-byte aligned shared addresses and a byte count that
// is a multiple of 4 (every field of the segment is 4 or 8 bytes wide).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace brt {

static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);

template <typename Word>
inline Word load_relaxed(const Word* shared) {
    // atomic_ref needs a non-const object; a load never writes through it.
    return std::atomic_ref<Word>(*const_cast<Word*>(shared)).load(std::memory_order_relaxed);
}

template <typename Word>
inline void store_relaxed(Word* shared, Word value) {
    std::atomic_ref<Word>(*shared).store(value, std::memory_order_relaxed);
}

inline void copy_from_shared(void* private_dst, const void* shared_src, std::size_t bytes) {
    auto* dst = static_cast<std::byte*>(private_dst);
    auto* src = static_cast<const std::byte*>(shared_src);
    // A 4-byte head brings the shared side to 8-byte alignment; the bulk then
    // moves 8 bytes per atomic load.
    if (bytes >= 4 && (reinterpret_cast<std::uintptr_t>(src) & 7u) != 0) {
        const std::uint32_t word = load_relaxed(reinterpret_cast<const std::uint32_t*>(src));
        std::memcpy(dst, &word, 4);
        dst += 4;
        src += 4;
        bytes -= 4;
    }
    const auto* src64 = reinterpret_cast<const std::uint64_t*>(src);
    const std::size_t words64 = bytes / 8;
    std::size_t i = 0;
    // Four words per iteration: a one-word loop runs at half speed whenever
    // it happens to straddle a 64-byte boundary in the binary (seen on Zen 4).
    for (; i + 4 <= words64; i += 4) {
        const std::uint64_t w0 = load_relaxed(src64 + i);
        const std::uint64_t w1 = load_relaxed(src64 + i + 1);
        const std::uint64_t w2 = load_relaxed(src64 + i + 2);
        const std::uint64_t w3 = load_relaxed(src64 + i + 3);
        std::memcpy(dst + i * 8, &w0, 8);
        std::memcpy(dst + i * 8 + 8, &w1, 8);
        std::memcpy(dst + i * 8 + 16, &w2, 8);
        std::memcpy(dst + i * 8 + 24, &w3, 8);
    }
    for (; i < words64; ++i) {
        const std::uint64_t word = load_relaxed(src64 + i);
        std::memcpy(dst + i * 8, &word, 8);
    }
    if ((bytes & 7u) != 0) {
        const std::uint32_t word =
            load_relaxed(reinterpret_cast<const std::uint32_t*>(src + words64 * 8));
        std::memcpy(dst + words64 * 8, &word, 4);
    }
}

inline void copy_to_shared(void* shared_dst, const void* private_src, std::size_t bytes) {
    auto* dst = static_cast<std::byte*>(shared_dst);
    auto* src = static_cast<const std::byte*>(private_src);
    if (bytes >= 4 && (reinterpret_cast<std::uintptr_t>(dst) & 7u) != 0) {
        std::uint32_t word;
        std::memcpy(&word, src, 4);
        store_relaxed(reinterpret_cast<std::uint32_t*>(dst), word);
        dst += 4;
        src += 4;
        bytes -= 4;
    }
    auto* dst64 = reinterpret_cast<std::uint64_t*>(dst);
    const std::size_t words64 = bytes / 8;
    for (std::size_t i = 0; i < words64; ++i) {
        std::uint64_t word;
        std::memcpy(&word, src + i * 8, 8);
        store_relaxed(dst64 + i, word);
    }
    if ((bytes & 7u) != 0) {
        std::uint32_t word;
        std::memcpy(&word, src + words64 * 8, 4);
        store_relaxed(reinterpret_cast<std::uint32_t*>(dst + words64 * 8), word);
    }
}

}  // namespace brt
