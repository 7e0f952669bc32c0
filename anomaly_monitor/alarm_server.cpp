#include "anomaly_monitor/alarm_server.hpp"

#include <sys/stat.h>

#include <string>

#include <cstring>
#include "common/alarm/alarm_list.hpp"

#include "common/segment/clock.hpp"
#include "common/segment/command_ring.hpp"
#include "common/segment/liveness.hpp"
#include "common/segment/shm_name.hpp"

namespace brt {

namespace {

// Whoever may read the telemetry may read the alarms and acknowledge them:
// the alarm segment takes the telemetry segment's mode and group.
AlarmSegmentOptions options_like(const std::string& shm_name) {
    AlarmSegmentOptions options;
    struct stat info {};
    if (stat(shm_path(shm_name).c_str(), &info) == 0) {
        options.mode = info.st_mode & 0777;
        options.group = info.st_gid;
    }
    return options;
}

AlarmSegmentWriter open_writer(const std::string& shm_name, bool reset) {
    const std::string name = alarm_segment_name(shm_name);
    if (reset) {
        remove_alarm_segment(name);
    }
    return AlarmSegmentWriter::open_or_create(name, options_like(shm_name));
}

// Who sent a command, for the acknowledged_by field and the event line.
std::string origin_of(const ReceivedCommand& received) {
    const auto& origin = received.command.origin;
    std::string text(origin.data(), strnlen(origin.data(), origin.size()));
    return text.empty() ? "pid " + std::to_string(received.sender_pid) : text;
}

CommandStatus status_of(BoardAnswer answer) {
    switch (answer) {
        case BoardAnswer::applied:
            return CommandStatus::applied;
        case BoardAnswer::no_such_alarm:
            return CommandStatus::rejected_target;
        case BoardAnswer::bad_argument:
            return CommandStatus::rejected_argument;
    }
    return CommandStatus::rejected_unknown;
}

}  // namespace

AlarmServer::AlarmServer(const std::string& shm_name, bool reset)
    : writer_(open_writer(shm_name, reset)), previous_(writer_.previous_table()) {
    start_realtime_ns_ = realtime_ns();
    writer_.start(kMaxHeartbeatIntervalNs);
    publish();  // readers see a live monitor with an empty list at once
}

std::size_t AlarmServer::attach(std::uint64_t telemetry_generation) {
    board_ = AlarmBoard{};
    telemetry_generation_ = telemetry_generation;
    frame_number_ = 0;
    changed_ = true;
    std::size_t adopted = 0;
    if (previous_ && previous_->info.telemetry_generation == telemetry_generation) {
        std::vector<BoardAlarm> alarms;
        for (const AlarmRecord& record : previous_->records) {
            if (auto alarm = board_alarm(record)) {
                alarms.push_back(std::move(*alarm));
            }
        }
        board_.adopt(alarms);
        adopted = board_.size();
    }
    previous_.reset();
    return adopted;
}

void AlarmServer::settle_adopted(std::uint64_t now_ns, std::vector<AlarmEvent>& out) {
    const std::size_t before = out.size();
    board_.settle_adopted(now_ns, out);
    changed_ = changed_ || out.size() != before;
}

void AlarmServer::frame_evaluated(std::uint64_t frame_number, std::uint64_t publish_monotonic_ns) {
    frame_number_ = frame_number;
    frame_publish_monotonic_ns_ = publish_monotonic_ns;
    changed_ = true;  // the live values moved
}

void AlarmServer::tick(std::uint64_t now_ns, std::vector<AlarmEvent>& out) {
    CommandRing& ring = writer_.commands();
    while (const auto received = ring.try_consume()) {
        const Command& command = received->command;
        const std::string by = origin_of(*received);
        BoardAnswer answer = BoardAnswer::applied;
        CommandStatus status = CommandStatus::rejected_unknown;
        switch (static_cast<CommandKind>(received->raw_kind)) {
            case CommandKind::alarm_acknowledge:
                answer = board_.acknowledge(command.target_id, by, now_ns, out);
                status = status_of(answer);
                break;
            case CommandKind::alarm_shelve:
                answer = board_.shelve(command.target_id, command.args[0], by, now_ns, out);
                status = status_of(answer);
                break;
            case CommandKind::alarm_unshelve:
                answer = board_.unshelve(command.target_id, by, now_ns, out);
                status = status_of(answer);
                break;
            default:
                break;  // a telemetry command sent here by mistake
        }
        ring.complete(received->position, status);
        changed_ = true;
    }
    const std::size_t before = out.size();
    board_.expire_shelves(now_ns, out);
    changed_ = changed_ || out.size() != before;
    if (changed_) {
        publish();
    } else {
        writer_.heartbeat();
    }
}

void AlarmServer::publish() {
    const std::vector<BoardAlarm> alarms = board_.alarms();
    std::vector<AlarmRecord> records;
    records.reserve(alarms.size());
    for (const BoardAlarm& alarm : alarms) {
        records.push_back(alarm_record(alarm));
    }
    AlarmPublication publication;
    publication.frame_number = frame_number_;
    publication.frame_publish_monotonic_ns = frame_publish_monotonic_ns_;
    publication.telemetry_generation = telemetry_generation_;
    publication.raised_total = board_.raised_total();
    publication.annunciated_total = board_.annunciated_total();
    publication.monitor_start_realtime_ns = start_realtime_ns_;
    writer_.publish(publication, records);
    changed_ = false;
}

void AlarmServer::stop(bool failed) {
    publish();
    writer_.stop(failed);
}

}  // namespace brt
