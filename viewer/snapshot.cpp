#include "viewer/snapshot.hpp"

#include <cmath>

#include "common/segment/clock.hpp"

namespace brt::viewer {

namespace {
// Where the group starting at `first_cell` is in `groups` (consecutive
// groups of `group_cells` cells, as frame_stats makes them), or -1.
std::int64_t group_index(const std::vector<GroupSummary>& groups, std::uint64_t first_cell,
                         std::uint64_t group_cells) {
    if (groups.empty() || first_cell < groups.front().cells.first_cell) {
        return -1;
    }
    const std::uint64_t index = (first_cell - groups.front().cells.first_cell) / group_cells;
    return index < groups.size() ? static_cast<std::int64_t>(index) : -1;
}
}  // namespace

std::int64_t Snapshot::rack_index(std::uint32_t rack) const {
    return group_index(racks, geometry.cell_index(rack, 0, 0), geometry.cells_per_rack());
}

std::int64_t Snapshot::module_index(std::uint32_t rack, std::uint32_t module) const {
    return group_index(modules, geometry.cell_index(rack, module, 0), geometry.cells_per_module);
}

float Snapshot::value(Field field, std::uint64_t cell) const {
    if (!has_frame || cell < frame.range.first_cell ||
        cell >= frame.range.first_cell + frame.range.cell_count) {
        return NAN;
    }
    return frame.column(field)[cell - frame.range.first_cell];
}

std::uint32_t Snapshot::status(std::uint64_t cell) const {
    if (!has_frame || cell < frame.range.first_cell ||
        cell >= frame.range.first_cell + frame.range.cell_count) {
        return 0;
    }
    return frame.status[cell - frame.range.first_cell];
}

const RackRecord* Snapshot::rack_record(std::uint32_t rack) const {
    return has_frame && rack < frame.racks.size() ? &frame.racks[rack] : nullptr;
}

ReadOutcome take_snapshot(SegmentReader& reader, CellRange range, RateMeter& rate, Snapshot& out) {
    out.segment_name = reader.name();
    out.writer = reader.writer_status();
    if (!reader.attached()) {
        out.has_frame = false;
        out.modules.clear();
        out.racks.clear();
        rate.reset();
        return ReadOutcome::detached;
    }
    out.geometry = reader.layout().geometry;
    out.rack_chemistry = reader.segment().rack_chemistries();
    // Nothing new since the last read of this range (a slower or stopped
    // writer): keep the copy and its summaries instead of redoing them.
    const std::uint64_t latest = reader.latest_frame();
    if (out.has_frame && latest != 0 && latest == reader.last_frame_read() &&
        out.frame.frame_number == latest && out.frame.range.first_cell == range.first_cell &&
        out.frame.range.cell_count == range.cell_count) {
        out.frames_per_second = rate.frames_per_second(monotonic_ns());
        return ReadOutcome::ok;
    }
    ReadOutcome outcome = reader.read_latest(out.scratch, range);
    if (outcome == ReadOutcome::busy) {
        outcome = reader.read_latest(out.scratch, range);  // once more; the next refresh retries
    }
    out.frames_missed = reader.frames_missed();
    if (outcome != ReadOutcome::ok) {
        // Keep showing the previous frame of the same range when the read
        // lost a race; nothing to show when there is no frame at all.
        if (outcome != ReadOutcome::busy) {
            out.has_frame = false;
            out.modules.clear();
            out.racks.clear();
        }
        return outcome;
    }
    std::swap(out.frame, out.scratch);
    out.has_frame = true;
    rate.add(out.frame.frame_number, out.frame.publish_monotonic_ns);
    out.frames_per_second = rate.frames_per_second(monotonic_ns());
    out.modules = summarize_modules(out.frame, out.geometry);
    out.racks = summarize_racks(out.modules, out.geometry);
    return outcome;
}

}  // namespace brt::viewer
