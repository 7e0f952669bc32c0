// The CUDA backend against the CPU backend: the same seed, options and
// scenarios for 3,000 physics steps on both, compared every 300 steps.
//
// Tolerances, and why they are not zero: the device's expf/logf/powf differ
// from glibc's in the last bits, and the rack's sums (string voltage, heat to
// the air) add the same terms in another order. The true state agrees to a
// relative 1e-4; a measured value to one converter quantum more (a value on a
// rounding boundary may round either way); status words are identical but for
// the balancing bit of a cell within rounding of its module's bleed threshold
// (at most 1 % of cells).
//
// Exit code 77 (skipped) without a usable GPU.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/scenario.hpp"
#include "simulator/cpu_stepper.hpp"
#include "simulator/cuda_probe.hpp"
#include "simulator/cuda_stepper.hpp"
#include "simulator/frame_builder.hpp"
#include "simulator/simulation.hpp"
#include "support/test_segment.hpp"

using namespace brt;

namespace {

constexpr std::uint64_t kStepsPerInterval = 10;
constexpr int kIntervals = 300;
constexpr int kCompareEvery = 30;

bool close(double cpu, double gpu, double relative, double absolute) {
    if (std::isnan(cpu) || std::isnan(gpu)) {
        return std::isnan(cpu) && std::isnan(gpu);
    }
    return std::fabs(cpu - gpu) <= absolute + relative * std::fabs(cpu);
}

template <typename T>
void check_column(const char* name, const std::vector<T>& cpu, const std::vector<T>& gpu,
                  double relative, double absolute) {
    REQUIRE(cpu.size() == gpu.size());
    std::size_t mismatches = 0;
    for (std::size_t c = 0; c < cpu.size(); ++c) {
        if (!close(cpu[c], gpu[c], relative, absolute)) {
            if (mismatches++ < 5) {
                UNSCOPED_INFO(name << "[" << c << "]: CPU " << cpu[c] << ", CUDA " << gpu[c]);
            }
        }
    }
    INFO(name);
    CHECK(mismatches == 0);
}

void set_mode(Simulation& simulation, std::uint32_t rack, RackMode mode) {
    ReceivedCommand command;
    command.raw_kind = static_cast<std::uint32_t>(CommandKind::set_rack_mode);
    command.command.kind = CommandKind::set_rack_mode;
    command.command.rack = rack;
    command.command.code = static_cast<std::uint32_t>(mode);
    REQUIRE(simulation.handle_command(command) == CommandStatus::applied);
}

// Every rack mode, both chemistries, and every kind of host-side change the
// CUDA backend has to carry to the device.
void prepare(Simulation& simulation) {
    const RackMode modes[] = {RackMode::charge,   RackMode::discharge, RackMode::idle,
                              RackMode::equalize, RackMode::profile,   RackMode::float_};
    for (std::uint32_t r = 0; r < simulation.geometry().racks; ++r) {
        set_mode(simulation, r, modes[r % 6]);
    }
    for (const char* text : {
             "thermal_runaway:rack=1,module=0,cell=3,start=0",
             "internal_short:rack=2,module=1,cell=5,start=2",
             "sensor_fault:rack=0,module=0,cell=0,kind=stuck,start=1",
             "sensor_fault:rack=0,module=1,cell=2,kind=dropout,start=1",
             "sensor_fault:rack=3,module=2,cell=7,kind=offset,sensor=temperature,start=0",
             "cell_imbalance:rack=3,module=2,start=5",
             "accelerated_degradation:rack=4,start=0",
             "hvac_failure:rack=5,start=0",
         }) {
        simulation.apply_scenario(parse_scenario_spec(text));
    }
}

}  // namespace

