// What the benchmarks share: a uniquely named segment that is removed however
// the benchmark ends, order statistics, and a line describing the machine.
// Benchmarks measure; they never pass or fail on a figure.
#pragma once

#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include "brt_config.h"
#include "common/segment/clock.hpp"
#include "common/segment/segment_file.hpp"

namespace brt::bench {

// Keeps the compiler from dropping a copy whose destination is never read.
inline void keep(const void* pointer) {
    asm volatile("" : : "r"(pointer) : "memory");
}

namespace detail {
// "/name" for shm_open, filled before the handlers are installed; a signal
// handler may only touch static storage.
inline char g_segment_to_remove[256] = {};

inline void remove_on_signal(int signal_number) {
    if (g_segment_to_remove[0] != '\0') {
        shm_unlink(g_segment_to_remove);
    }
    // Re-raise with the default action so the exit status says what happened.
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
}
}  // namespace detail

// Creates a segment under a name no other run uses and removes it when the
// object goes out of scope, when an exception unwinds past it, or on
// SIGINT/SIGTERM/SIGHUP. A forked child must leave with _exit() so that only
// the parent removes it.
class BenchSegment {
  public:
    BenchSegment(const std::string& tag, const Geometry& geometry, std::uint32_t slot_count)
        : name_(fmt::format("brt_bench_{}_{}_{}", tag, getpid(), monotonic_ns() % 1'000'000'000)),
          owner_pid_(getpid()) {
        const std::string open_name = "/" + name_;
        std::snprintf(detail::g_segment_to_remove, sizeof detail::g_segment_to_remove, "%s",
                      open_name.c_str());
        for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
            std::signal(signal_number, detail::remove_on_signal);
        }
        CreateOptions options;
        options.geometry = geometry;
        options.slot_count = slot_count;
        create_segment(name_, options);
    }
    ~BenchSegment() {
        if (getpid() == owner_pid_) {
            try {
                remove_segment(name_);
            } catch (const std::exception& error) {
                std::fprintf(stderr, "warning: %s\n", error.what());
            }
            detail::g_segment_to_remove[0] = '\0';
        }
    }
    BenchSegment(const BenchSegment&) = delete;
    BenchSegment& operator=(const BenchSegment&) = delete;

    const std::string& name() const { return name_; }

  private:
    std::string name_;
    pid_t owner_pid_;
};

inline double median(std::vector<double> values) {
    if (values.empty()) {
        return NAN;
    }
    std::sort(values.begin(), values.end());
    const std::size_t middle = values.size() / 2;
    return values.size() % 2 != 0 ? values[middle] : (values[middle - 1] + values[middle]) / 2.0;
}

// Nearest-rank percentile of sorted values; q in [0, 1].
template <typename T>
T percentile_sorted(const std::vector<T>& sorted, double q) {
    if (sorted.empty()) {
        return T{};
    }
    const double rank = std::ceil(q * static_cast<double>(sorted.size()));
    const std::size_t index =
        std::min(sorted.size() - 1, static_cast<std::size_t>(std::max(1.0, rank)) - 1);
    return sorted[index];
}

// CPUs this process may run on (what matters on a shared or pinned machine).
inline int usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
    }
    return CPU_COUNT(&set);
}

inline std::string cpu_model() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos && colon + 2 <= line.size()) {
                return line.substr(colon + 2);
            }
        }
    }
    return "unknown";
}

inline const char* build_type() {
#ifdef NDEBUG
    return "optimised, NDEBUG";
#elif defined(__OPTIMIZE__)
    return "optimised with assertions (meson debugoptimized: -O2 -g)";
#else
    return "NOT optimised (figures are meaningless)";
#endif
}

inline std::string machine_line() {
    return fmt::format("{}, {} usable CPU(s); build {}", cpu_model(), usable_cpus(), build_type());
}

}  // namespace brt::bench
