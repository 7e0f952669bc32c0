// The command ring: producers in any process, never blocking; the writer
// consumes in order and answers each command.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/segment/command_ring.hpp"
#include "common/segment/segment_file.hpp"
#include "support/test_segment.hpp"

using namespace brt;
using namespace std::chrono_literals;

TEST_CASE("commands arrive in order with their arguments", "[ring]") {
    test::ScopedSegment scoped("ring-order", Geometry{4, 2, 2});
    const MappedSegment segment = open_segment(scoped.name(), SegmentAccess::writer);
    CommandRing ring(segment);

    Command command;
    command.kind = CommandKind::set_rack_mode;
    command.rack = 3;
    command.code = 2;
    command.args[0] = -42.5;
    const auto first = ring.post(command);
    command.kind = CommandKind::set_ambient;
    command.args[0] = 35.0;
    const auto second = ring.post(command);
    REQUIRE(first);
    REQUIRE(second);
    CHECK(*second == *first + 1);
    CHECK(ring.posted() == 2);

    auto received = ring.try_consume();
    REQUIRE(received);
    CHECK(received->position == *first);
    CHECK(received->command.kind == CommandKind::set_rack_mode);
    CHECK(received->command.rack == 3);
    CHECK(received->command.module == kAllTargets);
    CHECK(received->command.args[0] == -42.5);
    CHECK(received->sender_pid == getpid());
    CHECK_FALSE(ring.result(*first));
    ring.complete(received->position, CommandStatus::applied);
    CHECK(ring.result(*first) == CommandStatus::applied);

    received = ring.try_consume();
    REQUIRE(received);
    CHECK(received->command.args[0] == 35.0);
    ring.complete(received->position, CommandStatus::rejected_target);
    CHECK(ring.wait_for_result(*second, 10ms) == CommandStatus::rejected_target);
    CHECK_FALSE(ring.try_consume());
    CHECK(ring.consumed() == 2);
}

TEST_CASE("a command's target id and origin arrive as sent", "[ring]") {
    test::ScopedSegment scoped("ring-origin", Geometry{1, 1, 1});
    const MappedSegment segment = open_segment(scoped.name(), SegmentAccess::writer);
    CommandRing ring(segment);

    Command command;
    command.kind = CommandKind::alarm_acknowledge;
    command.target_id = 0x1234567890ABCDEFull;
    set_command_origin(command, "ctl uid 1000");
    REQUIRE(ring.post(command));
    REQUIRE(ring.post(Command{}));  // a producer that sets neither sends zeros

    auto received = ring.try_consume();
    REQUIRE(received);
    CHECK(received->raw_kind == 16);
    CHECK(received->command.target_id == 0x1234567890ABCDEFull);
    CHECK(std::string(received->command.origin.data()) == "ctl uid 1000");
    received = ring.try_consume();
    REQUIRE(received);
    CHECK(received->command.target_id == 0);
    CHECK(std::string(received->command.origin.data()).empty());
}

TEST_CASE("an origin without its terminating NUL is cut, never overrun", "[ring]") {
    test::ScopedSegment scoped("ring-origin-nul", Geometry{1, 1, 1});
    const MappedSegment segment = open_segment(scoped.name(), SegmentAccess::writer);
    CommandRing ring(segment);
    // A hostile producer writes 32 non-NUL bytes straight into the entry.
    const auto position = ring.post(Command{});
    REQUIRE(position);
    auto* entry = segment.at<CommandEntry>(segment.layout().ring_offset) + *position;
    std::memset(entry->origin, 'x', sizeof entry->origin);
    const auto received = ring.try_consume();
    REQUIRE(received);
    CHECK(std::string(received->command.origin.data()) == std::string(31, 'x'));
}

TEST_CASE("a long origin is cut at a UTF-8 character boundary", "[ring]") {
    Command command;
    set_command_origin(command, std::string(40, 'a'));
    CHECK(std::string(command.origin.data()) == std::string(31, 'a'));
    // "é" is two bytes: at bytes 30-31 it would be split, so it is dropped whole.
    set_command_origin(command, std::string(30, 'a') + "\xC3\xA9" + "b");
    CHECK(std::string(command.origin.data()) == std::string(30, 'a'));
    // "€" is three bytes at 29-31: dropped whole too.
    set_command_origin(command, std::string(29, 'a') + "\xE2\x82\xAC");
    CHECK(std::string(command.origin.data()) == std::string(29, 'a'));
    // Fitting exactly: kept.
    set_command_origin(command, std::string(29, 'a') + "\xC3\xA9");
    CHECK(std::string(command.origin.data()) == std::string(29, 'a') + "\xC3\xA9");
    // A shorter origin replaces a longer one completely.
    set_command_origin(command, "rest ::1");
    CHECK(std::string(command.origin.data()) == "rest ::1");
    CHECK(command.origin[20] == '\0');
}

