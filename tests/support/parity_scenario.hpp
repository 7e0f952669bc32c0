// The scenario tests/test_cuda_parity.cpp runs on both backends, shared with
// tests/test_cuda_harness.cpp, which runs its CPU side on every machine to
// prove that it reaches every path the comparison is meant to cover: cells
// that bleed (the module-minimum path, on racks wider than a 512-thread
// block), self-heating, thermal runaway and venting.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "common/control/rack_mode.hpp"
#include "common/control/scenario.hpp"
#include "simulator/frame_builder.hpp"
#include "simulator/simulation.hpp"

namespace brt::test {

inline constexpr std::uint64_t kParityStepsPerInterval = 10;
inline constexpr int kParityIntervals = 300;  // 3,000 steps, 30 simulated seconds
inline constexpr int kParityCompareEvery = 30;

// One thread per cell; racks of 700 cells (wider than a block) with all six
// rack modes, so equalize and float bleed on them; modules of one cell.
inline std::vector<Geometry> parity_geometries() {
    return {Geometry{6, 4, 32}, Geometry{6, 7, 100}, Geometry{2, 4, 1}};
}

// NMC on even racks, LFP on odd ones.
inline CreateOptions parity_segment_options(const Geometry& geometry) {
    CreateOptions options;
    options.geometry = geometry;
    for (std::uint32_t r = 0; r < geometry.racks; ++r) {
        options.rack_chemistry.push_back(r % 2 == 0 ? Chemistry::nmc : Chemistry::lfp);
    }
    return options;
}

inline SimulationConfig parity_config() {
    SimulationConfig config;
    config.seed = 20261202;
    config.threads = 1;
    config.ageing_speedup = 1000.0f;  // SoH moves within the run
    return config;
}

inline void set_mode(Simulation& simulation, std::uint32_t rack, RackMode mode) {
    ReceivedCommand command;
    command.raw_kind = static_cast<std::uint32_t>(CommandKind::set_rack_mode);
    command.command.kind = CommandKind::set_rack_mode;
    command.command.rack = rack;
    command.command.code = static_cast<std::uint32_t>(mode);
    REQUIRE(simulation.handle_command(command) == CommandStatus::applied);
}

// "kind:rack=R,module=M,cell=C,extra" with the indices wrapped into the geometry.
inline std::string scenario(const Geometry& geometry, const char* kind, std::uint32_t rack,
                            std::uint32_t module, std::uint32_t cell, const char* extra) {
    return std::string(kind) + ":rack=" + std::to_string(rack % geometry.racks) +
           ",module=" + std::to_string(module % geometry.modules_per_rack) +
           ",cell=" + std::to_string(cell % geometry.cells_per_module) + "," + extra;
}

// A spec with a magnitude beyond what a producer may ask for (the heaters
// here are far above thermal_runaway's 10 kW, to reach runaway within a few
// steps): the simulation applies any magnitude it is given; the ranges are
// checked where specs are made or received (parse_scenario_spec, the ring).
inline ScenarioSpec spec_with_magnitude(const std::string& text, double magnitude) {
    ScenarioSpec spec = parse_scenario_spec(text);
    spec.magnitude = magnitude;
    return spec;
}

// Every rack mode, both chemistries, and every kind of host-side change the
// CUDA backend has to carry to the device. The heaters are strong enough to
// take a cell through self-heating and venting into runaway within the run
// (an LFP cell holds 5,400 J/K, an NMC one 1,000 J/K), and stop after 10 s
// so that the runaway then runs on its own heat.
inline void prepare_parity(Simulation& simulation) {
    const Geometry& g = simulation.geometry();
    const RackMode modes[] = {RackMode::charge,   RackMode::discharge, RackMode::idle,
                              RackMode::equalize, RackMode::profile,   RackMode::float_};
    for (std::uint32_t r = 0; r < g.racks; ++r) {
        set_mode(simulation, r, modes[r % 6]);
    }
    simulation.apply_scenario(spec_with_magnitude(
        scenario(g, "thermal_runaway", 1, 0, 3, "start=0,duration=10"), 150000));
    simulation.apply_scenario(spec_with_magnitude(
        scenario(g, "thermal_runaway", 4, 1, 10, "start=2,duration=10"), 30000));
    const std::string texts[] = {
        scenario(g, "internal_short", 2, 1, 5, "start=2"),
        scenario(g, "sensor_fault", 0, 0, 0, "kind=stuck,start=1"),
        scenario(g, "sensor_fault", 0, 1, 2, "kind=dropout,start=1"),
        scenario(g, "sensor_fault", 3, 2, 7, "kind=offset,sensor=temperature,start=0"),
        "cell_imbalance:rack=" + std::to_string(3 % g.racks) + ",start=5",
        "accelerated_degradation:rack=" + std::to_string(4 % g.racks) + ",start=0",
        "hvac_failure:rack=" + std::to_string(5 % g.racks) + ",start=0",
    };
    for (const std::string& text : texts) {
        simulation.apply_scenario(parse_scenario_spec(text));
    }
}

// A state in which the order cells are stepped in changes the result: one
// NMC module of 600 cells (wider than a 512-thread block, so some threads
// step two cells) with every other cell heated by 1 MW, about 10 K per 10 ms
// step (into runaway within the 50 steps), so a cell that read a neighbour's
// temperature after the neighbour's step would take in a visibly different
// conduction: about 2e-4 K more per step, 0.01 K in 50 steps against the
// parity tolerance of 0.0026 K at 25 C. The CPU steps it from
// the temperatures before the step (Jacobi); so must the kernel, which needs
// a barrier between conduction and the step. tests/test_cuda_harness.cpp
// shows on the CPU that without that barrier the comparison fails.
inline constexpr std::uint64_t kConductionSteps = 50;
inline Geometry conduction_geometry() {
    return Geometry{1, 1, 600};
}
inline void prepare_conduction(Simulation& simulation) {
    set_mode(simulation, 0, RackMode::idle);
    for (std::uint32_t cell = 0; cell < simulation.geometry().cells_per_module; cell += 2) {
        simulation.apply_scenario(spec_with_magnitude(
            "thermal_runaway:rack=0,module=0,cell=" + std::to_string(cell), 1.0e6));
    }
}

// The status bits the compared frames carried: what the comparison covered.
struct ParityCoverage {
    std::uint32_t bits_seen = 0;
    std::uint32_t rack_flags_seen = 0;
    std::uint64_t most_bleeding_cells = 0;
    bool nan_soc_seen = false;

