// The alarm limits on a command line and in a config file, for every tool
// that runs the alarm engine (brt-anomaly-monitor, brt-ws-bridge).
//
//   CLI::App app{...};
//   AlarmConfigOptions alarm_options(app);   // adds --config and the limit options
//   ... app.parse(argc, argv) (run_tool) ...
//   const AlarmConfig config = alarm_options.config();   // validated; throws UsageError
//
// Precedence: built-in defaults < config file < command line. The config
// file has the syntax of every tool's (common/config/config_file.hpp,
// docs/operations.md "Configuration files"): a key is a long option name
// without the dashes, and the sections [nmc] and [lfp] prefix their keys:
//
//   voltage-plausibility = 0.3
//   [nmc]
//   voltage-max = 4.15, 4.20, 4.25    # MOL, RSL, MSL
//   soc-min = [0.10, 0.05, off]       # "off" switches a level off
//
// Any line that is not one of these, an unknown key, the wrong number of
// values or a value that is not a number is refused before anything is
// applied, with a message naming the file and the line (CLI::ConfigError,
// exit code 2 through run_tool).
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/alarm/alarm_rules.hpp"

namespace brt {

class AlarmConfigOptions {
  public:
    // Adds --config FILE (add_config_option with the sections [nmc] and
    // [lfp]) and one option per setting of AlarmConfig (in an option group
    // "Alarm limits") to `app`. The object must outlive the parse.
    explicit AlarmConfigOptions(CLI::App& app);
    AlarmConfigOptions(const AlarmConfigOptions&) = delete;
    AlarmConfigOptions& operator=(const AlarmConfigOptions&) = delete;
    ~AlarmConfigOptions();

    // After the parse: the defaults with the file's and the command line's
    // values applied, validated. Throws UsageError naming the bad option.
    AlarmConfig config() const;

  private:
    struct Values;
    std::unique_ptr<Values> values_;
};

// Reads only a config file (no command line), e.g. for a tool that takes its
// path from elsewhere. Throws UsageError naming the file and line.
AlarmConfig load_alarm_config_file(const std::string& path);

}  // namespace brt
