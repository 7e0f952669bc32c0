// What a reader can say about the writer, from the header and the lock.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "segment_file.hpp"

namespace brt {

enum class Liveness {
    live,        // heartbeat fresh, lock held
    stale,       // writer claims to run but its heartbeat is old or its lock is free
    stopped,     // the writer exited (cleanly or on an error) and said so
    no_writer,   // the segment exists and no writer has ever attached
    no_segment,  // nothing to read
};

std::string_view liveness_name(Liveness liveness);

struct WriterStatus {
    Liveness liveness = Liveness::no_segment;
    WriterState state = WriterState::never_started;
    pid_t pid = 0;
    std::uint64_t heartbeat_age_ns = 0;  // valid when a writer ever ran
    std::uint64_t publish_period_ns = 0;
    std::uint64_t latest_frame = 0;
    std::string detail;  // one sentence for people: why stale, who holds the lock
};

// A heartbeat older than this is stale: a few publish periods, never less
// than 250 ms (the age at which foxBMS calls a measurement stale).
std::uint64_t stale_after_ns(std::uint64_t publish_period_ns);

WriterStatus read_writer_status(const MappedSegment& segment);

std::string_view writer_state_name(WriterState state);

}  // namespace brt
