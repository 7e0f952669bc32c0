// Survives a shared-memory file shrunk under its mappings. A page of a
// MAP_SHARED mapping that now lies past the end of its file raises SIGBUS on
// the first access, and by default that kills the process (any process: a
// `truncate -s 8192 /dev/shm/NAME` by anyone who may write the file). Every
// mapping this library makes of a segment file holds a TruncationGuard:
//
//   TruncationGuard guard(base, size_bytes);   // after mmap, before any access
//   ...copy under the seqlock...
//   if (guard.truncated()) { /* what was read may be zeros: detach or stop */ }
//
// The first guard installs one process-wide SIGBUS handler (sigaction,
// SA_SIGINFO). For a fault (BUS_ADRERR) at an address inside a guarded
// range, the handler marks that range truncated and maps anonymous zero
// pages over it from the faulting page to its end (mmap MAP_FIXED: a system
// call, safe in a signal handler); the faulting access then completes on a
// zero page, in whichever thread made it. Readers see zeros, which the
// seqlock's frame numbers never accept as a frame, and then the flag; the
// writer sees the flag after its next publish. Any other SIGBUS goes to the
// handler that was installed before, or gets the default action (the process
// dies, as it would have without this).
#pragma once

#include <cstdint>

namespace brt {

class TruncationGuard {
  public:
    TruncationGuard() = default;
    // Guards [base, base + size_bytes). Throws SegmentError (system) when
    // the handler cannot be installed or the process already guards more
    // ranges than kMaxGuardedRanges.
    TruncationGuard(void* base, std::uint64_t size_bytes);
    ~TruncationGuard() { reset(); }
    TruncationGuard(TruncationGuard&& other) noexcept;
    TruncationGuard& operator=(TruncationGuard&& other) noexcept;
    TruncationGuard(const TruncationGuard&) = delete;
    TruncationGuard& operator=(const TruncationGuard&) = delete;

    // True once an access to the range faulted past the end of its file.
    // One atomic load: cheap enough to ask after every copy.
    bool truncated() const;
    // Stops guarding (before the range is unmapped).
    void reset() noexcept;

  private:
    std::int64_t slot_ = -1;
};

// Ranges one process can guard at once (mappings of segment files).
inline constexpr std::uint64_t kMaxGuardedRanges = 65536;

}  // namespace brt
