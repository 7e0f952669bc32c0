// The simulated system behaves like racks of cells in series: one string
// current, CC/CV charging against the highest cell, reproducible runs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "simulator/rack_control.hpp"
#include "simulator/rack_step.hpp"
#include "support/sim_harness.hpp"

using namespace brt;

namespace {

double rack_mean_soc(const Simulation& sim, std::uint32_t rack) {
    const CellRange range = rack_range(sim.geometry(), rack);
    double sum = 0;
    for (std::uint64_t c = range.first_cell; c < range.first_cell + range.cell_count; ++c) {
        sum += sim.cells().soc[c];
    }
    return sum / range.cell_count;
}

void set_mode(Simulation& sim, std::uint32_t rack, RackMode mode, double current_a = 0) {
    ReceivedCommand command;
    command.raw_kind = static_cast<std::uint32_t>(CommandKind::set_rack_mode);
    command.command.kind = CommandKind::set_rack_mode;
    command.command.rack = rack;
    command.command.code = static_cast<std::uint32_t>(mode);
    command.command.args[0] = current_a;
    REQUIRE(sim.handle_command(command) == CommandStatus::applied);
}

}  // namespace

TEST_CASE("every cell of a rack carries the rack's current", "[simulator]") {
    test::SimHarness harness("series");
    set_mode(harness.sim(), kAllTargets, RackMode::discharge);
    harness.run_for(5);
    const Geometry& geometry = harness.geometry();
    for (std::uint32_t r = 0; r < geometry.racks; ++r) {
        const RackState& rack = harness.sim().racks()[r];
        CHECK(rack.current_a == Approx(0.3 * rack.capacity_ah));
        const CellRange range = rack_range(geometry, r);
        for (std::uint64_t c = range.first_cell; c < range.first_cell + range.cell_count; ++c) {
            CHECK(harness.sim().cells().current_a[c] == rack.current_a);
        }
    }
    // The published currents are measurements of that one current.
    const FrameData frame = harness.frame();
    for (float current : frame.columns[static_cast<int>(Field::current_a)]) {
        CHECK(current == Approx(30.0).margin(0.1));
    }
}

TEST_CASE("charging runs constant current, then constant voltage on the highest cell, then float",
          "[simulator]") {
    SimulationConfig config = test::SimHarness::default_config();
    config.initial_soc_mean = 0.85f;
    test::SimHarness harness("cccv", Geometry{1, 2, 8}, config);
    Simulation& sim = harness.sim();
    set_mode(sim, 0, RackMode::charge);
    const float v_cv = sim.params(Chemistry::nmc).v_charge_cv_v;
    bool saw_cc = false;
    bool saw_cv = false;
    float highest_cell_v = 0;
    for (int i = 0; i < 3600 && sim.racks()[0].action != kActionFloat; ++i) {
        harness.run_for(1);
        const RackState& rack = sim.racks()[0];
        saw_cc = saw_cc || (!rack.constant_voltage && rack.current_a == Approx(-50.0f));
        saw_cv = saw_cv || rack.constant_voltage;
        highest_cell_v =
            *std::max_element(sim.cells().voltage_v.begin(), sim.cells().voltage_v.end());
        REQUIRE(highest_cell_v <= v_cv + 0.005f);
    }
    CHECK(saw_cc);
    CHECK(saw_cv);
    CHECK(sim.racks()[0].action == kActionFloat);
    CHECK(highest_cell_v == Approx(v_cv).margin(0.02));
    CHECK(rack_mean_soc(sim, 0) > 0.9);
}

