// The JSON of a group summary and of a rack's record, as every bridge
// publishes it: brt-ws-bridge's summary and rack documents and
// brt-mqtt-bridge's rack topics carry the same keys (docs/ws-bridge.md,
// docs/mqtt.md), so a consumer parses one shape whichever way it reads.
#pragma once

#include <cstdint>
#include <optional>

#include "common/frames/frame_stats.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/chemistry.hpp"
#include "common/segment/segment_layout.hpp"

namespace brt {

// Every statistic of `group` as keys of the open object: first_cell, cells,
// one {min, mean, max, min_cell, max_cell, valid} object per quantity, and
// the status counts.
void write_group_fields(JsonWriter& json, const GroupSummary& group);

// The rack's own record as keys of the open object: rack, chemistry (or
// "unknown"), mode, string_current_a, air_temperature_c, flags.
void write_rack_record_fields(JsonWriter& json, std::uint32_t rack, const RackRecord& record,
                              std::optional<Chemistry> chemistry);

}  // namespace brt
