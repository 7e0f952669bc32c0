// Abuse tests and the rack's protection, as a user of the simulator sees
// them: the default thermal_runaway scenario triggers both chemistries and
// its heater stops at the runaway; the peak follows from the energy balance;
// the rack's contactor opens on a critical cell condition, stays open, and
// is reset only once the condition is gone; a finished charge is published.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/control/rack_mode.hpp"
#include "support/sim_harness.hpp"

using namespace brt;

namespace {

ReceivedCommand reset_command(std::uint32_t rack) {
    ReceivedCommand command;
    command.raw_kind = static_cast<std::uint32_t>(CommandKind::reset_protection);
    command.command.kind = CommandKind::reset_protection;
    command.command.rack = rack;
    return command;
}

std::uint32_t flags_of(test::SimHarness& harness, std::uint32_t rack = 0) {
    return harness.frame().racks[rack].flags;
}

}  // namespace

TEST_CASE("the default abuse test runs away both chemistries, then its heater stops",
          "[protection][runaway]") {
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        // A 32-cell module, as in a rack: the trigger cell loses heat to the
        // air and to two neighbours. Idle, the scenario's default heater.
        test::SimHarness harness("abuse", Geometry{1, 1, 32}, test::SimHarness::default_config(),
                                 {chemistry});
        Simulation& sim = harness.sim();
        const model::ChemistryParams& p = sim.params(chemistry);
        constexpr std::uint64_t kTrigger = 15;
        sim.apply_scenario(parse_scenario_spec("thermal_runaway:rack=0,module=0,cell=15"));
        const auto& temperature = sim.cells().temperature_c;
        const auto& progress = sim.cells().runaway_progress;
        double runaway_s = -1;
        for (int second = 0; second < 3600 && runaway_s < 0; ++second) {
            harness.run_for(1, 1.0);
            if (progress[kTrigger] > 0.0f) {
                runaway_s = sim.sim_time_s();
            }
        }
        INFO("trigger cell ran away at " << runaway_s << " s");
        REQUIRE(runaway_s > 0);
        // The heater stopped at the runaway: the cell's heat is its own.
        CHECK(sim.cells().external_heat_w[kTrigger] > 0.0f);  // the scenario still asks
        double trigger_peak_c = 0;
        double neighbour_peak_c = 0;
        for (int second = 0; second < 60; ++second) {
            harness.run_for(1, 0.1);
            trigger_peak_c = std::max(trigger_peak_c, temperature[kTrigger]);
            neighbour_peak_c =
                std::max({neighbour_peak_c, temperature[kTrigger - 1], temperature[kTrigger + 1]});
        }
        INFO("peak " << trigger_peak_c << " C, energy balance " << p.runaway_adiabatic_peak_c
                     << " C, neighbours " << neighbour_peak_c << " C");
        // The peak comes from the heat the cell keeps, not a limit: near the
        // adiabatic figure, less the few percent lost during the release.
        CHECK(trigger_peak_c < p.runaway_adiabatic_peak_c);
        CHECK(trigger_peak_c > 0.95 * p.runaway_adiabatic_peak_c);
        CHECK(neighbour_peak_c <= trigger_peak_c);

        // A vented cell publishes no SoC or SoH, and its rack is cut off.
        const FrameData frame = harness.frame();
        CHECK(std::isnan(frame.columns[static_cast<int>(Field::soc)][kTrigger]));
        CHECK(std::isnan(frame.columns[static_cast<int>(Field::soh)][kTrigger]));
        CHECK_FALSE(std::isnan(frame.columns[static_cast<int>(Field::soc)][0]));
        CHECK((frame.racks[0].flags & rack_flags::contactor_open) != 0);
        CHECK((frame.racks[0].flags & rack_flags::trip_thermal_runaway) != 0);
        CHECK(sim.handle_command(reset_command(0)) == CommandStatus::rejected_condition);

        // Half an hour on: the runaway spreads cell by cell through an NMC
        // module, as propagation tests show; through an LFP one it does not
        // once the heater is off, and the burnt-out cell cools (with the
        // heater on it would stay near 25 + 1500 W / 9 W/K = 190 C).
        std::vector<double> peak_c(32, 0.0);
        for (int second = 0; second < 1800; ++second) {
            harness.run_for(1, 0.5);
            for (std::size_t c = 0; c < peak_c.size(); ++c) {
                peak_c[c] = std::max(peak_c[c], temperature[c]);
            }
        }
        INFO("trigger cell at " << temperature[kTrigger] << " C after 30 min");
        // Every cell that ran away later peaked within a few kelvin of the
        // trigger cell: each keeps the same share of the same heat.
        for (std::size_t c = 0; c < peak_c.size(); ++c) {
            if (c != kTrigger && progress[c] > 0.0f) {
                INFO("cell " << c << " peaked at " << peak_c[c] << " C");
                CHECK(std::fabs(peak_c[c] - trigger_peak_c) < 0.03 * trigger_peak_c);
            }
        }
        if (chemistry == Chemistry::lfp) {
            CHECK(progress[kTrigger - 1] == 0.0f);
            CHECK(progress[kTrigger + 1] == 0.0f);
            CHECK(temperature[kTrigger] < p.self_heating_onset_c);
        } else {
            CHECK(progress[kTrigger - 1] == 1.0f);
            CHECK(progress[kTrigger + 1] == 1.0f);
        }
    }
}

