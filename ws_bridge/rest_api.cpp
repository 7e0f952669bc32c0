#include "ws_bridge/rest_api.hpp"

#include <fmt/format.h>

#include <charconv>

#include "ws_bridge/metrics.hpp"
#include "ws_bridge/views.hpp"
#include "ws_bridge/web_assets.hpp"

namespace brt::bridge {

namespace {

HttpReply no_data_reply(const Snapshot* snapshot) {
    std::string why = "the bridge has not read the segment yet";
    if (snapshot != nullptr) {
        why = snapshot->geometry
                  ? fmt::format("no frame yet: the writer is {} ({})",
                                liveness_name(snapshot->writer.liveness), snapshot->writer.detail)
                  : fmt::format("no segment: {}", snapshot->writer.detail);
    }
    HttpReply reply = HttpReply::json(503, error_json(why));
    reply.headers.emplace_back("Retry-After", "1");
    return reply;
}

HttpReply cached_json(const SnapshotPtr& snapshot, const std::string& key,
                      const std::function<std::string()>& build) {
    return {200, "application/json", snapshot->cached(key, build), {}};
}

HttpReply not_found(std::string_view path) {
    return HttpReply::json(
        404, error_json(fmt::format(
                 "no such resource: {}. The API: /api/v1/summary, "
                 "/api/v1/racks/R, /api/v1/racks/R/modules/M, /api/v1/racks/R/history, "
                 "/api/v1/alarms, "
                 "/api/v1/scenarios, /api/v1/limits, /health, /metrics, WebSocket /api/v1/ws",
                 path)));
}

// Racks and modules of /api/v1/racks/R[/modules/M] and /rack/R[/module/M].
HttpReply rack_or_module(std::string_view target, const SnapshotPtr& snapshot,
                         std::string_view rack_text, std::optional<std::string_view> module_text) {
    const auto rack = parse_index(rack_text);
    const auto module = module_text ? parse_index(*module_text) : std::nullopt;
    if (!rack || (module_text && !module)) {
        return HttpReply::json(
            400, error_json(fmt::format("{}: racks and modules are numbered from 0", target)));
    }
    if (!snapshot || !snapshot->geometry) {
        return no_data_reply(snapshot.get());
    }
    if (const std::string wrong = selection_problem(*snapshot->geometry, *rack, module);
        !wrong.empty()) {
        return HttpReply::json(404, error_json(wrong));
    }
    if (!snapshot->view) {
        return no_data_reply(snapshot.get());
    }
    if (module) {
        return cached_json(snapshot, fmt::format("module/{}/{}", *rack, *module),
                           [&] { return module_json(*snapshot, *rack, *module); });
    }
    return cached_json(snapshot, fmt::format("rack/{}", *rack),
                       [&] { return rack_json(*snapshot, *rack); });
}

// GET /api/v1/racks/R/history[?fields=voltage_v,temperature_c]
HttpReply rack_history(std::string_view path, std::string_view target, std::string_view rack_text,
                       const RackHistory& history) {
    const auto rack = parse_index(rack_text);
    if (!rack) {
        return HttpReply::json(400, error_json(fmt::format("{}: racks are numbered from 0", path)));
    }
    std::uint32_t field_mask = 0;
    const auto query = target.find('?');
    std::string_view rest = query == std::string_view::npos ? "" : target.substr(query + 1);
    while (!rest.empty()) {
        const std::string_view pair = rest.substr(0, rest.find('&'));
        rest = pair.size() < rest.size() ? rest.substr(pair.size() + 1) : "";
        if (!pair.starts_with("fields=")) {
            continue;  // unknown parameters are ignored, as browsers add some
        }
        std::string_view names = pair.substr(7);
        while (!names.empty()) {
            const std::string_view name = names.substr(0, names.find(','));
            names = name.size() < names.size() ? names.substr(name.size() + 1) : "";
            const auto field = parse_field_name(name);
            if (!field || *field == Field::status) {
                return HttpReply::json(
                    400, error_json(fmt::format(
                             "fields: unknown field \"{}\"; the history keeps voltage_v, "
                             "current_a, temperature_c, soc, resistance_ohm and soh",
                             name)));
            }
            field_mask |= 1u << static_cast<std::uint32_t>(*field);
        }
    }
    auto body = rack_history_json(history, *rack, field_mask);
    if (!body) {
        return HttpReply::json(
            404, error_json(fmt::format("no history of rack {}: no frame read yet, or the "
                                        "segment has no such rack",
                                        *rack)));
    }
    return HttpReply::json(200, std::move(*body));
}

}  // namespace

std::vector<std::string_view> split_path(std::string_view target) {
    target = target.substr(0, target.find('?'));
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start < target.size()) {
        const std::size_t end = std::min(target.find('/', start), target.size());
        if (end > start) {
            parts.push_back(target.substr(start, end - start));
        }
        start = end + 1;
    }
    return parts;
}

