// The file-level steps every segment of this project shares (the telemetry
// segment and the alarm segment): an owned descriptor, a random generation,
// open errors that say what to do, and exclusive creation that leaves nothing
// behind on failure.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "truncation_guard.hpp"

namespace brt {

// Closes on destruction (which also drops a flock taken through it).
class FileDescriptor {
  public:
    explicit FileDescriptor(int fd = -1) : fd_(fd) {}
    ~FileDescriptor() { reset(); }
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }
    void reset() noexcept;

  private:
    int fd_;
};

// A random non-zero 64-bit value: a segment's generation, new at every creation.
std::uint64_t random_generation();

// The SegmentError for a failed shm_open of `name` with `error_number`:
// ENOENT gives kind no_segment with `missing_hint` (what to do, e.g. "create
// it with 'brt-shm-init --shm-name x'"), EACCES/EPERM kind permission, any
// other errno kind system.
[[noreturn]] void throw_shm_open_error(const std::string& name, int error_number,
                                       const std::string& missing_hint);

// A shared-memory file mapped read-write, with the descriptor it was opened
// through (a writer's flock lives on it), guarded against the file being
// shrunk under it (truncation_guard.hpp). Move-only; unmaps and closes on
// destruction.
class ShmMapping {
  public:
    ShmMapping() = default;
    ShmMapping(std::string name, FileDescriptor fd, void* base, std::uint64_t size,
               const struct stat& file_status);
    ShmMapping(ShmMapping&& other) noexcept;
    ShmMapping& operator=(ShmMapping&& other) noexcept;
    ShmMapping(const ShmMapping&) = delete;
    ShmMapping& operator=(const ShmMapping&) = delete;
    ~ShmMapping();

    bool is_open() const { return base_ != nullptr; }
    const std::string& name() const { return name_; }
    int fd() const { return fd_.get(); }
    dev_t device() const { return device_; }
    ino_t inode() const { return inode_; }
    std::uint64_t size() const { return size_; }
    std::byte* bytes() const { return static_cast<std::byte*>(base_); }

    // True once an access faulted past the end of the file: it was shrunk
    // under this mapping, and the pages past the fault now read as zeros.
    // One atomic load, for after every copy.
    bool truncated() const { return guard_.truncated(); }
    // The file's size now (fstat; the mapped size if fstat fails).
    std::uint64_t file_size_now() const;
    // truncated(), or the file now shorter than the mapping before any
    // access found it out. An fstat: for once a wait, not once a word.
    bool shrunk() const { return truncated() || file_size_now() < size_; }

  private:
    void release() noexcept;
    std::string name_;
    FileDescriptor fd_;
    TruncationGuard guard_;
    void* base_ = nullptr;
    std::uint64_t size_ = 0;
    dev_t device_ = 0;
    ino_t inode_ = 0;
};

// Permission bits as people write them: "0660".
std::string mode_text(mode_t mode);
// "uid 65534 (nobody)", or "uid 1234" for a uid without a name.
std::string user_text(uid_t uid);

// A writer's rule for an existing file (issue 20, item 12): refuses, with
// SegmentError (permission) naming the fix, a file that other users may
// read or write (mode o+r or o+w): they could read the telemetry and post
// commands. `fix` ends the message (e.g. "run 'brt-shm-init --force'").
void refuse_world_accessible(int fd, std::string_view label, const std::string& name,
                             std::string_view fix);

// Checks a file's first page (the header) against the file's size; throws
// SegmentError or returns how many bytes to map.
using HeaderCheck =
    std::function<std::uint64_t(const std::byte* first_page, std::uint64_t file_size)>;

// Opens /dev/shm/<name> (normalized) read-write and maps it once it is
// validated, never touching a byte beyond the file's size: fstat first (size
// 0: kind initialising; below one page: truncated), then the first page alone
// goes to `check`, then the size it returns is mapped. `label` ("segment",
// "alarm segment") and `fix_hint` (what to do) go into the messages;
// `missing_hint` is throw_shm_open_error's.
ShmMapping map_validated_shm(const std::string& name, std::string_view label,
                             const std::string& missing_hint, const std::string& fix_hint,
                             const HeaderCheck& check);

// What a process says when a file it maps was shrunk under it: "<label>
// '<name>' was truncated under this process: /dev/shm/<name> is now N bytes,
// the <label> M bytes; <what_next>".
std::string truncation_message(std::string_view label, const std::string& name,
                               std::uint64_t file_bytes, std::uint64_t mapped_bytes,
                               std::string_view what_next);

// A shared-memory file made by create_shm_file, mapped read-write for its
// creator to fill in. Unmapped on destruction, and removed again unless
// keep() was called first, so a failed creation leaves nothing.
class NewShmFile {
  public:
    NewShmFile(std::string name, FileDescriptor fd);
    ~NewShmFile();
    NewShmFile(NewShmFile&& other) noexcept;
    NewShmFile& operator=(NewShmFile&&) = delete;
    NewShmFile(const NewShmFile&) = delete;
    NewShmFile& operator=(const NewShmFile&) = delete;
    int fd() const { return fd_.get(); }
    std::byte* bytes() const { return static_cast<std::byte*>(base_); }
    void keep() { armed_ = false; }

  private:
    friend std::optional<NewShmFile> create_shm_file(const std::string&, std::uint64_t, mode_t,
                                                     std::optional<gid_t>, const std::string&);
    std::string name_;
    FileDescriptor fd_;
    TruncationGuard guard_;
    void* base_ = nullptr;
    std::uint64_t size_ = 0;
    bool armed_ = true;
};

// Creates /dev/shm/<name> (normalized) with O_EXCL: exactly `mode & 0660`
// whatever the umask, given to `group` when set, `size_bytes` long, zero
// filled and reserved with posix_fallocate (so that a full /dev/shm is an
// error now, not a SIGBUS later), and mapped. Empty when the name already exists.
// Throws SegmentError (permission, no_space, system); `no_space_hint` ends
// the no-space message (what the user can do about it).
std::optional<NewShmFile> create_shm_file(const std::string& name, std::uint64_t size_bytes,
                                          mode_t mode, std::optional<gid_t> group,
                                          const std::string& no_space_hint);

}  // namespace brt
