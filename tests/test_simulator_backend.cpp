// --backend as a user meets it. On a machine without a usable GPU (CI):
// `auto` runs on the CPU and says why, `cuda` fails with exit code 1 before
// touching the segment. With a GPU, `auto` and `cuda` run on it. With
// BRT_REQUIRE_CUDA=1 (a GPU machine's runs) the no-GPU branch is a failure
// naming the probe's reason.
#include <catch2/catch.hpp>

#include <cstdio>

#include "common/segment/segment_reader.hpp"
#include "simulator/cuda_probe.hpp"
#include "support/run_command.hpp"
#include "support/test_segment.hpp"

using namespace brt;

namespace {

test::CommandOutput run_simulator(const std::string& segment, const std::string& backend) {
    return test::run_command({test::tool_path("BRT_SIMULATOR"), "--shm-name", segment, "--backend",
                              backend, "--max-speed", "--duration", "2", "--json"});
}

// The newest frame's time stamp and a plausible voltage in every cell.
void check_published(const std::string& segment) {
    SegmentReader reader(segment);
    reader.require_attached();
    CHECK(reader.writer_status().liveness == Liveness::stopped);
    FrameBuffer frame;
    REQUIRE(reader.read_latest(frame) == ReadOutcome::ok);
    CHECK(frame.sim_time_ns == 2'000'000'000ull);
    for (float v : frame.column(Field::voltage_v)) {
        CHECK(v > 3.0f);
        CHECK(v < 4.3f);
    }
}

// Every run says where it stepped and how it published, or why it did not
// run (meson's log keeps it).
void say_path(const std::string& backend, const test::CommandOutput& result) {
    const std::vector<std::string> lines = test::split(result.err, '\n');
    bool said = false;
    for (const std::string& line : lines) {
        if (line.rfind("backend: ", 0) == 0 || line.rfind("publishing frames ", 0) == 0) {
            std::fprintf(stderr, "simulator_backend: --backend %s: %s\n", backend.c_str(),
                         line.c_str());
            said = true;
        }
    }
    if (!said) {
        std::fprintf(stderr, "simulator_backend: --backend %s: exit code %d: %s\n", backend.c_str(),
                     result.exit_code, lines.empty() ? "" : lines[0].c_str());
    }
}

// What the CUDA backend says at its first frame when frames go straight into
// the slots. The staging fallback passes every other check, so a refused
// cudaHostRegister would otherwise go unnoticed.
constexpr const char* kRegisteredPath =
    "publishing frames device to segment (registered with cudaHostRegister)";

// The probe, failing the test where the GPU is required and not usable.
CudaProbe probe_for_test() {
    const CudaProbe probe = probe_cuda();
    if (!probe.usable && cuda_required()) {
        // Also unwrapped on stderr: Catch2 wraps its message at 80 columns.
        std::fprintf(stderr, "%s\n", cuda_required_failure(probe).c_str());
        FAIL(cuda_required_failure(probe));
    }
    return probe;
}

}  // namespace

TEST_CASE("--backend cpu runs on the CPU whatever the machine has", "[simulator-backend]") {
    test::ScopedSegment scoped("backend-cpu", Geometry{4, 2, 16});
    const auto result = run_simulator(scoped.name(), "cpu");
    say_path("cpu", result);
    INFO(result.err);
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.err, Catch::Contains("backend: CPU backend (--backend cpu)"));
    CHECK_THAT(result.out, Catch::Contains("\"backend\":\"cpu\""));
    CHECK_THAT(result.out, Catch::Contains("\"frames\":21"));
    check_published(scoped.name());
}

TEST_CASE("--backend auto takes the GPU when one is usable and says why it did not",
          "[simulator-backend]") {
    test::ScopedSegment scoped("backend-auto", Geometry{4, 2, 16});
    const CudaProbe probe = probe_for_test();
    const auto result = run_simulator(scoped.name(), "auto");
    say_path("auto", result);
    INFO(result.err);
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.out, Catch::Contains("\"frames\":21"));
    if (probe.usable) {
        CHECK_THAT(result.err, Catch::Contains("backend: CUDA backend on " + probe.description));
        CHECK_THAT(result.err, Catch::Contains(kRegisteredPath));
        CHECK_THAT(result.out, Catch::Contains("\"backend\":\"cuda\""));
    } else {
        // The reason names what is missing, e.g. the driver.
        CHECK_THAT(result.err,
                   Catch::Contains("backend: CPU backend (--backend auto: " + probe.why_not + ")"));
        CHECK_THAT(result.out, Catch::Contains("\"backend\":\"cpu\""));
        CHECK(result.err.find("publishing frames") == std::string::npos);
    }
    check_published(scoped.name());
}

TEST_CASE("--backend cuda fails cleanly without a usable GPU, and runs on one",
          "[simulator-backend]") {
    test::ScopedSegment scoped("backend-cuda", Geometry{4, 2, 16});
    const CudaProbe probe = probe_for_test();
    const auto result = run_simulator(scoped.name(), "cuda");
    say_path("cuda", result);
    INFO(result.err);
    if (probe.usable) {
        CHECK(result.exit_code == 0);
        CHECK_THAT(result.out, Catch::Contains("\"backend\":\"cuda\""));
        CHECK_THAT(result.err, Catch::Contains(kRegisteredPath));
        check_published(scoped.name());
        return;
    }
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Catch::Contains("--backend cuda: " + probe.why_not));
    CHECK_THAT(result.err, Catch::Contains("Use --backend auto (or cpu)"));
    CHECK(result.out.empty());
    // Refused before taking the writer role: the segment is as it was.
    const MappedSegment segment = open_segment(scoped.name(), SegmentAccess::reader);
    CHECK(segment.header().writer_state.load() ==
          static_cast<std::uint32_t>(WriterState::never_started));
    CHECK(segment.header().latest_frame.load() == 0);
}
