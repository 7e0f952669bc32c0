// --config FILE: every tool reads its options from a file of one syntax (the
// systemd units pass /etc/brt/<segment>/<tool>.conf), documented once in
// docs/operations.md, "Configuration files":
//
//   # comment                 ; comment too
//   shm-name = brt_lab        a key is a long option name without '--';
//   max_speed = true          dashes or underscores; a flag takes true/false
//   scenario = ["a:rack=1,start=5", "b"]   an array, or: a, b   (quote a
//                             value that holds spaces or commas)
//   [nmc]                     only where the tool declares the section: the
//   voltage-max = 4.1, 4.2, 4.3   keys below it are --nmc-voltage-max etc.
//   [default]                 back to the top level
//
// The file is read through CLI11 (the command line wins over the file), by
// a strict reader: an unknown key or section, a malformed line or a value the
// option refuses (not a number, not one of its choices, the wrong count) is a
// CLI::ConfigError naming the file, the line and the key, which run_tool
// turns into exit code 2. A typo in a deployed file never passes silently.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace brt {

// `text` without leading and trailing blanks, as the config reader takes keys
// and values.
std::string trim_blanks(std::string_view text);

// A [section] a tool accepts in its config file: a key under it names the
// option `option_prefix + key` ([nmc] with prefix "nmc-": voltage-max =
// sets --nmc-voltage-max).
struct ConfigSection {
    std::string name;
    std::string option_prefix;
};

// Adds --config FILE to `app` and makes the strict reader read it. `sections`
// are the [sections] the file may hold; none for most tools, which then
// refuse any [section] line with a message naming it. Declare the options
// before the parse (the reader checks the keys against them when it runs).
CLI::Option* add_config_option(CLI::App& app, std::vector<ConfigSection> sections = {});

// What `app` accepts in its config file, in one sentence for an error
// message: the keys, and its sections where it has any. Empty when `app` has
// no --config from add_config_option.
std::string config_file_hint(const CLI::App& app);

}  // namespace brt
