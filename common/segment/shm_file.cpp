#include "shm_file.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <vector>

#include "clock.hpp"
#include "errors.hpp"
#include "message.hpp"
#include "shm_name.hpp"

namespace brt {

void FileDescriptor::reset() noexcept {
    if (fd_ >= 0) {
        close(fd_);
        fd_ = -1;
    }
}

std::uint64_t random_generation() {
    std::uint64_t value = 0;
    if (getrandom(&value, sizeof value, 0) != static_cast<ssize_t>(sizeof value)) {
        value = realtime_ns() ^ (static_cast<std::uint64_t>(getpid()) << 32);
    }
    return value == 0 ? 1 : value;
}

void throw_shm_open_error(const std::string& name, int error_number,
                          const std::string& missing_hint) {
    if (error_number == ENOENT) {
        throw SegmentError(SegmentErrorKind::no_segment,
                           segment_message::format("no segment named '{}' ({} does not exist); {}",
                                                   name, shm_path(name), missing_hint));
    }
    if (error_number == EACCES || error_number == EPERM) {
        throw SegmentError(
            SegmentErrorKind::permission,
            segment_message::format("no permission to open {}: readers and writers need read-write "
                                    "access; run as the segment's owner or a member of its group "
                                    "(see 'ls -l {}')",
                                    shm_path(name), shm_path(name)));
    }
    throw SegmentError(
        SegmentErrorKind::system,
        segment_message::format("cannot open {}: {}", shm_path(name), errno_text(error_number)));
}

std::string mode_text(mode_t mode) {
    std::string text = "0000";
    for (int digit = 0; digit < 3; ++digit) {
        text[static_cast<std::size_t>(3 - digit)] =
            static_cast<char>('0' + ((mode >> (3 * digit)) & 7));
    }
    return text;
}

std::string user_text(uid_t uid) {
    std::vector<char> buffer(4096);
    struct passwd entry {};
    struct passwd* found = nullptr;
    if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
        return segment_message::format("uid {} ({})", uid, found->pw_name);
    }
    return segment_message::format("uid {}", uid);
}

void refuse_world_accessible(int fd, std::string_view label, const std::string& name,
                             std::string_view fix) {
    struct stat file_status {};
    if (fstat(fd, &file_status) != 0) {
        throw SegmentError(
            SegmentErrorKind::system,
            segment_message::format("cannot stat {}: {}", shm_path(name), errno_text(errno)));
    }
    if ((file_status.st_mode & 0006) != 0) {
        throw SegmentError(
            SegmentErrorKind::permission,
            segment_message::format(
                "{} '{}' is world-accessible (mode {}): any local user could read it and post "
                "commands, so this writer refuses it; {}",
                label, name, mode_text(file_status.st_mode & 07777), fix));
    }
}

ShmMapping::ShmMapping(std::string name, FileDescriptor fd, void* base, std::uint64_t size,
                       const struct stat& file_status)
    : name_(std::move(name)),
      fd_(std::move(fd)),
      base_(base),
      size_(size),
      device_(file_status.st_dev),
      inode_(file_status.st_ino) {
    try {
        guard_ = TruncationGuard(base, size);
    } catch (...) {
        munmap(base_, size_);  // no destructor runs for a constructor that throws
        throw;
    }
}

ShmMapping::ShmMapping(ShmMapping&& other) noexcept {
    *this = std::move(other);
}

ShmMapping& ShmMapping::operator=(ShmMapping&& other) noexcept {
    if (this != &other) {
        release();
        name_ = std::move(other.name_);
        fd_ = std::move(other.fd_);
        guard_ = std::move(other.guard_);
        base_ = std::exchange(other.base_, nullptr);
        size_ = std::exchange(other.size_, 0);
        device_ = other.device_;
        inode_ = other.inode_;
    }
    return *this;
}

ShmMapping::~ShmMapping() {
    release();
}

std::uint64_t ShmMapping::file_size_now() const {
    struct stat file_status {};
    if (fd_.get() < 0 || fstat(fd_.get(), &file_status) != 0) {
        return size_;
    }
    return static_cast<std::uint64_t>(file_status.st_size);
}

std::string truncation_message(std::string_view label, const std::string& name,
                               std::uint64_t file_bytes, std::uint64_t mapped_bytes,
                               std::string_view what_next) {
    return segment_message::format(
        "{} '{}' was truncated under this process: {} is now {} bytes, the {} {} bytes "
        "(something shrank the file while it was in use); {}",
        label, name, shm_path(name), file_bytes, label, mapped_bytes, what_next);
}

void ShmMapping::release() noexcept {
    guard_.reset();  // before the range can be mapped by anything else
    if (base_ != nullptr) {
        munmap(base_, size_);
        base_ = nullptr;
    }
    fd_.reset();  // also drops a writer's flock
}