TEST_CASE("the heater of a lone cell stops at its runaway, and the burnt-out cell cools",
          "[protection][runaway]") {
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        // One cell, cooled by the air only: a heater left on would hold it at
        // 25 C + P / k_air (NMC 400 / 1.5 = 290 K above, LFP 1500 / 3 = 500 K).
        test::SimHarness harness("abuse-lone", Geometry{1, 1, 1},
                                 test::SimHarness::default_config(), {chemistry});
        Simulation& sim = harness.sim();
        const model::ChemistryParams& p = sim.params(chemistry);
        sim.apply_scenario(parse_scenario_spec("thermal_runaway:rack=0,module=0,cell=0"));
        for (int second = 0; second < 3600 && sim.cells().runaway_progress[0] == 0.0f; ++second) {
            harness.run_for(1, 1.0);
        }
        REQUIRE(sim.cells().runaway_progress[0] > 0.0f);
        harness.run_for(3000, 1.0);  // 4.5 (NMC) and 3 (LFP) cooling time constants
        INFO("cell at " << sim.cells().temperature_c[0] << " C");
        CHECK(sim.cells().temperature_c[0] < p.self_heating_onset_c);
    }
}

TEST_CASE("an abuse heater that never triggers its cell stops at the time-out",
          "[protection][runaway]") {
    test::SimHarness harness("abuse-timeout", Geometry{1, 1, 8});
    Simulation& sim = harness.sim();
    sim.apply_scenario(parse_scenario_spec("thermal_runaway:rack=0,module=0,cell=3,magnitude=50"));
    harness.run_for(kAbuseHeaterTimeoutS - 10, 10.0);
    CHECK(sim.scenarios().size() == 1);
    CHECK(sim.cells().external_heat_w[3] == 50.0f);
    harness.run_for(20, 10.0);
    CHECK(sim.scenarios().empty());
    CHECK(sim.cells().external_heat_w[3] == 0.0f);
    CHECK(sim.cells().runaway_progress[3] == 0.0f);
}

TEST_CASE("over-temperature opens the contactor; reset is refused until the cell cools",
          "[protection]") {
    SimulationConfig config = test::SimHarness::default_config();
    config.initial_mode = RackMode::discharge;
    config.initial_soc_mean = 0.9f;
    test::SimHarness harness("protect-temp", Geometry{1, 1, 8}, config);
    Simulation& sim = harness.sim();
    const model::ChemistryParams& p = sim.params(Chemistry::nmc);
    sim.apply_scenario(parse_scenario_spec("thermal_runaway:rack=0,module=0,cell=3"));
    const RackState& rack = sim.racks()[0];
    double hot_since_s = -1;
    while (!rack.contactor_open && sim.sim_time_s() < 3600) {
        harness.run_for(0.1);
        if (hot_since_s < 0 && sim.cells().temperature_c[3] > p.t_max_discharge_msl_c) {
            hot_since_s = sim.sim_time_s();
        }
        CHECK((rack.current_a > 0.0f) == !rack.contactor_open);  // discharging until it opens
    }
    REQUIRE(rack.contactor_open);
    INFO("over the MSL at " << hot_since_s << " s, open at " << sim.sim_time_s() << " s");
    // Debounced: 5 s over the limit (one publish interval of slack).
    CHECK(sim.sim_time_s() - hot_since_s == Approx(5.0).margin(0.15));
    CHECK(sim.cells().runaway_progress[3] == 0.0f);
    harness.run_for(1);
    CHECK(rack.current_a == 0.0f);
    std::uint32_t flags = flags_of(harness);
    CHECK((flags & rack_flags::contactor_open) != 0);
    CHECK((flags & rack_flags::trip_reasons) == rack_flags::trip_over_temperature);
    CHECK(harness.frame().columns[static_cast<int>(Field::current_a)][0] == Approx(0).margin(0.05));

    // Still hot: refused, and nothing changes.
    CHECK(sim.handle_command(reset_command(0)) == CommandStatus::rejected_condition);
    CHECK(sim.handle_command(reset_command(kAllTargets)) == CommandStatus::rejected_condition);
    CHECK(sim.handle_command(reset_command(1)) == CommandStatus::rejected_target);
    CHECK(rack.contactor_open);

    // The heater off, the cell cools below the MSL; the contactor stays open
    // (latched) until the reset, after which the rack discharges again.
    sim.clear_scenarios(0, Target{});
    harness.run_for(600, 1.0);
    CHECK(sim.cells().temperature_c[3] < p.t_max_discharge_msl_c);
    CHECK(rack.contactor_open);
    CHECK(rack.current_a == 0.0f);
    CHECK(sim.handle_command(reset_command(0)) == CommandStatus::applied);
    harness.run_for(1);
    CHECK_FALSE(rack.contactor_open);
    CHECK(rack.current_a > 0.0f);
    flags = flags_of(harness);
    CHECK((flags & (rack_flags::contactor_open | rack_flags::trip_reasons)) == 0);
}

