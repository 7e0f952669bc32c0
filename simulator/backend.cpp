#include "simulator/backend.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "brt_config.h"
#include "simulator/cpu_stepper.hpp"
#include "simulator/cuda_probe.hpp"
#include "simulator/frame_builder.hpp"
#include "simulator/worker_pool.hpp"
#if BRT_HAVE_CUDA
#include "simulator/cuda_stepper.hpp"
#endif

namespace brt {

std::optional<BackendRequest> parse_backend(std::string_view text) {
    if (text == "auto") {
        return BackendRequest::automatic;
    }
    if (text == "cpu") {
        return BackendRequest::cpu;
    }
    if (text == "cuda") {
        return BackendRequest::cuda;
    }
    return std::nullopt;
}

BackendChoice choose_backend(BackendRequest request) {
    BackendChoice choice;
    if (request == BackendRequest::cpu) {
        choice.reason = "CPU backend (--backend cpu)";
        return choice;
    }
    const CudaProbe probe = probe_cuda();
    if (!probe.usable) {
        if (request == BackendRequest::cuda) {
            throw std::runtime_error(
                fmt::format("--backend cuda: {}. Use --backend auto (or cpu) to run on the CPU.",
                            probe.why_not));
        }
        choice.reason = fmt::format("CPU backend (--backend auto: {})", probe.why_not);
        return choice;
    }
    choice.cuda = true;
    choice.cuda_device = probe.device;
    choice.reason = fmt::format("CUDA backend on {} (--backend {})", probe.description,
                                request == BackendRequest::cuda ? "cuda" : "auto");
    return choice;
}

namespace {

class CpuBackend final : public SimulatorBackend {
  public:
    explicit CpuBackend(Simulation& simulation)
        : simulation_(simulation),
          pool_(simulation.config().threads),
          stepper_(simulation, pool_),
          builder_(simulation.geometry()) {}
    void step(std::uint64_t steps) override { stepper_.run(steps); }
    void publish(SegmentWriter& writer) override {
        writer.publish_frame(builder_.build(simulation_, pool_));
    }
    std::string describe() const override {
        return fmt::format("CPU backend on {} threads", pool_.thread_count());
    }
    std::string workers() const override { return fmt::format("{} threads", pool_.thread_count()); }
    unsigned threads() const override { return pool_.thread_count(); }

  private:
    Simulation& simulation_;
    WorkerPool pool_;
    CpuStepper stepper_;
    FrameBuilder builder_;
};

#if BRT_HAVE_CUDA
class CudaBackend final : public SimulatorBackend {
  public:
    CudaBackend(Simulation& simulation, int device) : stepper_(simulation, device) {}
    void step(std::uint64_t steps) override { stepper_.run(steps); }
    void publish(SegmentWriter& writer) override {
        const bool first = !published_;
        stepper_.publish(writer);
        published_ = true;
        if (first) {
            fmt::print(stderr, "publishing frames {}\n", stepper_.publish_path());
        }
    }
    std::string describe() const override { return "CUDA backend"; }
    std::string workers() const override { return "the GPU"; }
    unsigned threads() const override { return 1; }

  private:
    CudaStepper stepper_;
    bool published_ = false;
};
#endif

}  // namespace

std::unique_ptr<SimulatorBackend> make_backend(const BackendChoice& choice,
                                               Simulation& simulation) {
#if BRT_HAVE_CUDA
    if (choice.cuda) {
        return std::make_unique<CudaBackend>(simulation, choice.cuda_device);
    }
#else
    if (choice.cuda) {
        throw std::logic_error("make_backend: CUDA chosen in a build without it");
    }
#endif
    return std::make_unique<CpuBackend>(simulation);
}

}  // namespace brt
