#include "command_ring.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

namespace brt {

std::string_view command_status_name(CommandStatus status) {
    switch (status) {
        case CommandStatus::pending:
            return "pending";
        case CommandStatus::applied:
            return "applied";
        case CommandStatus::rejected_target:
            return "rejected: no such rack, module or cell";
        case CommandStatus::rejected_unknown:
            return "rejected: unknown command or scenario";
        case CommandStatus::rejected_argument:
            return "rejected: argument out of range";
        case CommandStatus::abandoned:
            return "abandoned: the sender stalled while posting";
        case CommandStatus::rejected_condition:
            return "rejected: a condition holds that forbids it now";
    }
    return "unknown";
}

void init_command_entries(CommandEntry* entries, std::uint32_t capacity) {
    for (std::uint32_t i = 0; i < capacity; ++i) {
        entries[i].sequence.store(i, std::memory_order_relaxed);
    }
}

void set_command_origin(Command& command, std::string_view origin) {
    std::size_t length = std::min(origin.size(), command.origin.size() - 1);
    // Never end inside a character: step back over UTF-8 continuation bytes
    // (10xxxxxx) to the lead byte of the character that would be split.
    if (length < origin.size()) {
        while (length > 0 && (static_cast<unsigned char>(origin[length]) & 0xC0u) == 0x80u) {
            --length;
        }
    }
    command.origin.fill('\0');
    std::memcpy(command.origin.data(), origin.data(), length);
}

CommandRing::CommandRing(const MappedSegment& segment)
    : CommandRing(segment.header().ring_enqueue_position, segment.header().ring_dequeue_position,
                  segment.at<CommandEntry>(segment.layout().ring_offset),
                  segment.at<CommandResult>(segment.layout().ring_results_offset),
                  segment.layout().ring_capacity) {}

CommandRing::CommandRing(std::atomic<std::uint64_t>& enqueue_position,
                         std::atomic<std::uint64_t>& dequeue_position, CommandEntry* entries,
                         CommandResult* results, std::uint32_t capacity)
    : enqueue_position_(&enqueue_position),
      dequeue_position_(&dequeue_position),
      entries_(entries),
      results_(results),
      capacity_(capacity) {}

std::optional<std::uint64_t> CommandRing::post(const Command& command) {
    std::uint64_t position = enqueue_position_->load(std::memory_order_relaxed);
    CommandEntry* entry = nullptr;
    for (;;) {
        entry = &entries_[position % capacity_];
        const std::uint64_t sequence = entry->sequence.load(std::memory_order_acquire);
        const auto difference =
            static_cast<std::int64_t>(sequence) - static_cast<std::int64_t>(position);
        if (difference == 0) {
            if (enqueue_position_->compare_exchange_weak(position, position + 1,
                                                         std::memory_order_relaxed)) {
                break;
            }
        } else if (difference < 0) {
            return std::nullopt;  // the entry still holds an unconsumed command
        } else {
            position = enqueue_position_->load(std::memory_order_relaxed);
        }
    }
    entry->kind = static_cast<std::uint32_t>(command.kind);
    entry->sender_pid = getpid();
    entry->rack = command.rack;
    entry->module = command.module;
    entry->cell = command.cell;
    entry->code = command.code;
    for (int i = 0; i < 6; ++i) {
        entry->args[i] = command.args[i];
    }
    entry->target_id = command.target_id;
    std::memcpy(entry->origin, command.origin.data(), sizeof entry->origin);
    // Publish with a CAS, not a store: if the consumer already gave up on
    // this position, it moved the sequence on and the CAS fails.
    std::uint64_t expected = position;
    if (!entry->sequence.compare_exchange_strong(expected, position + 1, std::memory_order_release,
                                                 std::memory_order_relaxed)) {
        return position;  // answered `abandoned`; result() tells the caller
    }
    return position;
}

std::optional<CommandStatus> CommandRing::result(std::uint64_t position) const {
    const CommandResult& slot = results_[position % capacity_];
    if (slot.position.load(std::memory_order_acquire) != position + 1) {
        return std::nullopt;
    }
    const auto status = static_cast<CommandStatus>(slot.status.load(std::memory_order_acquire));
    // The ring may have wrapped between the two loads: then the status is
    // another command's.
    if (slot.position.load(std::memory_order_acquire) != position + 1) {
        return std::nullopt;
    }
    return status;
}

std::optional<CommandStatus> CommandRing::wait_for_result(std::uint64_t position,
                                                          std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (auto status = result(position)) {
            return status;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

std::optional<ReceivedCommand> CommandRing::try_consume(std::chrono::milliseconds abandon_after) {
    const std::uint64_t position = dequeue_position_->load(std::memory_order_relaxed);
    CommandEntry& entry = entries_[position % capacity_];
    const std::uint64_t sequence = entry.sequence.load(std::memory_order_acquire);
    if (sequence == position + 1) {
        ReceivedCommand received;
        received.position = position;
        received.raw_kind = entry.kind;
        received.sender_pid = entry.sender_pid;
        received.command.kind = static_cast<CommandKind>(entry.kind);
        received.command.rack = entry.rack;
        received.command.module = entry.module;
        received.command.cell = entry.cell;
        received.command.code = entry.code;
        for (int i = 0; i < 6; ++i) {
            received.command.args[i] = entry.args[i];
        }
        received.command.target_id = entry.target_id;
        std::memcpy(received.command.origin.data(), entry.origin, sizeof entry.origin);
        // The producer may be hostile or broken: the text always ends.
        received.command.origin.back() = '\0';
        entry.sequence.store(position + capacity_, std::memory_order_release);
        dequeue_position_->store(position + 1, std::memory_order_release);
        stalled_position_ = UINT64_MAX;
        return received;
    }
    // Nothing published at the head. Claimed but unpublished means a producer
    // is mid-post, or died there.
    if (enqueue_position_->load(std::memory_order_acquire) <= position) {
        return std::nullopt;  // empty
    }
    const auto now = std::chrono::steady_clock::now();
    if (stalled_position_ != position) {
        stalled_position_ = position;
        stalled_since_ = now;
        return std::nullopt;
    }
    if (now - stalled_since_ < abandon_after) {
        return std::nullopt;
    }
    std::uint64_t expected = position;
    if (entry.sequence.compare_exchange_strong(expected, position + capacity_,
                                               std::memory_order_acq_rel)) {
        dequeue_position_->store(position + 1, std::memory_order_release);
        complete(position, CommandStatus::abandoned);
        stalled_position_ = UINT64_MAX;
    }
    return std::nullopt;
}

void CommandRing::complete(std::uint64_t position, CommandStatus status) {
    CommandResult& slot = results_[position % capacity_];
    // Invalidate first, so a reader never pairs the old position with the new status.
    slot.position.store(0, std::memory_order_release);
    slot.status.store(static_cast<std::uint32_t>(status), std::memory_order_release);
    slot.position.store(position + 1, std::memory_order_release);
}

std::uint64_t CommandRing::posted() const {
    return enqueue_position_->load(std::memory_order_relaxed);
}

std::uint64_t CommandRing::consumed() const {
    return dequeue_position_->load(std::memory_order_relaxed);
}

}  // namespace brt
