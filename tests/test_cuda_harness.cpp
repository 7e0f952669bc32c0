// What makes a GPU machine's first run count, checked where there is no GPU:
// bench_cuda's setup (everything before its first CUDA call) works for
// every size, smallest first; BRT_REQUIRE_CUDA=1 turns each "no usable GPU"
// skip into a failure that names the probe's reason, so that a GPU run with a
// driver too old for the CUDA runtime cannot pass by skipping; and the
// parity test's scenarios reach what it is meant to compare (bleeding,
// runaway, and a state where a conduction-order race shows).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "brt_config.h"
#include "common/segment/geometry.hpp"
#include "simulator/cell_step.hpp"
#include "simulator/cpu_stepper.hpp"
#include "simulator/cuda_probe.hpp"
#include "simulator/frame_builder.hpp"
#include "simulator/rack_step.hpp"
#include "support/parity_scenario.hpp"
#include "support/run_command.hpp"
#include "support/test_segment.hpp"

using namespace brt;

namespace {

// The switch set, and the switch cleared (the test case takes it out of its
// own environment first: run_command appends these, and the first wins).
const std::vector<std::string> kRequired{"BRT_REQUIRE_CUDA=1"};
const std::vector<std::string> kNotRequired{"BRT_REQUIRE_CUDA="};

// A segment with the parity test's chemistries, removed at the end.
struct ParitySegment {
    explicit ParitySegment(const Geometry& geometry) : name(test::unique_segment_name("harness")) {
        create_segment(name, test::parity_segment_options(geometry));
        segment = open_segment(name, SegmentAccess::reader);
    }
    ~ParitySegment() { remove_segment(name); }
    std::string name;
    MappedSegment segment;
};

// step_racks_kernel's logic for one rack on the host, threads as loops: each
// step thread 0 runs the control law, every thread computes its cells'
// conduction, then (after a barrier, or without one) steps its cells, and
// the block reduces the rack's limits warp by warp. With `barrier` false a
// thread steps its cells before the threads after it have read their
// neighbours' temperatures: the race a missing __syncthreads() allows.
void emulate_kernel(Simulation& simulation, std::uint32_t rack_index, std::uint64_t steps,
                    bool barrier) {
    const Geometry& g = simulation.geometry();
    const SimulationConfig& config = simulation.config();
    RackState& rack = simulation.racks()[rack_index];
    const model::ChemistryParams& p = simulation.params(rack.chemistry);
    const CellColumns cells = simulation.cells().columns();
    const std::uint32_t cells_per_rack = g.modules_per_rack * g.cells_per_module;
    const std::uint64_t first_cell = static_cast<std::uint64_t>(rack_index) * cells_per_rack;
    const std::uint32_t threads = std::min<std::uint32_t>((cells_per_rack + 31) / 32 * 32, 512);
    CellStepContext context{};
    context.params = &p;
    context.dt_s = static_cast<float>(config.physics_dt_s);
    context.approach = model::rc_approach(p, context.dt_s);
    context.soc_gain_a_per_ah = soc_bound_gain_a_per_ah(context.dt_s);
    context.bleed_current_a = config.balancing_current_a;
    const auto ageing_every = ageing_interval_steps(config.physics_dt_s);
    const auto coefficient_every = coefficient_interval_steps(config.physics_dt_s);
    std::vector<float> heat_w(cells_per_rack);
    std::vector<float> module_min_v(g.modules_per_rack);
    for (std::uint64_t step = 0; step < steps; ++step) {
        const std::uint64_t global_step = simulation.step_count() + step;
        context.ageing_step = global_step % ageing_every == 0;
        context.coefficient_step = context.ageing_step || global_step % coefficient_every == 0;
        context.ageing_speedup =
            (context.ageing_step ? static_cast<float>(ageing_every) : 0.0f) * config.ageing_speedup;
        context.balancing_on =
            balancing_on(rack, begin_rack_step(rack, config.taper_c_rate * rack.capacity_ah));
        context.rack_current_a = rack.current_a;
        context.air_temperature_c = rack.air_temperature_c;
        context.protection = protection_limits(p, rack.current_a);
        auto conduct = [&](std::uint32_t t) {
            for (std::uint32_t i = t; i < cells_per_rack; i += threads) {
                const std::uint32_t c = i % g.cells_per_module;
                heat_w[i] = neighbour_heat_w(p.cell_to_cell_w_per_k,
                                             cells.temperature_c + first_cell + i - c, c,
                                             g.cells_per_module);
            }
            for (std::uint32_t m = t; context.balancing_on && m < g.modules_per_rack;
                 m += threads) {
                const float* v = cells.voltage_v + first_cell + m * g.cells_per_module;
                module_min_v[m] = *std::min_element(v, v + g.cells_per_module);
            }
        };
        std::vector<RackLimits> warp_limits(threads / 32);
        std::vector<float> warp_heat_w(threads / 32, 0.0f);
        auto step_cells = [&](std::uint32_t t) {
            for (std::uint32_t i = t; i < cells_per_rack; i += threads) {
                const float bleed_above_v =
                    context.balancing_on
                        ? module_min_v[i / g.cells_per_module] + config.balancing_threshold_v
                        : 0.0f;
                step_general_cell(cells, first_cell + i, context, heat_w[i], bleed_above_v,
                                  warp_limits[t / 32], warp_heat_w[t / 32]);
            }
        };
        if (barrier) {
            for (std::uint32_t t = 0; t < threads; ++t) {
                conduct(t);
            }
            for (std::uint32_t t = 0; t < threads; ++t) {
                step_cells(t);
            }
        } else {
            for (std::uint32_t t = 0; t < threads; ++t) {
                conduct(t);
                step_cells(t);
            }
        }
        RackLimits total;
        float heat_to_air_w = 0.0f;
        for (std::size_t w = 0; w < warp_limits.size(); ++w) {
            total.charge_limit_a = std::max(total.charge_limit_a, warp_limits[w].charge_limit_a);
            total.float_limit_a = std::max(total.float_limit_a, warp_limits[w].float_limit_a);
            total.discharge_limit_a =
                std::min(total.discharge_limit_a, warp_limits[w].discharge_limit_a);
            total.string_voltage_v += warp_limits[w].string_voltage_v;
            total.conditions |= warp_limits[w].conditions;
            heat_to_air_w += warp_heat_w[w];
        }
        end_rack_step(rack, total, heat_to_air_w, context.dt_s, rack_air_params(config),
                      rack_protection_params(config.physics_dt_s));
    }
    simulation.advance_clock(steps);
}

// Cells whose temperatures differ beyond the parity test's tolerance.
std::size_t temperature_mismatches(const Simulation& a, const Simulation& b) {
    std::size_t mismatches = 0;
    for (std::size_t c = 0; c < a.cells().temperature_c.size(); ++c) {
        const double x = a.cells().temperature_c[c];
        const double y = b.cells().temperature_c[c];
        mismatches += std::fabs(x - y) <= 1e-4 + 1e-4 * std::fabs(x) ? 0 : 1;
    }
    return mismatches;
}

}  // namespace

