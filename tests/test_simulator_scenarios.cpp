// Each scenario does to the system what it does to real racks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "common/segment/errors.hpp"
#include "simulator/rack_control.hpp"
#include "support/sim_harness.hpp"

using namespace brt;

namespace {

template <typename T>
double mean_over(const std::vector<T>& column, CellRange range) {
    double sum = 0;
    for (std::uint64_t c = range.first_cell; c < range.first_cell + range.cell_count; ++c) {
        sum += column[c];
    }
    return sum / range.cell_count;
}

double mean_soc(const Simulation& sim, CellRange range) {
    double sum = 0;
    for (std::uint64_t c = range.first_cell; c < range.first_cell + range.cell_count; ++c) {
        sum += sim.cells().soc[c];
    }
    return sum / range.cell_count;
}

void apply(Simulation& sim, const std::string& spec) {
    sim.apply_scenario(parse_scenario_spec(spec));
}

SimulationConfig discharging() {
    SimulationConfig config = test::SimHarness::default_config();
    config.initial_mode = RackMode::discharge;
    config.discharge_c_rate = 0.5f;
    config.initial_soc_mean = 0.9f;
    return config;
}

}  // namespace

TEST_CASE("thermal runaway takes the target past onset, then its neighbours", "[scenario]") {
    test::SimHarness harness("runaway", Geometry{1, 1, 8});
    Simulation& sim = harness.sim();
    apply(sim, "thermal_runaway:rack=0,module=0,cell=3");
    const auto& p = sim.params(Chemistry::nmc);
    const auto& temperature = sim.cells().temperature_c;
    double target_onset_s = -1;
    double neighbour_onset_s = -1;
    for (int second = 0; second < 3600 && neighbour_onset_s < 0; ++second) {
        harness.run_for(1);
        if (target_onset_s < 0 && temperature[3] >= p.self_heating_onset_c) {
            target_onset_s = sim.sim_time_s();
        }
        if (std::max(temperature[2], temperature[4]) >= p.self_heating_onset_c) {
            neighbour_onset_s = sim.sim_time_s();
        }
    }
    INFO("target onset at " << target_onset_s << " s, neighbour at " << neighbour_onset_s << " s");
    REQUIRE(target_onset_s > 0);
    CHECK(sim.cells().runaway_progress[3] > 0.0f);
    CHECK(neighbour_onset_s > target_onset_s);
    // A cell far down the module is still cooler than the one that ran away.
    CHECK(temperature[7] < temperature[3]);
    const FrameData frame = harness.frame();
    CHECK((frame.status[3] & cell_status::thermal_runaway) != 0);
    CHECK((frame.status[3] & cell_status::venting) != 0);
    CHECK(frame.columns[static_cast<int>(Field::voltage_v)][3] < 1.0f);  // it collapsed
}

TEST_CASE("a power outage drains the racks' state of charge", "[scenario]") {
    SimulationConfig config = test::SimHarness::default_config();
    config.initial_soc_mean = 0.8f;
    test::SimHarness harness("outage", Geometry{2, 2, 8}, config);
    Simulation& sim = harness.sim();
    apply(sim, "power_outage:rack=0");
    harness.run_for(600);
    const double outage_soc = mean_soc(sim, rack_range(sim.geometry(), 0));
    const double idle_soc = mean_soc(sim, rack_range(sim.geometry(), 1));
    // 0.5 C for ten minutes: about 8 % of the charge.
    CHECK(outage_soc == Approx(0.8 - 0.5 / 6).margin(0.02));
    CHECK(idle_soc == Approx(0.8).margin(0.01));
    CHECK(harness.sim().racks()[0].grid_outage);
}

TEST_CASE("an HVAC failure heats the rack air and the cells", "[scenario]") {
    test::SimHarness harness("hvac", Geometry{2, 4, 16}, discharging());
    Simulation& sim = harness.sim();
    apply(sim, "hvac_failure:rack=1");
    harness.run_for(1800, 1.0);
    const RackState& cooled = sim.racks()[0];
    const RackState& failed = sim.racks()[1];
    INFO("air: cooled " << cooled.air_temperature_c << " C, failed " << failed.air_temperature_c);
    CHECK(failed.air_temperature_c > cooled.air_temperature_c + 2.0f);
    CHECK(mean_over(sim.cells().temperature_c, rack_range(sim.geometry(), 1)) >
          mean_over(sim.cells().temperature_c, rack_range(sim.geometry(), 0)) + 1.0);
    CHECK_FALSE(failed.hvac_on);
}

