// The alarm list as readers get it (common/alarm/alarm_list.hpp): board
// alarms through the alarm segment and back, unknown codes counted rather
// than dropped, suppressed alarms hidden unless asked for, and the readers'
// own alarm when no monitor is live.
#include <catch2/catch.hpp>

#include "common/alarm/alarm_list.hpp"
#include "common/alarm_segment/alarm_segment_writer.hpp"
#include "support/test_segment.hpp"

using namespace brt;

namespace {

constexpr std::uint64_t kNow = 1'800'000'000'000'000'000ull;

BoardAlarm sample_alarm(std::uint64_t id, Rule rule, bool suppressed) {
    BoardAlarm alarm;
    alarm.id = id;
    alarm.rule = rule;
    alarm.severity = Severity::warning;
    alarm.key = AlarmKey{rule, Severity::warning, 1, kNoIndex, kNoIndex};
    alarm.location = AlarmLocation{1, 2, 3};
    alarm.value = 4.21f;
    alarm.worst_value = 4.23f;
    alarm.limit = 4.2f;
    alarm.state = AlarmState::acknowledged;
    alarm.latching = true;
    alarm.suppressed = suppressed;
    alarm.first_out_id = 7;
    alarm.shelved_until_realtime_ns = kNow + 60;
    alarm.raised_realtime_ns = kNow;
    alarm.changed_realtime_ns = kNow + 5;
    alarm.raised_frame = 1234;
    alarm.acknowledged_by = "rest 127.0.0.1";
    return alarm;
}

struct AlarmName {
    std::string telemetry = test::unique_segment_name("alarm-list");
    std::string name = alarm_segment_name(telemetry);
    ~AlarmName() { remove_alarm_segment(name); }
};

}  // namespace

TEST_CASE("a board alarm survives the alarm segment's record field by field", "[alarm-list]") {
    const BoardAlarm alarm = sample_alarm(12, Rule::overtemperature_charge, false);
    const auto back = board_alarm(alarm_record(alarm));
    REQUIRE(back);
    CHECK(back->id == 12);
    CHECK(back->rule == Rule::overtemperature_charge);
    CHECK(back->key == alarm.key);
    CHECK(back->location == alarm.location);
    CHECK(back->value == 4.21f);
    CHECK(back->worst_value == 4.23f);
    CHECK(back->limit == 4.2f);
    CHECK(back->state == AlarmState::acknowledged);
    CHECK(back->latching);
    CHECK(back->active);
    CHECK(back->shelved());
    CHECK(back->first_out_id == 7);
    CHECK(back->raised_frame == 1234);
    CHECK(back->acknowledged_by == "rest 127.0.0.1");

    AlarmRecord unknown = alarm_record(alarm);
    unknown.rule = 200;  // a newer monitor's rule
    CHECK_FALSE(board_alarm(unknown));
    AlarmRecord bad_state = alarm_record(alarm);
    bad_state.state = 9;
    CHECK_FALSE(board_alarm(bad_state));
}

TEST_CASE("readers list the published alarms; unknown codes are counted, suppressed ones hidden",
          "[alarm-list]") {
    AlarmName names;
    AlarmSegmentWriter writer = AlarmSegmentWriter::open_or_create(names.name, {});
    writer.start(100'000'000);
    std::vector<AlarmRecord> records = {
        alarm_record(sample_alarm(1, Rule::temperature_rise_rate, false)),
        alarm_record(sample_alarm(2, Rule::temperature_plausibility, true)),
        alarm_record(sample_alarm(3, Rule::cell_overvoltage, false)),
    };
    records[2].rule = 99;
    AlarmPublication publication;
    publication.frame_number = 77;
    writer.publish(publication, records);

    AlarmSegmentReader reader(names.name);
    const AlarmList list = read_alarm_list(reader, true, kNow);
    CHECK(list.monitor_running);
    CHECK(list.frame_number == 77);
    REQUIRE(list.alarms.size() == 2);
    CHECK(list.records_left_out == 1);
    const std::string text = alarm_list_text(list, false);
    INFO(text);
    CHECK_THAT(text, Catch::StartsWith("1 alarm (1 more suppressed by design"));
    CHECK_THAT(text, Catch::Contains("1 more not shown"));
    CHECK_THAT(text, Catch::Contains("#1  warning   acknowledged"));
    CHECK_THAT(text, !Catch::Contains("#2 "));
    CHECK_THAT(alarm_list_text(list, true), Catch::Contains("suppressed: follows #7"));

    JsonWriter json;
    write_alarm_list_json(json, list, false);
    CHECK_THAT(json.str(),
               Catch::Contains("\"suppressed_hidden\":1") && Catch::Contains("\"running\":true"));

    // The monitor stops: every reader shows the alarm system's own alarm
    // first, unless it is still in its start-up grace.
    writer.stop(false);
    const AlarmList down = read_alarm_list(reader, true, kNow);
    CHECK_FALSE(down.monitor_running);
    REQUIRE_FALSE(down.alarms.empty());
    CHECK(down.alarms[0].rule == Rule::alarm_system);
    CHECK(down.alarms[0].id == 0);
    CHECK_THAT(down.monitor_problem, Catch::Contains("monitor pid"));
    CHECK(read_alarm_list(reader, false, kNow).alarms.size() == 2);
}

TEST_CASE("no alarm segment at all is the alarm system's alarm, with what to do", "[alarm-list]") {
    AlarmSegmentReader reader(alarm_segment_name(test::unique_segment_name("no-monitor")));
    const AlarmList list = read_alarm_list(reader, true, kNow);
    REQUIRE(list.alarms.size() == 1);
    CHECK(list.alarms[0].rule == Rule::alarm_system);
    CHECK_THAT(list.monitor_problem, Catch::Contains("start brt-anomaly-monitor"));
    CHECK_THAT(alarm_list_text(list, false), Catch::Contains("alarm monitor not running"));
}