TEST_CASE("an LFP rack charged at 0.5 C stops at full: no cell's SoC ever above 1", "[simulator]") {
    // Issue 16: LFP's flat curve keeps the highest cell (about 3.525 V at
    // 0.5 C) below the 3.55 V CV limit past SoC 1; the cells reached
    // 1.0002. The charge must end at full whatever the voltage does.
    SimulationConfig config = test::SimHarness::default_config();
    config.initial_soc_mean = 0.93f;
    config.initial_soc_sigma = 0.02f;
    test::SimHarness harness("lfp-full", Geometry{1, 2, 16}, config, {Chemistry::lfp});
    Simulation& sim = harness.sim();
    set_mode(sim, 0, RackMode::charge, 140.0);  // 0.5 C of 280 Ah
    const float v_cv = sim.params(Chemistry::lfp).v_charge_cv_v;
    double highest_soc = 0;
    float highest_v = 0;
    bool saw_cc = false;
    for (int i = 0; i < 1200; ++i) {  // 20 min: more than enough from 89 %
        harness.run_for(1);
        const auto& soc = sim.cells().soc;
        highest_soc = std::max(highest_soc, *std::max_element(soc.begin(), soc.end()));
        highest_v = std::max(highest_v, *std::max_element(sim.cells().voltage_v.begin(),
                                                          sim.cells().voltage_v.end()));
        saw_cc = saw_cc || sim.racks()[0].current_a == Approx(-140.0f);
        REQUIRE(highest_soc <= 1.0);
        for (double s : soc) {
            REQUIRE(s >= 0.0);
        }
    }
    CHECK(saw_cc);
    // Near full the highest cell's voltage only just reaches the CV limit.
    CHECK(highest_v <= v_cv + 0.001f);
    CHECK(highest_soc == Approx(1.0).margin(1e-6));
    CHECK(sim.racks()[0].charge_complete);
    CHECK(sim.racks()[0].action == kActionFloat);
    CHECK(sim.racks()[0].current_a == 0.0f);
}

TEST_CASE("CC/CV: the CV current decays with tau = 3600 Q R / (dOCV/dSoC)",
          "[simulator][validation]") {
    // The backends' control law (begin_rack_step, accumulate_cell_limits) on
    // one cell whose OCV is linear in SoC (3.5 V + 0.6 V x SoC), with R0 only
    // (no RC), at 25 C: holding V = OCV + |I| R at V_cv gives
    // |I|(t) = |I_0| exp(-t / tau), tau = 3600 Q R / k = 600 s for 100 Ah,
    // 1 mOhm, k = 0.6 V. CC at C/2 until the CV voltage, then the taper to
    // C/20, then float.
    model::ChemistryParams p = model::make_chemistry_params(Chemistry::nmc);
    p.ocv_points = 101;
    for (int i = 0; i < p.ocv_points; ++i) {
        p.ocv_v[i] = 3.5f + 0.6f * static_cast<float>(i) / 100.0f;
    }
    for (float& factor : p.r_soc_factor) {
        factor = 1.0f;
    }
    for (float& factor : p.r_soc_factor_charge) {
        factor = 1.0f;
    }
    p.r0_fraction = 1.0f - 1e-6f;  // R1 of 1 nOhm: no RC voltage to speak of
    p.heat_capacity_j_per_k = 1e12f;
    p.v_charge_cv_v = 3.95f;
    const double q_ah = p.nominal_capacity_ah;
    const double r_ohm = p.r_dc_ref_ohm;
    const double tau_s = 3600.0 * q_ah * r_ohm / 0.6;
    const float dt_s = 0.01f;
    const float taper_a = 0.05f * p.nominal_capacity_ah;

    model::CellState cell = model::make_cell_state(0.5, 25.0);
    RackState rack;
    rack.action = kActionCharge;
    rack.action_current_a = 0.5f * p.nominal_capacity_ah;
    auto limits_of = [&](float current_a, float voltage_v, float r0_ohm) {
        RackLimits limits;
        accumulate_cell_limits(limits, current_a, voltage_v, r0_ohm, p.v_charge_cv_v, p.v_float_v,
                               p.v_discharge_cutoff_v, cell.soc, p.nominal_capacity_ah,
                               soc_bound_gain_a_per_ah(dt_s));
        rack.charge_limit_a = limits.charge_limit_a;
        rack.float_limit_a = limits.float_limit_a;
        rack.discharge_limit_a = limits.discharge_limit_a;
    };
    limits_of(0.0f, model::ocv_v(p, 0.5f), p.r_dc_ref_ohm);
    double t_s = 0;
    double cv_start_s = -1;
    double cv_start_a = 0;
    std::vector<std::pair<double, double>> samples;  // (t since CV, |I|) at 1, 2 tau
    while (rack.action == kActionCharge && t_s < 10000) {
        begin_rack_step(rack, taper_a);
        if (rack.constant_voltage && cv_start_s < 0) {
            cv_start_s = t_s;
            cv_start_a = -rack.current_a;
        }
        if (cv_start_s >= 0 && samples.size() < 2 &&
            t_s - cv_start_s >= tau_s * (samples.size() + 1)) {
            samples.emplace_back(t_s - cv_start_s, -rack.current_a);
        }
        model::CellInputs in{};
        in.current_a = rack.current_a;
        in.air_temperature_c = 25.0f;
        in.dt_s = dt_s;
        const model::CellStepOutput out = model::step_cell(p, {1.0f, 1.0f}, cell, in);
        limits_of(rack.current_a, out.terminal_voltage_v, out.r0_ohm);
        t_s += dt_s;
    }
    // CC until OCV + I R = V_cv: SoC (3.95 - 0.05 - 3.5) / 0.6 = 2/3, after
    // (2/3 - 1/2) x 100 Ah / 50 A = 1200 s.
    CHECK(cv_start_s == Approx(1200.0).epsilon(2e-3));
    CHECK(cv_start_a == Approx(50.0).epsilon(2e-3));
    REQUIRE(samples.size() == 2);
    for (const auto& [t, current_a] : samples) {
        INFO("t = " << t << " s into CV");
        CHECK(current_a == Approx(cv_start_a * std::exp(-t / tau_s)).epsilon(2e-3));
    }
    // Float once the current is below C/20: after tau ln(50 / 5) in CV.
    CHECK(rack.action == kActionFloat);
    CHECK(t_s - cv_start_s == Approx(tau_s * std::log(10.0)).epsilon(2e-3));
}

