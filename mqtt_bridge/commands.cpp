#include "mqtt_bridge/commands.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/control/command_status_key.hpp"
#include "common/control/control_json.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/clock.hpp"
#include "common/segment/command_ring.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/liveness.hpp"

namespace brt::mqtt {

namespace {

std::string verb_list() {
    std::string names = "module";
    for (const JsonCommandVerb& verb : json_command_verbs()) {
        names += ", ";
        names += verb.name;
    }
    return names;
}

}  // namespace

std::string result_json(const CommandResult& result) {
    JsonWriter json;
    json.begin_object();
    json.key("correlation_id");
    if (result.correlation_id.empty()) {
        json.null();
    } else {
        json.raw(result.correlation_id);
    }
    json.key("command").value(result.verb);
    json.key("what").value(result.what);
    json.key("status").value(result.status);
    json.key("ok").value(result.ok());
    if (!result.error.empty()) {
        json.key("error").value(result.error);
    }
    json.key("position").value(result.position);
    json.key("time_ns").value(realtime_ns());
    json.end_object();
    return json.str();
}

CommandHandler::CommandHandler(std::string normalized_shm_name, std::string command_prefix,
                               std::chrono::milliseconds answer_timeout)
    : shm_name_(std::move(normalized_shm_name)),
      alarm_name_(alarm_segment_name(shm_name_)),
      prefix_(std::move(command_prefix)),
      answer_timeout_(answer_timeout) {}

std::vector<CommandResult> CommandHandler::submit(const InboundMessage& message) {
    CommandResult result = take(message);
    if (result.status.empty()) {
        return {};  // pending, or a module request
    }
    return {std::move(result)};
}

CommandResult CommandHandler::take(const InboundMessage& message) {
    ++commands_total_;
    CommandResult result;
    result.verb =
        message.topic.substr(std::min(prefix_.size(), message.topic.size())).substr(0, 60);
    result.correlation_id = json_correlation_id(message.payload);
    result.response_topic = message.response_topic;
    result.correlation_data = message.correlation_data;
    auto refuse = [&result](std::string status, std::string error) {
        result.status = std::move(status);
        result.error = std::move(error);
        return result;
    };
    if (result.verb == "module") {
        const auto body = nlohmann::json::parse(message.payload, nullptr, false);
        auto index = [&body](const char* key) -> std::optional<std::uint32_t> {
            if (!body.is_object() || !body.contains(key) || !body[key].is_number_unsigned() ||
                body[key].get<std::uint64_t>() >= kAllTargets) {
                return std::nullopt;
            }
            return static_cast<std::uint32_t>(body[key].get<std::uint64_t>());
        };
        const auto rack = index("rack");
        const auto module = index("module");
        if (!rack || !module) {
            return refuse("invalid",
                          "the payload must be {\"rack\": R, \"module\": M} (numbered from 0)");
        }
        result.what = fmt::format("cells of rack {} module {}", *rack, *module);
        module_requests_.push_back({*rack, *module, result});
        return {};  // answered by the reader, with the cells
    }
    const JsonCommandVerb* verb = find_json_command_verb(result.verb);
    if (verb == nullptr) {
        return refuse("invalid",
                      fmt::format("unknown command '{}': one of {}", result.verb, verb_list()));
    }
    if (verb->destination == CommandDestination::simulator) {
        std::shared_ptr<const MappedSegment> segment;
        try {
            segment = std::make_shared<const MappedSegment>(
                open_segment(shm_name_, SegmentAccess::reader));
        } catch (const SegmentError& error) {
            return refuse("unavailable", error.what());
        }
        const Geometry& geometry = segment->layout().geometry;
        ControlCommand built;
        try {
            built = control_command_from_json(*verb, message.payload, geometry);
        } catch (const UsageError& error) {
            // Where the target is the problem, say what exists.
            const bool targeted = verb->name.starts_with("scenario/") || verb->name == "rack/mode";
            return refuse("invalid", targeted ? fmt::format("{} (this segment has {} racks x {} "
                                                            "modules x {} cells)",
                                                            error.what(), geometry.racks,
                                                            geometry.modules_per_rack,
                                                            geometry.cells_per_module)
                                              : std::string(error.what()));
        }
        set_command_origin(built.command, "mqtt");
        result.what = built.what;
        try {
            result.position = post_command(*segment, built.command);
        } catch (const SegmentError& error) {
            return refuse("unavailable", error.what());
        }
        pending_.push_back({std::move(segment), nullptr, result,
                            std::chrono::steady_clock::now() + answer_timeout_});
        return {};
    }
    ControlCommand built;
    try {
        built = control_command_from_json(*verb, message.payload, Geometry{});
    } catch (const UsageError& error) {
        return refuse("invalid", error.what());
    }
    set_command_origin(built.command, "mqtt");
    result.what = built.what;
    std::shared_ptr<const MappedAlarmSegment> segment;
    try {
        segment = std::make_shared<const MappedAlarmSegment>(open_alarm_segment(
            alarm_name_, AlarmSegmentAccess::reader, std::chrono::milliseconds(0)));
    } catch (const SegmentError& error) {
        return refuse("unavailable",
                      fmt::format("the alarm monitor is not running ({})", error.what()));
    }
    // A command left in a dead monitor's ring would be applied by the next
    // monitor, minutes or days later: only a live one gets it.
    const AlarmSegmentHeader& header = segment->header();
    const WriterStatus monitor = judge_header_writer(
        header, header.latest_version.load(std::memory_order_acquire), segment->fd());
    if (monitor.liveness != Liveness::live) {
        return refuse("unavailable", fmt::format("the alarm monitor is not running ({}: {})",
                                                 liveness_name(monitor.liveness), monitor.detail));
    }
    const auto position = segment->command_ring().post(built.command);
    if (!position) {
        return refuse("unavailable", "the alarm monitor's command ring is full");
    }
    result.position = *position;
    pending_.push_back(
        {nullptr, std::move(segment), result, std::chrono::steady_clock::now() + answer_timeout_});
    return {};
}

std::vector<CommandResult> CommandHandler::poll(std::chrono::steady_clock::time_point now) {
    std::vector<CommandResult> done;
    for (auto it = pending_.begin(); it != pending_.end();) {
        const std::optional<CommandStatus> status =
            it->alarm_segment ? it->alarm_segment->command_ring().result(it->result.position)
                              : CommandRing(*it->segment).result(it->result.position);
        if (status) {
            it->result.status = std::string(command_status_key(*status));
            if (*status != CommandStatus::applied) {
                it->result.error = std::string(command_status_name(*status));
            }
        } else if (now >= it->deadline) {
            if (it->alarm_segment) {
                it->result.status = "unavailable";
                it->result.error =
                    "the alarm monitor did not answer in time: stopped or hung; it may still act "
                    "on the command when it resumes";
            } else {
                // In the ring: the next simulator to run acts on it.
                it->result.status = "pending";
                it->result.error =
                    "the simulator did not answer in time (paused by a signal, "
                    "stopped or hung): it acts on the command when it runs";
            }
        } else {
            ++it;
            continue;
        }
        done.push_back(std::move(it->result));
        it = pending_.erase(it);
    }
    return done;
}

std::vector<ModuleRequest> CommandHandler::take_module_requests() {
    std::vector<ModuleRequest> taken;
    taken.swap(module_requests_);
    return taken;
}

}  // namespace brt::mqtt
