// The alarm engine on synthetic frames: debounce and hysteresis exactly at
// the boundary, raise and clear as separate events, and each rule.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "anomaly_monitor/synthetic_frames.hpp"
#include "common/alarm/alarm_engine.hpp"
#include "common/control/rack_mode.hpp"

using namespace brt;

namespace {

constexpr std::uint64_t kNow = 1'800'000'000'000'000'000ull;

AlarmEngine make_engine(const test::SyntheticFrames& frames, AlarmConfig config = {},
                        std::vector<Chemistry> chemistry = {}) {
    const Geometry& g = frames.geometry();
    if (chemistry.empty()) {
        chemistry.assign(g.racks, Chemistry::nmc);
    }
    std::vector<float> capacity;
    for (Chemistry c : chemistry) {
        capacity.push_back(default_nominal_capacity_ah(c));
    }
    return AlarmEngine(config, g, chemistry, capacity);
}

// Runs `count` frames and returns every event.
std::vector<AlarmEvent> run(AlarmEngine& engine, test::SyntheticFrames& frames, int count,
                            double period_s = 0.1) {
    std::vector<AlarmEvent> all;
    for (int i = 0; i < count; ++i) {
        auto events = engine.evaluate(frames.next(period_s), kNow);
        all.insert(all.end(), events.begin(), events.end());
    }
    return all;
}

std::vector<AlarmEvent> of_rule(const std::vector<AlarmEvent>& events, Rule rule) {
    std::vector<AlarmEvent> found;
    for (const auto& event : events) {
        if (event.rule == rule) {
            found.push_back(event);
        }
    }
    return found;
}

bool at(const AlarmEvent& event, std::uint32_t rack, std::uint32_t module, std::uint32_t cell) {
    return event.location == AlarmLocation{rack, module, cell};
}

std::string describe(const std::vector<AlarmEvent>& events) {
    std::string text;
    for (const auto& e : events) {
        text += std::string(transition_name(e.transition)) + " " + std::string(rule_name(e.rule)) +
                " " + std::string(severity_name(e.severity)) + " " + location_text(e.location) +
                " value " + std::to_string(e.value) + "\n";
    }
    return text;
}

// Every cell of `rack` reads `volts` without flicker, so the rack's highest
// cell is exactly that value and no cell is implausible.
void set_rack_voltage(test::SyntheticFrames& frames, std::uint32_t rack, float volts) {
    const std::uint64_t per_rack = frames.geometry().cells_per_rack();
    frames.frozen_voltage.clear();
    for (std::uint64_t c = rack * per_rack; c < (rack + 1) * per_rack; ++c) {
        frames.frozen_voltage.push_back(c);
        frames.base_voltage()[c] = volts;
    }
}

void set_rack_temperature(test::SyntheticFrames& frames, std::uint32_t rack, float celsius) {
    const std::uint64_t per_rack = frames.geometry().cells_per_rack();
    for (std::uint64_t c = rack * per_rack; c < (rack + 1) * per_rack; ++c) {
        frames.base_temperature()[c] = celsius;
    }
}

}  // namespace

TEST_CASE("healthy frames raise nothing", "[alarm-engine]") {
    test::SyntheticFrames frames;
    AlarmEngine engine = make_engine(frames);
    const auto events = run(engine, frames, 1500);  // 150 s: past stuck time and two windows
    INFO(describe(events));
    CHECK(events.empty());
    CHECK(engine.frames_evaluated() == 1500);
    CHECK(engine.active_counts().total() == 0);
}

TEST_CASE("the writer's rack protection trip is a critical rack alarm until the reset",
          "[alarm-engine]") {
    test::SyntheticFrames frames;
    AlarmEngine engine = make_engine(frames);
    frames.set_rack_flags(1, rack_flags::contactor_open | rack_flags::trip_over_voltage |
                                 rack_flags::trip_over_temperature);
    const auto raised = run(engine, frames, 1);
    INFO(describe(raised));
    REQUIRE(raised.size() == 1);
    CHECK(raised[0].transition == AlarmTransition::raise);
    CHECK(raised[0].rule == Rule::rack_protection_trip);
    CHECK(raised[0].severity == Severity::critical);
    CHECK(raised[0].location == AlarmLocation{1, kNoIndex, kNoIndex});
    CHECK(raised[0].value == 5.0f);          // over-voltage (1) and over-temperature (4)
    CHECK(run(engine, frames, 20).empty());  // held while open: no repeat
    // A flag that is not the contactor's (charge complete) raises nothing.
    frames.set_rack_flags(1, rack_flags::charge_complete | rack_flags::constant_voltage);
    const auto cleared = run(engine, frames, 1);
    REQUIRE(cleared.size() == 1);
    CHECK(cleared[0].transition == AlarmTransition::clear);
    CHECK(cleared[0].rule == Rule::rack_protection_trip);
    CHECK(run(engine, frames, 20).empty());
}

