// A stand-in for brt-anomaly-monitor in the bridge's tests: the alarm
// segment's writer in the test process, publishing the tables a test gives
// it, heartbeating, and answering the commands of its ring as a test says,
// so that what the bridge shows and sends can be checked exactly.
#pragma once

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/alarm/alarm_rules.hpp"
#include "common/alarm_segment/alarm_segment_writer.hpp"

namespace brt::test {

// A record of the alarm segment with what the bridge's tests look at.
inline AlarmRecord alarm_record_for(std::uint64_t id, Rule rule, Severity severity,
                                    std::uint32_t rack, std::uint32_t module, std::uint32_t cell,
                                    AlarmState state = AlarmState::unacknowledged,
                                    std::uint32_t flags = alarm_flags::active) {
    AlarmRecord record;
    record.id = id;
    record.key_rule = static_cast<std::uint8_t>(rule);
    record.rule = static_cast<std::uint8_t>(rule);
    record.severity = static_cast<std::uint8_t>(severity);
    record.state = static_cast<std::uint8_t>(state);
    record.flags = flags;
    record.key_rack = record.rack = rack;
    record.key_module = record.module = module;
    record.key_cell = record.cell = cell;
    record.value = 4.3f;
    record.worst_value = 4.4f;
    record.limit = 4.25f;
    record.raised_realtime_ns = 1'800'000'000'000'000'000ull + id;
    record.changed_realtime_ns = record.raised_realtime_ns;
    record.raised_frame = 10 + id;
    return record;
}

class FakeMonitor {
  public:
    using Answer = std::function<CommandStatus(const ReceivedCommand&)>;

    // Creates (or opens) the alarm segment of telemetry segment
    // `telemetry_name`, starts as its writer, and heartbeats and answers
    // commands (every one applied unless `answer` says otherwise) from a thread.
    explicit FakeMonitor(const std::string& telemetry_name, Answer answer = {})
        : name_(alarm_segment_name(telemetry_name)),
          writer_(AlarmSegmentWriter::open_or_create(name_, AlarmSegmentOptions{})),
          answer_(std::move(answer)) {
        writer_.start(100'000'000);
        thread_ = std::thread([this] {
            while (!stop_.load()) {
                {
                    const std::lock_guard lock(mutex_);
                    if (!stopped_) {
                        writer_.heartbeat();
                        while (consuming_.load()) {
                            auto received = writer_.commands().try_consume();
                            if (!received) {
                                break;
                            }
                            received_.push_back(*received);
                            writer_.commands().complete(
                                received->position,
                                answer_ ? answer_(*received) : CommandStatus::applied);
                        }
                    }
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        });
    }
    ~FakeMonitor() {
        stop_.store(true);
        thread_.join();
    }
    FakeMonitor(const FakeMonitor&) = delete;
    FakeMonitor& operator=(const FakeMonitor&) = delete;

    // Publishes a complete table; returns its version.
    std::uint64_t publish(const std::vector<AlarmRecord>& records, std::uint64_t frame = 1) {
        AlarmPublication publication;
        publication.frame_number = frame;
        publication.raised_total = records.size();
        publication.annunciated_total = records.size();
        const std::lock_guard lock(mutex_);
        return writer_.publish(publication, records);
    }
    // The monitor says it stopped (as on SIGTERM); heartbeats end.
    void stop() {
        const std::lock_guard lock(mutex_);
        writer_.stop(false);
        stopped_ = true;
    }
    // Keeps heartbeating but takes no commands (a hung command loop).
    void stop_consuming() { consuming_.store(false); }
    std::vector<ReceivedCommand> received() const {
        const std::lock_guard lock(mutex_);
        return received_;
    }

  private:
    std::string name_;
    AlarmSegmentWriter writer_;
    Answer answer_;
    mutable std::mutex mutex_;
    std::vector<ReceivedCommand> received_;
    bool stopped_ = false;
    std::atomic<bool> consuming_{true};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// Removes the alarm segment of a test's telemetry segment when the test ends.
struct RemoveAlarmSegment {
    std::string telemetry_name;
    ~RemoveAlarmSegment() { remove_alarm_segment(alarm_segment_name(telemetry_name)); }
};

}  // namespace brt::test
