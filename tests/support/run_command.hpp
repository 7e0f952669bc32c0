// Runs a tool as a user would and captures what it printed.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace brt::test {

struct CommandOutput {
    int exit_code = -1;  // 128 + signal when killed by one
    std::string out;
    std::string err;
};

// argv[0] is a path. `extra_env` entries ("NAME=value") are added to the
// current environment.
CommandOutput run_command(const std::vector<std::string>& argv,
                          const std::vector<std::string>& extra_env = {});

// Path of a built tool, from the environment variable meson test sets.
std::string tool_path(const char* env_variable);

}  // namespace brt::test