std::optional<std::uint32_t> parse_index(std::string_view text) {
    std::uint32_t value = 0;
    if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    if (result.ec != std::errc() || result.ptr != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

HttpReply handle_get(std::string_view target, const SnapshotPtr& snapshot, const BridgeStats& stats,
                     const RackHistory& history) {
    const std::string_view path = target.substr(0, target.find('?'));
    const std::vector<std::string_view> parts = split_path(path);

    if (const WebAsset* asset = find_web_asset(path)) {
        return {200,
                std::string(asset->content_type),
                std::make_shared<const std::string>(asset->bytes),
                {}};
    }
    if (path == "/health") {
        const Snapshot empty;
        const Snapshot& current = snapshot ? *snapshot : empty;
        return HttpReply::json(current.live() ? 200 : 503, health_json(current));
    }
    if (path == "/metrics") {
        const Snapshot empty;
        return {200,
                "text/plain; version=0.0.4; charset=utf-8",
                std::make_shared<const std::string>(
                    metrics_text(snapshot ? *snapshot : empty, stats, history.usage())),
                {}};
    }
    const bool api = parts.size() >= 2 && parts[0] == "api" && parts[1] == "v1";
    if (api && parts.size() == 3 && parts[2] == "alarms") {
        if (!snapshot) {
            return no_data_reply(nullptr);
        }
        return cached_json(snapshot, "alarms", [&] { return alarms_json(*snapshot); });
    }
    if (api && parts.size() == 3 && parts[2] == "scenarios") {
        return HttpReply::json(200, scenarios_json());
    }
    if (api && parts.size() == 3 && parts[2] == "limits") {
        return HttpReply::json(200, limits_json());
    }
    if ((api && parts.size() == 3 && parts[2] == "summary") ||
        (parts.size() == 1 && parts[0] == "summary")) {
        if (!snapshot) {
            return no_data_reply(nullptr);
        }
        // Served with the writer's state even without a frame: 200 either way.
        return cached_json(snapshot, "summary", [&] { return summary_json(*snapshot); });
    }
    if (api && parts.size() == 5 && parts[2] == "racks" && parts[4] == "history") {
        return rack_history(path, target, parts[3], history);
    }
    if (api && parts.size() == 4 && parts[2] == "racks") {
        return rack_or_module(path, snapshot, parts[3], std::nullopt);
    }
    if (api && parts.size() == 6 && parts[2] == "racks" && parts[4] == "modules") {
        return rack_or_module(path, snapshot, parts[3], parts[5]);
    }
    if (parts.size() == 2 && parts[0] == "rack") {
        return rack_or_module(path, snapshot, parts[1], std::nullopt);
    }
    if (parts.size() == 4 && parts[0] == "rack" && parts[2] == "module") {
        return rack_or_module(path, snapshot, parts[1], parts[3]);
    }
    return not_found(path);
}

}  // namespace brt::bridge