TEST_CASE("debounce: raise after exactly N net bad frames, values at the limit are fine",
          "[alarm-engine][debounce]") {
    test::SyntheticFrames frames;
    AlarmConfig config;
    config.voltage_debounce = {3, 2};
    AlarmEngine engine = make_engine(frames, config);
    const std::uint64_t c = frames.cell(1, 1, 4);
    // Above the MOL (4.15 V) only by the flicker's 1 mV on odd frames: take
    // the flicker out of the picture with a frozen sensor... that would trip
    // the stuck rule later, so stay well within its time.
    frames.frozen_voltage = {c};
    frames.base_voltage()[c] = 4.15f;  // exactly at the MOL: not beyond it
    CHECK(of_rule(run(engine, frames, 20), Rule::cell_overvoltage).empty());

    frames.base_voltage()[c] = std::nextafter(4.15f, 5.0f);
    CHECK(run(engine, frames, 2).empty());  // bad, bad
    frames.base_voltage()[c] = 4.15f;
    CHECK(run(engine, frames, 1).empty());  // good: the counter goes down to 1
    frames.base_voltage()[c] = 4.16f;
    CHECK(run(engine, frames, 1).empty());       // 2
    const auto raised = run(engine, frames, 1);  // 3: raise
    REQUIRE(raised.size() == 1);
    CHECK(raised[0].transition == AlarmTransition::raise);
    CHECK(raised[0].rule == Rule::cell_overvoltage);
    CHECK(raised[0].severity == Severity::info);
    CHECK(raised[0].location.rack == 1);
    CHECK(raised[0].value == 4.16f);
    CHECK(raised[0].limit == 4.15f);
    CHECK(engine.active_counts().at(Severity::info) == 1);
}

TEST_CASE("hysteresis: a flag clears only at limit minus hysteresis, as its own event",
          "[alarm-engine][debounce]") {
    test::SyntheticFrames frames;
    AlarmConfig config;
    config.voltage_debounce = {1, 2};
    AlarmEngine engine = make_engine(frames, config);
    set_rack_voltage(frames, 0, 4.17f);
    frames.base_voltage()[frames.cell(0, 1, 2)] = 4.18f;  // the worst cell
    const auto raised = run(engine, frames, 1);
    REQUIRE(raised.size() == 1);
    CHECK(at(raised[0], 0, 1, 2));

    const float clear_at = 4.15f - config.voltage_hysteresis_v;
    set_rack_voltage(frames, 0, std::nextafter(clear_at, 5.0f));  // inside, not by the margin
    CHECK(run(engine, frames, 20).empty());
    CHECK(engine.active_counts().total() == 1);

    // Exactly the margin counts as back. The worst cell is another one now:
    // the clear names it and its value, not the place and value of the raise.
    set_rack_voltage(frames, 0, clear_at - 0.01f);
    frames.base_voltage()[frames.cell(0, 1, 4)] = clear_at;
    CHECK(run(engine, frames, 1).empty());
    const auto cleared = run(engine, frames, 1);
    REQUIRE(cleared.size() == 1);
    CHECK(cleared[0].transition == AlarmTransition::clear);
    CHECK(cleared[0].rule == Rule::cell_overvoltage);
    CHECK(cleared[0].severity == Severity::info);
    CHECK(at(cleared[0], 0, 1, 4));
    CHECK(cleared[0].value == clear_at);
    CHECK(cleared[0].worst_value == 4.18f);
    CHECK(cleared[0].limit == 4.15f);
    CHECK(engine.active_counts().total() == 0);
    CHECK(engine.raised_counts().at(Severity::info) == 1);
}

