#include "simulator/cuda_stepper.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "common/segment/atomic_copy.hpp"
#include "simulator/cell_step.hpp"
#include "simulator/frame_builder.hpp"
#include "simulator/frame_cell.hpp"
#include "simulator/rack_step.hpp"

namespace brt {
namespace {

std::string cuda_error_text(cudaError_t error) {
    return std::string(cudaGetErrorName(error)) + ": " + cudaGetErrorString(error);
}

void check_cuda(cudaError_t error, const char* what) {
    if (error != cudaSuccess) {
        throw CudaError(std::string("CUDA backend: ") + what + " failed (" +
                        cuda_error_text(error) + "); the GPU state is lost, restart the simulator");
    }
}

// One device allocation of `count` T, freed with its owner.
template <typename T>
class DeviceArray {
  public:
    DeviceArray() = default;
    explicit DeviceArray(std::size_t count) : count_(count) {
        if (count > 0) {
            check_cuda(cudaMalloc(reinterpret_cast<void**>(&data_), count * sizeof(T)),
                       "cudaMalloc");
        }
    }
    ~DeviceArray() {
        if (data_ != nullptr) {
            cudaFree(data_);  // nothing to do about a failure here
        }
    }
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;
    DeviceArray& operator=(DeviceArray&& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(count_, other.count_);
        return *this;
    }

    T* data() const { return data_; }
    std::size_t size() const { return count_; }
    void upload(const std::vector<T>& host, cudaStream_t stream) {
        check_cuda(cudaMemcpyAsync(data_, host.data(), host.size() * sizeof(T),
                                   cudaMemcpyHostToDevice, stream),
                   "copy to the device");
    }
    void download(std::vector<T>& host, cudaStream_t stream) const {
        check_cuda(cudaMemcpyAsync(host.data(), data_, host.size() * sizeof(T),
                                   cudaMemcpyDeviceToHost, stream),
                   "copy from the device");
    }

