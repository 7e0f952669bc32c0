// --config FILE: a tool's options read from a CLI11 config file, as the
// systemd units pass them (/etc/brt/<segment>/<tool>.conf).
#pragma once

#include <CLI/CLI.hpp>

namespace brt {

// Adds --config FILE to `app`. The file holds `long-option-name = value`
// lines (TOML-like: `max-speed = true`, `scenario = ["a", "b"]`, `#`
// comments); options given on the command line win over the file. A missing
// file, an unknown key or a bad value is a usage error (exit 2), so a typo in
// a deployed config never passes silently.
CLI::Option* add_config_option(CLI::App& app);

}  // namespace brt
