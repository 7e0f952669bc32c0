// The alarm board: the ISA-18.2 lifecycle an operator works with, on events
// made by hand (the engine's own rules are tested in test_alarm_engine.cpp).
#include <catch2/catch.hpp>

#include <vector>

#include "common/alarm/alarm_board.hpp"

using namespace brt;

namespace {

constexpr std::uint64_t kStart = 1'800'000'000'000'000'000ull;
constexpr std::uint64_t kSecond = 1'000'000'000ull;

AlarmEvent engine_event(AlarmTransition transition, Rule rule, Severity severity,
                        AlarmLocation where, float value, bool rack_key = false) {
    AlarmEvent event;
    event.transition = transition;
    event.rule = rule;
    event.severity = severity;
    event.location = where;
    event.key = rack_key ? AlarmKey{rule, severity, where.rack, kNoIndex, kNoIndex}
                         : AlarmKey{rule, severity, where.rack, where.module, where.cell};
    event.value = value;
    event.detected_realtime_ns = kStart;
    return event;
}

AlarmEvent raise(Rule rule, Severity severity, AlarmLocation where, float value = 1.0f) {
    return engine_event(AlarmTransition::raise, rule, severity, where, value);
}
AlarmEvent clear(Rule rule, Severity severity, AlarmLocation where, float value = 0.0f) {
    return engine_event(AlarmTransition::clear, rule, severity, where, value);
}

}  // namespace

TEST_CASE(
    "a non-latching alarm: acknowledged then cleared leaves the list; cleared first waits "
    "for its acknowledgement",
    "[alarm-board]") {
    AlarmBoard board;
    const AlarmLocation cell{0, 1, 2};
    auto events = board.apply({raise(Rule::voltage_plausibility, Severity::warning, cell)}, kStart);
    REQUIRE(events.size() == 1);
    const std::uint64_t id = events[0].id;
    CHECK(id == 1);
    CHECK(events[0].state == AlarmState::unacknowledged);
    CHECK(board.find(id)->annunciated());

    std::vector<AlarmEvent> out;
    CHECK(board.acknowledge(id, "ctl uid 1000", kStart + kSecond, out) == BoardAnswer::applied);
    REQUIRE(out.size() == 1);
    CHECK(out[0].transition == AlarmTransition::acknowledge);
    CHECK(out[0].by == "ctl uid 1000");
    CHECK(board.find(id)->state == AlarmState::acknowledged);
    CHECK(board.find(id)->acknowledged_by == "ctl uid 1000");

    events = board.apply({clear(Rule::voltage_plausibility, Severity::warning, cell)}, kStart);
    REQUIRE(events.size() == 1);
    CHECK(events[0].state == AlarmState::normal);
    CHECK(board.size() == 0);

    // The other order: it returns to normal unacknowledged and stays.
    events = board.apply({raise(Rule::voltage_plausibility, Severity::warning, cell)}, kStart);
    const std::uint64_t second = events[0].id;
    CHECK(second == 2);  // ids are never reused
    events = board.apply({clear(Rule::voltage_plausibility, Severity::warning, cell)}, kStart);
    CHECK(events[0].state == AlarmState::returned_unacknowledged);
    REQUIRE(board.find(second) != nullptr);
    CHECK_FALSE(board.find(second)->active);
    out.clear();
    board.acknowledge(second, "rest 127.0.0.1", kStart, out);
    CHECK(out[0].state == AlarmState::normal);
    CHECK(board.size() == 0);
}

