// What makes a GPU machine's first run count, checked where there is no GPU:
// bench_cuda's setup (everything before its first CUDA call) works for
// every size, smallest first; and BRT_REQUIRE_CUDA=1 turns each "no usable
// GPU" skip into a failure that names the probe's reason, so that a GPU run
// with a driver too old for the CUDA runtime cannot pass by skipping.
#include <catch2/catch.hpp>

#include "brt_config.h"
#include "common/segment/geometry.hpp"
#include "simulator/cuda_probe.hpp"
#include "support/run_command.hpp"

using namespace brt;

namespace {

// The switch set, and the switch cleared (whatever the test itself runs with).
const std::vector<std::string> kRequired{"BRT_REQUIRE_CUDA=1"};
const std::vector<std::string> kNotRequired{"BRT_REQUIRE_CUDA="};

}  // namespace

#if BRT_HAVE_CUDA
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
#endif

TEST_CASE("BRT_REQUIRE_CUDA=1 turns every no-GPU skip into a failure naming the reason",
          "[cuda-harness]") {
    const CudaProbe probe = probe_cuda();
    if (probe.usable) {
        // The failures cannot happen here; the GPU's own runs are the check.
        WARN("a GPU is usable (" << probe.description << "): nothing to turn into a failure");
        return;
    }
    const std::string failure = cuda_required_failure(probe);

    SECTION("the backend test's CPU branch") {
        const auto skipped =
            test::run_command({test::tool_path("BRT_TEST_SIMULATOR_BACKEND")}, kNotRequired);
        INFO(skipped.out << skipped.err);
        CHECK(skipped.exit_code == 0);
        const auto required =
            test::run_command({test::tool_path("BRT_TEST_SIMULATOR_BACKEND")}, kRequired);
        INFO(required.out << required.err);
        CHECK(required.exit_code != 0);
        CHECK(required.exit_code != 77);
        CHECK_THAT(required.out + required.err, Catch::Contains(failure));
    }
#if BRT_HAVE_CUDA
    SECTION("cuda_parity's exit code 77") {
        const auto skipped =
            test::run_command({test::tool_path("BRT_TEST_CUDA_PARITY")}, kNotRequired);
        CHECK(skipped.exit_code == 77);
        // Only 1 means required: 0 is a skip as before.
        const auto zero =
            test::run_command({test::tool_path("BRT_TEST_CUDA_PARITY")}, {"BRT_REQUIRE_CUDA=0"});
        CHECK(zero.exit_code == 77);
        const auto required = test::run_command({test::tool_path("BRT_TEST_CUDA_PARITY")}, kRequired);
        INFO(required.out << required.err);
        CHECK(required.exit_code != 0);
        CHECK(required.exit_code != 77);
        CHECK_THAT(required.out + required.err, Catch::Contains(failure));
    }
    SECTION("bench_cuda's skipped") {
        const auto skipped = test::run_command({test::tool_path("BRT_BENCH_CUDA")}, kNotRequired);
        CHECK(skipped.exit_code == 0);
        CHECK_THAT(skipped.err, Catch::Contains("bench_cuda: skipped: " + probe.why_not));
        const auto required = test::run_command({test::tool_path("BRT_BENCH_CUDA")}, kRequired);
        CHECK(required.exit_code == 1);
        CHECK(required.out.empty());
        CHECK(required.err == "bench_cuda: " + failure + "\n");
    }
#endif
}
