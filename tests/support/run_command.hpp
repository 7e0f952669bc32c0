// Runs a tool as a user would and captures what it printed.
#pragma once

#include <sys/types.h>

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

// Starts a tool in the background with stdout and stderr going to `log_path`.
pid_t spawn_background(const std::vector<std::string>& argv, const std::string& log_path,
                       const std::vector<std::string>& extra_env = {});
// Waits up to `timeout_ms` for `pid`; returns its exit code (128 + signal),
// or -1 after killing it with SIGKILL when it did not end in time.
int wait_for_exit(pid_t pid, int timeout_ms);
std::string read_file(const std::string& path);
// `text` cut at every `separator` (a trailing one makes no empty last part).
std::vector<std::string> split(const std::string& text, char separator);

// Kills (SIGKILL) and reaps child processes however a test ends, so a failed
// REQUIRE never leaves a tool running (meson would wait for it forever).
struct KillOnExit {
    std::vector<pid_t> pids;
    ~KillOnExit();
};

// `argv` as it must be started: under a cross build's emulator
// (BRT_EXE_WRAPPER, e.g. "qemu-aarch64-static",
// set by tests/meson.build) when argv[0] is a program built for the same
// machine as this test, so that a test running under QEMU can start the
// project's tools without binfmt_misc; unchanged otherwise.
std::vector<std::string> with_exe_wrapper(const std::vector<std::string>& argv);

// Path of a built tool, from the environment variable meson test sets.
std::string tool_path(const char* env_variable);

}  // namespace brt::test
