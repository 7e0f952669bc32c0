// What makes a GPU machine's first run count, checked where there is no GPU:
// bench_cuda's setup (everything before its first CUDA call) works for
// every size, smallest first.
#include <catch2/catch.hpp>

#include "common/segment/geometry.hpp"
#include "support/run_command.hpp"

using namespace brt;

TEST_CASE("bench_cuda builds every size's segment and simulation, smallest first",
          "[cuda-harness]") {
    // Sizes out of order and repeated: it measures each once, smallest first.
    const auto result = test::run_command({test::tool_path("BRT_BENCH_CUDA"), "--setup-only",
                                           "--json", "--cells", "100000", "6400", "6400"});
    INFO(result.err);
    CHECK(result.exit_code == 0);
    // Stopped before the first CUDA call: not even the probe ran.
    CHECK(result.err.find("skipped") == std::string::npos);
    const std::vector<std::string> lines = test::split(result.out, '\n');
    REQUIRE(lines.size() == 2);
    CHECK_THAT(lines[0], Catch::Contains("\"cells\":6400,"));
    CHECK_THAT(lines[1], Catch::Contains("\"cells\":99840,"));  // 312 racks of 10 x 32
    for (const std::string& line : lines) {
        CHECK_THAT(line, Catch::Contains("\"setup_only\":true"));
        CHECK_THAT(line, Catch::Contains("\"slots\":" + std::to_string(kMinSlots)));
    }
}