TEST_CASE("cell voltage levels: MOL, RSL, MSL raise in order, per chemistry", "[alarm-engine]") {
    test::SyntheticFrames frames;
    AlarmConfig config;
    config.voltage_debounce = {1, 1};
    AlarmEngine engine = make_engine(frames, config, {Chemistry::nmc, Chemistry::lfp});
    // 3.62 V: fine for NMC, above the LFP MOL and RSL.
    const std::uint64_t nmc_cell = frames.cell(0, 0, 1);
    const std::uint64_t lfp_cell = frames.cell(1, 0, 1);
    frames.frozen_voltage = {nmc_cell, lfp_cell};
    for (auto c : {nmc_cell, lfp_cell}) {
        frames.base_voltage()[c] = 3.62f;
    }
    for (std::uint64_t c = frames.cell(1, 0, 0); c < frames.geometry().cell_count(); ++c) {
        if (c != lfp_cell) {
            frames.base_voltage()[c] = 3.40f;
        }
    }
    auto events = of_rule(run(engine, frames, 1), Rule::cell_overvoltage);
    REQUIRE(events.size() == 2);
    CHECK(events[0].severity == Severity::info);
    CHECK(events[1].severity == Severity::warning);
    CHECK(at(events[1], 1, 0, 1));
    CHECK(events[1].limit == 3.60f);

    frames.base_voltage()[nmc_cell] = 4.30f;
    events = of_rule(run(engine, frames, 1), Rule::cell_overvoltage);
    REQUIRE(events.size() == 3);
    CHECK(events[2].severity == Severity::critical);
    CHECK(at(events[2], 0, 0, 1));

    frames.base_voltage()[nmc_cell] = 2.75f;
    events = of_rule(run(engine, frames, 1), Rule::cell_undervoltage);
    REQUIRE(events.size() == 3);
    CHECK(events[2].limit == 2.80f);
}

TEST_CASE("temperature limits depend on whether the rack charges", "[alarm-engine]") {
    test::SyntheticFrames frames;
    AlarmConfig config;
    config.temperature_debounce = {2, 2};
    AlarmEngine engine = make_engine(frames, config);
    const std::uint64_t c = frames.cell(0, 1, 3);
    // 38 C everywhere in rack 0: above the charge MOL (35), below the discharge MOL (45).
    set_rack_temperature(frames, 0, 37.0f);
    frames.base_temperature()[c] = 38.0f;
    frames.set_rack_current(0, 30.0f);  // discharging
    CHECK(run(engine, frames, 10).empty());

    frames.set_rack_current(0, -30.0f);  // charging
    const auto events = run(engine, frames, 2);
    REQUIRE(events.size() == 1);
    CHECK(events[0].rule == Rule::overtemperature_charge);
    CHECK(events[0].severity == Severity::info);
    CHECK(events[0].value == Approx(38.1f).margin(0.11f));
    CHECK(events[0].location.rack == 0);

    // Discharging again: 38 °C is inside the discharge limit but still
    // beyond the charge one, so the alarm stays, labelled with the limit
    // that applies now. It clears only inside both limits.
    frames.set_rack_current(0, 30.0f);
    CHECK(run(engine, frames, 20).empty());
    auto active = engine.active_alarms();
    REQUIRE(active.size() == 1);
    CHECK(active[0].rule == Rule::overtemperature_discharge);
    CHECK(active[0].limit == 45.0f);
    frames.set_rack_current(0, -30.0f);  // and back: still the same alarm, no event
    CHECK(run(engine, frames, 20).empty());
    active = engine.active_alarms();
    REQUIRE(active.size() == 1);
    CHECK(active[0].rule == Rule::overtemperature_charge);
    set_rack_temperature(frames, 0, 32.0f);  // 35 - 2 K hysteresis: inside both
    const auto cleared = run(engine, frames, 2);
    REQUIRE(cleared.size() == 1);
    CHECK(cleared[0].transition == AlarmTransition::clear);
    CHECK(cleared[0].rule == Rule::overtemperature_charge);
    CHECK(cleared[0].value == Approx(32.0f).margin(0.11f));
    frames.set_rack_current(0, 30.0f);

    frames.base_temperature()[c] = -16.0f;  // also implausible: only the limit is checked here
    const auto cold = of_rule(run(engine, frames, 2), Rule::undertemperature_discharge);
    REQUIRE(cold.size() == 2);
    CHECK(cold[1].severity == Severity::warning);
    CHECK(at(cold[1], 0, 1, 3));
}

