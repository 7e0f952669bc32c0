// What the fuzz targets share: a scratch segment of their own, removed when
// the fuzzer exits, and the input cut into parts. See docs/fuzzing.md.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/alarm_segment/alarm_segment_file.hpp"
#include "common/segment/segment_file.hpp"
#include "common/segment/shm_name.hpp"

namespace brt::fuzz {

// A name no tool uses: brt_fuzz_<tag>_<pid>.
inline std::string scratch_name(const std::string& tag) {
    return "brt_fuzz_" + tag + "_" + std::to_string(getpid());
}

// Removes the scratch segments (and their alarm segments) at exit.
inline void remove_at_exit(const std::string& name) {
    static std::vector<std::string> names;
    if (names.empty()) {
        std::atexit([] {
            for (const std::string& scratch : names) {
                shm_unlink(shm_open_name(scratch).c_str());
            }
        });
    }
    names.push_back(name);
}

// A fresh small segment (2 racks x 2 modules x 4 cells) named `name`.
inline void create_scratch_segment(const std::string& name) {
    remove_segment(name);
    CreateOptions options;
    options.geometry = {2, 2, 4};
    create_segment(name, options);
    remove_at_exit(name);
}

// Replaces /dev/shm/<name> with a file of `file_size` bytes that starts
// with `bytes` (zeros after them): a segment file as a hostile or broken
// creator could leave it.
inline void write_shm_file(const std::string& name, const std::uint8_t* bytes, std::size_t size,
                           std::uint64_t file_size) {
    shm_unlink(shm_open_name(name).c_str());
    const int fd = shm_open(shm_open_name(name).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        std::abort();  // the fuzzer's own setup failed: nothing to learn
    }
    if (ftruncate(fd, static_cast<off_t>(file_size)) != 0) {
        std::abort();
    }
    const std::size_t written = size < file_size ? size : static_cast<std::size_t>(file_size);
    if (written != 0 && pwrite(fd, bytes, written, 0) != static_cast<ssize_t>(written)) {
        std::abort();
    }
    close(fd);
}

// The input cut at each `separator` (the last part may be empty).
inline std::vector<std::string> split_input(const std::uint8_t* data, std::size_t size,
                                            char separator) {
    std::vector<std::string> parts(1);
    for (std::size_t i = 0; i < size; ++i) {
        if (static_cast<char>(data[i]) == separator) {
            parts.emplace_back();
        } else {
            parts.back().push_back(static_cast<char>(data[i]));
        }
    }
    return parts;
}

// Silences stdout (the tools' answers) so the fuzzer's output stays readable.
inline void silence_stdout() {
    const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, STDOUT_FILENO);
        close(null);
    }
}

}  // namespace brt::fuzz
