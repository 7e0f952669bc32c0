// Bandwidth baselines for bench_cuda, in GB/s (1e9 bytes per second).
#pragma once

#include <cstdint>

namespace brt::bench {

// A device-to-device copy of `bytes`, counting the bytes read and written.
double device_copy_gb_per_s(std::uint64_t bytes);
// A device-to-pinned-host copy of `bytes`: what the link to the host carries.
double host_link_gb_per_s(std::uint64_t bytes);
// The device's L2 cache, in bytes.
std::uint64_t l2_cache_bytes(int device);

}  // namespace brt::bench
