// The bridge's messages, built from one snapshot: JSON documents for REST
// and WebSocket alike (numbers in base units, NaN as null) and the compact
// binary heatmap (layout in docs/ws-bridge.md, "Binary heatmap message").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/segment/segment_layout.hpp"
#include "ws_bridge/snapshot.hpp"

namespace brt::bridge {

std::string summary_json(const Snapshot& snapshot);
// The rack and module must exist and the snapshot must hold a frame.
std::string rack_json(const Snapshot& snapshot, std::uint32_t rack);
std::string module_json(const Snapshot& snapshot, std::uint32_t rack, std::uint32_t module);
// The monitor's alarm list (write_alarm_list_json, suppressed alarms
// included), the annunciated counts and the recent transitions.
std::string alarms_json(const Snapshot& snapshot);
std::string scenarios_json();
// The default alarm limits of every chemistry (as in the module view's
// "limits"), for a page's fixed colour scales.
std::string limits_json();
std::string error_json(std::string_view message);
// The writer's state alone: /health's body.
std::string health_json(const Snapshot& snapshot);

// Binary heatmap message. Header, 64 bytes, little-endian:
//   0 u32 magic "BRTH"      4 u16 version (1)    6 u16 header bytes (64)
//   8 u64 frame number     16 u64 publish CLOCK_MONOTONIC ns   24 u64 wall-clock ns
//  32 u32 first cell       36 u32 cell count
//  40 u32 racks            44 u32 modules per rack    48 u32 cells per module
//  52 u32 field mask (bit i = Field i; bit 6 = status, uint32)
//  56 u32 rack (0xFFFFFFFF = whole system)   60 u32 writer liveness (Liveness value)
// then, for each field in the mask in Field order, cell count 4-byte values.
inline constexpr std::uint32_t kHeatmapMagic = 0x48545242;  // "BRTH" little-endian
inline constexpr std::uint16_t kHeatmapVersion = 1;
inline constexpr std::uint32_t kHeatmapHeaderBytes = 64;
inline constexpr std::uint32_t kAllFieldsMask = (1u << kFieldCount) - 1;

std::string heatmap_binary(const Snapshot& snapshot, std::uint32_t rack, std::uint32_t field_mask);

// "voltage_v" -> Field::voltage_v; also "status".
std::optional<Field> parse_field_name(std::string_view name);

}  // namespace brt::bridge
