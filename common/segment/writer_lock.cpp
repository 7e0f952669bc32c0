#include "writer_lock.hpp"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "errors.hpp"

namespace brt {

bool try_lock_exclusive(int fd) {
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR) {
            continue;
        }
        if (errno == EWOULDBLOCK) {
            return false;
        }
        throw SegmentError(SegmentErrorKind::system,
                           "cannot lock the segment: " + errno_text(errno));
    }
    return true;
}

std::optional<pid_t> lock_or_find_holder(int fd, pid_t recorded_pid) {
    if (try_lock_exclusive(fd)) {
        return std::nullopt;
    }
    return flock_holder_pid(fd).value_or(recorded_pid);
}

std::optional<pid_t> flock_holder_pid(int fd) {
    struct stat file_status {};
    if (fstat(fd, &file_status) != 0) {
        return std::nullopt;
    }
    // Lines look like: "1: FLOCK  ADVISORY  WRITE 4242 00:1a:12345 0 EOF";
    // waiters carry "->" after the index and are skipped.
    std::ifstream locks("/proc/locks");
    std::string line;
    while (std::getline(locks, line)) {
        std::istringstream fields(line);
        std::string index, type, advisory, access, device_inode;
        long pid = 0;
        if (!(fields >> index >> type) || type != "FLOCK") {
            continue;
        }
        if (!(fields >> advisory >> access >> pid >> device_inode)) {
            continue;
        }
        unsigned major_id = 0, minor_id = 0;
        unsigned long long inode = 0;
        if (std::sscanf(device_inode.c_str(), "%x:%x:%llu", &major_id, &minor_id, &inode) != 3) {
            continue;
        }
        if (major_id == major(file_status.st_dev) && minor_id == minor(file_status.st_dev) &&
            inode == file_status.st_ino) {
            return static_cast<pid_t>(pid);
        }
    }
    return std::nullopt;
}

}  // namespace brt
