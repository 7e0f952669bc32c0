// The single-writer rule, enforced by the kernel: the writer holds an
// exclusive flock on the segment for its whole life, and the kernel drops it
// when the process dies, however it dies. No mutex lives in the segment.
#pragma once

#include <sys/types.h>

#include <optional>

namespace brt {

// Takes LOCK_EX without blocking. False when another open file holds it;
// throws SegmentError on any other failure.
bool try_lock_exclusive(int fd);

// The pid holding a flock on the file behind `fd`, from /proc/locks; empty
// when nobody holds one (or /proc is not mounted).
std::optional<pid_t> flock_holder_pid(int fd);

}  // namespace brt
