// docs/segment-format.md is the contract for readers in other languages;
// scripts/read_segment.py was written from it alone. It must read the same
// values the C++ writer published.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#include "common/json/number_format.hpp"

#include "common/segment/segment_writer.hpp"
#include "common/segment/shm_name.hpp"
#include "support/run_command.hpp"
#include "support/test_frames.hpp"
#include "support/test_segment.hpp"

using namespace brt;

TEST_CASE("the Python reference reader reads what the writer published", "[python]") {
    const Geometry geometry{3, 2, 4};
    test::ScopedSegment scoped("python", geometry);
    SegmentWriter writer = SegmentWriter::acquire(scoped.name(), 100'000'000);
    // Each value is its cell index plus a per-column offset: exact in float32.
    // Numbers print as every tool prints them (common/json/number_format.hpp):
    // whole numbers without ".0".
    test::CellIndexFrame values(geometry, 100.0f);
    values.columns[2][9] = std::numeric_limits<float>::quiet_NaN();  // a dropout in rack 1
    const FrameData frame = values.view();
    for (int i = 0; i < 5; ++i) {
        writer.publish_frame(frame);
    }

    const auto output =
        test::run_command({test::tool_path("BRT_PYTHON"), test::tool_path("BRT_READ_SEGMENT_PY"),
                           "--shm-name", scoped.name(), "--rack", "1", "--json"});
    INFO(output.err);
    REQUIRE(output.exit_code == 0);
    CHECK_THAT(output.out, Catch::Contains("\"frame_number\": 5"));
    CHECK_THAT(output.out, Catch::Contains("\"racks\": 3"));
    CHECK_THAT(output.out, Catch::Contains("\"writer_state\": \"running\""));
    // Rack 1 is cells 8..15.
    CHECK_THAT(output.out,
               Catch::Contains("\"voltage_v\": {\"min\": 8, \"mean\": 11.5, \"max\": 15}"));
    // The NaN at cell 9 is left out of the statistics.
    CHECK_THAT(output.out, Catch::Contains("\"temperature_c\": {\"min\": 208,"));
    CHECK_THAT(output.out,
               Catch::Contains("\"soh\": {\"min\": 508, \"mean\": 511.5, \"max\": 515}"));

    const auto module =
        test::run_command({test::tool_path("BRT_PYTHON"), test::tool_path("BRT_READ_SEGMENT_PY"),
                           "--shm-name", scoped.name(), "--rack", "2", "--module", "1", "--json"});
    REQUIRE(module.exit_code == 0);
    // Rack 2, module 1 is cells 20..23.
    CHECK_THAT(module.out,
               Catch::Contains("\"current_a\": {\"min\": 120, \"mean\": 121.5, \"max\": 123}"));

    const auto bad_rack =
        test::run_command({test::tool_path("BRT_PYTHON"), test::tool_path("BRT_READ_SEGMENT_PY"),
                           "--shm-name", scoped.name(), "--rack", "3"});
    CHECK(bad_rack.exit_code == 2);
}

TEST_CASE("the Python reference reader refuses a zero generation and unknown chemistry codes",
          "[python]") {
    const Geometry geometry{3, 2, 4};
    test::ScopedSegment scoped("python-malformed", geometry);
    std::uint64_t offset = 0;
    std::vector<std::byte> bytes;
    std::string expected;
    SECTION("generation 0") {
        offset = offsetof(SegmentHeader, generation);
        bytes.resize(8);  // zeros
        expected = "its generation is 0";
    }
    SECTION("latest_frame at 2^64 - 1") {
        offset = offsetof(SegmentHeader, latest_frame);
        bytes.assign(8, std::byte{0xFF});
        expected = "latest_frame is 18446744073709551615";
    }
    SECTION("chemistry code 7 in rack 1") {
        offset = compute_layout(geometry, kDefaultSlots).rack_chemistry_offset + 4;
        const std::uint32_t code = 7;
        bytes.resize(4);
        std::memcpy(bytes.data(), &code, 4);
        expected = "rack 1 has chemistry code 7";
    }
    const int fd = shm_open(shm_open_name(scoped.name()).c_str(), O_RDWR, 0);
    REQUIRE(fd >= 0);
    REQUIRE(pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)) ==
            static_cast<ssize_t>(bytes.size()));
    close(fd);

    const auto output =
        test::run_command({test::tool_path("BRT_PYTHON"), test::tool_path("BRT_READ_SEGMENT_PY"),
                           "--shm-name", scoped.name()});
    INFO(output.out << output.err);
    CHECK(output.exit_code == 1);
    CHECK_THAT(output.err, Catch::Contains("is malformed: " + expected));
    CHECK_THAT(output.err, Catch::Contains("--force"));
}

TEST_CASE("the Python reader formats float32 values with the tools' digits", "[python]") {
    // Bit patterns over the whole float range, the neighbours of every power
    // of two (where the gap below is half the gap above) and the awkward
    // cases: each must print exactly as common/json/number_format.cpp prints it.
    std::vector<std::uint32_t> patterns = {0x80000000u /* -0 */, 0x7FC00000u /* NaN */,
                                           0x7F800000u,          0xFF800000u,
                                           0x7F7FFFFFu,          0x00000001u};
    for (std::uint64_t bits = 1; bits < 0xFF800000u; bits += 1'000'003) {
        patterns.push_back(static_cast<std::uint32_t>(bits));
    }
    for (std::uint32_t exponent = 1; exponent < 255; ++exponent) {
        for (std::uint32_t bits : {(exponent << 23) - 1, exponent << 23, (exponent << 23) + 1}) {
            patterns.push_back(bits);
        }
    }
    for (float value : {3.806f, 106.7f, 0.1f, 1e-7f, 123456792.0f}) {
        for (float near : {value, std::nextafter(value, 0.0f), std::nextafter(value, 1e30f)}) {
            std::uint32_t bits = 0;
            std::memcpy(&bits, &near, sizeof bits);
            patterns.push_back(bits);
        }
    }
    const std::string path = test::unique_segment_name("float_bits") + ".txt";
    {
        std::ofstream file("/tmp/" + path);
        for (std::uint32_t bits : patterns) {
            file << bits << "\n";
        }
    }
    const std::string script =
        "import os, struct, sys\n"
        "sys.path.insert(0, os.path.dirname(sys.argv[1]))\n"
        "import read_segment\n"
        "for line in open(sys.argv[2]):\n"
        "    value = struct.unpack('<f', struct.pack('<I', int(line)))[0]\n"
        "    print(read_segment.format_float32(value))\n";
    const auto output = test::run_command({test::tool_path("BRT_PYTHON"), "-c", script,
                                           test::tool_path("BRT_READ_SEGMENT_PY"), "/tmp/" + path});
    std::remove(("/tmp/" + path).c_str());
    INFO(output.err);
    REQUIRE(output.exit_code == 0);
    std::istringstream lines(output.out);
    std::string line;
    std::size_t compared = 0;
    for (std::uint32_t bits : patterns) {
        REQUIRE(std::getline(lines, line));
        float value = 0;
        std::memcpy(&value, &bits, sizeof value);
        INFO("bits " << bits);
        CHECK(line == format_float(value));
        ++compared;
    }
    CHECK(compared == patterns.size());
}