TEST_CASE("a charging rack has its own minimum temperature: 0 °C, not -20 °C", "[alarm-engine]") {
    test::SyntheticFrames frames;
    AlarmConfig config;
    config.temperature_debounce = {2, 2};
    AlarmEngine engine = make_engine(frames, config);
    const std::uint64_t c = frames.cell(0, 1, 3);
    set_rack_temperature(frames, 0, 8.0f);
    frames.base_temperature()[c] = 1.0f;  // fine to discharge at, too cold to charge
    frames.set_rack_current(0, 30.0f);
    CHECK(run(engine, frames, 10).empty());

    frames.set_rack_current(0, -30.0f);  // charging: below the MOL (5) and the RSL (2)
    auto events = run(engine, frames, 2);
    REQUIRE(events.size() == 2);
    for (const AlarmEvent& event : events) {
        CHECK(event.rule == Rule::undertemperature_charge);
        CHECK(event.transition == AlarmTransition::raise);
        CHECK(at(event, 0, 1, 3));
        CHECK(event.value == Approx(1.0f).margin(0.11f));
    }
    CHECK(events[0].limit == 5.0f);
    CHECK(events[1].limit == 2.0f);

    frames.base_temperature()[c] = -0.5f;  // below the MSL: charging now plates lithium
    events = run(engine, frames, 2);
    REQUIRE(events.size() == 1);
    CHECK(events[0].severity == Severity::critical);
    CHECK(events[0].limit == 0.0f);

    // Discharging: -0.5 °C is fine to discharge at, but beyond the charge
    // limits, so nothing clears; warming up inside both clears all three.
    frames.set_rack_current(0, 30.0f);
    CHECK(run(engine, frames, 20).empty());
    CHECK(engine.active_alarms().size() == 3);
    frames.base_temperature()[c] = 8.0f;
    events = run(engine, frames, 2);
    REQUIRE(events.size() == 3);
    for (const AlarmEvent& event : events) {
        CHECK(event.rule == Rule::undertemperature_discharge);
        CHECK(event.transition == AlarmTransition::clear);
    }
}

TEST_CASE("rack current, SoC window and SoH floor", "[alarm-engine]") {
    test::SyntheticFrames frames;
    AlarmConfig config;
    config.current_debounce = {1, 1};
    config.soc_debounce = {1, 1};
    AlarmEngine engine = make_engine(frames, config);
    frames.set_rack_current(1, 160.0f);  // 1.6 C on 100 Ah: MOL and RSL
    auto events = run(engine, frames, 1);
    REQUIRE(events.size() == 2);
    CHECK(events[0].rule == Rule::overcurrent_discharge);
    CHECK(events[1].severity == Severity::warning);
    CHECK(events[1].limit == Approx(150.0f));
    CHECK(events[1].location == AlarmLocation{1, kNoIndex, kNoIndex});

    frames.set_rack_current(1, -80.0f);  // charging at 0.8 C: discharge clears, charge MOL raises
    events = run(engine, frames, 1);
    CHECK(of_rule(events, Rule::overcurrent_discharge).size() == 2);
    REQUIRE(of_rule(events, Rule::overcurrent_charge).size() == 1);
    CHECK(of_rule(events, Rule::overcurrent_charge)[0].value == Approx(80.0f));
    frames.set_rack_current(1, 0.0f);
    run(engine, frames, 1);

    frames.base_soc()[frames.cell(0, 0, 7)] = 0.04f;
    events = of_rule(run(engine, frames, 1), Rule::soc_low);
    REQUIRE(events.size() == 2);  // below 0.10 and 0.05
    CHECK(at(events[1], 0, 0, 7));
    frames.base_soc()[frames.cell(0, 0, 7)] = 0.6f;
    frames.base_soc()[frames.cell(1, 1, 0)] = 0.99f;
    events = run(engine, frames, 1);
    CHECK(of_rule(events, Rule::soc_low).size() == 2);  // both clear
    REQUIRE(of_rule(events, Rule::soc_high).size() == 1);
    frames.soh = 0.75f;
    events = of_rule(run(engine, frames, 1), Rule::soh_low);
    CHECK(events.size() == 2);  // one info per rack
}