TEST_CASE("a full ring refuses without blocking", "[ring]") {
    test::ScopedSegment scoped("ring-full", Geometry{1, 1, 1});
    const MappedSegment segment = open_segment(scoped.name(), SegmentAccess::writer);
    CommandRing ring(segment);
    for (std::uint32_t i = 0; i < kDefaultRingCapacity; ++i) {
        REQUIRE(ring.post(Command{}));
    }
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(ring.post(Command{}));
    CHECK(std::chrono::steady_clock::now() - start < 100ms);
    // Consuming one frees one.
    REQUIRE(ring.try_consume());
    CHECK(ring.post(Command{}));
}

TEST_CASE("many producers lose and duplicate nothing", "[ring]") {
    test::ScopedSegment scoped("ring-mp", Geometry{1, 1, 1});
    const MappedSegment segment = open_segment(scoped.name(), SegmentAccess::writer);
    constexpr int kProducers = 4;
    constexpr int kPerProducer = 2000;
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
        producers.emplace_back([&, p] {
            CommandRing ring(segment);
            for (int i = 0; i < kPerProducer;) {
                Command command;
                command.code = static_cast<std::uint32_t>(p);
                command.args[0] = i;
                if (ring.post(command)) {
                    ++i;
                } else {
                    std::this_thread::yield();  // full: the consumer will catch up
                }
            }
        });
    }
    CommandRing consumer(segment);
    std::set<std::pair<std::uint32_t, int>> seen;
    std::vector<int> next_expected(kProducers, 0);
    bool in_order = true;
    while (seen.size() < kProducers * kPerProducer) {
        if (auto received = consumer.try_consume()) {
            const auto producer = received->command.code;
            const int sequence = static_cast<int>(received->command.args[0]);
            in_order = in_order && sequence == next_expected[producer];
            next_expected[producer] = sequence + 1;
            seen.emplace(producer, sequence);
            consumer.complete(received->position, CommandStatus::applied);
        }
    }
    for (auto& thread : producers) {
        thread.join();
    }
    CHECK(seen.size() == kProducers * kPerProducer);
    CHECK(in_order);  // each producer's commands keep their order
    CHECK_FALSE(consumer.try_consume());
}

TEST_CASE("a producer that dies mid-post does not block the ring", "[ring]") {
    test::ScopedSegment scoped("ring-abandon", Geometry{1, 1, 1});
    const MappedSegment segment = open_segment(scoped.name(), SegmentAccess::writer);
    CommandRing ring(segment);
    // Claim a position without publishing it, as a producer killed between
    // its CAS and its publish would leave it.
    segment.header().ring_enqueue_position.fetch_add(1);
    Command later;
    later.code = 7;
    const auto position = ring.post(later);
    REQUIRE(position);
    CHECK_FALSE(ring.try_consume(50ms));  // head claimed, not yet published
    std::this_thread::sleep_for(60ms);
    CHECK_FALSE(ring.try_consume(50ms));  // now skipped as abandoned
    CHECK(ring.result(0) == CommandStatus::abandoned);
    const auto received = ring.try_consume(50ms);
    REQUIRE(received);
    CHECK(received->command.code == 7);
}

TEST_CASE("commands posted from another process arrive", "[ring]") {
    test::ScopedSegment scoped("ring-process", Geometry{1, 1, 1});
    const pid_t child = fork();
    if (child == 0) {
        const MappedSegment segment = open_segment(scoped.name(), SegmentAccess::reader);
        CommandRing ring(segment);
        Command command;
        command.kind = CommandKind::pause;
        _exit(ring.post(command) ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    REQUIRE(WEXITSTATUS(status) == 0);
    const MappedSegment segment = open_segment(scoped.name(), SegmentAccess::writer);
    CommandRing ring(segment);
    const auto received = ring.try_consume();
    REQUIRE(received);
    CHECK(received->command.kind == CommandKind::pause);
    CHECK(received->sender_pid == child);
}
