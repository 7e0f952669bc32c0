// The CUDA backend against the CPU backend: the same seed, options and
// scenarios for 3,000 physics steps on both, compared every 300 steps, on
// three geometries (one thread per cell; racks wider than a block, with idle
// lanes; modules of one cell; tests/support/parity_scenario.hpp). The
// comparison must have covered bleeding cells and a thermal runaway with its
// status bits (tests/test_cuda_harness.cpp checks the CPU side of that on
// every machine). Then a frame published through the segment reads back as
// the device measured it.
//
// Tolerances, and why they are not zero: the device's expf/logf/powf differ
// from glibc's in the last bits, and the rack's sums (string voltage, heat to
// the air) add the same terms in another order. The true state agrees to a
// relative 1e-4; a measured value to one converter quantum more (a value on a
// rounding boundary may round either way); status words are identical but for
// the balancing bit of a cell within rounding of its module's bleed threshold
// (at most 1 % of cells). Such a cell carries the bleed current on one
// backend and not the other, so from the first interval it differs, its
// current, voltage and RC voltage are not compared.
//
// Exit code 77 (skipped) without a usable GPU; a failure naming the reason
// instead with BRT_REQUIRE_CUDA=1 (simulator/cuda_probe.hpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#include "common/segment/segment_reader.hpp"
#include "common/segment/segment_writer.hpp"
#include "simulator/cpu_stepper.hpp"
#include "simulator/cuda_probe.hpp"
#include "simulator/cuda_stepper.hpp"
#include "simulator/frame_builder.hpp"
#include "simulator/simulation.hpp"
#include "support/parity_scenario.hpp"
#include "support/test_segment.hpp"

using namespace brt;