TEST_CASE("a latching alarm stays until acknowledged after its condition cleared",
          "[alarm-board]") {
    AlarmBoard board;
    const AlarmLocation cell{2, 0, 3};
    auto events = board.apply({raise(Rule::thermal_runaway, Severity::critical, cell)}, kStart);
    const std::uint64_t id = events[0].id;
    CHECK(events[0].latching);
    std::vector<AlarmEvent> out;
    board.acknowledge(id, "operator", kStart, out);
    CHECK(board.find(id)->state == AlarmState::acknowledged);
    events = board.apply({clear(Rule::thermal_runaway, Severity::critical, cell)}, kStart);
    // Acknowledged while active is not enough: it waits for a reset.
    CHECK(events[0].state == AlarmState::returned_unacknowledged);
    REQUIRE(board.find(id) != nullptr);
    out.clear();
    board.acknowledge(id, "operator", kStart, out);
    CHECK(board.find(id) == nullptr);

    CHECK(alarm_latches(Rule::cell_overvoltage, Severity::critical));
    CHECK_FALSE(alarm_latches(Rule::cell_overvoltage, Severity::warning));
    CHECK(alarm_latches(Rule::cell_venting, Severity::critical));
    CHECK_FALSE(alarm_latches(Rule::soc_low, Severity::critical));
}

TEST_CASE("a raise that comes back before its acknowledgement is the same alarm", "[alarm-board]") {
    AlarmBoard board;
    const AlarmLocation cell{0, 0, 0};
    const auto first = board.apply({raise(Rule::sensor_status, Severity::warning, cell)}, kStart);
    board.apply({clear(Rule::sensor_status, Severity::warning, cell)}, kStart);
    const auto again = board.apply({raise(Rule::sensor_status, Severity::warning, cell)}, kStart);
    REQUIRE(again.size() == 1);
    CHECK(again[0].id == first[0].id);
    CHECK(again[0].state == AlarmState::unacknowledged);
    CHECK(board.size() == 1);
}

TEST_CASE("consequential alarms of a module are suppressed under its first-out", "[alarm-board]") {
    AlarmBoard board;
    const auto first = board.apply(
        {raise(Rule::temperature_rise_rate, Severity::warning, {1, 1, 5}, 0.2f)}, kStart);
    REQUIRE(first.size() == 1);
    CHECK(first[0].first_out);
    const std::uint64_t first_id = first[0].id;
    const auto later = board.apply(
        {
            raise(Rule::temperature_rise_rate, Severity::warning, {1, 1, 4}),     // neighbour
            raise(Rule::temperature_plausibility, Severity::warning, {1, 1, 6}),  // neighbour
            engine_event(AlarmTransition::raise, Rule::overtemperature_discharge, Severity::info,
                         {1, 1, 5}, 46.0f, true),  // the rack limit, at the cell
            engine_event(AlarmTransition::raise, Rule::overtemperature_discharge,
                         Severity::critical, {1, 1, 5}, 66.0f, true),  // more severe: annunciated
            raise(Rule::thermal_runaway, Severity::critical, {1, 1, 4}),      // the first runaway
            raise(Rule::voltage_plausibility, Severity::warning, {1, 0, 2}),  // another module
            raise(Rule::thermal_runaway, Severity::critical, {1, 1, 6}),      // it spreads: no news
            raise(Rule::cell_venting, Severity::critical, {1, 1, 6}),         // ranks below runaway
        },
        kStart + 10 * kSecond);
    REQUIRE(later.size() == 8);
    CHECK(later[0].suppressed);
    CHECK(later[0].first_out_id == first_id);
    CHECK(later[1].suppressed);
    CHECK(later[2].suppressed);
    CHECK_FALSE(later[3].suppressed);
    CHECK(later[3].first_out_id == first_id);
    CHECK_FALSE(later[4].suppressed);
    CHECK_FALSE(later[5].suppressed);
    CHECK(later[5].first_out);
    CHECK(later[6].suppressed);
    CHECK(later[7].suppressed);
    CHECK(board.raised_total() == 9);
    CHECK(board.annunciated_total() == 4);

    // Acknowledging the first-out acknowledges its suppressed consequences.
    std::vector<AlarmEvent> out;
    board.acknowledge(first_id, "operator", kStart, out);
    CHECK(out.size() == 6);
    for (const BoardAlarm& alarm : board.alarms()) {
        const bool of_group = alarm.id == first_id || alarm.suppressed;
        CHECK((alarm.state == AlarmState::acknowledged) == of_group);
    }

    // Beyond the flood window an alarm of the module is news again.
    const auto much_later = board.apply({raise(Rule::voltage_stuck, Severity::warning, {1, 1, 9})},
                                        kStart + kFirstOutWindowNs + 11 * kSecond);
    CHECK_FALSE(much_later[0].suppressed);
}

