// Segment names: validated once, at the edge, so a bad name is a usage error
// with a clear message instead of a confusing errno from shm_open.
#pragma once

#include <string>
#include <string_view>

namespace brt {

// $BATTERY_SHM when set and non-empty, otherwise the build's default name.
std::string default_shm_name();

// Returns the name without a leading '/'. Throws UsageError when the name is
// empty, too long, contains '/' past the first character, or characters
// outside [A-Za-z0-9._-].
std::string normalize_shm_name(std::string_view name);

// "/name", as shm_open wants it.
std::string shm_open_name(const std::string& normalized_name);
// "/dev/shm/name", for messages and for users.
std::string shm_path(const std::string& normalized_name);

}  // namespace brt
