// brt-shm-init as a user (or a systemd oneshot) runs it.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/segment/segment_file.hpp"
#include "common/segment/segment_reader.hpp"
#include "common/segment/segment_writer.hpp"
#include "common/segment/shm_name.hpp"
#include "support/run_command.hpp"
#include "support/test_segment.hpp"

using namespace brt;
using test::run_command;

namespace {

struct ShmInit {
    std::string path = test::tool_path("BRT_SHM_INIT");
    std::string name = test::unique_segment_name("cli");
    ~ShmInit() { remove_segment(name); }

    test::CommandOutput operator()(std::vector<std::string> args) const {
        args.insert(args.begin(), {path, "--shm-name", name});
        return run_command(args);
    }
};

mode_t segment_mode(const std::string& name) {
    struct stat file_status {};
    REQUIRE(stat(shm_path(name).c_str(), &file_status) == 0);
    return file_status.st_mode & 07777;
}

}  // namespace

TEST_CASE("shm_init creates a segment 0660 and is idempotent", "[cli]") {
    ShmInit shm_init;
    const auto created = shm_init({});
    CHECK(created.exit_code == 0);
    CHECK_THAT(created.out, Catch::StartsWith("created"));
    CHECK_THAT(created.out, Catch::Contains("6400 cells"));
    CHECK(segment_mode(shm_init.name) == 0660);
    const auto generation = open_segment(shm_init.name, SegmentAccess::reader).header().generation;

    const auto again = shm_init({});
    CHECK(again.exit_code == 0);
    CHECK_THAT(again.out, Catch::StartsWith("unchanged"));
    // Nothing changed: same file, same generation.
    CHECK(open_segment(shm_init.name, SegmentAccess::reader).header().generation == generation);
}

TEST_CASE("shm_init refuses another geometry unless --force", "[cli]") {
    ShmInit shm_init;
    REQUIRE(shm_init({}).exit_code == 0);
    const auto refused = shm_init({"--racks", "4"});
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err, Catch::Contains("--force"));
    CHECK_THAT(refused.err, Catch::Contains("20 racks"));
    CHECK(open_segment(shm_init.name, SegmentAccess::reader).layout().geometry.racks == 20);

    const auto forced = shm_init({"--racks", "4", "--force"});
    CHECK(forced.exit_code == 0);
    CHECK_THAT(forced.out, Catch::StartsWith("recreated"));
    CHECK(open_segment(shm_init.name, SegmentAccess::reader).layout().geometry.racks == 4);
}

TEST_CASE("shm_init --force and --remove are refused while a writer runs", "[cli]") {
    ShmInit shm_init;
    REQUIRE(shm_init({}).exit_code == 0);
    SegmentWriter writer = SegmentWriter::acquire(shm_init.name, 100'000'000);
    const auto forced = shm_init({"--racks", "4", "--force"});
    CHECK(forced.exit_code == 1);
    CHECK_THAT(forced.err, Catch::Contains("pid " + std::to_string(getpid())));
    const auto removed = shm_init({"--remove"});
    CHECK(removed.exit_code == 1);
    CHECK_THAT(removed.err, Catch::Contains("stop it first"));
    CHECK(open_segment(shm_init.name, SegmentAccess::reader).layout().geometry.racks == 20);
}

TEST_CASE("shm_init --info prints the header as text and JSON", "[cli]") {
    ShmInit shm_init;
    REQUIRE(
        shm_init({"--racks", "3", "--modules", "2", "--cells", "5", "--chemistry", "nmc,lfp,lfp"})
            .exit_code == 0);
    const auto text = shm_init({"--info"});
    CHECK(text.exit_code == 0);
    CHECK_THAT(text.out, Catch::Contains("3 racks x 2 modules x 5 cells = 30 cells"));
    CHECK_THAT(text.out, Catch::Contains("nmc,lfp,lfp"));
    CHECK_THAT(text.out, Catch::Contains("no writer"));

    SegmentWriter writer = SegmentWriter::acquire(shm_init.name, 100'000'000);
    const auto json = shm_init({"--info", "--json"});
    CHECK(json.exit_code == 0);
    CHECK_THAT(json.out, Catch::StartsWith("{"));
    CHECK_THAT(json.out, Catch::Contains("\"cell_count\":30"));
    CHECK_THAT(json.out, Catch::Contains("\"rack_chemistry\":[\"nmc\",\"lfp\",\"lfp\"]"));
    CHECK_THAT(json.out, Catch::Contains("\"liveness\":\"live\""));
    CHECK_THAT(json.out, Catch::Contains("\"pid\":" + std::to_string(getpid())));
    CHECK_THAT(json.out, Catch::Contains("\"abi_version\":1"));
}

