// Messages WebSocket clients send, parsed strictly: anything unexpected is a
// ProtocolError whose text tells the client what to send instead.
//   {"action":"select","rack":r,"module":m}
//   {"action":"subscribe","view":"summary"|"rack"|"module"|"alarms"|"heatmap",
//    "rack":r,"module":m,"rate_hz":x,"fields":["voltage_v",...]}
//   {"action":"unsubscribe","view":...}   (no view: every subscription)
//   {"action":"history","rack":r,"fields":["voltage_v",...]}  (rack_history.hpp)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace brt::bridge {

enum class View { summary, rack, module, alarms, heatmap };
inline constexpr std::size_t kViewCount = 5;
std::string_view view_name(View view);

struct SubscribeRequest {
    View view = View::summary;
    std::optional<std::uint32_t> rack;
    std::optional<std::uint32_t> module;
    std::optional<double> rate_hz;  // absent: the bridge's default
    std::uint32_t field_mask = 0;   // heatmap only; 0: the default fields
};

struct UnsubscribeRequest {
    std::optional<View> view;  // absent: all
};

// One reply with the rack's recent trend (RackHistory), then nothing more.
struct HistoryRequest {
    std::uint32_t rack = 0;
    std::uint32_t field_mask = 0;  // 0: every float field
};

struct ProtocolError {
    std::string message;
};

using ClientMessage =
    std::variant<SubscribeRequest, UnsubscribeRequest, HistoryRequest, ProtocolError>;

// Checks the shape of the message; the caller checks racks and modules
// against the segment's geometry.
ClientMessage parse_client_message(std::string_view text);

}  // namespace brt::bridge
