// Error and status messages of the segment library. The library depends on
// the standard library only, so instead of fmt it fills each "{}" of a
// pattern with the next argument as std::ostream prints it. Nothing else of
// fmt's syntax is understood: a pattern holds plain "{}" only.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace brt::segment_message {

inline void append(std::ostringstream& out, std::string_view pattern) {
    out << pattern;
}

template <typename First, typename... Rest>
void append(std::ostringstream& out, std::string_view pattern, const First& first,
            const Rest&... rest) {
    const std::size_t hole = pattern.find("{}");
    if (hole == std::string_view::npos) {
        out << pattern;
        return;
    }
    out << pattern.substr(0, hole) << first;
    append(out, pattern.substr(hole + 2), rest...);
}

template <typename... Args>
std::string format(std::string_view pattern, const Args&... args) {
    std::ostringstream out;
    append(out, pattern, args...);
    return out.str();
}

// A value with one decimal, e.g. MiB in a message.
inline std::string one_decimal(double value) {
    std::ostringstream out;
    out.setf(std::ios::fixed);
    out.precision(1);
    out << value;
    return out.str();
}

// A 64-bit value as 0x and 16 hex digits, e.g. a magic number.
inline std::string hex64(unsigned long long value) {
    std::ostringstream out;
    out << "0x";
    out.width(16);
    out.fill('0');
    out << std::hex << value;
    return out.str();
}

}  // namespace brt::segment_message
