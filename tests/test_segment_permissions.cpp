// An existing segment with the wrong mode or owner (issue 20, item 12):
// brt-shm-init refuses it (or repairs it with --force), the writer refuses a
// world-accessible one, and the monitor refuses an alarm segment that is
// world-writable or another user's. Each was used silently before.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/alarm_segment/alarm_segment_writer.hpp"
#include "common/segment/segment_file.hpp"
#include "common/segment/shm_name.hpp"
#include "support/run_command.hpp"
#include "support/test_segment.hpp"

using namespace brt;

namespace {

const Geometry kGeometry{2, 2, 8};
constexpr uid_t kNobody = 65534;

std::vector<std::string> shm_init(const std::string& name) {
    return {test::tool_path("BRT_SHM_INIT"),
            "--shm-name",
            name,
            "--racks",
            "2",
            "--modules",
            "2",
            "--cells",
            "8"};
}

struct stat file_status(const std::string& name) {
    struct stat status {};
    REQUIRE(stat(shm_path(name).c_str(), &status) == 0);
    return status;
}

mode_t mode_of(const std::string& name) {
    return file_status(name).st_mode & 07777;
}

void set_mode(const std::string& name, mode_t mode) {
    REQUIRE(chmod(shm_path(name).c_str(), mode) == 0);
}

// chown needs root (tests run as root here); elsewhere the case is skipped.
bool give_to_nobody(const std::string& name) {
    if (geteuid() != 0) {
        WARN("not root: cannot chown to nobody; skipped");
        return false;
    }
    REQUIRE(chown(shm_path(name).c_str(), kNobody, static_cast<gid_t>(-1)) == 0);
    return true;
}

}  // namespace

TEST_CASE(
    "brt-shm-init refuses an existing segment whose mode is broader than --mode, and "
    "--force repairs it",
    "[permissions]") {
    for (const mode_t widened : {mode_t{0666}, mode_t{0664}, mode_t{0662}, mode_t{0670}}) {
        INFO("mode " << std::oct << widened);
        test::ScopedSegment scoped("perm-mode", kGeometry);
        set_mode(scoped.name(), widened);
        const auto refused = test::run_command(shm_init(scoped.name()));
        CHECK(refused.exit_code == 1);
        CHECK_THAT(refused.err, Catch::Contains("broader than --mode 0660") &&
                                    Catch::Contains("--force") && Catch::Contains("--remove"));
        CHECK(mode_of(scoped.name()) == widened);  // refused: untouched

        auto argv = shm_init(scoped.name());
        argv.push_back("--force");
        const auto repaired = test::run_command(argv);
        CHECK(repaired.exit_code == 0);
        CHECK_THAT(repaired.out, Catch::StartsWith("repaired"));
        CHECK(mode_of(scoped.name()) == 0660);
        // Then it is what was asked for.
        CHECK_THAT(test::run_command(shm_init(scoped.name())).out, Catch::StartsWith("unchanged"));
    }
}

TEST_CASE("brt-shm-init accepts a segment narrower than --mode", "[permissions]") {
    test::ScopedSegment scoped("perm-narrow", kGeometry);
    set_mode(scoped.name(), 0600);
    const auto result = test::run_command(shm_init(scoped.name()));
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.out, Catch::StartsWith("unchanged"));
}

TEST_CASE("brt-shm-init refuses a segment owned by another user, and --force takes it back",
          "[permissions]") {
    test::ScopedSegment scoped("perm-owner", kGeometry);
    if (!give_to_nobody(scoped.name())) {
        return;
    }
    const auto refused = test::run_command(shm_init(scoped.name()));
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err, Catch::Contains("owned by uid 65534") && Catch::Contains("--force"));
    CHECK(file_status(scoped.name()).st_uid == kNobody);

    auto argv = shm_init(scoped.name());
    argv.push_back("--force");
    const auto repaired = test::run_command(argv);
    CHECK(repaired.exit_code == 0);
    CHECK_THAT(repaired.out, Catch::StartsWith("repaired"));
    CHECK(file_status(scoped.name()).st_uid == geteuid());
}

TEST_CASE("the simulator refuses a world-accessible segment and says how to fix it",
          "[permissions]") {
    for (const mode_t widened : {mode_t{0666}, mode_t{0664}, mode_t{0662}}) {
        INFO("mode " << std::oct << widened);
        test::ScopedSegment scoped("perm-sim", kGeometry);
        set_mode(scoped.name(), widened);
        const auto result = test::run_command(
            {test::tool_path("BRT_SIMULATOR"), "--shm-name", scoped.name(), "--duration", "0.2"});
        CHECK(result.exit_code == 1);
        CHECK_THAT(result.err, Catch::Contains("world-accessible") &&
                                   Catch::Contains("chmod 0660 " + shm_path(scoped.name())));
        // It never took the writer role.
        CHECK(open_segment(scoped.name(), SegmentAccess::reader).header().writer_state.load() ==
              static_cast<std::uint32_t>(WriterState::never_started));
    }
}

TEST_CASE("the alarm segment's writer refuses one that is world-writable or another user's",
          "[permissions]") {
    test::ScopedSegment telemetry("perm-alarms", kGeometry);
    const std::string name = alarm_segment_name(telemetry.name());
    REQUIRE(create_alarm_segment(name, AlarmSegmentOptions{}));

    set_mode(name, 0662);
    CHECK_THROWS_WITH(AlarmSegmentWriter::open_or_create(name, AlarmSegmentOptions{}),
                      Catch::Contains("world-writable") && Catch::Contains("--reset-alarms"));
    // So does the monitor, with exit 1.
    const auto monitor = test::run_command({test::tool_path("BRT_ANOMALY_MONITOR"), "--shm-name",
                                            telemetry.name(), "--duration", "0.2"});
    CHECK(monitor.exit_code == 1);
    CHECK_THAT(monitor.err, Catch::Contains("world-writable"));

    set_mode(name, 0660);
    if (!give_to_nobody(name)) {
        return;
    }
    CHECK_THROWS_WITH(AlarmSegmentWriter::open_or_create(name, AlarmSegmentOptions{}),
                      Catch::Contains("owned by uid 65534") && Catch::Contains("--reset-alarms"));
    // --reset-alarms makes it afresh, the monitor's own.
    const auto reset = test::run_command({test::tool_path("BRT_ANOMALY_MONITOR"), "--shm-name",
                                          telemetry.name(), "--duration", "0.2", "--reset-alarms"});
    CHECK(reset.exit_code == 0);
    CHECK(file_status(name).st_uid == geteuid());
}
