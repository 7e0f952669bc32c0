#include "common/json/number_format.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <string_view>
#include <system_error>

namespace brt {

namespace {

// Room for any float or double in scientific form with up to 17 digits.
constexpr std::size_t kScientificChars = 32;
// A float32 always reads back from 9 significant digits.
constexpr int kFloat32MaxDigits = 9;
// Plain decimal for decimal exponents in [-4, 16), as Python's repr and fmt's
// "{}" for doubles, so values a reader meets (volts to megawatts) never come
// in exponent form.
constexpr int kLowestPlainExponent = -4;
constexpr int kFirstExponentForm = 16;

// Appends the decimal in `scientific` (std::to_chars' scientific form:
// "-3.806e+00", "1e-07") in the layout of number_format.hpp.
void append_layout(std::string& out, std::string_view scientific) {
    const bool negative = scientific.front() == '-';
    if (negative) {
        scientific.remove_prefix(1);
    }
    const std::size_t e = scientific.find('e');
    // At most 17 significant digits (a double); no allocation on this path.
    char digit_buffer[kScientificChars];
    std::size_t digit_count = 0;
    for (char c : scientific.substr(0, e)) {
        if (c != '.') {
            digit_buffer[digit_count++] = c;
        }
    }
    std::string_view exponent_text = scientific.substr(e + 1);
    const bool negative_exponent = exponent_text.front() == '-';
    if (exponent_text.front() == '-' || exponent_text.front() == '+') {
        exponent_text.remove_prefix(1);
    }
    int exponent = 0;
    std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);
    if (negative_exponent) {
        exponent = -exponent;
    }
    while (digit_count > 1 && digit_buffer[digit_count - 1] == '0') {
        --digit_count;
    }
    const std::string_view digits(digit_buffer, digit_count);
    if (digits == "0") {
        out += '0';  // never "-0"
        return;
    }
    if (negative) {
        out += '-';
    }
    if (exponent < kLowestPlainExponent || exponent >= kFirstExponentForm) {
        out += digits[0];
        if (digits.size() > 1) {
            out += '.';
            out.append(digits.substr(1));
        }
        out += exponent < 0 ? "e-" : "e+";
        const int magnitude = exponent < 0 ? -exponent : exponent;
        if (magnitude < 10) {
            out += '0';
        }
        char exponent_digits[8];
        const auto end =
            std::to_chars(exponent_digits, exponent_digits + sizeof exponent_digits, magnitude);
        out.append(exponent_digits, end.ptr);
    } else if (exponent >= 0) {
        const auto whole_digits = static_cast<std::size_t>(exponent) + 1;
        if (digits.size() <= whole_digits) {
            out += digits;
            out.append(whole_digits - digits.size(), '0');
        } else {
            out += digits.substr(0, whole_digits);
            out += '.';
            out += digits.substr(whole_digits);
        }
    } else {
        out += "0.";
        out.append(static_cast<std::size_t>(-exponent - 1), '0');
        out += digits;
    }
}

// NaN and infinities; false for finite values.
bool append_non_finite(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "nan";
        return true;
    }
    if (std::isinf(value)) {
        out += value > 0 ? "inf" : "-inf";
        return true;
    }
    return false;
}

std::size_t significant_digits(std::string_view scientific) {
    std::size_t count = 0;
    for (char c : scientific.substr(0, scientific.find('e'))) {
        count += c >= '0' && c <= '9' ? 1 : 0;
    }
    return count;
}

}  // namespace

void append_float(std::string& out, float value) {
    if (append_non_finite(out, value)) {
        return;
    }
    if (value == 0.0f) {
        out += '0';
        return;
    }
    // The fewest digits p for which the value correctly rounded to p digits
    // parses back to the same float: the rule scripts/read_segment.py
    // implements with '%.{p-1}e'. Fewer digits than the shortest round-trip
    // form (to_chars without a precision) can never read back, so the
    // search starts there; it almost always ends there too.
    char text[kScientificChars];
    auto written = std::to_chars(text, text + sizeof text, value, std::chars_format::scientific);
    // Away from powers of two the float's rounding interval is symmetric, so
    // the closest decimal of that many digits (what to_chars picks) is the
    // correctly rounded one: the search would end where it starts.
    std::uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    const bool power_of_two = (bits & 0x7FFFFFu) == 0 && ((bits >> 23) & 0xFFu) > 1;
    if (!power_of_two) {
        append_layout(out, {text, written.ptr});
        return;
    }
    const auto shortest = static_cast<int>(significant_digits({text, written.ptr}));
    for (int digits = shortest; digits <= kFloat32MaxDigits; ++digits) {
        written = std::to_chars(text, text + sizeof text, value, std::chars_format::scientific,
                                digits - 1);
        float back = 0.0f;
        const auto parsed = std::from_chars(text, written.ptr, back);
        if (parsed.ec == std::errc{} && back == value) {
            break;
        }
    }
    append_layout(out, {text, written.ptr});
}

std::string format_float(float value) {
    std::string out;
    append_float(out, value);
    return out;
}

void append_double(std::string& out, double value) {
    if (append_non_finite(out, value)) {
        return;
    }
    char text[kScientificChars];
    const auto written =
        std::to_chars(text, text + sizeof text, value, std::chars_format::scientific);
    append_layout(out, {text, written.ptr});
}

std::string format_double(double value) {
    std::string out;
    append_double(out, value);
    return out;
}

std::string format_fixed(double value, int decimals) {
    if (std::isnan(value)) {
        return "nan";  // fmt would write "-nan" for a NaN with its sign bit set
    }
    std::string text = fmt::format("{:.{}f}", value, decimals);
    if (text.front() == '-' && text.find_first_not_of("0.", 1) == std::string::npos) {
        text.erase(0, 1);  // -0.0004 to 3 decimals is "0.000"
    }
    return text;
}

std::string format_seconds_from_ns(std::uint64_t ns) {
    constexpr std::uint64_t kNsPerSecond = 1'000'000'000;
    std::string text = std::to_string(ns / kNsPerSecond);
    const std::uint64_t fraction = ns % kNsPerSecond;
    if (fraction != 0) {
        std::string decimals = fmt::format("{:09}", fraction);
        while (decimals.back() == '0') {
            decimals.pop_back();
        }
        text += '.';
        text += decimals;
    }
    return text;
}

std::string format_seconds_from_ns(std::int64_t ns) {
    if (ns >= 0) {
        return format_seconds_from_ns(static_cast<std::uint64_t>(ns));
    }
    // -(ns + 1) + 1 stays in range for the most negative value.
    return "-" + format_seconds_from_ns(static_cast<std::uint64_t>(-(ns + 1)) + 1);
}

std::string format_seconds(double seconds) {
    // Beyond about 290 years the nanoseconds no longer fit in 64 bits.
    constexpr double kLargestExactSeconds = 9.0e9;
    if (!std::isfinite(seconds) || std::fabs(seconds) >= kLargestExactSeconds) {
        return format_double(seconds);
    }
    return format_seconds_from_ns(static_cast<std::int64_t>(std::llround(seconds * 1e9)));
}

}  // namespace brt