TEST_CASE("discharge stops at the cut-off voltage of the lowest cell", "[simulator]") {
    SimulationConfig config = test::SimHarness::default_config();
    config.initial_soc_mean = 0.08f;
    test::SimHarness harness("cutoff", Geometry{1, 1, 8}, config);
    set_mode(harness.sim(), 0, RackMode::discharge);
    harness.run_for(1200);
    const float cutoff = harness.sim().params(Chemistry::nmc).v_discharge_cutoff_v;
    const auto& voltages = harness.sim().cells().voltage_v;
    CHECK(*std::min_element(voltages.begin(), voltages.end()) >= cutoff - 0.01f);
    CHECK(harness.sim().racks()[0].cut_off);
}

TEST_CASE("the same seed gives bit-identical frames, whatever the thread count", "[simulator]") {
    SimulationConfig config = test::SimHarness::default_config();
    config.initial_mode = RackMode::profile;
    config.profile_period_s = 120;
    config.seed = 42;
    auto final_frame = [&](unsigned threads) {
        config.threads = threads;
        test::SimHarness harness("determinism", Geometry{6, 3, 8}, config);
        harness.sim().apply_scenario(
            parse_scenario_spec("internal_short:rack=1,module=0,cell=2,start=5"));
        harness.run_for(60);
        const FrameData frame = harness.frame();
        std::vector<std::uint32_t> bits;
        for (const auto& column : frame.columns) {
            for (float value : column) {
                std::uint32_t word;
                std::memcpy(&word, &value, 4);
                bits.push_back(word);
            }
        }
        bits.insert(bits.end(), frame.status.begin(), frame.status.end());
        return bits;
    };
    const auto first = final_frame(1);
    CHECK(first == final_frame(1));
    CHECK(first == final_frame(3));
    config.seed = 43;
    CHECK(first != final_frame(1));
}