TEST_CASE("shelving: time-limited, by identity, and not annunciated", "[alarm-board]") {
    AlarmBoard board;
    const AlarmLocation cell{0, 1, 1};
    const auto raised = board.apply({raise(Rule::voltage_stuck, Severity::warning, cell)}, kStart);
    const std::uint64_t id = raised[0].id;
    std::vector<AlarmEvent> out;
    CHECK(board.shelve(id, 0, "x", kStart, out) == BoardAnswer::bad_argument);
    CHECK(board.shelve(id, kMaxShelveS + 1, "x", kStart, out) == BoardAnswer::bad_argument);
    CHECK(board.shelve(999, 60, "x", kStart, out) == BoardAnswer::no_such_alarm);
    CHECK(out.empty());
    CHECK(board.shelve(id, 60, "ctl uid 0", kStart, out) == BoardAnswer::applied);
    REQUIRE(out.size() == 1);
    CHECK(out[0].transition == AlarmTransition::shelve);
    CHECK_FALSE(board.find(id)->annunciated());

    // Back to normal, acknowledged away, and back again: still shelved.
    board.apply({clear(Rule::voltage_stuck, Severity::warning, cell)}, kStart);
    board.acknowledge(id, "x", kStart, out);
    const auto again = board.apply({raise(Rule::voltage_stuck, Severity::warning, cell)}, kStart);
    CHECK(again[0].shelved);
    CHECK(board.annunciated_total() == 1);

    out.clear();
    board.expire_shelves(kStart + 59 * kSecond, out);
    CHECK(out.empty());
    board.expire_shelves(kStart + 60 * kSecond, out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].transition == AlarmTransition::unshelve);
    CHECK(board.find(again[0].id)->annunciated());
}

TEST_CASE("a restarted monitor adopts its predecessor's alarms with their acknowledgements",
          "[alarm-board]") {
    AlarmBoard before;
    const AlarmLocation hot{0, 0, 3};
    const AlarmLocation gone{1, 0, 0};
    const auto a = before.apply({raise(Rule::cell_overvoltage, Severity::warning, hot)}, kStart);
    const auto b = before.apply({raise(Rule::voltage_stuck, Severity::warning, gone)}, kStart);
    std::vector<AlarmEvent> out;
    before.acknowledge(a[0].id, "operator", kStart, out);
    before.acknowledge(b[0].id, "operator", kStart, out);
    before.shelve(b[0].id, 3600, "operator", kStart, out);

    AlarmBoard after;
    after.adopt(before.alarms());
    CHECK(after.adopted_pending() == 2);
    // The engine confirms one: no new raise, the acknowledgement is kept.
    const auto confirmed =
        after.apply({raise(Rule::cell_overvoltage, Severity::warning, hot)}, kStart);
    CHECK(confirmed.empty());
    CHECK(after.find(a[0].id)->state == AlarmState::acknowledged);
    CHECK(after.find(a[0].id)->acknowledged_by == "operator");
    // The other one is not confirmed: back to normal, and acknowledged, so gone.
    out.clear();
    after.settle_adopted(kStart, out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].id == b[0].id);
    CHECK(after.find(b[0].id) == nullptr);
    // New alarms get new numbers.
    const auto c = after.apply({raise(Rule::soc_low, Severity::info, {1, 1, 1})}, kStart);
    CHECK(c[0].id == 3);
}