    void add(const FrameData& frame) {
        std::uint64_t bleeding = 0;
        for (const std::uint32_t status : frame.status) {
            bits_seen |= status;
            bleeding += (status & cell_status::balancing) != 0 ? 1 : 0;
        }
        most_bleeding_cells = std::max(most_bleeding_cells, bleeding);
        for (const RackRecord& rack : frame.racks) {
            rack_flags_seen |= rack.flags;
        }
        for (const float soc : frame.columns[static_cast<int>(Field::soc)]) {
            nan_soc_seen = nan_soc_seen || std::isnan(soc);
        }
    }

    // Cells bled (where a module has more than one cell, so one can be above
    // its module's lowest), and a cell went through self-heating, venting and
    // runaway.
    void check(const Geometry& geometry) const {
        INFO("status bits seen: " << bits_seen);
        if (geometry.cells_per_module > 1) {
            CHECK(most_bleeding_cells > 0);
        }
        CHECK((bits_seen & cell_status::self_heating) != 0);
        CHECK((bits_seen & cell_status::venting) != 0);
        CHECK((bits_seen & cell_status::thermal_runaway) != 0);
        // The runaways opened their racks' contactors (the protection's
        // reduction over the block), and the vented cells' SoC is NaN.
        INFO("rack flags seen: " << rack_flags_seen);
        CHECK((rack_flags_seen & rack_flags::contactor_open) != 0);
        CHECK((rack_flags_seen & rack_flags::trip_thermal_runaway) != 0);
        CHECK(nan_soc_seen);
    }
};

}  // namespace brt::test
