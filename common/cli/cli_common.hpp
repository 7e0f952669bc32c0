// What every tool's command line has in common: --shm-name with its default,
// --version, the exit-code policy, NO_COLOR.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <functional>
#include <string>

namespace brt {

// Adds --shm-name (default $BATTERY_SHM, else the build default) and --version.
void add_common_options(CLI::App& app, std::string& shm_name);

// Parses, runs `body`, and maps failures to exit codes: CLI11 parse errors and
// UsageError print "<tool>: error: ..." and return 2; SegmentError and other
// exceptions return 1. `body` returns the tool's own exit code.
int run_tool(CLI::App& app, int argc, char** argv, const std::function<int()>& body);

// Colour on `stream` only when it is a terminal and NO_COLOR is unset or empty.
bool color_enabled(std::FILE* stream);

// The installed name of a tool, e.g. "brt-shm-init".
std::string tool_name(const char* source_name);

}  // namespace brt