namespace {

constexpr std::uint64_t kStepsPerInterval = test::kParityStepsPerInterval;
constexpr int kIntervals = test::kParityIntervals;
constexpr int kCompareEvery = test::kParityCompareEvery;

bool close(double cpu, double gpu, double relative, double absolute) {
    if (std::isnan(cpu) || std::isnan(gpu)) {
        return std::isnan(cpu) && std::isnan(gpu);
    }
    return std::fabs(cpu - gpu) <= absolute + relative * std::fabs(cpu);
}

// Cells whose bleed decision differed at some interval's end.
using Excused = std::vector<bool>;

template <typename T>
void check_column(const char* name, const std::vector<T>& cpu, const std::vector<T>& gpu,
                  double relative, double absolute, const Excused* excused = nullptr) {
    REQUIRE(cpu.size() == gpu.size());
    std::size_t mismatches = 0;
    for (std::size_t c = 0; c < cpu.size(); ++c) {
        if (excused != nullptr && (*excused)[c]) {
            continue;
        }
        if (!close(cpu[c], gpu[c], relative, absolute)) {
            if (mismatches++ < 5) {
                UNSCOPED_INFO(name << "[" << c << "]: CPU " << cpu[c] << ", CUDA " << gpu[c]);
            }
        }
    }
    INFO(name);
    CHECK(mismatches == 0);
}

void run_parity(const Geometry& geometry, int device) {
    const std::string name = test::unique_segment_name("parity");
    create_segment(name, test::parity_segment_options(geometry));
    struct Remove {
        std::string name;
        ~Remove() { remove_segment(name); }
    } remove{name};
    const MappedSegment segment = open_segment(name, SegmentAccess::reader);

    const SimulationConfig config = test::parity_config();
    Simulation cpu_simulation(segment, config);
    Simulation gpu_simulation(segment, config);
    test::prepare_parity(cpu_simulation);
    test::prepare_parity(gpu_simulation);
    test::ParityCoverage coverage;
    WorkerPool pool(1);
    CpuStepper cpu(cpu_simulation, pool);
    FrameBuilder builder(geometry);
    // The writer before the stepper: the stepper registers the segment's
    // slots with the driver at its first publish and unregisters them when
    // it is destroyed, which must come before the writer unmaps them.
    SegmentWriter writer = SegmentWriter::acquire(name, 100'000'000);
    CudaStepper gpu(gpu_simulation, device);
    Excused excused(geometry.cell_count(), false);

    for (int interval = 1; interval <= kIntervals; ++interval) {
        cpu_simulation.prepare_interval();
        cpu.run(kStepsPerInterval);
        gpu_simulation.prepare_interval();
        gpu.run(kStepsPerInterval);
        gpu.download_cells();
        const CellArrays& c = cpu_simulation.cells();
        const CellArrays& g = gpu_simulation.cells();
        for (std::size_t cell = 0; cell < excused.size(); ++cell) {
            excused[cell] = excused[cell] || c.balancing[cell] != g.balancing[cell];
        }
        if (interval % kCompareEvery != 0) {
            continue;
        }
        INFO("after " << interval * kStepsPerInterval << " steps");
        REQUIRE(gpu_simulation.step_count() == cpu_simulation.step_count());
        const auto excused_count =
            static_cast<std::size_t>(std::count(excused.begin(), excused.end(), true));
        CHECK(excused_count <= geometry.cell_count() / 100);

        // The racks: the control law's decisions exactly, the rest closely.
        for (std::uint32_t r = 0; r < geometry.racks; ++r) {
            const RackState& cr = cpu_simulation.racks()[r];
            const RackState& gr = gpu_simulation.racks()[r];
            INFO("rack " << r);
            CHECK(gr.action == cr.action);
            CHECK(gr.constant_voltage == cr.constant_voltage);
            CHECK(gr.cut_off == cr.cut_off);
            CHECK(gr.contactor_open == cr.contactor_open);
            CHECK(gr.trip_reasons == cr.trip_reasons);
            CHECK(gr.conditions == cr.conditions);
            CHECK(gr.voltage_condition_steps == cr.voltage_condition_steps);
            CHECK(gr.temperature_condition_steps == cr.temperature_condition_steps);
            CHECK(close(cr.current_a, gr.current_a, 1e-4, 1e-4));
            CHECK(close(cr.air_temperature_c, gr.air_temperature_c, 1e-4, 1e-4));
            CHECK(close(cr.string_voltage_v, gr.string_voltage_v, 1e-4, 1e-3));
        }

        // The true state of every cell.
        check_column("soc", c.soc, g.soc, 1e-4, 1e-6);
        check_column("v_rc_v", c.v_rc_v, g.v_rc_v, 1e-3, 1e-5, &excused);
        check_column("temperature_c", c.temperature_c, g.temperature_c, 1e-4, 1e-4);
        check_column("capacity_fade", c.capacity_fade, g.capacity_fade, 1e-3, 1e-9);
        check_column("resistance_growth", c.resistance_growth, g.resistance_growth, 1e-3, 1e-9);
        check_column("runaway_progress", c.runaway_progress, g.runaway_progress, 1e-4, 1e-6);
        check_column("voltage_v", c.voltage_v, g.voltage_v, 1e-4, 1e-5, &excused);
        check_column("current_a", c.current_a, g.current_a, 1e-4, 1e-4, &excused);
        check_column("coefficient_r0_ohm", c.coefficient_r0_ohm, g.coefficient_r0_ohm, 1e-4, 0);
        // The half-cycle counts behind cyclic ageing (model::CycleCounter).
        auto cycle_field = [](const CellArrays& cells, float model::CycleCounter::*field) {
            std::vector<float> values;
            values.reserve(cells.cycle.size());
            for (const model::CycleCounter& counter : cells.cycle) {
                values.push_back(counter.*field);
            }
            return values;
        };
        check_column("cycle.start_soc", cycle_field(c, &model::CycleCounter::start_soc),
                     cycle_field(g, &model::CycleCounter::start_soc), 1e-4, 1e-6);
        check_column("cycle.extreme_soc", cycle_field(c, &model::CycleCounter::extreme_soc),
                     cycle_field(g, &model::CycleCounter::extreme_soc), 1e-4, 1e-6);
        check_column("cycle.throughput", cycle_field(c, &model::CycleCounter::throughput),
                     cycle_field(g, &model::CycleCounter::throughput), 1e-3, 1e-9);
        check_column("cycle.capacity_stress", cycle_field(c, &model::CycleCounter::capacity_stress),
                     cycle_field(g, &model::CycleCounter::capacity_stress), 1e-3, 1e-12);

        // The frames readers would see.
        const FrameData cpu_frame = builder.build(cpu_simulation, pool);
        const FrameData gpu_frame = gpu.measure_frame();
        coverage.add(cpu_frame);
        const double quantum[6] = {
            model::kVoltageQuantumV, model::kCurrentQuantumA, model::kTemperatureQuantumK, 0, 0, 0};
        const char* names[6] = {"voltage_v", "current_a",      "temperature_c",
                                "soc",       "resistance_ohm", "soh"};
        for (int field = 0; field < 6; ++field) {
            const std::vector<float> cpu_column(cpu_frame.columns[field].begin(),
                                                cpu_frame.columns[field].end());
            const std::vector<float> gpu_column(gpu_frame.columns[field].begin(),
                                                gpu_frame.columns[field].end());
            const bool follows_bleed = field == static_cast<int>(Field::voltage_v) ||
                                       field == static_cast<int>(Field::current_a);
            check_column(names[field], cpu_column, gpu_column, 1e-4, quantum[field] * 1.01,
                         follows_bleed ? &excused : nullptr);
        }
        std::size_t status_mismatches = 0;
        for (std::size_t cell = 0; cell < geometry.cell_count(); ++cell) {
            std::uint32_t difference = cpu_frame.status[cell] ^ gpu_frame.status[cell];
            if (excused[cell]) {
                difference &= ~cell_status::balancing;
            }
            status_mismatches += difference != 0 ? 1 : 0;
        }
        CHECK(status_mismatches == 0);
        for (std::uint32_t r = 0; r < geometry.racks; ++r) {
            CHECK(gpu_frame.racks[r].mode == cpu_frame.racks[r].mode);
            CHECK(gpu_frame.racks[r].flags == cpu_frame.racks[r].flags);
        }
        CHECK(gpu_frame.sim_time_ns == cpu_frame.sim_time_ns);
    }
    // What was compared: cells that bled, and runaway with its status bits.
    coverage.check(geometry);

    // Published through the segment, a frame reads back as the device
    // measured it, to the bit. The path is said on every run and must be the
    // registered one: through the staging fallback every other check here
    // passes too, so a refused cudaHostRegister would go unnoticed.
    const std::uint64_t frame_number = gpu.publish(writer);
    std::fprintf(stderr, "cuda_parity: %u x %u x %u: publishing frames %s\n", geometry.racks,
                 geometry.modules_per_rack, geometry.cells_per_module, gpu.publish_path().c_str());
    INFO("published by " << gpu.publish_path());
    CHECK(gpu.publish_registered());
    const FrameData measured = gpu.measure_frame();
    SegmentReader reader(name);
    reader.require_attached();
    FrameBuffer frame;
    REQUIRE(reader.read_latest(frame) == ReadOutcome::ok);
    CHECK(frame.frame_number == frame_number);
    CHECK(frame.sim_time_ns == measured.sim_time_ns);
    for (int field = 0; field < 6; ++field) {
        const auto published = frame.column(static_cast<Field>(field));
        REQUIRE(published.size() == measured.columns[field].size());
        CHECK(std::memcmp(published.data(), measured.columns[field].data(),
                          published.size_bytes()) == 0);
    }
    CHECK(std::equal(frame.status.begin(), frame.status.end(), measured.status.begin()));
    // The padding after each column (up to column_stride) is copied with the
    // columns: it holds zeros, not what the device allocation held before.
    const SegmentLayout& layout = writer.layout();
    const std::span<std::byte> slots = writer.slot_memory();
    std::size_t nonzero_padding_bytes = 0;
    for (std::uint32_t slot = 0; slot < layout.slot_count; ++slot) {
        for (std::uint32_t field = 0; field < kFieldCount; ++field) {
            const std::byte* column =
                slots.data() + slot * layout.slot_stride + layout.column_offset_in_slot[field];
            for (std::uint64_t byte = geometry.cell_count() * 4; byte < layout.column_stride;
                 ++byte) {
                nonzero_padding_bytes += column[byte] != std::byte{0} ? 1 : 0;
            }
        }
    }
    CHECK(nonzero_padding_bytes == 0);
    const std::vector<RackRecord>& racks = frame.racks;
    for (std::uint32_t r = 0; r < geometry.racks; ++r) {
        CHECK(racks[r].current_a == measured.racks[r].current_a);
        CHECK(racks[r].flags == measured.racks[r].flags);
    }
}

// The device to run on; without one, exit code 77 (skipped), or a failure
// with BRT_REQUIRE_CUDA=1.
int usable_device() {
    const CudaProbe probe = probe_cuda();
    if (!probe.usable) {
        if (cuda_required()) {
            // Also unwrapped on stderr: Catch2 wraps its message at 80 columns.
            std::fprintf(stderr, "%s\n", cuda_required_failure(probe).c_str());
            FAIL(cuda_required_failure(probe));
        }
        std::fprintf(stderr, "skipped: %s\n", probe.why_not.c_str());
        std::exit(77);
    }
    return probe.device;
}

}  // namespace

