// The open-file limit: a server or a benchmark with many sockets raises its
// soft limit towards what it needs, up to the hard limit.
#pragma once

#include <cstdint>

namespace brt {

// Raises RLIMIT_NOFILE's soft limit to `wanted` where the hard limit allows;
// returns the soft limit in force afterwards (never lowers it).
std::uint64_t raise_open_file_limit(std::uint64_t wanted);

}  // namespace brt