  private:
    T* data_ = nullptr;
    std::size_t count_ = 0;
};

// A block steps one rack; its threads share the rack's cells, then reduce
// the rack's limits each step. One thread per cell up to kMaxThreadsPerRack
// (a whole number of warps), so a rack of 320 cells has no idle lanes.
constexpr unsigned kMaxThreadsPerRack = 512;
constexpr unsigned kWarpSize = 32;
constexpr unsigned kMaxWarpsPerRack = kMaxThreadsPerRack / kWarpSize;
unsigned threads_per_rack(std::uint64_t cells_per_rack) {
    const std::uint64_t warps = (cells_per_rack + kWarpSize - 1) / kWarpSize;
    return static_cast<unsigned>(std::min<std::uint64_t>(warps * kWarpSize, kMaxThreadsPerRack));
}
constexpr unsigned kThreadsPerMeasureBlock = 256;

// Chemistry parameters as the kernels index them.
constexpr int kParamsNmc = 0;
constexpr int kParamsLfp = 1;
__host__ __device__ inline int params_index(Chemistry chemistry) {
    return chemistry == Chemistry::lfp ? kParamsLfp : kParamsNmc;
}

struct StepKernelArgs {
    CellColumns cells;
    RackState* racks;
    const model::ChemistryParams* params;  // [kParamsNmc], [kParamsLfp]
    float approach[2];                     // model::rc_approach per chemistry, from the host
    float* neighbour_heat_w;               // per cell, this step's conduction
    float* module_min_v;                   // per module, its lowest voltage
    std::uint32_t modules_per_rack;
    std::uint32_t cells_per_module;
    float dt_s;
    float balancing_current_a;
    float balancing_threshold_v;
    float ageing_speedup;
    float taper_c_rate;
    RackAirParams air;
    RackProtectionParams protection;
    unsigned long long coefficient_every;
    unsigned long long ageing_every;
    unsigned long long first_step;
    unsigned long long steps;
};

// The rack's cells' limits, heat and protection conditions, over one block.
struct RackSums {
    RackLimits limits;
    float heat_to_air_w;
};

__device__ inline float larger(float a, float b) {
    return b > a ? b : a;
}
__device__ inline float smaller(float a, float b) {
    return b < a ? b : a;
}

__device__ inline RackSums warp_reduce(RackSums s) {
    for (unsigned offset = kWarpSize / 2; offset > 0; offset /= 2) {
        s.limits.charge_limit_a =
            larger(s.limits.charge_limit_a,
                   __shfl_down_sync(0xffffffffu, s.limits.charge_limit_a, offset));
        s.limits.float_limit_a = larger(
            s.limits.float_limit_a, __shfl_down_sync(0xffffffffu, s.limits.float_limit_a, offset));
        s.limits.discharge_limit_a =
            smaller(s.limits.discharge_limit_a,
                    __shfl_down_sync(0xffffffffu, s.limits.discharge_limit_a, offset));
        s.limits.string_voltage_v +=
            __shfl_down_sync(0xffffffffu, s.limits.string_voltage_v, offset);
        s.heat_to_air_w += __shfl_down_sync(0xffffffffu, s.heat_to_air_w, offset);
        s.limits.conditions |= __shfl_down_sync(0xffffffffu, s.limits.conditions, offset);
    }
    return s;
}

// All physics steps of one publish interval: block b steps rack b.
__global__ void __launch_bounds__(kMaxThreadsPerRack) step_racks_kernel(StepKernelArgs a) {
    // Shared storage without constructors (RackState has default member
    // initialisers, which __shared__ variables may not run).
    __shared__ alignas(RackState) unsigned char rack_storage[sizeof(RackState)];
    __shared__ float warp_sums[5][kMaxWarpsPerRack];  // RackSums' five float fields, per warp
    __shared__ std::uint32_t warp_conditions[kMaxWarpsPerRack];  // and the conditions
    __shared__ bool balancing;
    RackState& rack = *reinterpret_cast<RackState*>(rack_storage);

    const unsigned rack_index = blockIdx.x;
    const unsigned thread = threadIdx.x;
    const unsigned threads = blockDim.x;
    // Indices within a rack are 32-bit (a rack holds at most 4096 x 4096
    // cells): no 64-bit division or remainder per cell-step. Only the rack's
    // first cell needs 64 bits.
    const std::uint32_t cells_per_module = a.cells_per_module;
    const std::uint32_t cells_per_rack = a.modules_per_rack * cells_per_module;
    const std::uint64_t first_cell = static_cast<std::uint64_t>(rack_index) * cells_per_rack;
    float* module_min_v =
        a.module_min_v + static_cast<std::uint64_t>(rack_index) * a.modules_per_rack;
    // A thread's cells are thread, thread + threads, ...: their positions in
    // their modules advance by the same step, so conduction needs no
    // division either.
    const std::uint32_t first_in_module = thread % cells_per_module;
    const std::uint32_t cells_per_stride = threads % cells_per_module;

    if (thread == 0) {
        memcpy(rack_storage, &a.racks[rack_index], sizeof(RackState));
    }
    __syncthreads();
    const int chemistry = params_index(rack.chemistry);
    const model::ChemistryParams& p = a.params[chemistry];
    const float taper_current_a = a.taper_c_rate * rack.capacity_ah;
    CellStepContext context{};
    context.params = &p;
    context.dt_s = a.dt_s;
    context.approach = a.approach[chemistry];
    context.soc_gain_a_per_ah = soc_bound_gain_a_per_ah(a.dt_s);
    context.bleed_current_a = a.balancing_current_a;

    // The same cadences as the CPU backend, by global step number: the steps
    // until the next ageing and coefficient step, counted down (a remainder
    // per launch, not per step).
    const auto ageing_every = static_cast<std::uint32_t>(a.ageing_every);
    const auto coefficient_every = static_cast<std::uint32_t>(a.coefficient_every);
    const auto ageing_phase = static_cast<std::uint32_t>(a.first_step % ageing_every);
    const auto coefficient_phase = static_cast<std::uint32_t>(a.first_step % coefficient_every);
    std::uint32_t to_ageing = ageing_phase == 0 ? 0 : ageing_every - ageing_phase;
    std::uint32_t to_coefficient =
        coefficient_phase == 0 ? 0 : coefficient_every - coefficient_phase;
    for (unsigned long long step = 0; step < a.steps; ++step) {
        const bool ageing_step = to_ageing == 0;
        context.ageing_step = ageing_step;
        context.coefficient_step = ageing_step || to_coefficient == 0;
        to_ageing = ageing_step ? ageing_every - 1 : to_ageing - 1;
        to_coefficient = to_coefficient == 0 ? coefficient_every - 1 : to_coefficient - 1;
        context.ageing_speedup =
            (ageing_step ? static_cast<float>(ageing_every) : 0.0f) * a.ageing_speedup;
        if (thread == 0) {
            balancing = balancing_on(rack, begin_rack_step(rack, taper_current_a));
        }
        __syncthreads();
        context.rack_current_a = rack.current_a;
        context.air_temperature_c = rack.air_temperature_c;
        context.balancing_on = balancing;
        context.protection = protection_limits(p, rack.current_a);

        // Everything a cell's step reads of its neighbours, from before the
        // step: conduction (Jacobi) and, while balancing, the module's lowest
        // voltage.
        {
            std::uint32_t c = first_in_module;
            for (std::uint32_t i = thread; i < cells_per_rack; i += threads) {
                a.neighbour_heat_w[first_cell + i] = neighbour_heat_w(
                    p.cell_to_cell_w_per_k, a.cells.temperature_c + first_cell + (i - c), c,
                    cells_per_module);
                c += cells_per_stride;
                c = c >= cells_per_module ? c - cells_per_module : c;
            }
        }
        if (context.balancing_on) {
            for (std::uint32_t m = thread; m < a.modules_per_rack; m += threads) {
                const float* voltage_v = a.cells.voltage_v + first_cell +
                                         static_cast<std::uint64_t>(m) * a.cells_per_module;
                float lowest_v = voltage_v[0];
                for (std::uint32_t c = 1; c < a.cells_per_module; ++c) {
                    lowest_v = smaller(lowest_v, voltage_v[c]);
                }
                module_min_v[m] = lowest_v;
            }
        }
        __syncthreads();

        RackSums sums{};
        sums.limits = RackLimits{};
        sums.heat_to_air_w = 0.0f;
        for (std::uint32_t i = thread; i < cells_per_rack; i += threads) {
            const float bleed_above_v =
                context.balancing_on ? module_min_v[i / cells_per_module] + a.balancing_threshold_v
                                     : 0.0f;
            step_general_cell(a.cells, first_cell + i, context, a.neighbour_heat_w[first_cell + i],
                              bleed_above_v, sums.limits, sums.heat_to_air_w);
        }
        sums = warp_reduce(sums);
        if (thread % kWarpSize == 0) {
            const unsigned warp = thread / kWarpSize;
            warp_sums[0][warp] = sums.limits.charge_limit_a;
            warp_sums[1][warp] = sums.limits.float_limit_a;
            warp_sums[2][warp] = sums.limits.discharge_limit_a;
            warp_sums[3][warp] = sums.limits.string_voltage_v;
            warp_sums[4][warp] = sums.heat_to_air_w;
            warp_conditions[warp] = sums.limits.conditions;
        }
        __syncthreads();
        if (thread == 0) {
            // The warps in order: the same sums on every run.
            RackLimits total;
            float heat_to_air_w = 0.0f;
            for (unsigned w = 0; w < threads / kWarpSize; ++w) {
                total.charge_limit_a = larger(total.charge_limit_a, warp_sums[0][w]);
                total.float_limit_a = larger(total.float_limit_a, warp_sums[1][w]);
                total.discharge_limit_a = smaller(total.discharge_limit_a, warp_sums[2][w]);
                total.string_voltage_v += warp_sums[3][w];
                heat_to_air_w += warp_sums[4][w];
                total.conditions |= warp_conditions[w];
            }
            end_rack_step(rack, total, heat_to_air_w, a.dt_s, a.air, a.protection);
        }
        __syncthreads();
    }
    if (thread == 0) {
        memcpy(&a.racks[rack_index], rack_storage, sizeof(RackState));
    }
}

// Every cell's healthy measurement, one thread per cell.
__global__ void measure_kernel(CellColumns cells, FrameColumns frame, const RackState* racks,
                               const model::ChemistryParams* params, std::uint64_t cells_per_rack,
                               std::uint64_t cell_count, std::uint64_t seed, std::uint64_t step) {
    const std::uint64_t stride = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
    const model::SensorFaultState healthy{};
    for (std::uint64_t cell = static_cast<std::uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
         cell < cell_count; cell += stride) {
        const model::ChemistryParams& p =
            params[params_index(racks[cell / cells_per_rack].chemistry)];
        frame.store(cell, measure_frame_cell(cells, p, healthy, seed, cell, step));
    }
}

// The few faulted sensors, measured again with their faults (after measure_kernel).
__global__ void faulted_sensors_kernel(CellColumns cells, FrameColumns frame, FaultedSensor* faults,
                                       std::uint64_t fault_count, const RackState* racks,
                                       const model::ChemistryParams* params,
                                       std::uint64_t cells_per_rack, std::uint64_t seed,
                                       std::uint64_t step) {
    const std::uint64_t stride = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
    for (std::uint64_t i = static_cast<std::uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
         i < fault_count; i += stride) {
        FaultedSensor& fault = faults[i];
        if (!fault.captured) {
            capture_stuck_readings(cells, fault.cell, fault.state);
            fault.captured = true;
        }
        const model::ChemistryParams& p =
            params[params_index(racks[fault.cell / cells_per_rack].chemistry)];
        frame.store(fault.cell, measure_frame_cell(cells, p, fault.state, seed, fault.cell, step));
    }
}

__global__ void drop_soc_kernel(double* soc, std::uint64_t first_cell, std::uint64_t cell_count,
                                double drop) {
    const std::uint64_t stride = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
    for (std::uint64_t i = static_cast<std::uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
         i < cell_count; i += stride) {
        const double lowered = soc[first_cell + i] - drop;
        soc[first_cell + i] = lowered > 0.0 ? lowered : 0.0;  // as std::max(0.0, soc - drop)
    }
}

unsigned blocks_for(std::uint64_t items, unsigned threads) {
    const std::uint64_t blocks = (items + threads - 1) / threads;
    // Every kernel launched with it loops over a grid stride, which covers
    // the rest beyond 2^20 blocks.
    return static_cast<unsigned>(blocks < (1u << 20) ? (blocks > 0 ? blocks : 1) : (1u << 20));
}

}  // namespace

struct CudaStepper::Device {
    Simulation& simulation;
    cudaStream_t stream = nullptr;
    std::uint64_t cell_count = 0;

