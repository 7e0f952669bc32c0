// Which backend steps the model (`--backend auto|cpu|cuda`), and the
// backends behind one interface for the run loop: step an interval, publish
// a frame.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/segment/segment_writer.hpp"
#include "simulator/simulation.hpp"

namespace brt {

enum class BackendRequest { automatic, cpu, cuda };

std::optional<BackendRequest> parse_backend(std::string_view text);

struct BackendChoice {
    bool cuda = false;
    int cuda_device = -1;
    std::string reason;  // one line for stderr: what was picked and why
};

// `auto` takes the GPU when one is usable and the CPU otherwise; `cuda`
// without a usable GPU throws std::runtime_error (exit code 1) saying why.
BackendChoice choose_backend(BackendRequest request);

class SimulatorBackend {
  public:
    virtual ~SimulatorBackend() = default;
    // Runs `steps` physics steps of every cell and advances the clock.
    virtual void step(std::uint64_t steps) = 0;
    // Publishes the present state as the writer's next frame.
    virtual void publish(SegmentWriter& writer) = 0;
    // For the start-up line on stderr, e.g. "CPU backend on 8 threads".
    virtual std::string describe() const = 0;
    // For the run summary: "8 threads", "the GPU".
    virtual std::string workers() const = 0;
    virtual unsigned threads() const = 0;
};

// The chosen backend over `simulation`, which it steps from now on.
std::unique_ptr<SimulatorBackend> make_backend(const BackendChoice& choice, Simulation& simulation);

}  // namespace brt