ShmMapping map_validated_shm(const std::string& name, std::string_view label,
                             const std::string& missing_hint, const std::string& fix_hint,
                             const HeaderCheck& check) {
    FileDescriptor fd(shm_open(shm_open_name(name).c_str(), O_RDWR | O_CLOEXEC, 0));
    if (fd.get() < 0) {
        throw_shm_open_error(name, errno, missing_hint);
    }
    struct stat file_status {};
    if (fstat(fd.get(), &file_status) != 0) {
        throw SegmentError(
            SegmentErrorKind::system,
            segment_message::format("cannot stat {}: {}", shm_path(name), errno_text(errno)));
    }
    const auto file_size = static_cast<std::uint64_t>(file_status.st_size);
    constexpr std::uint64_t kPage = 4096;
    if (file_size == 0) {
        throw SegmentError(SegmentErrorKind::initialising,
                           segment_message::format("{} '{}' is empty (being created, or its "
                                                   "creator died); wait, or {}",
                                                   label, name, fix_hint));
    }
    if (file_size < kPage) {
        throw SegmentError(SegmentErrorKind::truncated,
                           segment_message::format("{} '{}' is truncated: {} bytes, smaller than "
                                                   "its {}-byte header; {}",
                                                   label, name, file_size, kPage, fix_hint));
    }
    // The header alone first: the file size is only trusted once the header
    // that describes it has been validated.
    void* header_map = mmap(nullptr, kPage, PROT_READ, MAP_SHARED, fd.get(), 0);
    if (header_map == MAP_FAILED) {
        throw SegmentError(
            SegmentErrorKind::system,
            segment_message::format("cannot map {}: {}", shm_path(name), errno_text(errno)));
    }
    std::uint64_t map_size = 0;
    {
        // Shrunk between the fstat and here, the header reads as zeros:
        // "not initialised", never a SIGBUS.
        TruncationGuard header_guard(header_map, kPage);
        try {
            map_size = check(static_cast<const std::byte*>(header_map), file_size);
        } catch (...) {
            header_guard.reset();
            munmap(header_map, kPage);
            throw;
        }
    }
    munmap(header_map, kPage);
    void* base = mmap(nullptr, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (base == MAP_FAILED) {
        throw SegmentError(SegmentErrorKind::system,
                           segment_message::format("cannot map {} ({} bytes): {}", shm_path(name),
                                                   map_size, errno_text(errno)));
    }
    return ShmMapping(name, std::move(fd), base, map_size, file_status);
}

NewShmFile::NewShmFile(std::string name, FileDescriptor fd)
    : name_(std::move(name)), fd_(std::move(fd)) {}

NewShmFile::NewShmFile(NewShmFile&& other) noexcept
    : name_(std::move(other.name_)),
      fd_(std::move(other.fd_)),
      guard_(std::move(other.guard_)),
      base_(std::exchange(other.base_, nullptr)),
      size_(other.size_),
      armed_(std::exchange(other.armed_, false)) {}

NewShmFile::~NewShmFile() {
    guard_.reset();
    if (base_ != nullptr) {
        munmap(base_, size_);
    }
    if (armed_) {
        shm_unlink(shm_open_name(name_).c_str());
    }
}

std::optional<NewShmFile> create_shm_file(const std::string& name, std::uint64_t size_bytes,
                                          mode_t mode, std::optional<gid_t> group,
                                          const std::string& no_space_hint) {
    FileDescriptor fd(
        shm_open(shm_open_name(name).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        if (errno == EEXIST) {
            return std::nullopt;
        }
        throw_shm_open_error(name, errno, "");
    }
    // From here on, any failure removes the half-made file.
    NewShmFile file(name, std::move(fd));

    // The exact mode, whatever the umask; never world-accessible.
    if (fchmod(file.fd(), mode & 0660) != 0) {
        throw SegmentError(SegmentErrorKind::system,
                           segment_message::format("cannot set mode of {}: {}", shm_path(name),
                                                   errno_text(errno)));
    }
    if (group && fchown(file.fd(), static_cast<uid_t>(-1), *group) != 0) {
        const int error_number = errno;
        throw SegmentError(
            error_number == EPERM ? SegmentErrorKind::permission : SegmentErrorKind::system,
            segment_message::format(
                "cannot give {} to group {}: {}; run as root or as a member of that group",
                shm_path(name), *group, errno_text(error_number)));
    }
    if (ftruncate(file.fd(), static_cast<off_t>(size_bytes)) != 0) {
        throw SegmentError(SegmentErrorKind::system,
                           segment_message::format("cannot size {} to {} bytes: {}", shm_path(name),
                                                   size_bytes, errno_text(errno)));
    }
    // tmpfs allocates lazily: without this, running out of /dev/shm later is
    // a SIGBUS in whichever process touches the page first.
    if (const int error_number = posix_fallocate(file.fd(), 0, static_cast<off_t>(size_bytes));
        error_number != 0) {
        throw SegmentError(
            error_number == ENOSPC ? SegmentErrorKind::no_space : SegmentErrorKind::system,
            segment_message::format("cannot reserve {} bytes for {}: {}; {}", size_bytes,
                                    shm_path(name), errno_text(error_number), no_space_hint));
    }
    void* base = mmap(nullptr, size_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, file.fd(), 0);
    if (base == MAP_FAILED) {
        throw SegmentError(
            SegmentErrorKind::system,
            segment_message::format("cannot map {}: {}", shm_path(name), errno_text(errno)));
    }
    file.base_ = base;
    file.size_ = size_bytes;
    file.guard_ = TruncationGuard(base, size_bytes);  // on a throw, `file` unmaps and removes
    return file;
}

}  // namespace brt