#if BRT_HAVE_CUDA
TEST_CASE("bench_cuda builds every size's segment and simulation, smallest first",
          "[cuda-harness]") {
    // Sizes out of order and repeated: it measures each once, smallest first.
    const auto result = test::run_command({test::tool_path("BRT_BENCH_CUDA"), "--setup-only",
                                           "--json", "--cells", "100000", "6400", "6400"});
    INFO(result.err);
    CHECK(result.exit_code == 0);
    // Stopped before the first CUDA call: not even the probe ran.
    CHECK(result.err.find("skipped") == std::string::npos);
    const std::vector<std::string> lines = test::split(result.out, '\n');
    REQUIRE(lines.size() == 2);
    CHECK_THAT(lines[0], Catch::Contains("\"cells\":6400,"));
    CHECK_THAT(lines[1], Catch::Contains("\"cells\":99840,"));  // 312 racks of 10 x 32
    for (const std::string& line : lines) {
        CHECK_THAT(line, Catch::Contains("\"setup_only\":true"));
        CHECK_THAT(line, Catch::Contains("\"slots\":" + std::to_string(kMinSlots)));
    }
}
#endif

TEST_CASE("BRT_REQUIRE_CUDA=1 turns every no-GPU skip into a failure naming the reason",
          "[cuda-harness]") {
    const CudaProbe probe = probe_cuda();
    if (probe.usable) {
        // The failures cannot happen here; the GPU's own runs are the check.
        WARN("a GPU is usable (" << probe.description << "): nothing to turn into a failure");
        return;
    }
    const std::string failure = cuda_required_failure(probe);
    unsetenv("BRT_REQUIRE_CUDA");  // scripts/gpu-check.sh runs this test with it set

    SECTION("the backend test's CPU branch") {
        const auto skipped =
            test::run_command({test::tool_path("BRT_TEST_SIMULATOR_BACKEND")}, kNotRequired);
        INFO(skipped.out << skipped.err);
        CHECK(skipped.exit_code == 0);
        const auto required =
            test::run_command({test::tool_path("BRT_TEST_SIMULATOR_BACKEND")}, kRequired);
        INFO(required.out << required.err);
        CHECK(required.exit_code != 0);
        CHECK(required.exit_code != 77);
        CHECK_THAT(required.out + required.err, Catch::Contains(failure));
    }
#if BRT_HAVE_CUDA
    SECTION("cuda_parity's exit code 77") {
        const auto skipped =
            test::run_command({test::tool_path("BRT_TEST_CUDA_PARITY")}, kNotRequired);
        CHECK(skipped.exit_code == 77);
        // Only 1 means required: 0 is a skip as before.
        const auto zero =
            test::run_command({test::tool_path("BRT_TEST_CUDA_PARITY")}, {"BRT_REQUIRE_CUDA=0"});
        CHECK(zero.exit_code == 77);
        const auto required =
            test::run_command({test::tool_path("BRT_TEST_CUDA_PARITY")}, kRequired);
        INFO(required.out << required.err);
        CHECK(required.exit_code != 0);
        CHECK(required.exit_code != 77);
        CHECK_THAT(required.out + required.err, Catch::Contains(failure));
    }
    SECTION("bench_cuda's skipped") {
        const auto skipped = test::run_command({test::tool_path("BRT_BENCH_CUDA")}, kNotRequired);
        CHECK(skipped.exit_code == 0);
        CHECK_THAT(skipped.err, Catch::Contains("bench_cuda: skipped: " + probe.why_not));
        const auto required = test::run_command({test::tool_path("BRT_BENCH_CUDA")}, kRequired);
        CHECK(required.exit_code == 1);
        CHECK(required.out.empty());
        CHECK(required.err == "bench_cuda: " + failure + "\n");
    }
#endif
}

