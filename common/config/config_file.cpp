#include "common/config/config_file.hpp"

namespace brt {

CLI::Option* add_config_option(CLI::App& app) {
    app.allow_config_extras(CLI::config_extras_mode::error);
    return app
        .set_config("--config", "",
                    "Read options from FILE: one 'long-option-name = value' per line (e.g. "
                    "'shm-name = brt_lab'); the command line wins over the file")
        ->type_name("FILE")
        ->check(CLI::ExistingFile);
}

}  // namespace brt