TEST_CASE("a heat wave overwhelms the derated HVAC and warms the rack", "[scenario]") {
    test::SimHarness harness("ambient", Geometry{2, 4, 16}, discharging());
    Simulation& sim = harness.sim();
    apply(sim, "high_ambient:rack=1,magnitude=30");
    harness.run_for(3600, 1.0);
    INFO("air: " << sim.racks()[0].air_temperature_c << " C and "
                 << sim.racks()[1].air_temperature_c);
    CHECK(sim.racks()[1].ambient_c == Approx(55.0f));
    CHECK(sim.racks()[1].air_temperature_c > sim.racks()[0].air_temperature_c + 5.0f);
    CHECK(mean_over(sim.cells().temperature_c, rack_range(sim.geometry(), 1)) >
          mean_over(sim.cells().temperature_c, rack_range(sim.geometry(), 0)) + 3.0);
}

TEST_CASE("overcharge pushes cells past their CV voltage until the protection trips at the MSL",
          "[scenario]") {
    SimulationConfig config = test::SimHarness::default_config();
    config.initial_soc_mean = 0.9f;
    test::SimHarness harness("overcharge", Geometry{2, 1, 8}, config);
    Simulation& sim = harness.sim();
    apply(sim, "overcharge:rack=0");
    harness.run_for(1200, 1.0);
    const float v_max = sim.params(Chemistry::nmc).v_max_v;
    const CellRange rack0 = rack_range(sim.geometry(), 0);
    const auto& v = sim.cells().voltage_v;
    // Past the CV target the charger should have held; at the maximum safety
    // voltage the rack's BMS opens the contactor (before issue 16 the cells
    // went on past it).
    CHECK(*std::max_element(v.begin() + rack0.first_cell,
                            v.begin() + rack0.first_cell + rack0.cell_count) >
          sim.params(Chemistry::nmc).v_charge_cv_v);
    CHECK(sim.racks()[0].contactor_open);
    CHECK(sim.racks()[0].trip_reasons == protection::over_voltage);
    CHECK(sim.racks()[0].current_a == 0.0f);
    CHECK(sim.racks()[0].cv_failure);
    // The other rack was idle and stays where it was.
    CHECK(*std::max_element(v.begin() + 8, v.end()) < v_max);
}

TEST_CASE("sensor faults change what is published, never the true state", "[scenario]") {
    test::SimHarness harness("sensors", Geometry{1, 1, 8}, discharging());
    Simulation& sim = harness.sim();
    apply(sim, "sensor_fault:rack=0,module=0,cell=1,kind=dropout");
    apply(sim, "sensor_fault:rack=0,module=0,cell=2,kind=open_wire");
    apply(sim, "sensor_fault:rack=0,module=0,cell=3,kind=offset,magnitude=0.2");
    apply(sim, "sensor_fault:rack=0,module=0,cell=4,kind=stuck,sensor=temperature");
    apply(sim, "sensor_fault:rack=0,module=0,cell=5,kind=open_wire,sensor=temperature");
    harness.run_for(1);
    const float stuck_temperature =
        harness.frame().columns[static_cast<int>(Field::temperature_c)][4];
    harness.run_for(300, 1.0);
    const FrameData frame = harness.frame();
    const auto& voltage = frame.columns[static_cast<int>(Field::voltage_v)];
    const auto& temperature = frame.columns[static_cast<int>(Field::temperature_c)];
    const auto& true_voltage = sim.cells().voltage_v;

    CHECK(std::isnan(voltage[1]));
    CHECK((frame.status[1] & cell_status::dropout) != 0);
    CHECK(std::isfinite(true_voltage[1]));
    CHECK((frame.status[2] & cell_status::open_wire) != 0);
    CHECK(voltage[2] < 0.5f);
    CHECK(true_voltage[2] > 3.0f);
    CHECK(voltage[3] == Approx(true_voltage[3] + 0.2f).margin(0.01));
    CHECK(temperature[4] == stuck_temperature);
    CHECK(sim.cells().temperature_c[4] != Approx(stuck_temperature).margin(0.05));
    // An open thermistor wire reads the bottom of the range; its voltage is fine.
    CHECK(temperature[5] == -40.0f);
    CHECK((frame.status[5] & cell_status::open_wire) != 0);
    CHECK((frame.status[5] & cell_status::temperature_sensor_fault) != 0);
    CHECK(voltage[5] == Approx(true_voltage[5]).margin(0.01));
    // Healthy neighbours carry no fault bits.
    CHECK((frame.status[0] & (cell_status::dropout | cell_status::open_wire)) == 0);
    CHECK(std::isfinite(voltage[0]));
}

