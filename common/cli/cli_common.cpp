#include "common/cli/cli_common.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>

#include "brt_config.h"
#include "common/cli/exit_codes.hpp"
#include "common/config/config_file.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/segment_layout.hpp"
#include "common/segment/shm_name.hpp"

namespace brt {

std::string tool_name(const char* source_name) {
    std::string name = std::string(BRT_TOOL_PREFIX) + source_name;
    for (char& c : name) {
        if (c == '_') {
            c = '-';
        }
    }
    return name;
}

void add_common_options(CLI::App& app, std::string& shm_name) {
    shm_name = default_shm_name();
    app.add_option("--shm-name", shm_name,
                   "Shared-memory segment name (in /dev/shm); default $BATTERY_SHM or " +
                       std::string(BRT_DEFAULT_SHM_NAME))
        ->capture_default_str();
    app.set_version_flag("--version", fmt::format("{} {} (segment ABI {})", app.get_name(),
                                                  BRT_VERSION, kAbiVersion));
}

int run_tool(CLI::App& app, int argc, char** argv, const std::function<int()>& body) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& help) {
        return app.exit(help);
    } catch (const CLI::CallForAllHelp& help) {
        return app.exit(help);
    } catch (const CLI::CallForVersion& version) {
        return app.exit(version);
    } catch (const CLI::ConfigError& error) {
        // The reader names the file, the line and the key; the hint says
        // what this tool's file may hold (the keys, its sections if any).
        const std::string hint = config_file_hint(app);
        fmt::print(stderr, "{}: error: in the --config file: {}\n{}", app.get_name(), error.what(),
                   hint.empty() ? "" : hint + "\n");
        return kExitUsage;
    } catch (const CLI::ParseError& error) {
        fmt::print(stderr, "{}: error: {}\nRun '{} --help' for usage.\n", app.get_name(),
                   error.what(), app.get_name());
        return kExitUsage;
    }
    try {
        return body();
    } catch (const UsageError& error) {
        fmt::print(stderr, "{}: error: {}\n", app.get_name(), error.what());
        return kExitUsage;
    } catch (const std::exception& error) {
        fmt::print(stderr, "{}: error: {}\n", app.get_name(), error.what());
        return kExitRuntimeFailure;
    }
}

bool color_enabled(std::FILE* stream) {
    const char* no_color = std::getenv("NO_COLOR");
    if (no_color != nullptr && no_color[0] != '\0') {
        return false;
    }
    return isatty(fileno(stream)) != 0;
}

}  // namespace brt
