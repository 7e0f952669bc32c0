// brt-viewer's exit codes and messages: no segment, nothing published, bad usage.
#include <catch2/catch.hpp>

#include "common/segment/segment_writer.hpp"
#include "support/run_command.hpp"
#include "support/test_segment.hpp"
#include "viewer/test_writer.hpp"

using namespace brt;

namespace {

test::CommandOutput viewer(std::vector<std::string> args) {
    args.insert(args.begin(), test::tool_path("BRT_VIEWER"));
    return test::run_command(args);
}

}  // namespace

TEST_CASE("no segment: exit 1 with a message saying to run brt-shm-init", "[viewer]") {
    for (const auto& mode : {std::vector<std::string>{"--once"}, {"--format", "json"}, {}}) {
        auto args = mode;
        args.insert(args.end(), {"--shm-name", "brt_test_viewer_missing"});
        const auto out = viewer(args);
        CHECK(out.exit_code == 1);
        CHECK_THAT(out.err, Catch::Contains("brt-shm-init"));
        CHECK(out.out.empty());
    }
}

TEST_CASE("a segment without frames: --once exits 1 naming the writer to start", "[viewer]") {
    test::ScopedSegment scoped("viewer-empty", Geometry{2, 2, 2});
    const auto out = viewer({"--shm-name", scoped.name(), "--once"});
    CHECK(out.exit_code == 1);
    CHECK_THAT(out.err, Catch::Contains("no frame has been published"));
    CHECK_THAT(out.err, Catch::Contains("brt-simulator"));
}

TEST_CASE("a broken segment is unreadable: exit 1", "[viewer]") {
    const std::string name = test::unique_segment_name("viewer-garbage");
    {
        const std::string path = "/dev/shm/" + name;
        FILE* file = std::fopen(path.c_str(), "w");
        REQUIRE(file != nullptr);
        std::fputs("not a segment at all", file);
        std::fclose(file);
    }
    const auto out = viewer({"--shm-name", name, "--once"});
    remove_segment(name);
    CHECK(out.exit_code == 1);
    CHECK_FALSE(out.err.empty());
}

TEST_CASE("bad usage exits 2 saying what was wrong", "[viewer]") {
    const Geometry geometry{3, 2, 4};
    test::ScopedSegment scoped("viewer-usage", geometry);
    const test::CellIndexFrame values = test::known_frame(geometry);
    SegmentWriter writer = SegmentWriter::acquire(scoped.name(), 100'000'000);
    writer.publish_frame(values.view());

    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"--rack", "3", "--once"}, "--rack 3 is out of range: this segment has 3 racks (0..2)"},
        {{"--rack", "3"}, "--rack 3 is out of range"},  // interactive mode checks it too
        {{"--rack", "-1", "--once"}, "out of range"},
        {{"--rack", "0", "--module", "2", "--once"}, "--module 2 is out of range"},
        {{"--module", "0", "--once"}, "--module needs --rack"},
        {{"--fields", "voltage,bogus", "--once"}, "unknown field 'bogus'"},
        {{"--format", "xml"}, "--format"},
        {{"--color", "sometimes"}, "--color"},
        {{"--metric", "pressure"}, "--metric pressure"},
        {{"-d", "0"}, "--interval"},
        {{"--once", "-n", "2"}, "excludes"},
        {{"--bogus"}, "--bogus"},
    };
    for (const auto& c : cases) {
        auto args = c.args;
        args.insert(args.begin(), {"--shm-name", scoped.name()});
        const auto out = viewer(args);
        INFO(c.args.front() << ": " << out.err);
        CHECK(out.exit_code == 2);
        CHECK_THAT(out.err, Catch::Contains(c.message));
        CHECK(out.out.empty());
    }
}

TEST_CASE("--help and --version", "[viewer]") {
    const auto help = viewer({"--help"});
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Catch::Contains("--interval"));
    CHECK_THAT(help.out, Catch::Contains("--format"));
    CHECK_THAT(help.out, Catch::Contains("--shm-name"));
    const auto version = viewer({"--version"});
    CHECK(version.exit_code == 0);
    CHECK_THAT(version.out, Catch::Contains("brt-viewer"));
}