TEST_CASE("a stuck sensor holds a reading on the converter's step", "[scenario]") {
    // Published readings are quantised (1 mV, 0.1 K: docs/segment-format.md);
    // a stuck sensor holds one such reading, not the model's raw value.
    test::SimHarness harness("stuck-quantised", Geometry{1, 1, 8}, discharging());
    Simulation& sim = harness.sim();
    apply(sim, "sensor_fault:rack=0,module=0,cell=4,kind=stuck,sensor=temperature");
    apply(sim, "sensor_fault:rack=0,module=0,cell=6,kind=stuck,sensor=voltage");
    harness.run_for(1);
    const float true_temperature = static_cast<float>(sim.cells().temperature_c[4]);
    const float true_voltage = sim.cells().voltage_v[6];
    const FrameData first = harness.frame();
    const float stuck_temperature = first.columns[static_cast<int>(Field::temperature_c)][4];
    const float stuck_voltage = first.columns[static_cast<int>(Field::voltage_v)][6];
    auto on_step = [](float value, double step) {
        const double steps = static_cast<double>(value) / step;
        return std::fabs(steps - std::round(steps)) < 1e-3;
    };
    CHECK(on_step(stuck_temperature, 0.1));
    CHECK(on_step(stuck_voltage, 0.001));
    // The reading of the moment the fault began: the true value on the step.
    CHECK(stuck_temperature == Approx(true_temperature).margin(0.05 + 1e-4));
    CHECK(stuck_voltage == Approx(true_voltage).margin(0.0005 + 1e-6));
    harness.run_for(60, 1.0);
    const FrameData later = harness.frame();
    CHECK(later.columns[static_cast<int>(Field::temperature_c)][4] == stuck_temperature);
    CHECK(later.columns[static_cast<int>(Field::voltage_v)][6] == stuck_voltage);
}

TEST_CASE("one cell can have a faulty voltage sensor and a faulty thermistor at once",
          "[scenario]") {
    test::SimHarness harness("two-faults", Geometry{1, 1, 4}, discharging());
    Simulation& sim = harness.sim();
    apply(sim, "sensor_fault:rack=0,module=0,cell=1,kind=dropout");
    apply(sim, "sensor_fault:rack=0,module=0,cell=1,kind=open_wire,sensor=temperature");
    apply(sim, "sensor_fault:rack=0,module=0,cell=2,kind=offset,magnitude=0.2");
    apply(sim, "sensor_fault:rack=0,module=0,cell=2,kind=offset,sensor=temperature,magnitude=5");
    harness.run_for(10, 1.0);
    const FrameData frame = harness.frame();
    const auto& voltage = frame.columns[static_cast<int>(Field::voltage_v)];
    const auto& temperature = frame.columns[static_cast<int>(Field::temperature_c)];
    CHECK(std::isnan(voltage[1]));
    CHECK(temperature[1] == -40.0f);
    CHECK((frame.status[1] & cell_status::dropout) != 0);
    CHECK((frame.status[1] & cell_status::open_wire) != 0);
    // Each sensor its own offset.
    CHECK(voltage[2] == Approx(sim.cells().voltage_v[2] + 0.2f).margin(0.01));
    CHECK(temperature[2] ==
          Approx(static_cast<float>(sim.cells().temperature_c[2]) + 5.0f).margin(0.5));
}

TEST_CASE("a cell imbalance lowers the target's charge; an internal short drains and heats it",
          "[scenario]") {
    test::SimHarness harness("imbalance", Geometry{1, 2, 8});
    Simulation& sim = harness.sim();
    const double before = sim.cells().soc[3];
    const std::uint64_t shorted = 8 + 5;
    const std::uint64_t healthy = shorted - 2;
    const double shorted_before = sim.cells().soc[shorted];
    const double healthy_before = sim.cells().soc[healthy];
    apply(sim, "cell_imbalance:rack=0,module=0,cell=3");
    apply(sim, "internal_short:rack=0,module=1,cell=5");
    harness.run_for(600, 1.0);
    CHECK(sim.cells().soc[3] == Approx(before - 0.08).margin(0.001));
    // Each cell starts at its own SoC: compare what each one lost.
    const double shorted_loss = shorted_before - sim.cells().soc[shorted];
    const double healthy_loss = healthy_before - sim.cells().soc[healthy];
    CHECK(shorted_loss > healthy_loss + 0.005);
    CHECK(sim.cells().temperature_c[shorted] > sim.cells().temperature_c[shorted - 3] + 1.0f);
}

TEST_CASE("accelerated degradation ages the target faster", "[scenario]") {
    test::SimHarness harness("ageing", Geometry{2, 1, 8}, discharging());
    Simulation& sim = harness.sim();
    apply(sim, "accelerated_degradation:rack=1,magnitude=100000");
    harness.run_for(600, 1.0);
    const FrameData frame = harness.frame();
    const auto& soh = frame.columns[static_cast<int>(Field::soh)];
    CHECK(soh[12] < soh[4] - 0.001f);
    CHECK(sim.cells().resistance_growth[12] > sim.cells().resistance_growth[4]);
}