TEST_CASE("commands are validated before they change anything", "[simulator]") {
    test::SimHarness harness("commands");
    Simulation& sim = harness.sim();
    ReceivedCommand command;
    command.raw_kind = static_cast<std::uint32_t>(CommandKind::apply_scenario);
    command.command.code = static_cast<std::uint32_t>(ScenarioKind::hvac_failure);
    command.command.rack = 99;
    command.command.args[3] = 3;
    CHECK(sim.handle_command(command) == CommandStatus::rejected_target);
    command.command.rack = 1;
    command.command.code = 999;
    CHECK(sim.handle_command(command) == CommandStatus::rejected_unknown);
    command.command.code = static_cast<std::uint32_t>(ScenarioKind::hvac_failure);
    command.command.args[1] = -5;
    CHECK(sim.handle_command(command) == CommandStatus::rejected_argument);
    CHECK(sim.scenarios().empty());
    command.command.args[1] = 0;
    CHECK(sim.handle_command(command) == CommandStatus::applied);
    CHECK(sim.scenarios().size() == 1);
    command.raw_kind = 77;
    CHECK(sim.handle_command(command) == CommandStatus::rejected_unknown);
    // The alarm segment's commands posted to the telemetry ring by mistake.
    for (const CommandKind alarm_kind :
         {CommandKind::alarm_acknowledge, CommandKind::alarm_shelve, CommandKind::alarm_unshelve}) {
        command.raw_kind = static_cast<std::uint32_t>(alarm_kind);
        command.command.target_id = 1;
        command.command.args[0] = 60;
        CHECK(sim.handle_command(command) == CommandStatus::rejected_unknown);
    }
    command.command.target_id = 0;
    command.command.args[0] = 0;
    command.raw_kind = static_cast<std::uint32_t>(CommandKind::set_rack_mode);
    command.command.code = 17;
    CHECK(sim.handle_command(command) == CommandStatus::rejected_unknown);
    command.raw_kind = static_cast<std::uint32_t>(CommandKind::set_ambient);
    command.command.args[0] = 500;
    CHECK(sim.handle_command(command) == CommandStatus::rejected_argument);
}

TEST_CASE("a command whose unused fields are zero is applied", "[simulator]") {
    // docs/segment-format.md lets a producer leave every field a kind does
    // not use at zero; the writer must not refuse it for them.
    test::SimHarness harness("unused-fields");
    Simulation& sim = harness.sim();
    auto zeroed = [](CommandKind kind) {
        ReceivedCommand command;
        command.raw_kind = static_cast<std::uint32_t>(kind);
        command.command.kind = kind;
        command.command.rack = 0;
        command.command.module = 0;
        command.command.cell = 0;
        return command;  // code and args[0..5] are zero
    };
    ReceivedCommand apply = zeroed(CommandKind::apply_scenario);
    apply.command.code = static_cast<std::uint32_t>(ScenarioKind::hvac_failure);
    CHECK(sim.handle_command(apply) == CommandStatus::applied);
    // Other scenarios ignore the sensor-fault arguments whatever they hold.
    apply.command.args[3] = 7;
    apply.command.args[4] = 2;
    CHECK(sim.handle_command(apply) == CommandStatus::applied);
    CHECK(sim.scenarios().size() == 2);
    // sensor_fault reads them: a fault kind is 1..4 and a sensor 0 or 1.
    apply.command.code = static_cast<std::uint32_t>(ScenarioKind::sensor_fault);
    apply.command.args[3] = 0;
    apply.command.args[4] = 0;
    CHECK(sim.handle_command(apply) == CommandStatus::rejected_argument);
    apply.command.args[3] = 2.5;
    CHECK(sim.handle_command(apply) == CommandStatus::rejected_argument);
    apply.command.args[3] = 1;
    apply.command.args[4] = 2;
    CHECK(sim.handle_command(apply) == CommandStatus::rejected_argument);
    apply.command.args[4] = 1;
    CHECK(sim.handle_command(apply) == CommandStatus::applied);
    CHECK(sim.scenarios().size() == 3);

    ReceivedCommand clear = zeroed(CommandKind::clear_scenario);
    CHECK(sim.handle_command(clear) == CommandStatus::applied);  // code 0: every scenario
    CHECK(sim.scenarios().empty());
    // set_rack_mode reads the rack only; code 0 is idle.
    CHECK(sim.handle_command(zeroed(CommandKind::set_rack_mode)) == CommandStatus::applied);
    CHECK(sim.racks()[0].mode == RackMode::idle);
    ReceivedCommand ambient = zeroed(CommandKind::set_ambient);
    CHECK(sim.handle_command(ambient) == CommandStatus::applied);
    CHECK(sim.ambient_c() == 0.0f);
    CHECK(sim.handle_command(zeroed(CommandKind::pause)) == CommandStatus::applied);
    CHECK(sim.paused());
    CHECK(sim.handle_command(zeroed(CommandKind::resume)) == CommandStatus::applied);
    CHECK_FALSE(sim.paused());
}