TEST_CASE("the parity scenarios reach bleeding, self-heating, venting and runaway",
          "[cuda-harness]") {
    // The CPU side of tests/test_cuda_parity.cpp: what its frames carry is
    // what the comparison covered, on every machine, GPU or not.
    for (const Geometry& geometry : test::parity_geometries()) {
        INFO("geometry " << geometry.racks << " x " << geometry.modules_per_rack << " x "
                         << geometry.cells_per_module);
        ParitySegment segment(geometry);
        Simulation simulation(segment.segment, test::parity_config());
        test::prepare_parity(simulation);
        WorkerPool pool(1);
        CpuStepper cpu(simulation, pool);
        FrameBuilder builder(geometry);
        test::ParityCoverage coverage;
        for (int interval = 1; interval <= test::kParityIntervals; ++interval) {
            simulation.prepare_interval();
            cpu.run(test::kParityStepsPerInterval);
            if (interval % test::kParityCompareEvery == 0) {
                coverage.add(builder.build(simulation, pool));
            }
        }
        coverage.check(geometry);
    }
}

TEST_CASE("the conduction state shows a kernel that steps cells before reading neighbours",
          "[cuda-harness]") {
    // The kernel's block logic on the host against the CPU backend, in the
    // state of cuda_parity's conduction test: with the barrier it agrees to
    // the parity tolerance; without it, cells differ beyond it.
    const Geometry geometry = test::conduction_geometry();
    ParitySegment segment(geometry);
    Simulation cpu_simulation(segment.segment, test::parity_config());
    Simulation with_barrier(segment.segment, test::parity_config());
    Simulation without_barrier(segment.segment, test::parity_config());
    for (Simulation* simulation : {&cpu_simulation, &with_barrier, &without_barrier}) {
        test::prepare_conduction(*simulation);
    }
    WorkerPool pool(1);
    CpuStepper cpu(cpu_simulation, pool);
    for (std::uint64_t step = 0; step < test::kConductionSteps;
         step += test::kParityStepsPerInterval) {
        cpu_simulation.prepare_interval();
        cpu.run(test::kParityStepsPerInterval);
        with_barrier.prepare_interval();
        emulate_kernel(with_barrier, 0, test::kParityStepsPerInterval, true);
        without_barrier.prepare_interval();
        emulate_kernel(without_barrier, 0, test::kParityStepsPerInterval, false);
    }
    // The heaters did their part: about 10 K a step.
    CHECK(cpu_simulation.cells().temperature_c[0] > cpu_simulation.cells().temperature_c[1] + 200);
    CHECK(temperature_mismatches(cpu_simulation, with_barrier) == 0);
    // Every unheated cell reads a heated neighbour that has already stepped.
    CHECK(temperature_mismatches(cpu_simulation, without_barrier) >= geometry.cell_count() / 4);
}
