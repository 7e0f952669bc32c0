#include "shm_name.hpp"

#include "message.hpp"

#include <cstdlib>

#include "errors.hpp"

namespace brt {

std::string default_shm_name() {
    const char* from_env = std::getenv("BATTERY_SHM");
    if (from_env != nullptr && from_env[0] != '\0') {
        return from_env;
    }
    return BRT_DEFAULT_SHM_NAME;
}

std::string normalize_shm_name(std::string_view name) {
    if (!name.empty() && name.front() == '/') {
        name.remove_prefix(1);  // POSIX spelling "/name" is accepted
    }
    constexpr std::size_t kMaxLength = 200;  // NAME_MAX is 255; leave room
    if (name.empty()) {
        throw UsageError("segment name is empty; give a name such as 'brt_telemetry'");
    }
    if (name.size() > kMaxLength) {
        throw UsageError(segment_message::format(
            "segment name is {} characters long; the limit is {}", name.size(), kMaxLength));
    }
    if (name == "." || name == "..") {
        throw UsageError(segment_message::format("'{}' is not a valid segment name", name));
    }
    for (char c : name) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (c == '/') {
            throw UsageError(segment_message::format(
                "segment name '{}' contains '/': a POSIX shared-memory name is a single "
                "file name in /dev/shm, such as 'brt_telemetry'",
                name));
        }
        if (!allowed) {
            throw UsageError(segment_message::format(
                "segment name '{}' contains '{}'; use only letters, digits, '.', '_' and '-'", name,
                c));
        }
    }
    return std::string(name);
}

std::string shm_open_name(const std::string& normalized_name) {
    return "/" + normalized_name;
}

std::string shm_path(const std::string& normalized_name) {
    return "/dev/shm/" + normalized_name;
}

}  // namespace brt