TEST_CASE("over-voltage from a failed charger opens the contactor within the voltage debounce",
          "[protection]") {
    SimulationConfig config = test::SimHarness::default_config();
    config.initial_soc_mean = 0.97f;
    test::SimHarness harness("protect-volt", Geometry{2, 1, 8}, config);
    Simulation& sim = harness.sim();
    const model::ChemistryParams& p = sim.params(Chemistry::nmc);
    sim.apply_scenario(parse_scenario_spec("overcharge:rack=0"));
    const RackState& rack = sim.racks()[0];
    float highest_v = 0;
    while (!rack.contactor_open && sim.sim_time_s() < 3600) {
        // Step by step near the limit, to see the highest voltage reached.
        harness.run_for(highest_v > p.v_max_v - 0.05f ? 0.01 : 1.0,
                        highest_v > p.v_max_v - 0.05f ? 0.01 : 1.0);
        if (!rack.contactor_open) {
            highest_v =
                *std::max_element(sim.cells().voltage_v.begin(), sim.cells().voltage_v.begin() + 8);
        }
    }
    REQUIRE(rack.contactor_open);
    INFO("highest cell " << highest_v << " V");
    CHECK(highest_v > p.v_max_v);
    CHECK(highest_v < p.v_max_v + 0.02f);  // stopped just past the MSL, not at +0.3 V
    harness.run_for(1);
    CHECK(rack.current_a == 0.0f);
    CHECK((flags_of(harness) & rack_flags::trip_reasons) == rack_flags::trip_over_voltage);
    // The other rack is untouched.
    CHECK((flags_of(harness, 1) & rack_flags::contactor_open) == 0);
}

TEST_CASE("a finished charge is published apart from the constant-voltage phase",
          "[protection][charge]") {
    SimulationConfig config = test::SimHarness::default_config();
    config.initial_mode = RackMode::charge;
    config.initial_soc_mean = 0.9f;
    test::SimHarness harness("charge-done", Geometry{1, 1, 4}, config);
    bool saw_cv_only = false;
    std::uint32_t flags = 0;
    for (int second = 0; second < 7200; ++second) {
        harness.run_for(1, 1.0);
        flags = flags_of(harness);
        if ((flags & rack_flags::charge_complete) != 0) {
            break;
        }
        saw_cv_only = saw_cv_only || (flags & rack_flags::constant_voltage) != 0;
    }
    CHECK(saw_cv_only);  // CV first, without the complete flag
    CHECK((flags & rack_flags::charge_complete) != 0);
    CHECK(harness.frame().racks[0].mode == static_cast<std::uint32_t>(RackMode::charge));
    // Told to discharge, the rack is no longer "charge complete".
    ReceivedCommand discharge;
    discharge.raw_kind = static_cast<std::uint32_t>(CommandKind::set_rack_mode);
    discharge.command.kind = CommandKind::set_rack_mode;
    discharge.command.rack = 0;
    discharge.command.code = static_cast<std::uint32_t>(RackMode::discharge);
    REQUIRE(harness.sim().handle_command(discharge) == CommandStatus::applied);
    harness.run_for(1);
    CHECK((flags_of(harness) & rack_flags::charge_complete) == 0);
}