TEST_CASE("shm_init --remove unlinks the segment", "[cli]") {
    ShmInit shm_init;
    REQUIRE(shm_init({}).exit_code == 0);
    const auto removed = shm_init({"--remove"});
    CHECK(removed.exit_code == 0);
    CHECK(access(shm_path(shm_init.name).c_str(), F_OK) != 0);
    const auto info = shm_init({"--info"});
    CHECK(info.exit_code == 1);
    CHECK_THAT(info.err, Catch::Contains("no segment named"));
    CHECK(shm_init({"--remove"}).exit_code == 0);  // nothing to remove is not an error
}

TEST_CASE("shm_init rejects bad usage with exit code 2", "[cli]") {
    ShmInit shm_init;
    const std::vector<std::vector<std::string>> bad = {
        {"--racks", "0"},
        {"--cells", "-3"},
        {"--racks", "60000", "--modules", "4000", "--cells", "4000"},
        {"--slots", "2"},
        {"--mode", "0666"},
        {"--chemistry", "lead-acid"},
        {"--chemistry", "nmc,lfp"},
        {"--group", "no-such-group-here"},
        {"--info", "--racks", "3"},
        {"--no-such-option"},
    };
    for (const auto& args : bad) {
        const auto result = shm_init(args);
        INFO(args[0] << ": " << result.err);
        CHECK(result.exit_code == 2);
        CHECK_THAT(result.err, Catch::Contains("error"));
        CHECK(access(shm_path(shm_init.name).c_str(), F_OK) != 0);  // nothing created
    }
    const auto slash = run_command({shm_init.path, "--shm-name", "racks/one"});
    CHECK(slash.exit_code == 2);
    CHECK_THAT(slash.err, Catch::Contains("'/'"));
}

TEST_CASE("shm_init reports a corrupted segment and --force repairs it", "[cli]") {
    ShmInit shm_init;
    REQUIRE(shm_init({}).exit_code == 0);
    const int fd = shm_open(shm_open_name(shm_init.name).c_str(), O_RDWR, 0);
    REQUIRE(fd >= 0);
    const std::uint32_t other_abi = kAbiVersion + 7;
    REQUIRE(pwrite(fd, &other_abi, 4, offsetof(SegmentHeader, abi_version)) == 4);
    close(fd);

    const auto info = shm_init({"--info"});
    CHECK(info.exit_code == 1);
    CHECK_THAT(info.err, Catch::Contains("ABI version " + std::to_string(kAbiVersion + 7)));
    const auto create = shm_init({});
    CHECK(create.exit_code == 1);
    CHECK_THAT(create.err, Catch::Contains("--force"));
    CHECK(shm_init({"--force"}).exit_code == 0);
    CHECK(shm_init({"--info"}).exit_code == 0);
}

TEST_CASE("every option has --help and --version", "[cli]") {
    ShmInit shm_init;
    const auto help = run_command({shm_init.path, "--help"});
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Catch::Contains("--shm-name"));
    CHECK_THAT(help.out, Catch::Contains("brt-shm-init"));
    const auto version = run_command({shm_init.path, "--version"});
    CHECK(version.exit_code == 0);
    CHECK_THAT(version.out, Catch::Contains("ABI 1"));
}

TEST_CASE("BATTERY_SHM sets the default segment name", "[cli]") {
    const std::string path = test::tool_path("BRT_SHM_INIT");
    const std::string name = test::unique_segment_name("env");
    const auto created = run_command({path, "--racks", "1"}, {"BATTERY_SHM=" + name});
    CHECK(created.exit_code == 0);
    CHECK(access(shm_path(name).c_str(), F_OK) == 0);
    remove_segment(name);
}

TEST_CASE("a reader re-attaches by itself after shm_init --force re-creates the segment", "[cli]") {
    ShmInit shm_init;
    REQUIRE(shm_init({}).exit_code == 0);
    SegmentReader reader(shm_init.name);
    REQUIRE(reader.refresh() == AttachChange::attached);
    const std::uint64_t generation = reader.header().generation;
    REQUIRE(shm_init({"--racks", "4", "--force"}).exit_code == 0);
    CHECK(reader.refresh() == AttachChange::reattached);
    CHECK(reader.header().generation != generation);
    CHECK(reader.layout().geometry.racks == 4);
    CHECK(reader.writer_status().liveness == Liveness::no_writer);
}