TEST_CASE("plausibility against the module median, dropout, range and status bits",
          "[alarm-engine]") {
    test::SyntheticFrames frames;
    AlarmConfig config;
    config.sensor_debounce = {2, 2};
    AlarmEngine engine = make_engine(frames, config);
    const std::uint64_t v_cell = frames.cell(0, 0, 2);
    const std::uint64_t t_cell = frames.cell(0, 1, 5);
    const std::uint64_t nan_cell = frames.cell(1, 0, 0);
    const std::uint64_t range_cell = frames.cell(1, 1, 7);
    const std::uint64_t flagged = frames.cell(1, 1, 1);
    frames.base_voltage()[v_cell] = 3.7f - 0.32f;       // 320 mV below the median
    frames.base_temperature()[t_cell] = 25.0f + 11.0f;  // 11 K above
    frames.base_voltage()[nan_cell] = NAN;
    frames.base_temperature()[range_cell] = -40.0f;  // an open thermistor reads the rail
    frames.frozen_temperature = {range_cell};
    frames.status()[flagged] = cell_status::offset_drift | cell_status::voltage_sensor_fault;
    const auto events = run(engine, frames, 2);
    INFO(describe(events));
    const auto v = of_rule(events, Rule::voltage_plausibility);
    REQUIRE(v.size() == 1);
    CHECK(at(v[0], 0, 0, 2));
    CHECK(v[0].value == Approx(-0.32f).margin(0.002f));
    const auto t = of_rule(events, Rule::temperature_plausibility);
    REQUIRE(t.size() == 2);  // the hot cell and the open thermistor
    CHECK(at(t[0], 0, 1, 5));
    CHECK(at(t[1], 1, 1, 7));
    const auto nan = of_rule(events, Rule::sensor_dropout);
    REQUIRE(nan.size() == 1);
    CHECK(at(nan[0], 1, 0, 0));
    const auto range = of_rule(events, Rule::temperature_range);
    REQUIRE(range.size() == 1);
    CHECK(at(range[0], 1, 1, 7));
    const auto status = of_rule(events, Rule::sensor_status);
    REQUIRE(status.size() == 1);
    CHECK(at(status[0], 1, 1, 1));
    // The flagged cell's voltage is not trusted for the rack's limits.
    frames.base_voltage()[flagged] = 4.4f;
    CHECK(of_rule(run(engine, frames, 10), Rule::cell_overvoltage).empty());
}

TEST_CASE("a reading outside the physical range is a sensor fault, not a cell beyond its limits",
          "[alarm-engine]") {
    test::SyntheticFrames frames;
    AlarmConfig config;
    config.sensor_debounce = {2, 2};
    config.voltage_debounce = {1, 1};
    config.temperature_debounce = {1, 1};
    AlarmEngine engine = make_engine(frames, config);
    const std::uint64_t high = frames.cell(0, 1, 4);
    const std::uint64_t rail = frames.cell(1, 0, 2);
    frames.base_voltage()[high] = 5.6f;        // beyond the converter's 0..5 V
    frames.base_temperature()[rail] = -40.0f;  // an open thermistor on its rail
    frames.frozen_voltage = {high};
    frames.frozen_temperature = {rail};
    auto events = run(engine, frames, 20);
    INFO(describe(events));
    const auto volts = of_rule(events, Rule::voltage_range);
    REQUIRE(volts.size() == 1);
    CHECK(at(volts[0], 0, 1, 4));
    CHECK(volts[0].value == Approx(5.6f));
    CHECK(volts[0].limit == 5.0f);
    const auto kelvin = of_rule(events, Rule::temperature_range);
    REQUIRE(kelvin.size() == 1);
    CHECK(at(kelvin[0], 1, 0, 2));
    CHECK(kelvin[0].limit == -39.5f);
    // Neither is taken for the cell's real state.
    CHECK(of_rule(events, Rule::cell_overvoltage).empty());
    CHECK(of_rule(events, Rule::undertemperature_discharge).empty());
    CHECK(of_rule(events, Rule::voltage_imbalance).empty());

    frames.base_voltage()[high] = 3.7f;  // the wire is repaired: the flag clears
    const auto cleared = of_rule(run(engine, frames, 2), Rule::voltage_range);
    REQUIRE(cleared.size() == 1);
    CHECK(cleared[0].transition == AlarmTransition::clear);
}

