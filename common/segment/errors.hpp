// Error types shared by every tool. A message always says what is wrong and
// what to do about it; the type decides the exit code (see exit_codes.hpp).
#pragma once

#include <stdexcept>
#include <string>

namespace brt {

// Bad command-line input: exit code 2.
class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

enum class SegmentErrorKind {
    no_segment,      // nothing by that name in /dev/shm
    initialising,    // created but its header is not complete yet
    bad_magic,       // not one of our segments
    abi_mismatch,    // written by another ABI version
    truncated,       // file smaller than its header says
    malformed,       // header fields inconsistent with each other
    permission,      // EACCES / EPERM
    writer_present,  // another writer holds the lock
    no_space,        // /dev/shm too small
    system,          // any other failing system call
};

// Runtime failure about the segment: exit code 1.
class SegmentError : public std::runtime_error {
  public:
    SegmentError(SegmentErrorKind kind, const std::string& message)
        : std::runtime_error(message), kind_(kind) {}
    SegmentErrorKind kind() const noexcept { return kind_; }

  private:
    SegmentErrorKind kind_;
};

// errno text for messages, thread-safe.
std::string errno_text(int error_number);

}  // namespace brt
