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

// Takes the writer lock (try_lock_exclusive). Empty on success; when another
// writer holds it, that writer's pid: from /proc/locks, else `recorded_pid`
// (the pid its segment's header names), for the refusal message.
std::optional<pid_t> lock_or_find_holder(int fd, pid_t recorded_pid);

}  // namespace brt
