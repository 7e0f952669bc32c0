#include "anomaly_monitor/critical_command.hpp"

#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "common/alarm/alarm_event_format.hpp"
#include "common/segment/errors.hpp"

extern char** environ;

namespace brt {

std::vector<std::string> split_command_words(const std::string& command) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (char c : command) {
        if (quote != 0) {
            if (c == quote) {
                quote = 0;
            } else {
                word += c;
            }
        } else if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
        } else if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word) {
                words.push_back(word);
                word.clear();
                in_word = false;
            }
        } else {
            word += c;
            in_word = true;
        }
    }
    if (quote != 0) {
        throw UsageError(
            fmt::format("--on-critical: unterminated {} quote in '{}'", quote, command));
    }
    if (in_word) {
        words.push_back(word);
    }
    if (words.empty()) {
        throw UsageError("--on-critical: the command is empty");
    }
    return words;
}

std::vector<std::string> event_environment(const AlarmEvent& event) {
    auto index = [](std::uint32_t value) {
        return value == kNoIndex ? std::string() : std::to_string(value);
    };
    return {
        "BRT_EVENT=" + std::string(transition_name(event.transition)),
        "BRT_RULE=" + std::string(rule_name(event.rule)),
        "BRT_SEVERITY=" + std::string(severity_name(event.severity)),
        "BRT_RACK=" + index(event.location.rack),
        "BRT_MODULE=" + index(event.location.module),
        "BRT_CELL=" + index(event.location.cell),
        "BRT_VALUE=" + format_alarm_value(event.value),
        "BRT_LIMIT=" + format_alarm_value(event.limit),
        "BRT_UNIT=" + std::string(rule_unit(event.rule)),
        "BRT_FRAME=" + std::to_string(event.frame_number),
        "BRT_TIME=" + utc_timestamp(alarm_event_time_ns(event)),
        "BRT_EVENT_JSON=" + alarm_event_json(event),
    };
}

bool CriticalCommand::run(const AlarmEvent& event) {
    reap();
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        if (std::strncmp(*entry, "BRT_", 4) != 0) {  // ours replace any inherited ones
            environment.emplace_back(*entry);
        }
    }
    const auto event_env = event_environment(event);
    environment.insert(environment.end(), event_env.begin(), event_env.end());
    std::vector<char*> env_pointers;
    for (auto& entry : environment) {
        env_pointers.push_back(entry.data());
    }
    env_pointers.push_back(nullptr);
    std::vector<std::string> args = argv_;
    std::vector<char*> arg_pointers;
    for (auto& arg : args) {
        arg_pointers.push_back(arg.data());
    }
    arg_pointers.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
    pid_t pid = 0;
    const int error = posix_spawnp(&pid, args[0].c_str(), &actions, nullptr, arg_pointers.data(),
                                   env_pointers.data());
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) {
        fmt::print(stderr, "--on-critical: cannot start '{}': {}\n", args[0], errno_text(error));
        return false;
    }
    children_.push_back(pid);
    return true;
}

void CriticalCommand::reap() {
    for (auto it = children_.begin(); it != children_.end();) {
        int status = 0;
        if (waitpid(*it, &status, WNOHANG) == *it) {
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fmt::print(stderr, "--on-critical: '{}' (pid {}) {} {}\n", argv_[0], *it,
                           WIFEXITED(status) ? "exited with" : "was killed by signal",
                           WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
            }
            it = children_.erase(it);
        } else {
            ++it;
        }
    }
}

CriticalCommand::~CriticalCommand() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!children_.empty() && std::chrono::steady_clock::now() < deadline) {
        reap();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!children_.empty()) {
        fmt::print(stderr, "--on-critical: {} command(s) still running; not waiting for them\n",
                   children_.size());
    }
}

}  // namespace brt
