// brt-shm-init: creates the shared-memory segment (idempotently), shows its
// header (--info) or removes it (--remove).
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/cli/cli_common.hpp"
#include "common/cli/exit_codes.hpp"
#include "common/config/config_file.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/segment_file.hpp"
#include "common/segment/shm_file.hpp"
#include "common/segment/shm_name.hpp"
#include "common/segment/writer_lock.hpp"
#include "shm_init/segment_info.hpp"

namespace brt {
namespace {

struct Options {
    std::string shm_name;
    std::int64_t racks = 20;
    std::int64_t modules = 10;
    std::int64_t cells = 32;
    std::int64_t slots = kDefaultSlots;
    std::string chemistry = "nmc";
    std::string mode = "0660";
    std::string group;
    bool force = false;
    bool info = false;
    bool remove = false;
    bool json = false;
};

std::uint32_t checked_count(const char* option, std::int64_t value, std::int64_t max) {
    if (value < 1 || value > max) {
        throw UsageError(fmt::format("{} must be between 1 and {}, got {}", option, max, value));
    }
    return static_cast<std::uint32_t>(value);
}

mode_t parse_mode(const std::string& text) {
    if (text == "0660" || text == "660") {
        return 0660;
    }
    if (text == "0600" || text == "600") {
        return 0600;
    }
    throw UsageError(fmt::format(
        "--mode {} is not allowed: use 0660 (owner and group read-write, the default) or 0600 "
        "(owner only). Readers need read-write access, and other users never get any",
        text));
}

gid_t parse_group(const std::string& text) {
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
        return static_cast<gid_t>(std::stoul(text));
    }
    const group* entry = getgrnam(text.c_str());
    if (entry == nullptr) {
        throw UsageError(fmt::format("--group {}: no such group (see 'getent group')", text));
    }
    return entry->gr_gid;
}

std::vector<Chemistry> parse_chemistry_list(const std::string& text, std::uint32_t racks) {
    std::vector<Chemistry> list;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        const auto chemistry = parse_chemistry(item);
        if (!chemistry) {
            throw UsageError(
                fmt::format("--chemistry: unknown chemistry '{}'; known: nmc, lfp", item));
        }
        list.push_back(*chemistry);
    }
    if (list.size() != 1 && list.size() != racks) {
        throw UsageError(
            fmt::format("--chemistry has {} entries; give one for all racks or one per rack ({})",
                        list.size(), racks));
    }
    return list;
}

std::string geometry_text(const Geometry& geometry, std::uint32_t slots) {
    return fmt::format("{} racks x {} modules x {} cells ({} cells), {} slots", geometry.racks,
                       geometry.modules_per_rack, geometry.cells_per_module, geometry.cell_count(),
                       slots);
}

// True when the existing segment matches what was asked for.
bool same_configuration(const MappedSegment& segment, const CreateOptions& wanted) {
    const SegmentLayout& layout = segment.layout();
    if (!(layout.geometry == wanted.geometry) || layout.slot_count != wanted.slot_count) {
        return false;
    }
    for (std::uint32_t rack = 0; rack < layout.geometry.racks; ++rack) {
        const Chemistry expected = wanted.rack_chemistry.size() == 1 ? wanted.rack_chemistry[0]
                                                                     : wanted.rack_chemistry[rack];
        if (segment.rack_chemistry(rack) != expected) {
            return false;
        }
    }
    return true;
}

// The pid of a live writer holding the existing segment's lock, if any. It
// only looks (in /proc/locks): taking the lock, even briefly, could turn away
// a simulator starting at that moment.
std::optional<pid_t> writer_holding(const std::string& name) {
    const int fd = shm_open(shm_open_name(name).c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        return std::nullopt;
    }
    const std::optional<pid_t> holder = flock_holder_pid(fd);
    close(fd);
    return holder;
}

// What is wrong with an existing segment's permissions for this request
// (issue 20, item 12): a mode broader than --mode, an owner that is neither
// the invoking user nor root (nor, with --group, a user whose own group that
// is: the pipeline's service user), a group other than --group.
struct PermissionCheck {
    struct stat file_status {};
    bool mode_too_broad = false;
    bool foreign_owner = false;
    bool other_group = false;
    std::vector<std::string> problems;
    bool ok() const { return problems.empty(); }
};

bool owner_expected(uid_t owner, const std::optional<gid_t>& group) {
    if (owner == geteuid() || owner == 0) {
        return true;
    }
    if (!group) {
        return false;
    }
    std::vector<char> buffer(4096);
    passwd entry{};
    passwd* found = nullptr;
    return getpwuid_r(owner, &entry, buffer.data(), buffer.size(), &found) == 0 &&
           found != nullptr && found->pw_gid == *group;
}

