// Clocks used in the segment. CLOCK_MONOTONIC is system-wide, so a heartbeat
// written by one process can be aged by another on the same boot.
#pragma once

#include <cstdint>
#include <ctime>

namespace brt {

inline std::uint64_t clock_ns(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

inline std::uint64_t monotonic_ns() {
    return clock_ns(CLOCK_MONOTONIC);
}
inline std::uint64_t realtime_ns() {
    return clock_ns(CLOCK_REALTIME);
}

}  // namespace brt
