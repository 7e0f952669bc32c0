// The bounded multi-producer, single-consumer command queue in the segment
// (Dmitry Vyukov's bounded queue: a sequence number per entry, producers
// claim a position with one CAS). Producers never block: a full ring is an
// error they report. The writer consumes and answers each command.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "segment_file.hpp"

namespace brt {

// Command kinds are ABI (docs/segment-format.md); the simulator gives them meaning.
enum class CommandKind : std::uint32_t {
    // code = scenario id; args: start offset s, duration s, magnitude, fault kind, sensor
    apply_scenario = 1,
    clear_scenario = 2,  // code = scenario id (0 = all) at the target
    set_rack_mode = 3,   // rack; code = mode; args[0] = demand A, args[1] = demand W
    set_ambient = 4,     // args[0] = ambient temperature, degC
    pause = 5,
    resume = 6,
    // rack (kAllTargets = every rack): close the contactor the rack's
    // protection opened; refused (rejected_condition) while a condition holds.
    reset_protection = 7,
    // Alarm segment only (docs/alarm-segment.md); the simulator answers
    // rejected_unknown. target_id is the alarm id.
    alarm_acknowledge = 16,  // target_id = alarm id, 0 = every unacknowledged alarm
    alarm_shelve = 17,       // args[0] = shelve duration, s
    alarm_unshelve = 18,
};

enum class CommandStatus : std::uint32_t {
    pending = 0,
    applied = 1,
    rejected_target = 2,     // rack / module / cell does not exist
    rejected_unknown = 3,    // unknown kind or code
    rejected_argument = 4,   // an argument out of range
    abandoned = 5,           // the producer claimed a position but never published it
    rejected_condition = 6,  // the state forbids it now (a protection reset while a fault holds)
};

std::string_view command_status_name(CommandStatus status);

// A new ring's entries: entry i starts with sequence i (free for position
// i). For a segment's creator, before it publishes the magic.
void init_command_entries(CommandEntry* entries, std::uint32_t capacity);

struct Command {
    CommandKind kind = CommandKind::pause;
    std::uint32_t rack = kAllTargets;
    std::uint32_t module = kAllTargets;
    std::uint32_t cell = kAllTargets;
    std::uint32_t code = 0;
    double args[6] = {};
    std::uint64_t target_id = 0;    // an alarm id for alarm commands; 0 = none
    std::array<char, 32> origin{};  // NUL-terminated UTF-8: who sent it; empty = unknown
};

// Sets `command.origin` to `origin` (e.g. "ctl uid 1000", "rest 127.0.0.1"),
// cut to at most 31 bytes at a UTF-8 character boundary so that the NUL
// always fits and no character is split.
void set_command_origin(Command& command, std::string_view origin);

struct ReceivedCommand {
    std::uint64_t position = 0;
    std::uint32_t raw_kind = 0;  // as sent: may not be a known CommandKind
    std::int32_t sender_pid = 0;
    Command command;
};

class CommandRing {
  public:
    // The segment must outlive the ring.
    explicit CommandRing(const MappedSegment& segment);
    // A ring in any mapped segment (the alarm segment has one too): its two
    // positions, `capacity` entries and `capacity` results, all in shared
    // memory that must outlive the ring. `capacity` is a power of two.
    CommandRing(std::atomic<std::uint64_t>& enqueue_position,
                std::atomic<std::uint64_t>& dequeue_position, CommandEntry* entries,
                CommandResult* results, std::uint32_t capacity);

    // Producer side, any process. Returns the command's position, or empty
    // when the ring is full (the writer is not consuming: stopped or hung).
    std::optional<std::uint64_t> post(const Command& command);

    // The writer's answer to the command at `position`: empty while pending or
    // when the ring has since wrapped past it.
    std::optional<CommandStatus> result(std::uint64_t position) const;
    // Polls result() until an answer or the timeout.
    std::optional<CommandStatus> wait_for_result(std::uint64_t position,
                                                 std::chrono::milliseconds timeout) const;

    // Consumer side, the writer only. Returns the next published command.
    // A position claimed but left unpublished for longer than
    // `abandon_after` (its producer died mid-post) is skipped and answered
    // `abandoned`, so one dead producer cannot block the queue.
    std::optional<ReceivedCommand> try_consume(
        std::chrono::milliseconds abandon_after = std::chrono::milliseconds(1000));
    void complete(std::uint64_t position, CommandStatus status);

    std::uint64_t posted() const;    // positions claimed so far
    std::uint64_t consumed() const;  // positions consumed so far

  private:
    std::atomic<std::uint64_t>* enqueue_position_;
    std::atomic<std::uint64_t>* dequeue_position_;
    CommandEntry* entries_;
    CommandResult* results_;
    std::uint32_t capacity_;
    // Consumer-private: when the entry at the head was first seen unpublished.
    std::uint64_t stalled_position_ = UINT64_MAX;
    std::chrono::steady_clock::time_point stalled_since_{};
};

}  // namespace brt
