// The CPU backend: steps every cell with the shared model, racks spread over
// a pool of threads. Racks are independent between publishes (each is its own
// series string with its own air), so a thread runs all the steps of a publish
// interval for its racks without synchronising, and the result does not
// depend on the thread count.
#pragma once

#include <cstdint>

#include "simulator/simulation.hpp"
#include "simulator/worker_pool.hpp"

namespace brt {

class CpuStepper {
  public:
    CpuStepper(Simulation& simulation, WorkerPool& pool);
    // Runs `steps` physics steps of every rack, then advances the clock.
    void run(std::uint64_t steps);

  private:
    void run_rack(std::uint32_t rack_index, std::uint64_t steps, std::vector<float>& scratch);

    Simulation& simulation_;
    WorkerPool& pool_;
};

}  // namespace brt