TEST_CASE("a stuck reading is flagged only while its neighbours move", "[alarm-engine]") {
    test::SyntheticFrames frames;
    AlarmConfig config;
    config.stuck_time_s = 30;
    config.stuck_min_frames = 50;
    config.sensor_debounce = {1, 1};
    AlarmEngine engine = make_engine(frames, config);
    const std::uint64_t c = frames.cell(1, 0, 6);
    frames.frozen_temperature = {c};
    // 29.9 s unchanged: not yet.
    CHECK(of_rule(run(engine, frames, 299), Rule::temperature_stuck).empty());
    const auto events = of_rule(run(engine, frames, 3), Rule::temperature_stuck);
    REQUIRE(events.size() == 1);
    CHECK(at(events[0], 1, 0, 6));
    CHECK(events[0].value >= 30.0f);

    // A whole module that does not move (e.g. a paused front end) is not "stuck".
    test::SyntheticFrames quiet;
    AlarmEngine quiet_engine = make_engine(quiet, config);
    for (std::uint64_t i = 0; i < quiet.geometry().cells_per_module; ++i) {
        quiet.frozen_voltage.push_back(quiet.cell(0, 1, static_cast<std::uint32_t>(i)));
    }
    CHECK(of_rule(run(quiet_engine, quiet, 600), Rule::voltage_stuck).empty());
}

TEST_CASE("dT/dt early warning, then runaway confirmed after the rate held 3 s (latched)",
          "[alarm-engine][runaway]") {
    test::SyntheticFrames frames;
    AlarmEngine engine = make_engine(frames);
    const std::uint64_t c = frames.cell(1, 1, 3);
    // A slow rise of 0.3 K/s: early warning only.
    std::vector<AlarmEvent> events;
    for (int i = 0; i < 150; ++i) {
        frames.base_temperature()[c] += 0.03f;
        auto e = engine.evaluate(frames.next(), kNow);
        events.insert(events.end(), e.begin(), e.end());
    }
    auto rate = of_rule(events, Rule::temperature_rise_rate);
    REQUIRE(rate.size() == 1);
    CHECK(at(rate[0], 1, 1, 3));
    CHECK(rate[0].value > 0.1f);
    CHECK(of_rule(events, Rule::thermal_runaway).empty());

    // 2 K/s: the confirmation waits for the rate to hold more than 3 s.
    double high_since = -1;
    double confirmed_at = -1;
    for (int i = 0; i < 200 && confirmed_at < 0; ++i) {
        frames.base_temperature()[c] += 0.2f;
        const auto e = engine.evaluate(frames.next(), kNow);
        if (high_since < 0 && !of_rule(e, Rule::thermal_runaway).empty()) {
            confirmed_at = frames.time_s();
        }
        // Check the rate the engine sees through the warning's value is not needed:
        (void)high_since;
        if (!of_rule(e, Rule::thermal_runaway).empty()) {
            CHECK(at(of_rule(e, Rule::thermal_runaway)[0], 1, 1, 3));
            CHECK(of_rule(e, Rule::thermal_runaway)[0].severity == Severity::critical);
        }
    }
    REQUIRE(confirmed_at > 0);
    // 15 s of 0.3 K/s, then 2 K/s: the filtered rate crosses 1 K/s within a
    // few seconds and must then hold for more than 3 s.
    CHECK(confirmed_at > 15.0 + 3.0);
    CHECK(confirmed_at < 15.0 + 12.0);
    // Cooling down does not clear a confirmed runaway.
    frames.base_temperature()[c] = 25.0f;
    const auto later = run(engine, frames, 600);
    CHECK(of_rule(later, Rule::thermal_runaway).empty());
    CHECK(of_rule(later, Rule::temperature_rise_rate).size() == 1);  // the warning clears
    bool still_active = false;
    for (const auto& alarm : engine.active_alarms()) {
        still_active |= alarm.rule == Rule::thermal_runaway;
    }
    CHECK(still_active);
    CHECK(engine.active_alarms().front().severity == Severity::critical);
}