    // The cells' columns, as CellArrays holds them.
    DeviceArray<double> soc, temperature_c, capacity_fade, resistance_growth, ah_throughput,
        calendar_age_s;
    DeviceArray<float> v_rc_v, runaway_progress, capacity_factor, resistance_factor,
        coefficient_r0_ohm, coefficient_r1_ohm, coefficient_capacity_ah, voltage_v, current_a,
        external_heat_w, short_circuit_ohm, ageing_multiplier;
    DeviceArray<std::uint32_t> balancing;
    DeviceArray<model::CycleCounter> cycle;
    DeviceArray<float> neighbour_heat_w, module_min_v;
    DeviceArray<RackState> racks;
    DeviceArray<model::ChemistryParams> params;
    DeviceArray<FaultedSensor> faults;
    std::uint64_t uploaded_effects_version = 0;
    std::size_t applied_soc_drops = 0;  // of simulation.soc_drops()

    // A frame's seven columns, laid out as in a slot (column_stride apart),
    // so that one copy moves them all.
    std::uint64_t column_stride = 0;
    DeviceArray<unsigned char> frame;
    std::vector<RackRecord> rack_table;

    const std::byte* publish_slots = nullptr;  // the writer's slots publishing is set up for
    void* registered = nullptr;                // those slots, when cudaHostRegister took them
    unsigned char* staging = nullptr;          // pinned, where it did not
    std::string publish_path = "not published yet";
    // measure_frame's host copy.
    std::vector<unsigned char> host_frame;

