// The alarm table's seqlock under threads: a monitor publishing as fast as it
// can, readers checking that every table they get is one whole publication.
// Run under ThreadSanitizer in CI (suite concurrency).
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "alarm_test_support.hpp"
#include "common/alarm_segment/alarm_segment_reader.hpp"
#include "common/alarm_segment/alarm_segment_writer.hpp"

using namespace brt;
using namespace std::chrono_literals;

TEST_CASE("readers never see a torn or mixed alarm table", "[alarm_threads]") {
    test::ScopedAlarmName scoped("alarm-threads");
    AlarmSegmentOptions options;
    options.record_capacity = 64;
    AlarmSegmentWriter writer = AlarmSegmentWriter::open_or_create(scoped.name(), options);
    writer.start(0);

    // Everything in publication v follows from v: its record count, each
    // record (seeded v * 1000 + i), and the slot header fields.
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> inconsistent{0};
    std::thread publisher([&] {
        std::vector<AlarmRecord> records;
        const auto until = std::chrono::steady_clock::now() + 1500ms;
        for (std::uint64_t v = 1; std::chrono::steady_clock::now() < until; ++v) {
            records.clear();
            for (std::uint64_t i = 0; i < v % 65; ++i) {
                records.push_back(test::derived_record(v * 1000 + i));
            }
            AlarmPublication info;
            info.frame_number = v * 7;
            info.raised_total = v * 3;
            info.annunciated_total = v * 2;
            if (writer.publish(info, records) != v) {
                ++inconsistent;
            }
        }
        done = true;
    });

    constexpr int kReaders = 3;
    std::vector<std::thread> readers;
    std::atomic<std::uint64_t> tables_read{0};
    for (int r = 0; r < kReaders; ++r) {
        readers.emplace_back([&] {
            AlarmSegmentReader reader(scoped.name());
            if (!reader.try_attach()) {
                ++inconsistent;
                return;
            }
            AlarmTable table;
            std::uint64_t last_version = 0;
            while (!done) {
                if (reader.read(table) != AlarmSegmentReader::ReadOutcome::ok) {
                    continue;
                }
                const std::uint64_t v = table.version;
                bool ok = v >= last_version && table.records.size() == v % 65 &&
                          table.info.frame_number == v * 7 && table.info.raised_total == v * 3 &&
                          table.info.annunciated_total == v * 2;
                for (std::size_t i = 0; ok && i < table.records.size(); ++i) {
                    ok = test::same_record(table.records[i], test::derived_record(v * 1000 + i));
                }
                if (!ok) {
                    ++inconsistent;
                }
                last_version = v;
                ++tables_read;
            }
        });
    }
    publisher.join();
    for (auto& thread : readers) {
        thread.join();
    }
    CHECK(inconsistent == 0);
    CHECK(tables_read > 100);
}
