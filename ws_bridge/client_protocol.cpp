#include "ws_bridge/client_protocol.hpp"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "ws_bridge/views.hpp"

namespace brt::bridge {

namespace {

using nlohmann::json;

constexpr View kViews[] = {View::summary, View::rack, View::module, View::alarms, View::heatmap};

struct Invalid {
    std::string message;
};

std::optional<View> parse_view(std::string_view name) {
    for (View view : kViews) {
        if (view_name(view) == name) {
            return view;
        }
    }
    return std::nullopt;
}

std::optional<std::uint32_t> index_field(const json& message, const char* key) {
    const auto found = message.find(key);
    if (found == message.end() || found->is_null()) {
        return std::nullopt;
    }
    if (found->is_number_unsigned() ||
        (found->is_number_integer() && found->get<std::int64_t>() >= 0)) {
        const auto value = found->get<std::uint64_t>();
        if (value < 0xFFFFFFFFu) {
            return static_cast<std::uint32_t>(value);
        }
    }
    throw Invalid{fmt::format("\"{}\" must be a non-negative integer, got {}", key, found->dump())};
}

std::optional<View> view_field(const json& message, bool required) {
    const auto found = message.find("view");
    if (found == message.end()) {
        if (required) {
            throw Invalid{"\"view\" is missing: use summary, rack, module, alarms or heatmap"};
        }
        return std::nullopt;
    }
    if (!found->is_string()) {
        throw Invalid{"\"view\" must be a string: summary, rack, module, alarms or heatmap"};
    }
    const auto view = parse_view(found->get<std::string>());
    if (!view) {
        throw Invalid{fmt::format("unknown view {}: use summary, rack, module, alarms or heatmap",
                                  found->dump())};
    }
    return view;
}

// "fields": ["voltage_v", ...] as a mask (bit f for Field f); 0 when absent.
std::uint32_t field_mask_field(const json& message) {
    std::uint32_t mask = 0;
    if (const auto fields = message.find("fields"); fields != message.end()) {
        if (!fields->is_array()) {
            throw Invalid{"\"fields\" must be an array of field names, e.g. [\"voltage_v\"]"};
        }
        for (const json& field : *fields) {
            const auto parsed =
                field.is_string() ? parse_field_name(field.get<std::string>()) : std::nullopt;
            if (!parsed) {
                throw Invalid{
                    fmt::format("unknown field {}: use voltage_v, current_a, temperature_c, soc, "
                                "resistance_ohm, soh or status",
                                field.dump())};
            }
            mask |= 1u << static_cast<std::uint32_t>(*parsed);
        }
    }
    return mask;
}

HistoryRequest history(const json& message) {
    HistoryRequest request;
    const auto rack = index_field(message, "rack");
    if (!rack) {
        throw Invalid{"the history needs \"rack\": {\"action\":\"history\",\"rack\":0}"};
    }
    request.rack = *rack;
    request.field_mask = field_mask_field(message);
    if ((request.field_mask & (1u << static_cast<std::uint32_t>(Field::status))) != 0) {
        throw Invalid{
            "the history keeps voltage_v, current_a, temperature_c, soc, "
            "resistance_ohm and soh, not status"};
    }
    return request;
}

SubscribeRequest subscribe(const json& message) {
    SubscribeRequest request;
    request.view = *view_field(message, true);
    request.rack = index_field(message, "rack");
    request.module = index_field(message, "module");
    if (const auto rate = message.find("rate_hz"); rate != message.end()) {
        // The range (BridgeLimits::min_rate_hz to max_rate_hz) is checked by
        // the session, which knows --max-rate-hz and says it in the error.
        if (!rate->is_number()) {
            throw Invalid{
                fmt::format("\"rate_hz\" must be a positive number, got {}", rate->dump())};
        }
        request.rate_hz = rate->get<double>();
    }
    request.field_mask = field_mask_field(message);
    if (request.module && !request.rack) {
        throw Invalid{"a \"module\" needs a \"rack\" too"};
    }
    if (request.view == View::rack && !request.rack) {
        throw Invalid{"the rack view needs \"rack\""};
    }
    if (request.view == View::module && (!request.rack || !request.module)) {
        throw Invalid{"the module view needs \"rack\" and \"module\""};
    }
    return request;
}

}  // namespace

std::string_view view_name(View view) {
    switch (view) {
        case View::summary:
            return "summary";
        case View::rack:
            return "rack";
        case View::module:
            return "module";
        case View::alarms:
            return "alarms";
        case View::heatmap:
            return "heatmap";
    }
    return "unknown";
}

ClientMessage parse_client_message(std::string_view text) {
    // No exceptions from the parser itself: a discarded value means invalid JSON.
    const json message = json::parse(text, nullptr, false);
    if (message.is_discarded()) {
        return ProtocolError{
            "malformed JSON: send one object such as {\"action\":\"subscribe\",\"view\":"
            "\"summary\",\"rate_hz\":2}"};
    }
    if (!message.is_object()) {
        return ProtocolError{"a message must be a JSON object with an \"action\""};
    }
    try {
        const auto action = message.find("action");
        if (action == message.end() || !action->is_string()) {
            throw Invalid{"\"action\" is missing: use select, subscribe, unsubscribe or history"};
        }
        const auto name = action->get<std::string>();
        if (name == "subscribe") {
            return subscribe(message);
        }
        if (name == "select") {
            // The first design's message: the cells of one module (or a rack).
            json as_subscribe = message;
            as_subscribe["view"] = message.contains("module") ? "module" : "rack";
            return subscribe(as_subscribe);
        }
        if (name == "unsubscribe") {
            return UnsubscribeRequest{view_field(message, false)};
        }
        if (name == "history") {
            return history(message);
        }
        throw Invalid{fmt::format(
            "unknown action {}: use select, subscribe, unsubscribe or history", action->dump())};
    } catch (const Invalid& invalid) {
        return ProtocolError{invalid.message};
    }
}

}  // namespace brt::bridge