TEST_CASE("the CUDA backend steps and measures every cell as the CPU backend does", "[cuda]") {
    const int device = usable_device();
    for (const Geometry& geometry : test::parity_geometries()) {
        INFO("geometry " << geometry.racks << " x " << geometry.modules_per_rack << " x "
                         << geometry.cells_per_module);
        run_parity(geometry, device);
    }
}

// A kernel that let a thread step its cells before every thread had read the
// temperatures for conduction (a missing barrier) passes the test above:
// there, no cell's temperature moves enough in one step to matter. Here
// every other cell gains about 10 K a step, so reading a neighbour after its
// step changes a cell's temperature beyond the tolerance
// (tests/test_cuda_harness.cpp shows it on the CPU).
TEST_CASE("the CUDA backend conducts heat from the temperatures before each step", "[cuda]") {
    const int device = usable_device();
    const Geometry geometry = test::conduction_geometry();
    test::ScopedSegment scoped("parity-conduction", geometry);
    const MappedSegment segment = open_segment(scoped.name(), SegmentAccess::reader);
    Simulation cpu_simulation(segment, test::parity_config());
    Simulation gpu_simulation(segment, test::parity_config());
    test::prepare_conduction(cpu_simulation);
    test::prepare_conduction(gpu_simulation);
    WorkerPool pool(1);
    CpuStepper cpu(cpu_simulation, pool);
    CudaStepper gpu(gpu_simulation, device);
    for (std::uint64_t step = 0; step < test::kConductionSteps; step += kStepsPerInterval) {
        cpu_simulation.prepare_interval();
        cpu.run(kStepsPerInterval);
        gpu_simulation.prepare_interval();
        gpu.run(kStepsPerInterval);
        gpu.download_cells();
        INFO("after " << step + kStepsPerInterval << " steps");
        check_column("temperature_c", cpu_simulation.cells().temperature_c,
                     gpu_simulation.cells().temperature_c, 1e-4, 1e-4);
    }
}