PermissionCheck check_permissions(const MappedSegment& segment, const CreateOptions& wanted) {
    PermissionCheck check;
    if (fstat(segment.fd(), &check.file_status) != 0) {
        throw SegmentError(
            SegmentErrorKind::system,
            fmt::format("cannot stat {}: {}", shm_path(segment.name()), errno_text(errno)));
    }
    const struct stat& file = check.file_status;
    const mode_t mode = file.st_mode & 07777;
    if ((mode & ~wanted.mode) != 0) {
        check.mode_too_broad = true;
        check.problems.push_back(fmt::format(
            "its mode {} is broader than --mode {}{}", mode_text(mode), mode_text(wanted.mode),
            (mode & 0006) != 0 ? " (other users can read the telemetry and "
                                 "post commands)"
                               : ""));
    }
    if (!owner_expected(file.st_uid, wanted.group)) {
        check.foreign_owner = true;
        check.problems.push_back(fmt::format("it is owned by {}, neither by you, {}, nor by root",
                                             user_text(file.st_uid), user_text(geteuid())));
    }
    if (wanted.group && file.st_gid != *wanted.group) {
        check.other_group = true;
        check.problems.push_back(
            fmt::format("its group is {}, not --group {}", file.st_gid, *wanted.group));
    }
    return check;
}

// chmod/chown the segment in place (readers and a running writer keep
// their mapping). Empty when done; otherwise why it was not permitted.
std::optional<std::string> repair_permissions(const MappedSegment& segment,
                                              const CreateOptions& wanted,
                                              const PermissionCheck& check) {
    if (check.mode_too_broad && fchmod(segment.fd(), wanted.mode) != 0) {
        return fmt::format("chmod {}: {}", mode_text(wanted.mode), errno_text(errno));
    }
    if (check.foreign_owner || check.other_group) {
        const uid_t owner = check.foreign_owner ? geteuid() : static_cast<uid_t>(-1);
        const gid_t group = check.other_group ? *wanted.group : static_cast<gid_t>(-1);
        if (fchown(segment.fd(), owner, group) != 0) {
            return fmt::format("chown: {}", errno_text(errno));
        }
    }
    return std::nullopt;
}

void report(const Options& options, const std::string& action, const std::string& name,
            const std::string& detail) {
    if (options.json) {
        JsonWriter json;
        json.begin_object()
            .key("action")
            .value(action)
            .key("segment")
            .value(shm_path(name))
            .key("detail")
            .value(detail)
            .end_object();
        fmt::print("{}\n", json.str());
    } else {
        fmt::print("{} {}: {}\n", action, shm_path(name), detail);
    }
}

int show_info(const Options& options, const std::string& name) {
    const MappedSegment segment = open_segment(name, SegmentAccess::reader);
    fmt::print("{}", options.json ? segment_info_json(segment) : segment_info_text(segment));
    return kExitOk;
}

int remove(const Options& options, const std::string& name) {
    if (const auto holder = writer_holding(name); holder && !options.force) {
        throw SegmentError(SegmentErrorKind::writer_present,
                           fmt::format("writer pid {} is using {}; stop it first, or add --force "
                                       "to remove the segment anyway",
                                       *holder, shm_path(name)));
    }
    if (remove_segment(name)) {
        report(options, "removed", name, "readers detach by themselves");
    } else {
        report(options, "absent", name, "nothing to remove");
    }
    return kExitOk;
}

