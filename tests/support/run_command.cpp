#include "support/run_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace brt::test {

namespace {

std::vector<std::string> environment_with(const std::vector<std::string>& extra_env) {
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        environment.emplace_back(*entry);
    }
    environment.insert(environment.end(), extra_env.begin(), extra_env.end());
    return environment;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> result;
    for (auto& text : strings) {
        result.push_back(text.data());
    }
    result.push_back(nullptr);
    return result;
}

// The ELF machine (e_machine) of the program at `path`, or -1 when it is
// not an ELF file (a script, a missing file).
int elf_machine(const char* path) {
    std::ifstream file(path, std::ios::binary);
    unsigned char header[20] = {};
    if (!file.read(reinterpret_cast<char*>(header), sizeof header) || header[0] != 0x7f ||
        header[1] != 'E' || header[2] != 'L' || header[3] != 'F') {
        return -1;
    }
    // e_machine: 2 bytes at offset 18, little-endian on every target here.
    return header[18] | (header[19] << 8);
}

}  // namespace

std::vector<std::string> with_exe_wrapper(const std::vector<std::string>& argv) {
    const char* wrapper = std::getenv("BRT_EXE_WRAPPER");
    if (wrapper == nullptr || *wrapper == '\0' || argv.empty()) {
        return argv;
    }
    // QEMU user mode reports the emulated program as /proc/self/exe.
    const int own_machine = elf_machine("/proc/self/exe");
    if (own_machine < 0 || elf_machine(argv[0].c_str()) != own_machine) {
        return argv;  // a script or a build-machine program runs as it is
    }
    std::vector<std::string> wrapped = split(wrapper, ' ');
    wrapped.insert(wrapped.end(), argv.begin(), argv.end());
    return wrapped;
}

pid_t spawn_background(const std::vector<std::string>& argv, const std::string& log_path,
                       const std::vector<std::string>& extra_env) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<std::string> environment = environment_with(extra_env);
    std::vector<std::string> args = with_exe_wrapper(argv);
    auto env_pointers = pointers(environment);
    auto arg_pointers = pointers(args);
    pid_t pid = 0;
    const int error = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, arg_pointers.data(),
                                  env_pointers.data());
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) {
        throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(error));
    }
    return pid;
}

KillOnExit::~KillOnExit() {
    for (pid_t pid : pids) {
        if (kill(pid, SIGKILL) == 0) {
            waitpid(pid, nullptr, 0);
        }
    }
}

int wait_for_exit(pid_t pid, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 5) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        usleep(5000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return -1;
}

std::string read_file(const std::string& path) {
    std::ifstream file(path);
    std::stringstream content;
    content << file.rdbuf();
    return content.str();
}

std::string tool_path(const char* env_variable) {
    const char* path = std::getenv(env_variable);
    if (path == nullptr) {
        throw std::runtime_error(std::string(env_variable) + " is not set: run through meson test");
    }
    return path;
}

CommandOutput run_command(const std::vector<std::string>& argv,
                          const std::vector<std::string>& extra_env) {
    int out_pipe[2];
    int err_pipe[2];
    if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) {
        throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    posix_spawn_file_actions_addclose(&actions, err_pipe[0]);

    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        environment.emplace_back(*entry);
    }
    environment.insert(environment.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> env_pointers;
    for (auto& entry : environment) {
        env_pointers.push_back(entry.data());
    }
    env_pointers.push_back(nullptr);
    std::vector<std::string> args = with_exe_wrapper(argv);
    std::vector<char*> arg_pointers;
    for (auto& arg : args) {
        arg_pointers.push_back(arg.data());
    }
    arg_pointers.push_back(nullptr);

    pid_t pid = 0;
    const int spawn_error = posix_spawn(&pid, args[0].c_str(), &actions, nullptr,
                                        arg_pointers.data(), env_pointers.data());
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (spawn_error != 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(spawn_error));
    }
    CommandOutput output;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&output.out, &output.err};
    int open_streams = 2;
    while (open_streams > 0) {
        if (poll(fds, 2, -1) < 0) {
            continue;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP)) != 0) {
                char buffer[4096];
                const ssize_t count = read(fds[i].fd, buffer, sizeof buffer);
                if (count > 0) {
                    sinks[i]->append(buffer, static_cast<std::size_t>(count));
                } else {
                    close(fds[i].fd);
                    fds[i].fd = -1;
                    --open_streams;
                }
            }
        }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    output.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return output;
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::string part;
    std::istringstream stream(text);
    while (std::getline(stream, part, separator)) {
        parts.push_back(part);
    }
    return parts;
}

}  // namespace brt::test