TEST_CASE("runaway needs a second sign: the rate alone is not enough, a voltage drop is",
          "[alarm-engine][runaway]") {
    test::SyntheticFrames frames;
    AlarmEngine engine = make_engine(frames);
    const std::uint64_t c = frames.cell(0, 1, 3);
    CHECK(run(engine, frames, 110).empty());  // the rate estimate's 10 s warm-up
    // 1.5 K/s for 12 s, from 25 to 43 °C: the rate holds well over 3 s, but
    // the cell stays below the discharge MOL (45 °C) and keeps its voltage.
    std::vector<AlarmEvent> events;
    for (int i = 0; i < 120; ++i) {
        frames.base_temperature()[c] += 0.15f;
        auto e = engine.evaluate(frames.next(), kNow);
        events.insert(events.end(), e.begin(), e.end());
    }
    INFO(describe(events));
    CHECK_FALSE(of_rule(events, Rule::temperature_rise_rate).empty());  // it is watched
    CHECK(of_rule(events, Rule::thermal_runaway).empty());

    // The same rise with the voltage collapsing (the separator going):
    // confirmed at once, still below 45 °C.
    frames.base_voltage()[c] = 0.7f * 3.7f;
    events.clear();
    for (int i = 0; i < 10; ++i) {
        frames.base_temperature()[c] += 0.15f;
        auto e = engine.evaluate(frames.next(), kNow);
        events.insert(events.end(), e.begin(), e.end());
    }
    const auto runaway = of_rule(events, Rule::thermal_runaway);
    REQUIRE(runaway.size() == 1);
    CHECK(at(runaway[0], 0, 1, 3));
    CHECK(frames.base_temperature()[c] < 45.0f);
}

TEST_CASE("module voltage imbalance", "[alarm-engine]") {
    test::SyntheticFrames frames;
    AlarmConfig config;
    config.trend_debounce = {3, 3};
    AlarmEngine engine = make_engine(frames, config);
    frames.base_voltage()[frames.cell(0, 1, 0)] = 3.7f - config.imbalance_spread_v - 0.01f;
    const auto events = run(engine, frames, 3);
    INFO(describe(events));
    REQUIRE(events.size() == 1);
    CHECK(events[0].rule == Rule::voltage_imbalance);
    CHECK(events[0].location == AlarmLocation{0, 1, kNoIndex});
    CHECK(events[0].value > config.imbalance_spread_v);
}

TEST_CASE("resistance and self-discharge outliers against the module's peers",
          "[alarm-engine][outlier]") {
    test::SyntheticFrames frames;
    AlarmEngine engine = make_engine(frames);
    const std::uint64_t aged = frames.cell(0, 0, 6);
    const std::uint64_t leaky = frames.cell(1, 1, 2);
    frames.base_resistance()[aged] *= 1.6f;
    std::vector<AlarmEvent> events;
    for (int i = 0; i < 1300; ++i) {  // two 60 s windows and a bit
        for (std::uint64_t c = 0; c < frames.geometry().cell_count(); ++c) {
            frames.base_soc()[c] -= 1e-6f;  // every cell loses a little (a load)
        }
        frames.base_soc()[leaky] -= 5e-6f;  // this one 18 %/h more
        auto e = engine.evaluate(frames.next(), kNow);
        events.insert(events.end(), e.begin(), e.end());
    }
    INFO(describe(events));
    const auto r = of_rule(events, Rule::resistance_outlier);
    REQUIRE(r.size() == 1);
    CHECK(at(r[0], 0, 0, 6));
    CHECK(r[0].value >= 6.0f);
    const auto s = of_rule(events, Rule::self_discharge);
    REQUIRE(s.size() == 1);
    CHECK(at(s[0], 1, 1, 2));
    CHECK(s[0].value == Approx(18.0f).margin(1.0f));
    CHECK(events.size() == 2);
}

TEST_CASE("writer liveness raises when stale and clears when live", "[alarm-engine]") {
    test::SyntheticFrames frames;
    AlarmEngine engine = make_engine(frames);
    WriterStatus status;
    status.liveness = Liveness::live;
    status.state = WriterState::running;
    status.publish_period_ns = 100'000'000;
    CHECK(engine.evaluate_liveness(status, kNow).empty());
    status.liveness = Liveness::stale;
    status.heartbeat_age_ns = 2'000'000'000;
    auto events = engine.evaluate_liveness(status, kNow);
    REQUIRE(events.size() == 1);
    CHECK(events[0].rule == Rule::writer_liveness);
    CHECK(events[0].severity == Severity::critical);
    CHECK(events[0].value == Approx(2.0f));
    CHECK(events[0].limit == Approx(stale_after_ns(status.publish_period_ns) * 1e-9));
    CHECK(engine.evaluate_liveness(status, kNow).empty());  // raised once
    CHECK(engine.active_counts().at(Severity::critical) == 1);
    status.liveness = Liveness::live;
    events = engine.evaluate_liveness(status, kNow);
    REQUIRE(events.size() == 1);
    CHECK(events[0].transition == AlarmTransition::clear);
}

