#include "common/config/config_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace brt {

namespace {

// Levenshtein distance, to suggest the option a misspelt key meant.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string join_sections(const std::vector<ConfigSection>& sections) {
    std::string text;
    for (std::size_t i = 0; i < sections.size(); ++i) {
        if (i > 0) {
            text += i + 1 == sections.size() ? " and " : ", ";
        }
        text += "[" + sections[i].name + "]";
    }
    return text;
}

// Why `value` cannot be a value of an option whose CLI11 type is
// `type_name` (INT, UINT, FLOAT, BOOLEAN), or nothing when it can (or when
// the type is one CLI11 converts in its own way: it then judges the value).
std::optional<std::string> type_mismatch(const std::string& type_name, const std::string& value) {
    const bool number = type_name == "INT" || type_name == "UINT" || type_name == "FLOAT";
    if (value.empty() && (number || type_name == "BOOLEAN")) {
        return "an empty value";
    }
    if (type_name == "INT") {
        std::int64_t number = 0;
        if (!CLI::detail::lexical_cast(value, number)) {
            return fmt::format("'{}' is not a whole number", value);
        }
    } else if (type_name == "UINT") {
        // strtoull takes "-1" as 2^64-1; no one means that in a config file.
        std::uint64_t number = 0;
        if (value.front() == '-' || !CLI::detail::lexical_cast(value, number)) {
            return fmt::format("'{}' is not a whole number >= 0", value);
        }
    } else if (type_name == "FLOAT") {
        double number = 0;
        if (!CLI::detail::lexical_cast(value, number)) {
            return fmt::format("'{}' is not a number", value);
        }
    } else if (type_name == "BOOLEAN") {
        bool flag = false;
        if (!CLI::detail::lexical_cast(value, flag)) {
            return fmt::format("'{}' is not true or false", value);
        }
    }
    return std::nullopt;
}

// CLI11's config reader, strict: every line must be a comment, a section
// the tool declared or `key = value` with a key that is one of the tool's
// options and values that option takes, and an error names the file, the
// line and the key. The items it returns name the options directly (a
// section's prefix applied), so CLI11 sets them as it sets any config item.
class StrictConfigReader : public CLI::ConfigBase {
  public:
    StrictConfigReader(CLI::App& app, std::vector<ConfigSection> sections)
        : app_(app), sections_(std::move(sections)) {}

    const std::vector<ConfigSection>& sections() const { return sections_; }

