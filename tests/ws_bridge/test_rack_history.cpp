// The bridge's rack history: points per interval (min of minima, mean of
// means, max of maxima), oldest first, bounded in memory however many racks.
#include <catch2/catch.hpp>

#include <cmath>

#include "ws_bridge/rack_history.hpp"

using namespace brt;
using namespace brt::bridge;

namespace {

constexpr std::uint32_t kVoltageMask = 1u << static_cast<std::uint32_t>(Field::voltage_v);

// One frame of `racks` racks whose every cell voltage lies in [low, high].
std::vector<GroupSummary> racks_at(std::size_t racks, float low, float high) {
    std::vector<GroupSummary> out(racks);
    for (GroupSummary& rack : out) {
        FieldSummary& voltage = rack.fields[static_cast<std::size_t>(Field::voltage_v)];
        voltage.min = low;
        voltage.max = high;
        voltage.sum = (low + high) / 2.0 * 10;
        voltage.valid = 10;
    }
    return out;
}

std::uint64_t at_s(double seconds) {
    return static_cast<std::uint64_t>(seconds * 1e9);
}

}  // namespace

TEST_CASE("frames within one second merge into one point, kept when the second is over",
          "[ws_bridge][history]") {
    RackHistory history;
    history.add(at_s(1000.1), racks_at(2, 3.6f, 3.7f));
    history.add(at_s(1000.6), racks_at(2, 3.5f, 3.9f));
    CHECK(history.series(0, kVoltageMask)->time_unix_s.empty());  // the second is not over
    history.add(at_s(1001.2), racks_at(2, 3.0f, 3.1f));
    const auto series = history.series(1, kVoltageMask);
    REQUIRE(series);
    REQUIRE(series->time_unix_s.size() == 1);
    CHECK(series->time_unix_s[0] == 1000.0);
    const std::vector<float>& voltage = series->values[0];
    CHECK(voltage[0] == 3.5f);                      // min of the minima
    CHECK(voltage[1] == Approx((3.65 + 3.7) / 2));  // mean of the means
    CHECK(voltage[2] == 3.9f);                      // max of the maxima
    CHECK(series->values[2].empty());               // temperature was not asked for
    CHECK_FALSE(history.series(2, kVoltageMask));   // no such rack
}

TEST_CASE("the history keeps its span and drops the oldest points", "[ws_bridge][history]") {
    RackHistory history({.span_s = 10, .max_bytes = 1 << 20});
    for (int second = 0; second < 25; ++second) {
        history.add(at_s(5000 + second), racks_at(1, 3.0f + 0.01f * second, 3.5f));
    }
    const auto series = history.series(0, kVoltageMask);
    REQUIRE(series);
    CHECK(series->interval_s == 1);
    REQUIRE(series->time_unix_s.size() == 10);
    CHECK(series->time_unix_s.front() == 5014.0);  // 24 closed points, the newest 10 kept
    CHECK(series->time_unix_s.back() == 5023.0);
    CHECK(series->values[0][0] == Approx(3.14f));
}

TEST_CASE("a large system gets coarser points within the memory bound, never more memory",
          "[ws_bridge][history]") {
    const std::uint64_t budget = 8 << 20;  // 20 racks: 1,448 B a point, 5.2 MB an hour
    RackHistory small({.span_s = 3600, .max_bytes = budget});
    small.add(at_s(1), racks_at(20, 3.6f, 3.7f));
    CHECK(small.usage().interval_s == 1);
    CHECK(small.usage().capacity == 3600);
    CHECK(small.usage().bytes <= budget);

    RackHistory large({.span_s = 3600, .max_bytes = budget});
    large.add(at_s(1), racks_at(1000, 3.6f, 3.7f));  // 72 kB a point
    CHECK(large.usage().interval_s == 60);
    CHECK(large.usage().capacity == 60);
    CHECK(large.usage().bytes <= budget);

    RackHistory huge({.span_s = 3600, .max_bytes = budget});
    huge.add(at_s(1),
             racks_at(100'000, 3.6f, 3.7f));  // 7.2 MB a point: two points, the least a trend needs
    CHECK(huge.usage().interval_s == 600);
    CHECK(huge.usage().capacity == 2);
}

TEST_CASE("the history's JSON: one array per statistic, NaN as null", "[ws_bridge][history]") {
    RackHistory history;
    auto racks = racks_at(1, 3.6f, 3.7f);
    history.add(at_s(10), racks);
    racks[0].fields[static_cast<std::size_t>(Field::voltage_v)] = FieldSummary{};  // no reading
    history.add(at_s(11), racks);
    history.add(at_s(12), racks);
    const auto json = rack_history_json(history, 0, kVoltageMask);
    REQUIRE(json);
    CHECK(*json == R"({"type":"history","rack":0,"interval_s":1,"span_s":3600,"points":2,)"
                   R"("time_unix_s":[10,11],"voltage_v":{"min":[3.6,null],"mean":[3.65,null],)"
                   R"("max":[3.7,null]}})");
    CHECK_FALSE(rack_history_json(history, 1, 0));
}
