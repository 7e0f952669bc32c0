#include "shm_init/segment_info.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <ctime>
#include <vector>

#include "common/json/json_writer.hpp"
#include "common/json/number_format.hpp"
#include "common/segment/command_ring.hpp"
#include "common/segment/liveness.hpp"
#include "common/segment/shm_name.hpp"

namespace brt {

namespace {

std::string iso8601_utc(std::uint64_t realtime_ns) {
    const auto seconds = static_cast<time_t>(realtime_ns / 1'000'000'000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

struct Ownership {
    unsigned mode = 0;
    std::string owner;
    std::string group;
};

Ownership ownership(const MappedSegment& segment) {
    Ownership result;
    struct stat file_status {};
    if (fstat(segment.fd(), &file_status) != 0) {
        return result;
    }
    result.mode = file_status.st_mode & 07777;
    const passwd* user = getpwuid(file_status.st_uid);
    result.owner = user ? user->pw_name : std::to_string(file_status.st_uid);
    const group* grp = getgrgid(file_status.st_gid);
    result.group = grp ? grp->gr_name : std::to_string(file_status.st_gid);
    return result;
}

std::vector<std::string> rack_chemistries(const MappedSegment& segment) {
    std::vector<std::string> names;
    for (const Chemistry chemistry : segment.rack_chemistries()) {
        names.emplace_back(chemistry_name(chemistry));
    }
    return names;
}

// "nmc" when every rack agrees, otherwise "nmc,lfp,..." per rack.
std::string chemistry_summary(const std::vector<std::string>& names) {
    for (const auto& name : names) {
        if (name != names.front()) {
            return fmt::format("{}", fmt::join(names, ","));
        }
    }
    return names.empty() ? "" : names.front();
}

}  // namespace

std::string segment_info_text(const MappedSegment& segment) {
    const SegmentLayout& layout = segment.layout();
    const SegmentHeader& header = segment.header();
    const Geometry& geometry = layout.geometry;
    const WriterStatus writer = read_writer_status(segment);
    const Ownership owner = ownership(segment);
    const CommandRing ring(segment);

    std::string text;
    auto line = [&text](std::string_view label, const std::string& value) {
        text += fmt::format("{:<14}{}\n", label, value);
    };
    line("segment", shm_path(segment.name()));
    line("abi", std::to_string(header.abi_version));
    line("generation", fmt::format("{:016x}", header.generation));
    line("created", iso8601_utc(header.created_realtime_ns));
    line("geometry",
         fmt::format("{} racks x {} modules x {} cells = {} cells", geometry.racks,
                     geometry.modules_per_rack, geometry.cells_per_module, geometry.cell_count()));
    line("chemistry", chemistry_summary(rack_chemistries(segment)));
    line("slots", fmt::format("{} x {} bytes", layout.slot_count, layout.slot_stride));
    line("size", fmt::format("{} bytes ({} MiB)", layout.segment_size,
                             format_fixed(layout.segment_size / 1048576.0, 1)));
    line("permissions", fmt::format("{:04o} {}:{}", owner.mode, owner.owner, owner.group));
    std::string writer_text = fmt::format("{} ({})", liveness_name(writer.liveness), writer.detail);
    if (writer.state != WriterState::never_started) {
        writer_text +=
            fmt::format(", heartbeat {} ms ago", format_fixed(writer.heartbeat_age_ns / 1e6, 0));
        if (writer.publish_period_ns != 0) {
            writer_text +=
                fmt::format(", nominal {} Hz", format_fixed(1e9 / writer.publish_period_ns, 1));
        }
    }
    line("writer", writer_text);
    line("latest frame", std::to_string(writer.latest_frame));
    line("commands", fmt::format("{} posted, {} consumed", ring.posted(), ring.consumed()));
    return text;
}

std::string segment_info_json(const MappedSegment& segment) {
    const SegmentLayout& layout = segment.layout();
    const SegmentHeader& header = segment.header();
    const Geometry& geometry = layout.geometry;
    const WriterStatus writer = read_writer_status(segment);
    const Ownership owner = ownership(segment);
    const CommandRing ring(segment);

    JsonWriter json;
    json.begin_object();
    json.key("segment").value(shm_path(segment.name()));
    json.key("name").value(segment.name());
    json.key("abi_version").value(header.abi_version);
    json.key("generation").value(fmt::format("{:016x}", header.generation));
    json.key("created").value(iso8601_utc(header.created_realtime_ns));
    json.key("racks").value(geometry.racks);
    json.key("modules_per_rack").value(geometry.modules_per_rack);
    json.key("cells_per_module").value(geometry.cells_per_module);
    json.key("cell_count").value(geometry.cell_count());
    json.key("rack_chemistry").begin_array();
    for (const auto& name : rack_chemistries(segment)) {
        json.value(name);
    }
    json.end_array();
    json.key("slot_count").value(layout.slot_count);
    json.key("slot_stride_bytes").value(layout.slot_stride);
    json.key("size_bytes").value(layout.segment_size);
    json.key("mode").value(fmt::format("{:04o}", owner.mode));
    json.key("owner").value(owner.owner);
    json.key("group").value(owner.group);
    json.key("writer").begin_object();
    json.key("liveness").value(liveness_name(writer.liveness));
    json.key("state").value(writer_state_name(writer.state));
    json.key("pid").value(writer.pid);
    if (writer.state == WriterState::never_started) {
        json.key("heartbeat_age_s").null();
    } else {
        json.key("heartbeat_age_s").seconds_from_ns(writer.heartbeat_age_ns);
    }
    json.key("publish_period_s").seconds_from_ns(writer.publish_period_ns);
    json.key("detail").value(writer.detail);
    json.end_object();
    json.key("latest_frame").value(writer.latest_frame);
    json.key("commands_posted").value(ring.posted());
    json.key("commands_consumed").value(ring.consumed());
    json.end_object();
    return json.str() + "\n";
}

}  // namespace brt