    explicit Device(Simulation& sim) : simulation(sim) {}
    ~Device() {
        release_publish();
        if (stream != nullptr) {
            cudaStreamDestroy(stream);
        }
    }

    CellColumns columns() const { return cell_columns_of(*this); }
    FrameColumns frame_columns() const {
        FrameColumns out{};
        for (int field = 0; field < 6; ++field) {
            out.values[field] = reinterpret_cast<float*>(frame.data() + field * column_stride);
        }
        out.status = reinterpret_cast<std::uint32_t*>(
            frame.data() + static_cast<std::uint64_t>(Field::status) * column_stride);
        return out;
    }
    std::uint64_t frame_bytes() const { return kFieldCount * column_stride; }
    // A frame over a host copy of the device's columns (staging or
    // measure_frame's), with the rack table and stamps of the last measure().
    FrameData host_frame_view(const unsigned char* columns) const {
        FrameData view;
        for (int field = 0; field < 6; ++field) {
            view.columns[field] = std::span<const float>(
                reinterpret_cast<const float*>(columns + field * column_stride), cell_count);
        }
        view.status = std::span<const std::uint32_t>(
            reinterpret_cast<const std::uint32_t*>(
                columns + static_cast<std::uint64_t>(Field::status) * column_stride),
            cell_count);
        view.racks = rack_table;
        view.sim_time_ns = frame_sim_time_ns(simulation);
        view.ambient_temperature_c = simulation.ambient_c();
        return view;
    }