TEST_CASE("the CUDA backend steps and measures every cell as the CPU backend does", "[cuda]") {
    const CudaProbe probe = probe_cuda();
    if (!probe.usable) {
        std::fprintf(stderr, "skipped: %s\n", probe.why_not.c_str());
        std::exit(77);
    }
    const Geometry geometry{6, 4, 32};
    CreateOptions options;
    options.geometry = geometry;
    options.rack_chemistry = {Chemistry::nmc, Chemistry::lfp, Chemistry::nmc,
                              Chemistry::lfp, Chemistry::nmc, Chemistry::lfp};
    const std::string name = test::unique_segment_name("parity");
    create_segment(name, options);
    struct Remove {
        std::string name;
        ~Remove() { remove_segment(name); }
    } remove{name};
    const MappedSegment segment = open_segment(name, SegmentAccess::reader);

    SimulationConfig config;
    config.seed = 20261202;
    config.threads = 1;
    config.ageing_speedup = 1000.0f;  // SoH moves within the run
    Simulation cpu_simulation(segment, config);
    Simulation gpu_simulation(segment, config);
    prepare(cpu_simulation);
    prepare(gpu_simulation);
    WorkerPool pool(1);
    CpuStepper cpu(cpu_simulation, pool);
    FrameBuilder builder(geometry);
    CudaStepper gpu(gpu_simulation, probe.device);

    for (int interval = 1; interval <= kIntervals; ++interval) {
        cpu_simulation.prepare_interval();
        cpu.run(kStepsPerInterval);
        gpu_simulation.prepare_interval();
        gpu.run(kStepsPerInterval);
        if (interval % kCompareEvery != 0) {
            continue;
        }
        INFO("after " << interval * kStepsPerInterval << " steps");
        REQUIRE(gpu_simulation.step_count() == cpu_simulation.step_count());

        // The racks: the control law's decisions exactly, the rest closely.
        for (std::uint32_t r = 0; r < geometry.racks; ++r) {
            const RackState& c = cpu_simulation.racks()[r];
            const RackState& g = gpu_simulation.racks()[r];
            INFO("rack " << r);
            CHECK(g.action == c.action);
            CHECK(g.constant_voltage == c.constant_voltage);
            CHECK(g.cut_off == c.cut_off);
            CHECK(close(c.current_a, g.current_a, 1e-4, 1e-4));
            CHECK(close(c.air_temperature_c, g.air_temperature_c, 1e-4, 1e-4));
            CHECK(close(c.string_voltage_v, g.string_voltage_v, 1e-4, 1e-3));
        }

        // The true state of every cell.
        gpu.download_cells();
        const CellArrays& c = cpu_simulation.cells();
        const CellArrays& g = gpu_simulation.cells();
        check_column("soc", c.soc, g.soc, 1e-4, 1e-6);
        check_column("v_rc_v", c.v_rc_v, g.v_rc_v, 1e-3, 1e-5);
        check_column("temperature_c", c.temperature_c, g.temperature_c, 1e-4, 1e-4);
        check_column("capacity_fade", c.capacity_fade, g.capacity_fade, 1e-3, 1e-9);
        check_column("resistance_growth", c.resistance_growth, g.resistance_growth, 1e-3, 1e-9);
        check_column("runaway_progress", c.runaway_progress, g.runaway_progress, 1e-4, 1e-6);
        check_column("voltage_v", c.voltage_v, g.voltage_v, 1e-4, 1e-5);
        check_column("current_a", c.current_a, g.current_a, 1e-4, 1e-4);
        check_column("coefficient_r0_ohm", c.coefficient_r0_ohm, g.coefficient_r0_ohm, 1e-4, 0);

        // The frames readers would see.
        const FrameData cpu_frame = builder.build(cpu_simulation, pool);
        const FrameData gpu_frame = gpu.measure_frame();
        const double quantum[6] = {
            model::kVoltageQuantumV, model::kCurrentQuantumA, model::kTemperatureQuantumK, 0, 0, 0};
        for (int field = 0; field < 6; ++field) {
            const std::vector<float> cpu_column(cpu_frame.columns[field].begin(),
                                                cpu_frame.columns[field].end());
            const std::vector<float> gpu_column(gpu_frame.columns[field].begin(),
                                                gpu_frame.columns[field].end());
            const char* names[6] = {"voltage_v", "current_a",      "temperature_c",
                                    "soc",       "resistance_ohm", "soh"};
            check_column(names[field], cpu_column, gpu_column, 1e-4, quantum[field] * 1.01);
        }
        std::size_t status_mismatches = 0;
        std::size_t balancing_mismatches = 0;
        for (std::size_t cell = 0; cell < geometry.cell_count(); ++cell) {
            const std::uint32_t difference = cpu_frame.status[cell] ^ gpu_frame.status[cell];
            balancing_mismatches += (difference & cell_status::balancing) != 0 ? 1 : 0;
            status_mismatches += (difference & ~cell_status::balancing) != 0 ? 1 : 0;
        }
        CHECK(status_mismatches == 0);
        CHECK(balancing_mismatches <= geometry.cell_count() / 100);
        for (std::uint32_t r = 0; r < geometry.racks; ++r) {
            CHECK(gpu_frame.racks[r].mode == cpu_frame.racks[r].mode);
            CHECK(gpu_frame.racks[r].flags == cpu_frame.racks[r].flags);
        }
        CHECK(gpu_frame.sim_time_ns == cpu_frame.sim_time_ns);
    }
}
