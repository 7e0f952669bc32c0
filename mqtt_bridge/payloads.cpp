#include "mqtt_bridge/payloads.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <array>

#include "brt_config.h"
#include "common/alarm/alarm_list.hpp"
#include "common/frames/summary_json.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/clock.hpp"
#include "common/segment/errors.hpp"

namespace brt::mqtt {

namespace {

bool valid_level(std::string_view level, bool slashes_allowed) {
    if (level.empty() || level.find_first_of("+#") != std::string_view::npos ||
        level.find('\0') != std::string_view::npos) {
        return false;
    }
    if (!slashes_allowed) {
        return level.find('/') == std::string_view::npos;
    }
    return level.front() != '/' && level.back() != '/' &&
           level.find("//") == std::string_view::npos;
}

void write_frame_header(JsonWriter& json, const FrameSummary& summary) {
    const FrameBuffer& frame = summary.frame;
    json.key("frame").value(frame.frame_number);
    json.key("sim_time_s").seconds_from_ns(frame.sim_time_ns);
    json.key("wall_time_ns").value(frame.wall_time_ns);
    // CLOCK_MONOTONIC of the writer's publish: a subscriber on the same host
    // measures the end-to-end latency from it (bench/bench_mqtt_latency.cpp).
    json.key("publish_monotonic_ns").value(frame.publish_monotonic_ns);
    json.key("ambient_temperature_c").value(frame.ambient_temperature_c);
}

std::optional<Chemistry> chemistry_of(const FrameSummary& summary, std::uint32_t rack) {
    return rack < summary.rack_chemistry.size() ? std::optional(summary.rack_chemistry[rack])
                                                : std::nullopt;
}

void write_counts(JsonWriter& json, const AlarmCounts& counts) {
    json.begin_object();
    for (Severity severity : {Severity::info, Severity::warning, Severity::critical}) {
        json.key(severity_name(severity)).value(counts.at(severity));
    }
    json.key("total").value(counts.total());
    json.end_object();
}

}  // namespace

TopicTree::TopicTree(std::string prefix, std::string site, std::string node) {
    if (!valid_level(prefix, true)) {
        throw UsageError(
            fmt::format("--topic-prefix '{}': not empty, no '+' or '#', no empty level", prefix));
    }
    if (!valid_level(site, false)) {
        throw UsageError(
            fmt::format("--site '{}': one topic level: not empty, no '/', '+' or '#'", site));
    }
    if (!valid_level(node, false)) {
        throw UsageError(
            fmt::format("--node '{}': one topic level: not empty, no '/', '+' or '#'", node));
    }
    base_ = prefix + "/" + site + "/" + node;
}

std::string TopicTree::rack(std::uint32_t rack) const {
    return fmt::format("{}/telemetry/rack/{}", base_, rack);
}

std::string TopicTree::module(std::uint32_t rack, std::uint32_t module) const {
    return fmt::format("{}/telemetry/rack/{}/module/{}", base_, rack, module);
}

std::string default_node_name(std::string_view shm_name) {
    std::array<char, 256> host{};
    if (gethostname(host.data(), host.size() - 1) != 0 || host[0] == '\0') {
        std::snprintf(host.data(), host.size(), "localhost");
    }
    std::string node = fmt::format("{}-{}", host.data(), shm_name);
    for (char& c : node) {
        if (c == '/' || c == '+' || c == '#' || static_cast<unsigned char>(c) < 0x20) {
            c = '_';
        }
    }
    return node;
}

std::string status_json(const NodeInfo& node, bool online, std::string_view reason) {
    JsonWriter json;
    json.begin_object();
    json.key("status").value(online ? "online" : "offline");
    json.key("reason").value(reason);
    json.key("site").value(node.site);
    json.key("node").value(node.node);
    json.key("segment").value(node.segment);
    json.key("version").value(BRT_VERSION);
    json.key("pid").value(static_cast<std::int64_t>(getpid()));
    json.key("time_ns").value(realtime_ns());
    json.end_object();
    return json.str();
}

std::string writer_json(const WriterStatus& writer, const std::optional<Geometry>& geometry,
                        double frame_rate_hz) {
    JsonWriter json;
    json.begin_object();
    json.key("liveness").value(liveness_name(writer.liveness));
    json.key("state").value(writer_state_name(writer.state));
    json.key("pid").value(static_cast<std::int64_t>(writer.pid));
    json.key("publish_period_s").seconds_from_ns(writer.publish_period_ns);
    json.key("latest_frame").value(writer.latest_frame);
    json.key("frame_rate_hz").value(frame_rate_hz);
    json.key("detail").value(writer.detail);
    if (geometry) {
        json.key("geometry").begin_object();
        json.key("racks").value(geometry->racks);
        json.key("modules_per_rack").value(geometry->modules_per_rack);
        json.key("cells_per_module").value(geometry->cells_per_module);
        json.key("cells").value(geometry->cell_count());
        json.end_object();
    } else {
        json.key("geometry").null();
    }
    json.key("time_ns").value(realtime_ns());
    json.end_object();
    return json.str();
}

std::shared_ptr<const FrameSummary> summarize_frame(FrameBuffer frame, const Geometry& geometry,
                                                    std::vector<Chemistry> rack_chemistry) {
    auto summary = std::make_shared<FrameSummary>();
    summary->modules = summarize_modules(frame, geometry);
    summary->racks = summarize_racks(summary->modules, geometry);
    for (const GroupSummary& rack : summary->racks) {
        summary->system.merge(rack);
    }
    summary->frame = std::move(frame);
    summary->geometry = geometry;
    summary->rack_chemistry = std::move(rack_chemistry);
    return summary;
}

std::string summary_json(const FrameSummary& summary, const WriterStatus& writer,
                         const AlarmView& alarms) {
    JsonWriter json;
    json.begin_object();
    json.key("type").value("summary");
    write_frame_header(json, summary);
    json.key("liveness").value(liveness_name(writer.liveness));
    json.key("racks").value(summary.geometry.racks);
    json.key("alarms");
    write_counts(json, alarms.annunciated);
    write_group_fields(json, summary.system);
    json.end_object();
    return json.str();
}

std::string rack_json(const FrameSummary& summary, std::uint32_t rack) {
    JsonWriter json;
    json.begin_object();
    json.key("type").value("rack");
    write_frame_header(json, summary);
    write_rack_record_fields(json, rack, summary.frame.racks.at(rack), chemistry_of(summary, rack));
    write_group_fields(json, summary.racks.at(rack));
    json.end_object();
    return json.str();
}

std::string module_json(const FrameSummary& summary, std::uint32_t rack, std::uint32_t module) {
    const Geometry& geometry = summary.geometry;
    const FrameBuffer& frame = summary.frame;
    JsonWriter json;
    json.begin_object();
    json.key("type").value("module");
    write_frame_header(json, summary);
    json.key("rack").value(rack);
    json.key("module").value(module);
    write_group_fields(json, summary.modules.at(rack * geometry.modules_per_rack + module));
    json.key("cell_list").begin_array();
    const CellRange range = module_range(geometry, rack, module);
    for (std::uint64_t i = 0; i < range.cell_count; ++i) {
        const std::uint64_t cell = range.first_cell + i;
        json.begin_object();
        json.key("cell").value(i);
        for (std::uint32_t f = 0; f < kFloatFieldCount; ++f) {
            json.key(field_info(static_cast<Field>(f)).name).value(frame.columns[f][cell]);
        }
        json.key("status").value(frame.status[cell]);
        json.end_object();
    }
    json.end_array();
    json.end_object();
    return json.str();
}

std::string alarms_json(const AlarmView& alarms) {
    JsonWriter json;
    json.begin_object();
    json.key("type").value("alarms");
    json.key("time_ns").value(realtime_ns());
    json.key("counts");
    write_counts(json, alarms.annunciated);
    write_alarm_list_fields(json, alarms.list, true);
    json.end_object();
    return json.str();
}

}  // namespace brt::mqtt
