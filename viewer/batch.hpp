// Batch mode: N snapshots (or one with --once) printed to stdout at the
// interval, for scripts and pipes.
#pragma once

#include <cstdint>

#include "common/segment/segment_reader.hpp"
#include "viewer/batch_format.hpp"

namespace brt::viewer {

struct BatchOptions {
    BatchFormatOptions format;
    std::uint64_t count = 1;  // 0: until SIGINT/SIGTERM
    double interval_s = 0.5;
};

// `reader` must be attached. Returns the exit code: 0, or 1 when the only
// snapshot asked for has no frame to show.
int run_batch(SegmentReader& reader, const BatchOptions& options);

}  // namespace brt::viewer
