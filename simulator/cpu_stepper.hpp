// The CPU backend: steps every cell with the shared model, racks spread over
// a pool of threads. Racks are independent between publishes (each is its own
// series string with its own air), so a thread runs all the steps of a publish
// interval for its racks without synchronising, and the result does not
// depend on the thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "simulator/rack_control.hpp"
#include "simulator/simulation.hpp"
#include "simulator/worker_pool.hpp"

namespace brt {

class CpuStepper {
  public:
    CpuStepper(Simulation& simulation, WorkerPool& pool);
    // Runs `steps` physics steps of every rack, then advances the clock.
    void run(std::uint64_t steps);
    // Off: every cell takes the general step (model::step_cell_with), as
    // before the quiet path existed. For the tests and the benchmark, which
    // compare the two.
    void set_quiet_path(bool enabled) { quiet_path_ = enabled; }

  private:
    // A thread's working space while it steps one rack.
    struct RackScratch {
        std::vector<float> neighbour_heat_w;  // per cell of the module being stepped
        std::vector<float> heat_to_air_w;     // the same
        std::vector<std::uint8_t>
            module_quiet;  // per module: every cell quiet (model::cell_is_quiet)
    };
    // What one step of one module needs from its rack.
    struct ModuleStep {
        const model::ChemistryParams* params;
        std::uint64_t first_cell;
        float dt_s;
        float approach;
        float rack_current_a;
        float air_temperature_c;
        bool balancing_on;
        ProtectionLimits protection;
    };

    void run_rack(std::uint32_t rack_index, std::uint64_t steps, RackScratch& scratch);
    void prepare_module(const ModuleStep& step, std::vector<float>& neighbour_heat_w,
                        float& module_min_v) const;
    // Both return whether every cell of the module is quiet after the step.
    bool step_module(const ModuleStep& step, const std::vector<float>& neighbour_heat_w,
                     float module_min_v, bool coefficient_step, bool ageing_step,
                     float ageing_dt_factor, RackLimits& limits, float& heat_to_air_w);
    bool step_quiet_module(const ModuleStep& step, RackScratch& scratch, RackLimits& limits,
                           float& heat_to_air_w);
    // Resistance and capacity from the cells' state (model::cell_coefficients),
    // every cell of a module.
    void refresh_coefficients(const model::ChemistryParams& p, std::uint64_t first_cell);
    bool module_is_quiet(const model::ChemistryParams& p, std::uint64_t first_cell) const;

    Simulation& simulation_;
    WorkerPool& pool_;
    bool quiet_path_ = true;
};

}  // namespace brt