    std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
        std::vector<CLI::ConfigItem> items;
        const ConfigSection* section = nullptr;     // the top level
        std::map<const CLI::Option*, int> line_of;  // the line that set each option
        std::string raw_line;
        int line_number = 0;
        while (std::getline(input, raw_line)) {
            ++line_number;
            const auto fail = [&](const std::string& why) {
                throw CLI::ConfigError(fmt::format("{}line {}: {} (the line reads: '{}')",
                                                   file_prefix(), line_number, why,
                                                   trim_blanks(raw_line)));
            };
            const std::string line = strip_comment(raw_line, fail);
            if (line.empty()) {
                continue;
            }
            if (line.front() == '[') {
                section = find_section(line, fail);
                continue;
            }
            const auto equals = line.find('=');
            if (equals == std::string::npos) {
                fail("expected 'key = value'");
            }
            std::string key = trim_blanks(line.substr(0, equals));
            if (key.empty()) {
                fail("missing key before '='");
            }
            std::replace(key.begin(), key.end(), '_', '-');
            const std::string name = section == nullptr ? key : section->option_prefix + key;
            const std::string value = trim_blanks(line.substr(equals + 1));
            if (value.empty()) {
                fail(fmt::format("no value for {}", name));
            }
            std::vector<std::string> values = split_values(value, fail);
            CLI::Option* option = find_option(name);
            if (option == nullptr) {
                fail(unknown_key(key, section));
            }
            if (!option->get_configurable()) {
                fail(fmt::format("{} cannot be set in a config file", name));
            }
            // CLI11 would keep the first and drop the second without a word.
            if (const auto [first, inserted] = line_of.emplace(option, line_number); !inserted) {
                fail(fmt::format("{} is set twice (first on line {})", name, first->second));
            }
            check_values(*option, name, values, fail);
            CLI::ConfigItem item;
            item.name = name;
            item.inputs = std::move(values);
            items.push_back(std::move(item));
        }
        return items;
    }

  private:
    std::string file_prefix() const {
        const CLI::Option* option = app_.get_config_ptr();
        if (option == nullptr || option->count() == 0) {
            return "config file: ";
        }
        return option->as<std::string>() + ": ";
    }

    // The option a key names, as CLI11 looks it up for a config item.
    CLI::Option* find_option(const std::string& name) const {
        CLI::Option* option = app_.get_option_no_throw("--" + name);
        if (option == nullptr && name.size() == 1) {
            option = app_.get_option_no_throw("-" + name);
        }
        return option;
    }

    // The section the header `line` opens; null for the top level.
    template <typename Fail>
    const ConfigSection* find_section(const std::string& line, const Fail& fail) const {
        if (line.back() != ']') {
            fail("a section header must end with ']'");
        }
        const std::string section = trim_blanks(line.substr(1, line.size() - 2));
        if (section == "default" || section.empty()) {
            return nullptr;
        }
        for (const ConfigSection& known : sections_) {
            if (known.name == section) {
                return &known;
            }
        }
        if (sections_.empty()) {
            fail(fmt::format("unknown section [{}]; {} takes no sections", section,
                             app_.get_name()));
        }
        fail(fmt::format("unknown section [{}]; the sections are {}", section,
                         join_sections(sections_)));
        return nullptr;
    }

    // "unknown setting 'spead'; did you mean 'speed'?".
    std::string unknown_key(const std::string& key, const ConfigSection* section) const {
        const std::string prefix = section == nullptr ? "" : section->option_prefix;
        std::string best;
        std::size_t best_distance = 3;  // at most two edits away
        for (const CLI::Option* option : app_.get_options()) {
            if (!option->get_configurable()) {
                continue;
            }
            for (const std::string& long_name : option->get_lnames()) {
                if (long_name.compare(0, prefix.size(), prefix) != 0) {
                    continue;
                }
                const std::string candidate = long_name.substr(prefix.size());
                const std::size_t distance = edit_distance(key, candidate);
                if (distance < best_distance && distance * 2 < key.size()) {
                    best = candidate;
                    best_distance = distance;
                }
            }
        }
        const std::string what =
            section == nullptr
                ? fmt::format("unknown setting '{}'", key)
                : fmt::format("unknown setting '{}' in [{}] (there is no option --{}{})", key,
                              section->name, prefix, key);
        if (!best.empty()) {
            return fmt::format("{}; did you mean '{}'?", what, best);
        }
        return fmt::format("{} (see --help for the names)", what);
    }

    // Refuses values `option` would refuse, so that the error names the
    // line: the wrong count, a flag that is not true/false, a number that is
    // not one, a value the option's own checks (CLI11 validators) reject.
    template <typename Fail>
    void check_values(CLI::Option& option, const std::string& name,
                      std::vector<std::string>& values, const Fail& fail) const {
        // An option with a delimiter splits a value as on the command line
        // ("4.1,4.2,4.3" quoted is three values).
        if (option.get_delimiter() != '\0') {
            std::vector<std::string> split;
            for (const std::string& value : values) {
                for (std::string& part : CLI::detail::split(value, option.get_delimiter())) {
                    split.push_back(trim_blanks(part));
                }
            }
            values = std::move(split);
        }
        if (option.get_expected_min() == 0) {
            // A flag: CLI11 takes one word (true/false, on/off, yes/no, 1/0).
            if (values.size() != 1) {
                fail(fmt::format("{} is a flag and takes one value (true or false), got {}", name,
                                 values.size()));
            }
            if (type_mismatch("BOOLEAN", values.front())) {
                fail(fmt::format("{}: '{}' is not true or false", name, values.front()));
            }
            return;
        }
        check_count(option, name, values.size(), fail);
        std::string type_name = option.get_type_name();
        type_name = type_name.substr(0, type_name.find(':'));
        std::vector<const CLI::Validator*> validators;
        bool modifying = false;
        for (int index = 0;; ++index) {
            try {
                validators.push_back(option.get_validator(index));
                modifying = modifying || validators.back()->get_modifying();
            } catch (const CLI::OptionNotFound&) {
                break;
            }
        }
        for (std::size_t position = 0; position < values.size(); ++position) {
            // CLI11 runs the validators (a transform may rewrite the value),
            // then converts; where none rewrites, the type is the clearer
            // message and comes first.
            std::string value = values[position];
            if (!modifying) {
                check_type(name, type_name, value, fail);
            }
            for (const CLI::Validator* validator : validators) {
                const int applies_to = validator->get_application_index();
                if (applies_to != -1 && applies_to != static_cast<int>(position)) {
                    continue;
                }
                std::string error;
                try {
                    error = (*validator)(value);
                } catch (const CLI::ValidationError& refused) {
                    error = refused.what();
                }
                if (!error.empty()) {
                    fail(fmt::format("{}: {}", name, error));
                }
            }
            if (modifying) {
                check_type(name, type_name, value, fail);
            }
        }
    }

    template <typename Fail>
    static void check_type(const std::string& name, const std::string& type_name,
                           const std::string& value, const Fail& fail) {
        if (const auto why = type_mismatch(type_name, value)) {
            fail(fmt::format("{}: {}", name, *why));
        }
    }

    template <typename Fail>
    static void check_count(const CLI::Option& option, const std::string& name, std::size_t count,
                            const Fail& fail) {
        const auto min_count =
            static_cast<std::size_t>(std::max(option.get_items_expected_min(), 1));
        const auto max_count =
            static_cast<std::size_t>(std::max(option.get_items_expected_max(), 1));
        // Options that keep the first or last of several values take more.
        const CLI::MultiOptionPolicy policy = option.get_multi_option_policy();
        const bool limited = policy != CLI::MultiOptionPolicy::TakeLast &&
                             policy != CLI::MultiOptionPolicy::TakeFirst &&
                             policy != CLI::MultiOptionPolicy::Join;
        if (count >= min_count && (count <= max_count || !limited)) {
            return;
        }
        const auto values_text = [](std::size_t n) {
            return n == 1 ? std::string("one value") : fmt::format("{} values", n);
        };
        if (min_count == max_count) {
            fail(fmt::format(
                "{} takes {}, got {}{}", name, values_text(min_count), count,
                min_count == 1 && count > 1 ? " (quote a value that holds spaces or commas)" : ""));
        }
        fail(count < min_count
                 ? fmt::format("{} takes at least {}, got {}", name, values_text(min_count), count)
                 : fmt::format("{} takes at most {}, got {}", name, values_text(max_count), count));
    }

    // The line without its comment: '#' or ';' outside quotes starts one.
    template <typename Fail>
    static std::string strip_comment(const std::string& line, const Fail& fail) {
        char quote = 0;
        for (std::size_t i = 0; i < line.size(); ++i) {
            const char c = line[i];
            if (quote != 0) {
                quote = c == quote ? 0 : quote;
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '#' || c == ';') {
                return trim_blanks(line.substr(0, i));
            }
        }
        if (quote != 0) {
            fail("unterminated quote");
        }
        return trim_blanks(line);
    }

    // `a, b`, `a b` or `[a, b]`; quotes keep commas and spaces in a value
    // ("" is an empty value).
    template <typename Fail>
    static std::vector<std::string> split_values(std::string value, const Fail& fail) {
        if (value.front() == '[') {
            if (value.back() != ']') {
                fail("an array must close with ']' on the same line");
            }
            value = trim_blanks(value.substr(1, value.size() - 2));
        }
        std::vector<std::string> values;
        std::string current;
        bool quoted_item = false;
        char quote = 0;
        const auto flush = [&]() {
            if (!current.empty() || quoted_item) {
                values.push_back(current);
            }
            current.clear();
            quoted_item = false;
        };
        for (char c : value) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    current += c;
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
                quoted_item = true;
            } else if (c == ',' || c == ' ' || c == '\t') {
                flush();
            } else {
                current += c;
            }
        }
        flush();
        return values;
    }

    CLI::App& app_;
    std::vector<ConfigSection> sections_;
};