TEST_CASE("the engine takes a run of whole racks and refuses anything else", "[alarm-engine]") {
    test::SyntheticFrames frames({3, 2, 4});
    AlarmEngine engine = make_engine(frames);
    FrameBuffer rack = frames.next();
    // Cut the frame down to rack 1.
    const CellRange range = rack_range(frames.geometry(), 1);
    for (auto& column : rack.columns) {
        column.erase(
            column.begin() + static_cast<std::ptrdiff_t>(range.first_cell + range.cell_count),
            column.end());
        column.erase(column.begin(),
                     column.begin() + static_cast<std::ptrdiff_t>(range.first_cell));
    }
    rack.status.assign(range.cell_count, 0);
    rack.range = range;
    rack.columns[0][3] = 4.4f;  // rack 1, module 0, cell 3
    const auto events = of_rule(engine.evaluate(rack, kNow), Rule::cell_overvoltage);
    (void)events;  // debounce: 5 frames by default
    std::vector<AlarmEvent> all;
    for (int i = 0; i < 5; ++i) {
        rack.frame_number += 1;
        rack.sim_time_ns += 100'000'000;
        auto e = engine.evaluate(rack, kNow);
        all.insert(all.end(), e.begin(), e.end());
    }
    const auto over = of_rule(all, Rule::cell_overvoltage);
    REQUIRE(over.size() == 3);
    CHECK(at(over[0], 1, 0, 3));
    rack.range.first_cell = 1;
    CHECK_THROWS_AS(engine.evaluate(rack, kNow), std::invalid_argument);
}

TEST_CASE("a vented cell is one latched alarm and out of service for every other rule",
          "[alarm-engine]") {
    test::SyntheticFrames frames;
    AlarmConfig config;
    config.voltage_debounce = {1, 1};
    AlarmEngine engine = make_engine(frames, config);
    CHECK(run(engine, frames, 120).empty());
    const std::uint64_t dead = frames.cell(1, 0, 5);
    frames.status()[dead] = cell_status::venting;
    auto events = run(engine, frames, 1);
    REQUIRE(events.size() == 1);
    CHECK(events[0].rule == Rule::cell_venting);
    CHECK(events[0].severity == Severity::critical);
    CHECK(at(events[0], 1, 0, 5));

    // The dead cell's readings go wild, and its sensor flags with them: no
    // under-voltage, plausibility, dropout, range or stuck alarm for it,
    // however long and however they flicker. (Only its runaway would still
    // be confirmed, a second latched alarm: it does not heat up here.)
    std::vector<AlarmEvent> later;
    for (int i = 0; i < 600; ++i) {
        frames.base_voltage()[dead] = (i % 3 == 0) ? 0.0f : (i % 3 == 1 ? NAN : 1.2f);
        frames.base_temperature()[dead] = 10.0f + 5.0f * static_cast<float>(i % 7);
        frames.status()[dead] =
            cell_status::venting | (i % 2 == 0 ? cell_status::voltage_sensor_fault : 0u);
        auto more = run(engine, frames, 1);
        later.insert(later.end(), more.begin(), more.end());
    }
    INFO(describe(later));
    CHECK(later.empty());
    const auto active = engine.active_alarms();
    REQUIRE(active.size() == 1);
    CHECK(active[0].rule == Rule::cell_venting);
}

TEST_CASE("active alarms carry their value now and their worst since the raise", "[alarm-engine]") {
    test::SyntheticFrames frames;
    AlarmConfig config;
    config.temperature_debounce = {1, 1};
    AlarmEngine engine = make_engine(frames, config);
    const std::uint64_t hot = frames.cell(0, 1, 2);
    frames.frozen_temperature = {hot};
    frames.base_temperature()[hot] = 46.0f;  // above the discharge MOL (45)
    REQUIRE(run(engine, frames, 1).size() >= 1);
    frames.base_temperature()[hot] = 49.0f;
    run(engine, frames, 1);
    frames.base_temperature()[hot] = 47.5f;
    run(engine, frames, 1);
    const auto active = engine.active_alarms();
    bool found = false;
    for (const ActiveAlarm& alarm : active) {
        if (alarm.rule == Rule::overtemperature_discharge && alarm.severity == Severity::info) {
            found = true;
            CHECK(alarm.value == 47.5f);
            CHECK(alarm.worst_value == 49.0f);
            CHECK(alarm.location == AlarmLocation{0, 1, 2});
        }
    }
    CHECK(found);
}
