#include "errors.hpp"

#include <cstring>

namespace brt {

std::string errno_text(int error_number) {
    char buffer[256];
    // GNU strerror_r may return a static string instead of filling buffer.
    const char* text = strerror_r(error_number, buffer, sizeof buffer);
    return text;
}

}  // namespace brt
