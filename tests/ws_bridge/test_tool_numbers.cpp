// One number format across the tools: for the same frame, brt-viewer's CSV
// and JSON, the bridge's module view and the Python reference reader print
// every float32 reading with the same digits (common/json/number_format.hpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "common/segment/segment_writer.hpp"
#include "support/run_command.hpp"
#include "support/test_frames.hpp"
#include "support/test_segment.hpp"
#include "ws_bridge/bridge_client.hpp"

using namespace brt;
using namespace brt::test;

namespace {

const Geometry kGeometry{2, 2, 8};  // rack 1, module 0 = cells 16..23
constexpr std::uint32_t kRack = 1;
constexpr std::uint32_t kModule = 0;
const char* const kFields[] = {"voltage_v", "current_a",      "temperature_c",
                               "soc",       "resistance_ohm", "soh"};

float from_bits(std::uint32_t bits) {
    float value = 0;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

// Readings whose digits go wrong in a careless formatter: neighbours of
// short decimals (which need 8 or 9 digits), negative zero, tiny and huge
// values, integers; the rest are arbitrary floats from 1e-6 to 1e6.
std::vector<float> awkward_values(std::size_t count) {
    std::vector<float> values = {
        3.806f,
        std::nextafter(3.806f, 10.0f),
        106.7f,
        std::nextafter(106.7f, 1000.0f),
        -0.0f,
        1e-7f,
        0.00001f,
        0.0001f,
        123456792.0f,
        std::numeric_limits<float>::max(),
        std::numeric_limits<float>::denorm_min(),
        0.1f,
        -2.5f,
        8.0f,
        1e16f,
        std::nextafter(0.3f, 0.0f),
    };
    std::uint32_t state = 12345;
    while (values.size() < count) {
        state = state * 1664525u + 1013904223u;
        // Exponents 2^-20 .. 2^19, any mantissa, either sign.
        const std::uint32_t exponent = 107 + (state >> 8) % 40;
        const std::uint32_t bits = (state & 0x80000000u) | (exponent << 23) | (state & 0x7FFFFFu);
        values.push_back(from_bits(bits));
    }
    return values;
}

// Publishes one frame, then only heartbeats: the writer stays live and every
// reader reads this very frame.
class OneFrameWriter {
  public:
    OneFrameWriter(const std::string& name, const FrameData& frame)
        : writer_(SegmentWriter::acquire(name, 100'000'000)) {
        writer_.publish_frame(frame);
        thread_ = std::thread([this] {
            while (!stop_.load()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                writer_.heartbeat();
            }
        });
    }
    ~OneFrameWriter() {
        stop_.store(true);
        thread_.join();
    }

  private:
    SegmentWriter writer_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// The number texts of `key` in `json` from `from` on, as they were written
// (null included), in order.
std::vector<std::string> number_texts(const std::string& json, const std::string& key,
                                      std::size_t from) {
    const std::regex pattern("\"" + key + R"(\":\s*(null|-?[0-9][0-9.eE+-]*))");
    std::vector<std::string> texts;
    for (auto it = std::sregex_iterator(json.begin() + static_cast<std::ptrdiff_t>(from),
                                        json.end(), pattern);
         it != std::sregex_iterator(); ++it) {
        texts.push_back((*it)[1]);
    }
    return texts;
}

// {"min": X, "mean": Y, "max": Z} of `key`: the first one in `json`.
std::pair<std::string, std::string> min_max_texts(const std::string& json, const std::string& key) {
    const std::regex pattern(
        "\"" + key + R"(\":\s*\{\"min\":\s*([^,]+),\s*\"mean\":\s*[^,]+,\s*\"max\":\s*([^,}]+))");
    std::smatch match;
    if (!std::regex_search(json, match, pattern)) {
        return {};
    }
    return {match[1], match[2]};
}

std::string frame_number_of(const std::string& json) {
    std::smatch match;
    return std::regex_search(json, match, std::regex(R"("frame":([0-9]+))")) ? match[1].str()
                                                                             : std::string();
}

}  // namespace

TEST_CASE("viewer CSV and JSON, the bridge and the Python reader print the same digits",
          "[ws_bridge][viewer][numbers]") {
    ScopedSegment segment("numbers", kGeometry);
    CellIndexFrame values(kGeometry, 100.0f);
    const CellRange cells = module_range(kGeometry, kRack, kModule);
    const std::vector<float> awkward = awkward_values(cells.cell_count * 6);
    for (std::uint64_t i = 0; i < cells.cell_count; ++i) {
        for (std::uint32_t f = 0; f < 6; ++f) {
            values.columns[f][cells.first_cell + i] = awkward[f * cells.cell_count + i];
        }
    }
    values.columns[2][cells.first_cell + 5] = std::numeric_limits<float>::quiet_NaN();
    values.racks[kRack].current_a = std::nextafter(12.5f, 0.0f);
    FrameData frame = values.view();
    frame.sim_time_ns = 99'800'000'000;
    frame.ambient_temperature_c = std::nextafter(25.1f, 0.0f);
    OneFrameWriter writer(segment.name(), frame);

    BridgeProcess bridge(segment.name());
    REQUIRE(becomes_live(bridge));
    const std::string target =
        "/api/v1/racks/" + std::to_string(kRack) + "/modules/" + std::to_string(kModule);
    const HttpResult reply = http_get(bridge.port(), target);
    REQUIRE(reply.status == 200);
    const std::string& bridge_json = reply.body;
    INFO(bridge_json);
    const std::size_t bridge_cells = bridge_json.find("\"cell_list\"");
    REQUIRE(bridge_cells != std::string::npos);

    const auto csv =
        run_command({tool_path("BRT_VIEWER"), "--shm-name", segment.name(), "--once", "--format",
                     "csv", "--rack", std::to_string(kRack), "--module", std::to_string(kModule)});
    INFO(csv.out << csv.err);
    REQUIRE(csv.exit_code == 0);
    const std::vector<std::string> lines = test::split(csv.out, '\n');
    REQUIRE(lines.size() == cells.cell_count + 1);
    const std::vector<std::string> header = test::split(lines[0], ',');

    const auto viewer_json =
        run_command({tool_path("BRT_VIEWER"), "--shm-name", segment.name(), "--once", "--format",
                     "json", "--rack", std::to_string(kRack), "--module", std::to_string(kModule)});
    REQUIRE(viewer_json.exit_code == 0);
    const std::size_t viewer_cells = viewer_json.out.find("\"cells\":[");
    REQUIRE(viewer_cells != std::string::npos);

    for (const char* field : kFields) {
        INFO(field);
        const auto column = std::find(header.begin(), header.end(), field) - header.begin();
        REQUIRE(column < static_cast<std::ptrdiff_t>(header.size()));
        const std::vector<std::string> from_bridge = number_texts(bridge_json, field, bridge_cells);
        const std::vector<std::string> from_viewer_json =
            number_texts(viewer_json.out, field, viewer_cells);
        REQUIRE(from_bridge.size() == cells.cell_count);
        REQUIRE(from_viewer_json == from_bridge);
        for (std::uint64_t i = 0; i < cells.cell_count; ++i) {
            const std::vector<std::string> row = test::split(lines[i + 1], ',');
            REQUIRE(row.size() == header.size());
            CHECK(row[0] == frame_number_of(bridge_json));
            // CSV leaves a NaN empty where JSON writes null.
            const std::string expected = from_bridge[i] == "null" ? "" : from_bridge[i];
            CHECK(row[static_cast<std::size_t>(column)] == expected);
        }
    }

    // What the digits are, not only that they agree: the neighbours of 3.806
    // and 106.7 keep the digits that tell them apart, -0 is 0.
    const std::vector<std::string> voltages = number_texts(bridge_json, "voltage_v", bridge_cells);
    CHECK(voltages[0] == "3.806");
    CHECK(voltages[1] == "3.8060002");
    CHECK(voltages[2] == "106.7");
    CHECK(voltages[3] == "106.700005");
    CHECK(voltages[4] == "0");
    CHECK(voltages[5] == "1e-07");
    CHECK(number_texts(bridge_json, "temperature_c", bridge_cells)[5] == "null");
    CHECK(number_texts(bridge_json, "string_current_a", 0).at(0) == "12.499999");
    CHECK(number_texts(bridge_json, "sim_time_s", 0).at(0) == "99.8");
    CHECK(number_texts(viewer_json.out, "sim_time_s", 0).at(0) == "99.8");
    CHECK(number_texts(viewer_json.out, "ambient_temperature_c", 0) ==
          number_texts(bridge_json, "ambient_temperature_c", 0));

    // The Python reader's module statistics: its min and max are readings.
    const char* python = std::getenv("BRT_PYTHON");
    if (python == nullptr) {
        WARN("no python3: the reference reader is not compared");
        return;
    }
    const auto from_python = run_command({python, tool_path("BRT_READ_SEGMENT_PY"), "--shm-name",
                                          segment.name(), "--rack", std::to_string(kRack),
                                          "--module", std::to_string(kModule), "--json"});
    INFO(from_python.out << from_python.err);
    REQUIRE(from_python.exit_code == 0);
    for (const char* field : kFields) {
        INFO(field);
        const auto bridge_min_max = min_max_texts(bridge_json, field);
        REQUIRE(!bridge_min_max.first.empty());
        CHECK(min_max_texts(from_python.out, field) == bridge_min_max);
    }
    CHECK(number_texts(from_python.out, "sim_time_s", 0).at(0) == "99.8");
    CHECK(number_texts(from_python.out, "current_a", from_python.out.find("rack_record")).at(0) ==
          "12.499999");
}
