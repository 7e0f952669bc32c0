// One way to print numbers, for every text, CSV and JSON output of every tool
// (and scripts/read_segment.py, which implements the same rules), so the
// same value reads the same everywhere. The rules (docs/segment-format.md,
// "Numbers in the tools' outputs"):
//
// - A float32 measurement (a column value, a limit, a statistic of a column)
//   prints as the shortest decimal that reads back as the same float32:
//   the fewest significant digits p (1..9) for which the value rounded to p
//   digits parses to the same float, so 3.806f is "3.806", not "3.8060002"
//   (its exact value 3.80600023...). Doubles that hold a float32 value are
//   narrowed to float first.
// - Any other double prints as its shortest round-trip decimal.
// - Layout of both: plain decimal ("106.7", "8", "0.0001") unless the
//   decimal exponent is below -4 or 16 and above, then "1e-05",
//   "3.4028235e+38" (sign and at least two exponent digits, as C's %e).
//   No trailing ".0": 8.0f prints "8".
// - Zero prints "0", never "-0"; fixed-decimal text never prints "-0.00".
// - Not-a-number prints "nan", infinities "inf" and "-inf". Outputs that
//   document otherwise test first: JSON writes null (JsonWriter), CSV an
//   empty field, tables "-", alarm text "n/a".
// - Times in seconds are exact to the nanosecond: the integer nanosecond
//   count written as seconds with at most nine decimals, trailing zeros
//   dropped ("99.8", "0.000000001", "1712345678.5").
#pragma once

#include <cstdint>
#include <string>

namespace brt {

std::string format_float(float value);
void append_float(std::string& out, float value);
// A double that holds a float32 measurement (a mean of float columns, say).
inline std::string format_float32(double value) {
    return format_float(static_cast<float>(value));
}

std::string format_double(double value);
void append_double(std::string& out, double value);

// `decimals` digits after the point, as printf's %.Nf, but a value that
// rounds to zero prints without a minus sign ("0.000", not "-0.000").
std::string format_fixed(double value, int decimals);

std::string format_seconds_from_ns(std::int64_t ns);
std::string format_seconds_from_ns(std::uint64_t ns);
// Seconds held in a double, rounded to the nanosecond first.
std::string format_seconds(double seconds);

}  // namespace brt