TEST_CASE("scenarios start late, end after their duration, and clear", "[scenario]") {
    test::SimHarness harness("timing", Geometry{2, 1, 4});
    Simulation& sim = harness.sim();
    sim.apply_scenario(parse_scenario_spec("hvac_failure:rack=0,start=10,duration=20"));
    harness.run_for(5);
    CHECK(sim.racks()[0].hvac_on);
    harness.run_for(10);
    CHECK_FALSE(sim.racks()[0].hvac_on);
    harness.run_for(20);
    CHECK(sim.racks()[0].hvac_on);
    CHECK(sim.scenarios().empty());
    apply(sim, "hvac_failure:rack=1");
    harness.run_for(1);
    CHECK_FALSE(sim.racks()[1].hvac_on);
    apply(sim, "normal");  // clears everything
    harness.run_for(1);
    CHECK(sim.racks()[1].hvac_on);
}

TEST_CASE("scenario specs are parsed strictly", "[scenario]") {
    const ScenarioSpec spec =
        parse_scenario_spec("sensor_fault:rack=3,module=2,cell=5,kind=stuck,start=60,duration=5");
    CHECK(spec.kind == ScenarioKind::sensor_fault);
    CHECK(spec.target.rack == 3);
    CHECK(spec.target.cell == 5);
    CHECK(spec.fault == FaultKind::stuck);
    CHECK(spec.start_s == 60);
    CHECK(parse_scenario_spec("thermal_runaway rack=1 module=0 cell=0").target.rack == 1);
    CHECK_THROWS_WITH(parse_scenario_spec("meteor_strike"), Catch::Contains("unknown scenario"));
    CHECK_THROWS_WITH(parse_scenario_spec("overcharge:rack=x"), Catch::Contains("rack=x"));
    CHECK_THROWS_WITH(parse_scenario_spec("overcharge:colour=red"), Catch::Contains("colour"));
    CHECK_THROWS_AS(parse_scenario_spec("overcharge:start=-1"), UsageError);
    // Every argument has a physical range; its ends are accepted.
    CHECK_THROWS_WITH(parse_scenario_spec("high_ambient:rack=0,magnitude=1e9,duration=0.5"),
                      Catch::Contains("high_ambient magnitude 1e+09 is outside 0..35 K"));
    CHECK(parse_scenario_spec("high_ambient:magnitude=35").magnitude == 35);
    CHECK(parse_scenario_spec("high_ambient:magnitude=0").magnitude == 0);
    CHECK_THROWS_AS(parse_scenario_spec("high_ambient:magnitude=35.01"), UsageError);
    CHECK_THROWS_AS(parse_scenario_spec("power_outage:magnitude=2.5"), UsageError);
    CHECK_THROWS_AS(parse_scenario_spec("accelerated_degradation:magnitude=0.5"), UsageError);
    CHECK(parse_scenario_spec("accelerated_degradation:magnitude=1e7").magnitude == 1e7);
    CHECK_THROWS_AS(parse_scenario_spec("thermal_runaway:magnitude=20000"), UsageError);
    CHECK_THROWS_AS(parse_scenario_spec("thermal_runaway:magnitude=-5"), UsageError);
    CHECK_THROWS_AS(parse_scenario_spec("internal_short:magnitude=0"), UsageError);
    CHECK_THROWS_AS(parse_scenario_spec("cell_imbalance:magnitude=1.5"), UsageError);
    CHECK_THROWS_WITH(parse_scenario_spec("sensor_fault:kind=offset,magnitude=5"),
                      Catch::Contains("-1..1 V"));
    CHECK(
        parse_scenario_spec("sensor_fault:kind=offset,sensor=temperature,magnitude=5").magnitude ==
        5);
    // A magnitude the scenario (or fault kind) does not read is not checked.
    CHECK(parse_scenario_spec("sensor_fault:kind=stuck,magnitude=5").magnitude == 5);
    CHECK(parse_scenario_spec("hvac_failure:magnitude=1e9").magnitude == 1e9);
    CHECK_THROWS_WITH(parse_scenario_spec("hvac_failure:start=1e9"), Catch::Contains("one year"));
    CHECK_THROWS_WITH(parse_scenario_spec("hvac_failure:duration=4e7"),
                      Catch::Contains("one year"));
    CHECK(parse_scenario_spec("hvac_failure:start=31557600,duration=31557600").start_s ==
          kMaxScenarioStartS);
    CHECK_THROWS_WITH(target_cells(Geometry{20, 10, 32}, Target{25, kAllTargets, kAllTargets}),
                      Catch::Contains("racks 0..19"));
    CHECK_THROWS_AS(target_cells(Geometry{20, 10, 32}, Target{kAllTargets, 1, kAllTargets}),
                    UsageError);
}
