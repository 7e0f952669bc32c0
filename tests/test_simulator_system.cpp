// The simulated system behaves like racks of cells in series: one string
// current, CC/CV charging against the highest cell, reproducible runs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "simulator/rack_control.hpp"
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
    command.raw_kind = static_cast<std::uint32_t>(CommandKind::set_rack_mode);
    command.command.code = 17;
    CHECK(sim.handle_command(command) == CommandStatus::rejected_unknown);
    command.raw_kind = static_cast<std::uint32_t>(CommandKind::set_ambient);
    command.command.args[0] = 500;
    CHECK(sim.handle_command(command) == CommandStatus::rejected_argument);
}