// "; the keys under [nmc] and [lfp] name the options nmc-KEY and lfp-KEY".
std::string help_sentence(const std::vector<ConfigSection>& sections) {
    if (sections.empty()) {
        return "";
    }
    std::string options;
    for (std::size_t i = 0; i < sections.size(); ++i) {
        if (i > 0) {
            options += i + 1 == sections.size() ? " and " : ", ";
        }
        options += sections[i].option_prefix + "KEY";
    }
    return fmt::format("; the keys under {} name the options {}", join_sections(sections), options);
}

}  // namespace

CLI::Option* add_config_option(CLI::App& app, std::vector<ConfigSection> sections) {
    const std::string description = fmt::format(
        "Read options from FILE: 'key = value' lines, a key being a long option name without "
        "'--' (e.g. 'shm-name = brt_lab'){}; the command line wins over the file",
        help_sentence(sections));
    app.allow_config_extras(CLI::config_extras_mode::error);
    app.config_formatter(std::make_shared<StrictConfigReader>(app, std::move(sections)));
    return app.set_config("--config", "", description)
        ->type_name("FILE")
        ->check(CLI::ExistingFile.description(""));  // --help: "FILE", not "FILE:FILE"
}

std::string config_file_hint(const CLI::App& app) {
    const auto reader = std::dynamic_pointer_cast<StrictConfigReader>(app.get_config_formatter());
    if (reader == nullptr) {
        return "";
    }
    const std::string keys = fmt::format(
        "The keys are the long option names without '--' (see '{} --help')", app.get_name());
    // Without sections, the reader's own error says so where it matters.
    return fmt::format("{}{}.", keys, help_sentence(reader->sections()));
}

std::string trim_blanks(std::string_view text) {
    const auto begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string_view::npos) {
        return {};
    }
    const auto end = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(begin, end - begin + 1));
}

}  // namespace brt