    // Every cell column, host to device or back.
    template <typename Visit>
    void for_each_column(CellArrays& host, Visit visit) {
        visit(soc, host.soc);
        visit(temperature_c, host.temperature_c);
        visit(capacity_fade, host.capacity_fade);
        visit(resistance_growth, host.resistance_growth);
        visit(ah_throughput, host.ah_throughput);
        visit(calendar_age_s, host.calendar_age_s);
        visit(v_rc_v, host.v_rc_v);
        visit(runaway_progress, host.runaway_progress);
        visit(capacity_factor, host.capacity_factor);
        visit(resistance_factor, host.resistance_factor);
        visit(coefficient_r0_ohm, host.coefficient_r0_ohm);
        visit(coefficient_r1_ohm, host.coefficient_r1_ohm);
        visit(coefficient_capacity_ah, host.coefficient_capacity_ah);
        visit(voltage_v, host.voltage_v);
        visit(current_a, host.current_a);
        visit(external_heat_w, host.external_heat_w);
        visit(short_circuit_ohm, host.short_circuit_ohm);
        visit(ageing_multiplier, host.ageing_multiplier);
        visit(balancing, host.balancing);
        visit(cycle, host.cycle);
    }

    void synchronize(const char* what) {
        check_cuda(cudaGetLastError(), what);
        check_cuda(cudaStreamSynchronize(stream), what);
    }

    // What prepare_interval changed in the host's cells since the device
    // last looked: scenario effects, and one-off SoC drops (applied to the
    // host's stale copy too, where nothing reads them).
    void apply_host_changes() {
        if (simulation.effects_version() != uploaded_effects_version) {
            external_heat_w.upload(simulation.cells().external_heat_w, stream);
            short_circuit_ohm.upload(simulation.cells().short_circuit_ohm, stream);
            ageing_multiplier.upload(simulation.cells().ageing_multiplier, stream);
            uploaded_effects_version = simulation.effects_version();
        }
        const std::vector<SocDrop>& drops = simulation.soc_drops();
        for (; applied_soc_drops < drops.size(); ++applied_soc_drops) {
            const SocDrop& drop = drops[applied_soc_drops];
            drop_soc_kernel<<<blocks_for(drop.cell_count, 256), 256, 0, stream>>>(
                soc.data(), drop.first_cell, drop.cell_count, drop.drop);
            check_cuda(cudaGetLastError(), "launch of the SoC drop kernel");
        }
    }

    // Faulted sensors to the device (captured readings come back after).
    void upload_faults() {
        const std::vector<FaultedSensor>& host = simulation.faulted_sensors();
        if (faults.size() < host.size()) {
            faults = DeviceArray<FaultedSensor>(host.size());
        }
        if (!host.empty()) {
            check_cuda(
                cudaMemcpyAsync(faults.data(), host.data(), host.size() * sizeof(FaultedSensor),
                                cudaMemcpyHostToDevice, stream),
                "copy of the faulted sensors to the device");
        }
    }

    // Measures every cell into `frame` and waits for it.
    void measure() {
        apply_host_changes();  // a frame before the first interval's steps
        const Geometry& geometry = simulation.geometry();
        const std::uint64_t seed = simulation.config().seed;
        const std::uint64_t step = simulation.step_count();
        measure_kernel<<<blocks_for(cell_count, kThreadsPerMeasureBlock), kThreadsPerMeasureBlock,
                         0, stream>>>(columns(), frame_columns(), racks.data(), params.data(),
                                      geometry.cells_per_rack(), cell_count, seed, step);
        check_cuda(cudaGetLastError(), "launch of the measuring kernel");
        std::vector<FaultedSensor>& host_faults = simulation.faulted_sensors();
        if (!host_faults.empty()) {
            upload_faults();
            faulted_sensors_kernel<<<blocks_for(host_faults.size(), 64), 64, 0, stream>>>(
                columns(), frame_columns(), faults.data(), host_faults.size(), racks.data(),
                params.data(), geometry.cells_per_rack(), seed, step);
            check_cuda(cudaGetLastError(), "launch of the faulted-sensor kernel");
            check_cuda(cudaMemcpyAsync(host_faults.data(), faults.data(),
                                       host_faults.size() * sizeof(FaultedSensor),
                                       cudaMemcpyDeviceToHost, stream),
                       "copy of the faulted sensors from the device");
        }
        synchronize("measuring a frame");
        for (std::uint32_t r = 0; r < geometry.racks; ++r) {
            rack_table[r] = rack_record(simulation.racks()[r], simulation.paused());
        }
    }

