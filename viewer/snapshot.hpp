// What one refresh of the viewer shows: the newest frame (whole, or one
// rack), its per-module and per-rack summaries, the writer's state and the
// reader's counters. Batch output and the dashboard both start from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/frames/frame_stats.hpp"
#include "common/frames/rate_meter.hpp"
#include "common/segment/liveness.hpp"
#include "common/segment/segment_reader.hpp"

namespace brt::viewer {

struct Snapshot {
    std::string segment_name;  // normalized, without '/'
    Geometry geometry;
    std::vector<Chemistry> rack_chemistry;  // one per rack of the segment
    WriterStatus writer;
    bool has_frame = false;  // false: nothing published yet, or no segment
    FrameBuffer frame;
    std::vector<GroupSummary> modules;  // every module in frame.range, in order
    std::vector<GroupSummary> racks;    // every rack in frame.range, in order
    std::uint64_t frames_missed = 0;
    double frames_per_second = NAN;  // publish rate seen over the last seconds
    // Where the next read lands; swapped with `frame` only when the read is
    // complete, so a read that lost its race never shows a torn frame.
    FrameBuffer scratch;

    // Index into racks/modules of a given rack/module, or -1 when the frame
    // does not hold it.
    std::int64_t rack_index(std::uint32_t rack) const;
    std::int64_t module_index(std::uint32_t rack, std::uint32_t module) const;
    // A cell's value for a field, `cell` absolute; NaN when outside the frame.
    float value(Field field, std::uint64_t cell) const;
    std::uint32_t status(std::uint64_t cell) const;
    const RackRecord* rack_record(std::uint32_t rack) const;
};

// Reads the newest frame's cells in `range` (the whole frame or whole racks)
// and fills `out`; `out`'s buffers are reused between calls. Refreshes the
// writer status even when no frame can be read.
ReadOutcome take_snapshot(SegmentReader& reader, CellRange range, RateMeter& rate, Snapshot& out);

}  // namespace brt::viewer
