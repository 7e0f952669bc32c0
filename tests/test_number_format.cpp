// The one number format of every tool's text, CSV and JSON output
// (common/json/number_format.hpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "common/json/number_format.hpp"

using namespace brt;

namespace {

float from_bits(std::uint32_t bits) {
    float value = 0;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

// The rule as scripts/read_segment.py states it: the fewest significant
// digits p for which the value correctly rounded to p digits reads back as
// the same float; returned in '%e' form.
std::string fewest_digits_reference(float value) {
    char text[64];
    for (int digits = 1; digits <= 9; ++digits) {
        std::snprintf(text, sizeof text, "%.*e", digits - 1, static_cast<double>(value));
        if (std::strtof(text, nullptr) == value) {
            break;
        }
    }
    return text;
}

}  // namespace

TEST_CASE("float32 values print as their shortest form that reads back", "[number_format]") {
    CHECK(format_float(3.806f) == "3.806");
    CHECK(format_float(106.7f) == "106.7");
    // The floats next to those need more digits to be told apart from them:
    // printing "3.806" for both (7 significant digits) loses the reading.
    CHECK(format_float(std::nextafter(3.806f, 10.0f)) == "3.8060002");
    CHECK(format_float(std::nextafter(106.7f, 1000.0f)) == "106.700005");
    CHECK(format_float(0.1f) == "0.1");
    CHECK(format_float(-2.5f) == "-2.5");
    CHECK(format_float(8.0f) == "8");
    CHECK(format_float(100.0f) == "100");
    CHECK(format_float(4.25f) == "4.25");
}

TEST_CASE("zero never prints with a minus sign", "[number_format]") {
    CHECK(format_float(0.0f) == "0");
    CHECK(format_float(-0.0f) == "0");
    CHECK(format_double(-0.0) == "0");
    CHECK(format_fixed(-0.0, 3) == "0.000");
    CHECK(format_fixed(-0.0004, 3) == "0.000");
    CHECK(format_fixed(-0.4, 0) == "0");
    CHECK(format_fixed(-1.5, 1) == "-1.5");
    CHECK(format_fixed(3.80649, 3) == "3.806");
}

TEST_CASE("small and large values: plain decimal from 1e-4 to below 1e16", "[number_format]") {
    CHECK(format_float(1e-7f) == "1e-07");
    CHECK(format_float(0.00001f) == "1e-05");
    CHECK(format_float(0.0001f) == "0.0001");
    CHECK(format_float(std::numeric_limits<float>::denorm_min()) == "1e-45");
    CHECK(format_float(1e7f) == "10000000");
    CHECK(format_float(123456792.0f) == "123456790");  // 8 digits tell it apart
    CHECK(format_float(1e15f) == "1000000000000000");
    CHECK(format_float(1e16f) == "1e+16");
    CHECK(format_float(std::numeric_limits<float>::max()) == "3.4028235e+38");
    CHECK(format_float(-std::numeric_limits<float>::max()) == "-3.4028235e+38");
}

TEST_CASE("NaN and infinities in text", "[number_format]") {
    CHECK(format_float(std::numeric_limits<float>::quiet_NaN()) == "nan");
    CHECK(format_float(-std::numeric_limits<float>::quiet_NaN()) == "nan");
    CHECK(format_float(std::numeric_limits<float>::infinity()) == "inf");
    CHECK(format_float(-std::numeric_limits<float>::infinity()) == "-inf");
    CHECK(format_double(std::numeric_limits<double>::quiet_NaN()) == "nan");
    CHECK(format_fixed(-std::numeric_limits<double>::quiet_NaN(), 2) == "nan");
}

TEST_CASE("every float reads back, with the fewest digits the rule gives", "[number_format]") {
    // A spread of bit patterns over the whole positive range (the sign only
    // adds a '-'), plus the neighbours of every power of two, where the gap
    // to the float below is half the gap above.
    auto check = [](float value) {
        const std::string text = format_float(value);
        INFO(text);
        REQUIRE(std::strtof(text.c_str(), nullptr) == value);
        const float reference = std::strtof(fewest_digits_reference(value).c_str(), nullptr);
        char ours[64];
        char theirs[64];
        // The same digits: both texts name the same decimal.
        std::snprintf(ours, sizeof ours, "%.17g", std::strtod(text.c_str(), nullptr));
        std::snprintf(theirs, sizeof theirs, "%.17g",
                      std::strtod(fewest_digits_reference(value).c_str(), nullptr));
        REQUIRE(reference == value);
        REQUIRE(std::string(ours) == std::string(theirs));
    };
    for (std::uint64_t bits = 1; bits < 0x7F800000u; bits += 40'009) {
        check(from_bits(static_cast<std::uint32_t>(bits)));
    }
    for (std::uint32_t exponent = 1; exponent < 255; ++exponent) {
        const std::uint32_t power = exponent << 23;
        for (std::uint32_t bits : {power - 1, power, power + 1}) {
            check(from_bits(bits));
        }
    }
}

TEST_CASE("other doubles print their shortest round-trip form", "[number_format]") {
    CHECK(format_double(99.80000000000001) == "99.80000000000001");
    CHECK(format_double(0.1) == "0.1");
    CHECK(format_double(12.0) == "12");
    CHECK(format_double(1e21) == "1e+21");
    CHECK(format_double(1e-300) == "1e-300");
    // A double holding a float32 reading prints as the float.
    CHECK(format_float32(static_cast<double>(3.806f)) == "3.806");
}

TEST_CASE("times print as exact seconds from nanoseconds", "[number_format]") {
    CHECK(format_seconds_from_ns(std::uint64_t{99'800'000'000}) == "99.8");
    CHECK(format_seconds_from_ns(std::uint64_t{0}) == "0");
    CHECK(format_seconds_from_ns(std::uint64_t{1}) == "0.000000001");
    CHECK(format_seconds_from_ns(std::uint64_t{5'000'000'000}) == "5");
    CHECK(format_seconds_from_ns(std::uint64_t{1'712'345'678'123'456'789}) ==
          "1712345678.123456789");
    CHECK(format_seconds_from_ns(std::int64_t{-1'500'000'000}) == "-1.5");
    CHECK(format_seconds_from_ns(std::numeric_limits<std::int64_t>::min()) ==
          "-9223372036.854775808");
    CHECK(format_seconds(0.1) == "0.1");
    CHECK(format_seconds(99.80000000000001) == "99.8");
    CHECK(format_seconds(-0.0) == "0");
}