    // The first publish to a writer: register the segment's slots with the
    // driver so that the copy lands in the slot itself. A pinned buffer
    // where the driver refuses, or where the slot's column run is not laid
    // out as the device copy is (seven columns, column_stride apart).
    void prepare_publish(const SegmentWriter& writer) {
        const std::span<std::byte> slots = writer.slot_memory();
        if (slots.data() == publish_slots) {
            return;
        }
        release_publish();
        publish_slots = slots.data();
        std::string refused = "the slot's columns are not laid out as the device's";
        if (writer.column_run().column_stride == column_stride) {
            const cudaError_t error =
                cudaHostRegister(slots.data(), slots.size(), cudaHostRegisterDefault);
            if (error == cudaSuccess) {
                registered = slots.data();
                publish_path = "device to segment (registered with cudaHostRegister)";
                return;
            }
            cudaGetLastError();  // not sticky; clear it so later checks see their own
            refused = "cudaHostRegister refused the segment: " + cuda_error_text(error);
        }
        check_cuda(cudaMallocHost(reinterpret_cast<void**>(&staging), frame_bytes()),
                   "cudaMallocHost of the staging buffer");
        publish_path = "device to pinned staging buffer, then to the segment (" + refused + ")";
    }
    void release_publish() {
        if (registered != nullptr) {
            cudaHostUnregister(registered);
            registered = nullptr;
        }
        if (staging != nullptr) {
            cudaFreeHost(staging);
            staging = nullptr;
        }
        publish_slots = nullptr;
    }
};

CudaStepper::CudaStepper(Simulation& simulation, int device)
    : device_(std::make_unique<Device>(simulation)) {
    Device& d = *device_;
    check_cuda(cudaSetDevice(device), "cudaSetDevice");
    check_cuda(cudaStreamCreateWithFlags(&d.stream, cudaStreamNonBlocking), "cudaStreamCreate");
    const Geometry& geometry = simulation.geometry();
    d.cell_count = geometry.cell_count();
    CellArrays& cells = simulation.cells();
    d.for_each_column(cells, [&](auto& device_column, auto& host_column) {
        using T = typename std::decay_t<decltype(host_column)>::value_type;
        device_column = DeviceArray<T>(d.cell_count);
        device_column.upload(host_column, d.stream);
    });
    d.neighbour_heat_w = DeviceArray<float>(d.cell_count);
    d.module_min_v =
        DeviceArray<float>(static_cast<std::size_t>(geometry.racks) * geometry.modules_per_rack);
    d.racks = DeviceArray<RackState>(geometry.racks);
    d.racks.upload(simulation.racks(), d.stream);
    const std::vector<model::ChemistryParams> params{simulation.params(Chemistry::nmc),
                                                     simulation.params(Chemistry::lfp)};
    d.params = DeviceArray<model::ChemistryParams>(params.size());
    d.params.upload(params, d.stream);
    d.column_stride = round_up(d.cell_count * 4, kColumnAlignment);
    d.frame = DeviceArray<unsigned char>(d.frame_bytes());
    // The kernels write each column's first cell_count * 4 bytes; the
    // padding up to column_stride is copied into the slot with them, so it
    // must hold zeros, not whatever the allocation held before.
    check_cuda(cudaMemsetAsync(d.frame.data(), 0, d.frame_bytes(), d.stream),
               "clearing the frame buffer");
    d.rack_table.resize(geometry.racks);
    d.uploaded_effects_version = simulation.effects_version();
    d.applied_soc_drops = simulation.soc_drops().size();
    d.synchronize("uploading the initial state");
}

CudaStepper::~CudaStepper() = default;

void CudaStepper::run(std::uint64_t steps) {
    Device& d = *device_;
    Simulation& simulation = d.simulation;
    const Geometry& geometry = simulation.geometry();
    const SimulationConfig& config = simulation.config();
    d.apply_host_changes();
    d.racks.upload(simulation.racks(), d.stream);

    StepKernelArgs args{};
    args.cells = d.columns();
    args.racks = d.racks.data();
    args.params = d.params.data();
    args.dt_s = std::max(static_cast<float>(config.physics_dt_s), 0.0f);
    args.approach[kParamsNmc] = model::rc_approach(simulation.params(Chemistry::nmc), args.dt_s);
    args.approach[kParamsLfp] = model::rc_approach(simulation.params(Chemistry::lfp), args.dt_s);
    args.neighbour_heat_w = d.neighbour_heat_w.data();
    args.module_min_v = d.module_min_v.data();
    args.modules_per_rack = geometry.modules_per_rack;
    args.cells_per_module = geometry.cells_per_module;
    args.balancing_current_a = config.balancing_current_a;
    args.balancing_threshold_v = config.balancing_threshold_v;
    args.ageing_speedup = config.ageing_speedup;
    args.taper_c_rate = config.taper_c_rate;
    args.air = rack_air_params(config);
    args.protection = rack_protection_params(config.physics_dt_s);
    args.coefficient_every = coefficient_interval_steps(config.physics_dt_s);
    args.ageing_every = ageing_interval_steps(config.physics_dt_s);
    args.first_step = simulation.step_count();
    args.steps = steps;
    step_racks_kernel<<<geometry.racks, threads_per_rack(geometry.cells_per_rack()), 0, d.stream>>>(
        args);
    check_cuda(cudaGetLastError(), "launch of the stepping kernel");
    d.racks.download(simulation.racks(), d.stream);
    d.synchronize("stepping the cells");
    simulation.advance_clock(steps);
}

std::uint64_t CudaStepper::publish(SegmentWriter& writer) {
    Device& d = *device_;
    d.prepare_publish(writer);
    // Everything that can fail on the device happens before the slot is
    // opened, so a failure leaves the published frames as they were.
    d.measure();
    if (d.registered != nullptr) {
        const SlotWrite write = writer.begin_frame();
        copy_to_shared(writer.rack_table(write), d.rack_table.data(),
                       d.rack_table.size() * sizeof(RackRecord));
        // The columns are one run in the slot, as on the device. A failed
        // copy gives the slot back (readers go on with the frames before
        // it) and throws; the run loop marks the writer failed.
        try {
            check_cuda(cudaMemcpyAsync(writer.column(write, Field::voltage_v), d.frame.data(),
                                       d.frame_bytes(), cudaMemcpyDeviceToHost, d.stream),
                       "copy of the frame into the segment");
            d.synchronize("copying the frame into the segment");
        } catch (...) {
            writer.abort_frame(write);
            throw;
        }
        return writer.commit_frame(write, frame_sim_time_ns(d.simulation),
                                   d.simulation.ambient_c());
    }
    check_cuda(cudaMemcpyAsync(d.staging, d.frame.data(), d.frame_bytes(), cudaMemcpyDeviceToHost,
                               d.stream),
               "copy of the frame to the staging buffer");
    d.synchronize("copying the frame to the staging buffer");
    return writer.publish_frame(d.host_frame_view(d.staging));
}

const std::string& CudaStepper::publish_path() const {
    return device_->publish_path;
}

bool CudaStepper::publish_registered() const {
    return device_->registered != nullptr;
}

void CudaStepper::download_cells() {
    Device& d = *device_;
    d.for_each_column(d.simulation.cells(), [&](auto& device_column, auto& host_column) {
        device_column.download(host_column, d.stream);
    });
    d.synchronize("copying the cells from the device");
}

FrameData CudaStepper::measure_frame() {
    Device& d = *device_;
    d.measure();
    d.host_frame.resize(d.frame_bytes());
    check_cuda(cudaMemcpyAsync(d.host_frame.data(), d.frame.data(), d.frame_bytes(),
                               cudaMemcpyDeviceToHost, d.stream),
               "copy of a frame from the device");
    d.synchronize("copying a frame from the device");
    return d.host_frame_view(d.host_frame.data());
}

}  // namespace brt