TEST_CASE("the quiet-cell SIMD path follows the general step", "[simulator]") {
    // Racks on the daily profile (charge with CV and balancing, discharge,
    // idle), one cell past its runaway trigger heating its module, one cell
    // shorted: every path is taken, and cells move between the two.
    SimulationConfig config = test::SimHarness::default_config();
    config.initial_mode = RackMode::profile;
    config.profile_period_s = 120;
    config.physics_dt_s = 0.001;
    const std::uint64_t heated = Geometry{4, 3, 16}.cell_index(1, 1, 4);
    auto run = [&](bool quiet_path) {
        test::SimHarness harness(quiet_path ? "quiet" : "general", Geometry{4, 3, 16}, config);
        harness.stepper().set_quiet_path(quiet_path);
        set_mode(harness.sim(), 3, RackMode::equalize);
        harness.sim().cells().temperature_c[heated] =
            harness.sim().params(Chemistry::nmc).runaway_trigger_c + 1.0;
        harness.sim().apply_scenario(
            parse_scenario_spec("internal_short:rack=2,module=0,cell=2,start=1"));
        harness.run_for(10);
        return std::make_pair(harness.sim().cells(), harness.sim().racks());
    };
    const auto [quiet, quiet_racks] = run(true);
    const auto [general, general_racks] = run(false);
    // The paths sum a rack's cells in another order, so values drift apart
    // in their last bits only.
    for (std::size_t c = 0; c < quiet.soc.size(); ++c) {
        INFO("cell " << c);
        CHECK(quiet.soc[c] == Approx(general.soc[c]).margin(1e-6));
        CHECK(quiet.temperature_c[c] == Approx(general.temperature_c[c]).margin(1e-3));
        CHECK(quiet.voltage_v[c] == Approx(general.voltage_v[c]).margin(1e-4));
        CHECK(quiet.current_a[c] == Approx(general.current_a[c]).margin(1e-3));
        CHECK(quiet.balancing[c] == general.balancing[c]);
        CHECK(quiet.runaway_progress[c] == Approx(general.runaway_progress[c]).margin(1e-4));
    }
    for (std::size_t r = 0; r < quiet_racks.size(); ++r) {
        CHECK(quiet_racks[r].air_temperature_c ==
              Approx(general_racks[r].air_temperature_c).margin(1e-3));
        CHECK(quiet_racks[r].current_a == Approx(general_racks[r].current_a).margin(1e-3));
    }
    // The heated cell ran away and warmed its neighbours: both paths ran.
    CHECK(quiet.runaway_progress[heated] > 0.0f);
    CHECK(quiet.temperature_c[heated + 1] > quiet.temperature_c[heated + 8]);
}