int create(const Options& options, const std::string& name) {
    CreateOptions wanted;
    wanted.geometry.racks = checked_count("--racks", options.racks, kMaxRacks);
    wanted.geometry.modules_per_rack =
        checked_count("--modules", options.modules, kMaxModulesPerRack);
    wanted.geometry.cells_per_module = checked_count("--cells", options.cells, kMaxCellsPerModule);
    wanted.slot_count = checked_count("--slots", options.slots, kMaxSlots);
    validate_geometry(wanted.geometry, wanted.slot_count);
    wanted.rack_chemistry = parse_chemistry_list(options.chemistry, wanted.geometry.racks);
    wanted.mode = parse_mode(options.mode);
    if (!options.group.empty()) {
        wanted.group = parse_group(options.group);
    }
    const std::string wanted_text = geometry_text(wanted.geometry, wanted.slot_count);

    bool exists = true;
    std::string reason_to_replace;
    try {
        const MappedSegment existing = open_segment(name, SegmentAccess::reader);
        if (same_configuration(existing, wanted)) {
            const PermissionCheck check = check_permissions(existing, wanted);
            if (check.ok()) {
                report(options, "unchanged", name,
                       wanted_text + " (already exists; nothing to do)");
                return kExitOk;
            }
            std::string problems;
            for (const std::string& problem : check.problems) {
                problems += (problems.empty() ? "" : "; ") + problem;
            }
            if (!options.force) {
                throw SegmentError(
                    SegmentErrorKind::permission,
                    fmt::format("refusing {}: {}. Add --force to repair it (chmod/chown in "
                                "place, where you are permitted; readers and the writer keep "
                                "running), or remove it ('brt-shm-init --remove') and create it "
                                "again",
                                shm_path(name), problems));
            }
            const auto refused = repair_permissions(existing, wanted, check);
            if (!refused) {
                report(options, "repaired", name,
                       fmt::format("{}: {}; now mode {}, owner {}{}", wanted_text, problems,
                                   mode_text(wanted.mode), user_text(geteuid()),
                                   wanted.group ? fmt::format(", group {}", *wanted.group) : ""));
                return kExitOk;
            }
            // Not permitted in place (another user's file): replace it below.
            reason_to_replace =
                fmt::format("{}, and it cannot be repaired in place ({})", problems, *refused);
        } else {
            reason_to_replace = fmt::format(
                "it exists with {}",
                geometry_text(existing.layout().geometry, existing.layout().slot_count));
        }
    } catch (const SegmentError& error) {
        if (error.kind() == SegmentErrorKind::no_segment) {
            exists = false;
        } else if (error.kind() == SegmentErrorKind::permission) {
            throw;
        } else {
            reason_to_replace = error.what();
        }
    }

    if (exists) {
        if (!options.force) {
            throw SegmentError(SegmentErrorKind::malformed,
                               fmt::format("not creating {} with {}: {}. Add --force to replace it "
                                           "(readers re-attach by themselves)",
                                           shm_path(name), wanted_text, reason_to_replace));
        }
        if (const auto holder = writer_holding(name)) {
            throw SegmentError(SegmentErrorKind::writer_present,
                               fmt::format("refusing --force: writer pid {} is using {}; stop the "
                                           "simulator first",
                                           *holder, shm_path(name)));
        }
        remove_segment(name);
    }
    create_segment(name, wanted);
    report(options, exists ? "recreated" : "created", name,
           fmt::format("{}, mode {:04o}", wanted_text, wanted.mode));
    return kExitOk;
}

}  // namespace
}  // namespace brt

int main(int argc, char** argv) {
    using namespace brt;
    Options options;
    CLI::App app{
        "Create the battery-rack telemetry shared-memory segment, show its header, or remove "
        "it.\nCreating is idempotent: the same geometry again changes nothing.",
        tool_name("shm_init")};
    add_common_options(app, options.shm_name);
    add_config_option(app);
    auto* racks =
        app.add_option("--racks", options.racks, "Racks (series strings)")->capture_default_str();
    auto* modules =
        app.add_option("--modules", options.modules, "Modules per rack")->capture_default_str();
    auto* cells =
        app.add_option("--cells", options.cells, "Cells per module")->capture_default_str();
    auto* slots =
        app.add_option("--slots", options.slots, "Frame slots (3..16)")->capture_default_str();
    auto* chemistry = app.add_option("--chemistry", options.chemistry,
                                     "nmc or lfp for every rack, or a comma list with one per rack")
                          ->capture_default_str();
    auto* mode =
        app.add_option("--mode", options.mode, "Permissions: 0660 or 0600")->capture_default_str();
    auto* group = app.add_option("--group", options.group, "Group that may read and write");
    auto* force = app.add_flag("--force", options.force,
                               "Replace a segment of another geometry or a broken one (refused "
                               "while a writer runs); with --remove, remove even then");
    auto* info = app.add_flag("--info", options.info, "Print the header of an existing segment");
    auto* remove_flag = app.add_flag("--remove", options.remove, "Remove the segment");
    app.add_flag("--json", options.json, "Print JSON instead of text");
    for (auto* creation_option : {racks, modules, cells, slots, chemistry, mode, group}) {
        info->excludes(creation_option);
        remove_flag->excludes(creation_option);
    }
    info->excludes(remove_flag);
    info->excludes(force);
    app.footer(fmt::format(
        "Examples:\n  {0}                          create the default 20x10x32 segment\n"
        "  {0} --racks 4 --chemistry lfp  a smaller LFP system\n"
        "  {0} --info --json              the header as JSON\n"
        "Exit codes: 0 success, 1 runtime failure, 2 bad usage.",
        tool_name("shm_init")));

    return run_tool(app, argc, argv, [&]() {
        const std::string name = normalize_shm_name(options.shm_name);
        if (options.info) {
            return show_info(options, name);
        }
        if (options.remove) {
            return brt::remove(options, name);
        }
        return create(options, name);
    });
}
