// The simulated system: every cell and rack, the scenarios in force, and the
// commands that change them. Physics steps run on a backend (cpu_stepper.hpp
// today); this class owns the state and everything decided between steps.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "common/control/scenario.hpp"
#include "common/segment/command_ring.hpp"
#include "common/segment/segment_file.hpp"
#include "simulator/cell_arrays.hpp"
#include "simulator/load_profile.hpp"
#include "simulator/model/chemistry_params.hpp"
#include "simulator/model/sensor_model.hpp"
#include "simulator/rack_state.hpp"
#include "simulator/simulation_config.hpp"

namespace brt {

struct ActiveScenario {
    std::uint64_t id = 0;
    ScenarioSpec spec;
    double start_time_s = 0;
    double end_time_s = std::numeric_limits<double>::infinity();
    bool started = false;
};

// A faulted sensor: few cells, so a short list rather than a column.
struct FaultedSensor {
    std::uint64_t cell = 0;
    model::SensorFaultState state{};  // both sensors of the cell
    bool captured = false;            // stuck values taken from the last published frame
};

// A one-off change to cells' state of charge made between steps (a
// cell_imbalance scenario starting).
struct SocDrop {
    std::uint64_t first_cell = 0;
    std::uint64_t cell_count = 0;
    double drop = 0;  // soc = max(0, soc - drop)
};

// A thermal_runaway scenario given without a duration heats for at most
// this long: an abuse test that has not triggered its cell in an hour stops.
inline constexpr double kAbuseHeaterTimeoutS = 3600.0;

class Simulation {
  public:
    // Geometry, chemistry and capacities come from the segment's metadata.
    Simulation(const MappedSegment& segment, const SimulationConfig& config);

    const Geometry& geometry() const { return geometry_; }
    const SimulationConfig& config() const { return config_; }
    double sim_time_s() const { return static_cast<double>(step_) * config_.physics_dt_s; }
    std::uint64_t step_count() const { return step_; }

    // Between publishes: start and end scheduled scenarios, resolve each
    // rack's action for the next interval. Call before stepping.
    void prepare_interval();
    // Records that `steps` physics steps ran (the backend ran them).
    void advance_clock(std::uint64_t steps) { step_ += steps; }

    // Scenarios and commands. A scenario starts spec.start_s after it is
    // applied. apply/clear throw UsageError for a bad target.
    std::uint64_t apply_scenario(const ScenarioSpec& spec);
    std::size_t clear_scenarios(std::uint32_t kind_code, const Target& target);
    CommandStatus handle_command(const ReceivedCommand& received);
    // Closes the contactor of `rack` (kAllTargets: every rack) that its
    // protection opened. rejected_condition while a targeted rack with an
    // open contactor still has a cell beyond a limit, venting or in runaway
    // (nothing is reset then); rejected_target for a rack that does not exist.
    CommandStatus reset_protection(std::uint32_t rack);
    const std::vector<ActiveScenario>& scenarios() const { return scenarios_; }
    bool paused() const { return paused_; }

    CellArrays& cells() { return cells_; }
    const CellArrays& cells() const { return cells_; }
    std::vector<RackState>& racks() { return racks_; }
    const std::vector<RackState>& racks() const { return racks_; }
    const model::ChemistryParams& params(Chemistry chemistry) const {
        return chemistry == Chemistry::lfp ? lfp_ : nmc_;
    }
    std::vector<FaultedSensor>& faulted_sensors() { return faulted_sensors_; }

    // For a backend that keeps the cells' state elsewhere (the GPU): what
    // prepare_interval changed in cells(). The scenario effect columns
    // (external_heat_w, short_circuit_ohm, ageing_multiplier) were rewritten
    // whenever effects_version() moved; soc_drops() lists every SoC drop
    // applied to soc since the start, oldest first (a backend remembers how
    // many it has applied; they are rare, user-made events).
    std::uint64_t effects_version() const { return effects_version_; }
    const std::vector<SocDrop>& soc_drops() const { return soc_drops_; }
    float ambient_c() const { return ambient_c_; }

  private:
    void draw_initial_state(const MappedSegment& segment);
    void start_scenario(ActiveScenario& scenario);
    void recompute_effects();

    Geometry geometry_;
    SimulationConfig config_;
    LoadProfile profile_;
    model::ChemistryParams nmc_;
    model::ChemistryParams lfp_;
    CellArrays cells_;
    std::vector<RackState> racks_;
    std::vector<ActiveScenario> scenarios_;
    std::vector<FaultedSensor> faulted_sensors_;
    std::vector<SocDrop> soc_drops_;
    std::uint64_t effects_version_ = 0;
    std::uint64_t next_scenario_id_ = 1;
    std::uint64_t step_ = 0;
    float ambient_c_ = 25.0f;
    bool paused_ = false;
    bool effects_dirty_ = true;
};

}  // namespace brt
