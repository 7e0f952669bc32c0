#include "simulator/simulation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "common/segment/errors.hpp"
#include "simulator/model/random.hpp"
#include "simulator/rack_control.hpp"

namespace brt {

namespace {

// HVAC output falls as the outdoor air it rejects heat to gets hotter.
float hvac_derating(float ambient_c) {
    return std::clamp(1.0f - (ambient_c - 30.0f) / 25.0f, 0.2f, 1.0f);
}

struct RackEffects {
    float ambient_offset_k = 0;
    bool hvac_failed = false;
    bool cv_failure = false;
    bool grid_outage = false;
    float outage_c_rate = 0;
};

bool target_within(const Target& inner, const Target& outer) {
    auto within = [](std::uint32_t a, std::uint32_t b) { return b == kAllTargets || a == b; };
    return within(inner.rack, outer.rack) && within(inner.module, outer.module) &&
           within(inner.cell, outer.cell);
}

}  // namespace

Simulation::Simulation(const MappedSegment& segment, const SimulationConfig& config)
    : geometry_(segment.layout().geometry),
      config_(config),
      profile_(config.load_profile_csv.empty()
                   ? LoadProfile::built_in_daily(config.profile_period_s)
                   : LoadProfile::from_csv(config.load_profile_csv)),
      nmc_(model::make_chemistry_params(Chemistry::nmc)),
      lfp_(model::make_chemistry_params(Chemistry::lfp)),
      ambient_c_(config.ambient_c) {
    draw_initial_state(segment);
}

void Simulation::draw_initial_state(const MappedSegment& segment) {
    const std::span<const float> cell_capacity = segment.cell_capacity_ah();
    cells_.resize(geometry_.cell_count());
    racks_.assign(geometry_.racks, RackState{});
    for (std::uint32_t r = 0; r < geometry_.racks; ++r) {
        RackState& rack = racks_[r];
        rack.chemistry = segment.rack_chemistry(r);
        const CellRange range = rack_range(geometry_, r);
        rack.capacity_ah = cell_capacity[range.first_cell];
        rack.mode = config_.initial_mode;
        rack.demand_current_a = config_.discharge_c_rate * rack.capacity_ah;
        rack.air_temperature_c = ambient_c_;
        const model::ChemistryParams& p = params(rack.chemistry);
        RackLimits limits;
        for (std::uint64_t c = range.first_cell; c < range.first_cell + range.cell_count; ++c) {
            // The model's own draws: the same numbers on every backend.
            const model::CellVariation variation = model::draw_cell_variation(
                config_.seed, c, config_.capacity_sigma, config_.resistance_sigma);
            cells_.capacity_factor[c] = variation.capacity_factor;
            cells_.resistance_factor[c] = variation.resistance_factor;
            cells_.soc[c] = model::draw_initial_soc(config_.seed, c, config_.initial_soc_mean,
                                                    config_.initial_soc_sigma);
            cells_.temperature_c[c] = ambient_c_;
            const float soc = static_cast<float>(cells_.soc[c]);
            cells_.cycle[c] = model::start_cycle_count(soc);
            cells_.voltage_v[c] = model::ocv_v(p, soc);
            const model::CellCoefficients coefficients =
                model::cell_coefficients(p, variation, cells_.state(c));
            cells_.coefficient_r0_ohm[c] = coefficients.r0_ohm;
            cells_.coefficient_r1_ohm[c] = coefficients.r1_ohm;
            cells_.coefficient_capacity_ah[c] = coefficients.capacity_ah;
            accumulate_cell_limits(
                limits, 0.0f, cells_.voltage_v[c], coefficients.r0_ohm, p.v_charge_cv_v,
                p.v_float_v, p.v_discharge_cutoff_v, cells_.soc[c], coefficients.capacity_ah,
                soc_bound_gain_a_per_ah(static_cast<float>(config_.physics_dt_s)));
        }
        rack.charge_limit_a = limits.charge_limit_a;
        rack.float_limit_a = limits.float_limit_a;
        rack.discharge_limit_a = limits.discharge_limit_a;
        rack.string_voltage_v = limits.string_voltage_v;
    }
}

std::uint64_t Simulation::apply_scenario(const ScenarioSpec& spec) {
    const double start_time_s = sim_time_s() + spec.start_s;
    target_cells(geometry_, spec.target);  // throws UsageError for a bad target
    if (spec.kind == ScenarioKind::normal) {
        clear_scenarios(0, spec.target);
        return 0;
    }
    ActiveScenario scenario;
    scenario.id = next_scenario_id_++;
    scenario.spec = spec;
    scenario.start_time_s = start_time_s;
    if (spec.duration_s > 0) {
        scenario.end_time_s = start_time_s + spec.duration_s;
    } else if (spec.kind == ScenarioKind::thermal_runaway) {
        // An abuse test heats until its cell runs away (the model switches
        // the heater off then), or gives up after a time-out.
        scenario.end_time_s = start_time_s + kAbuseHeaterTimeoutS;
    }
    scenarios_.push_back(scenario);
    return scenario.id;
}

std::size_t Simulation::clear_scenarios(std::uint32_t kind_code, const Target& target) {
    const auto before = scenarios_.size();
    std::erase_if(scenarios_, [&](const ActiveScenario& scenario) {
        return (kind_code == 0 || static_cast<std::uint32_t>(scenario.spec.kind) == kind_code) &&
               target_within(scenario.spec.target, target);
    });
    const std::size_t removed = before - scenarios_.size();
    effects_dirty_ = effects_dirty_ || removed > 0;
    return removed;
}

void Simulation::start_scenario(ActiveScenario& scenario) {
    scenario.started = true;
    effects_dirty_ = true;
    if (scenario.spec.kind == ScenarioKind::cell_imbalance) {
        // A one-off loss of charge: it stays until balancing restores it.
        const CellRange range = target_cells(geometry_, scenario.spec.target);
        const double drop = scenario.spec.magnitude_or_default();
        for (std::uint64_t c = range.first_cell; c < range.first_cell + range.cell_count; ++c) {
            cells_.soc[c] = std::max(0.0, cells_.soc[c] - drop);
        }
        soc_drops_.push_back({range.first_cell, range.cell_count, drop});
    }
}

void Simulation::recompute_effects() {
    std::fill(cells_.external_heat_w.begin(), cells_.external_heat_w.end(), 0.0f);
    std::fill(cells_.short_circuit_ohm.begin(), cells_.short_circuit_ohm.end(), 0.0f);
    std::fill(cells_.ageing_multiplier.begin(), cells_.ageing_multiplier.end(), 1.0f);
    const std::vector<FaultedSensor> previous_faults = std::move(faulted_sensors_);
    faulted_sensors_.clear();
    std::unordered_map<std::uint64_t, const FaultedSensor*> captured;
    for (const FaultedSensor& old : previous_faults) {
        if (old.captured) {
            captured.emplace(old.cell, &old);
        }
    }
    std::unordered_map<std::uint64_t, std::size_t> fault_index;  // cell -> faulted_sensors_
    std::vector<RackEffects> rack_effects(geometry_.racks);

    for (const ActiveScenario& scenario : scenarios_) {
        if (!scenario.started) {
            continue;
        }
        const ScenarioSpec& spec = scenario.spec;
        const CellRange range = target_cells(geometry_, spec.target);
        const auto magnitude = static_cast<float>(spec.magnitude_or_default());
        const auto first_rack =
            static_cast<std::uint32_t>(range.first_cell / geometry_.cells_per_rack());
        const auto last_rack = static_cast<std::uint32_t>(
            (range.first_cell + range.cell_count - 1) / geometry_.cells_per_rack());
        for (std::uint32_t r = first_rack; r <= last_rack; ++r) {
            RackEffects& effects = rack_effects[r];
            switch (spec.kind) {
                case ScenarioKind::high_ambient:
                    effects.ambient_offset_k += magnitude;
                    break;
                case ScenarioKind::power_outage:
                    effects.grid_outage = true;
                    effects.outage_c_rate = magnitude;
                    break;
                case ScenarioKind::hvac_failure:
                    effects.hvac_failed = true;
                    break;
                case ScenarioKind::overcharge:
                    effects.cv_failure = true;
                    break;
                default:
                    break;
            }
        }
        for (std::uint64_t c = range.first_cell; c < range.first_cell + range.cell_count; ++c) {
            switch (spec.kind) {
                case ScenarioKind::accelerated_degradation:
                    cells_.ageing_multiplier[c] *= magnitude;
                    break;
                case ScenarioKind::thermal_runaway:
                    // No magnitude: the chemistry's abuse-test heater.
                    cells_.external_heat_w[c] +=
                        std::isnan(spec.magnitude)
                            ? params(racks_[c / geometry_.cells_per_rack()].chemistry)
                                  .abuse_heater_w
                            : magnitude;
                    break;
                case ScenarioKind::internal_short:
                    cells_.short_circuit_ohm[c] = magnitude;
                    break;
                case ScenarioKind::sensor_fault: {
                    // One entry per cell: a second fault on the same cell
                    // (the other sensor) joins the first.
                    const auto [entry, added] = fault_index.emplace(c, faulted_sensors_.size());
                    if (added) {
                        FaultedSensor& fault = faulted_sensors_.emplace_back();
                        fault.cell = c;
                        // Keep what a stuck sensor captured before this rebuild.
                        if (const auto old = captured.find(c); old != captured.end()) {
                            fault.captured = true;
                            fault.state.stuck_voltage_v = old->second->state.stuck_voltage_v;
                            fault.state.stuck_temperature_c =
                                old->second->state.stuck_temperature_c;
                        }
                    }
                    model::SensorFaultState& state = faulted_sensors_[entry->second].state;
                    const auto kind = static_cast<model::SensorFault>(spec.fault);
                    if (spec.sensor == FaultSensor::temperature) {
                        state.temperature_fault = kind;
                        state.temperature_offset_k = magnitude;
                    } else {
                        state.voltage_fault = kind;
                        state.voltage_offset_v = magnitude;
                    }
                    break;
                }
                default:
                    break;
            }
        }
    }
    for (std::uint32_t r = 0; r < geometry_.racks; ++r) {
        RackState& rack = racks_[r];
        rack.ambient_c = ambient_c_ + rack_effects[r].ambient_offset_k;
        rack.hvac_on = !rack_effects[r].hvac_failed;
        rack.cv_failure = rack_effects[r].cv_failure;
        rack.grid_outage = rack_effects[r].grid_outage;
        rack.hvac_capacity_w = config_.hvac_capacity_w * hvac_derating(rack.ambient_c);
        rack.outage_current_a = rack_effects[r].outage_c_rate * rack.capacity_ah;
    }
    effects_dirty_ = false;
    ++effects_version_;
}

void Simulation::prepare_interval() {
    const double now = sim_time_s();
    for (ActiveScenario& scenario : scenarios_) {
        if (!scenario.started && now >= scenario.start_time_s) {
            start_scenario(scenario);
        }
    }
    const auto before = scenarios_.size();
    std::erase_if(scenarios_, [now](const ActiveScenario& s) { return now >= s.end_time_s; });
    effects_dirty_ = effects_dirty_ || scenarios_.size() != before;
    if (effects_dirty_) {
        recompute_effects();
    }
    for (std::uint32_t r = 0; r < geometry_.racks; ++r) {
        RackState& rack = racks_[r];
        rack.action_power_w = 0.0f;
        const float charge_current = config_.charge_c_rate * rack.capacity_ah;
        if (rack.grid_outage) {
            rack.action = kActionDischarge;
            rack.action_current_a = rack.outage_current_a;
        } else if (rack.cv_failure) {
            rack.action = kActionCharge;
            rack.action_current_a = charge_current;
        } else {
            Demand demand;
            switch (rack.mode) {
                case RackMode::charge:
                    demand = {kActionCharge, charge_current, 0.0f};
                    break;
                case RackMode::float_:
                    demand = {kActionFloat, charge_current, 0.0f};
                    break;
                case RackMode::discharge:
                    demand = {kActionDischarge, rack.demand_current_a, rack.demand_power_w};
                    break;
                case RackMode::profile: {
                    // Racks start at different hours so a system shows a mix.
                    const double offset_s =
                        profile_.period_s() * 0.5 * r / std::max<std::uint32_t>(geometry_.racks, 1);
                    demand = profile_.at(now + offset_s, rack.capacity_ah);
                    if (demand.action == kActionCharge) {
                        demand.current_a = std::min(demand.current_a, charge_current);
                    }
                    break;
                }
                case RackMode::idle:
                case RackMode::equalize:
                    demand = {kActionIdle, 0.0f, 0.0f};
                    break;
            }
            rack.action = demand.action;
            rack.action_current_a = demand.current_a;
            rack.action_power_w = demand.power_w;
        }
        if (rack.action != kActionCharge) {
            rack.charge_complete = false;  // the next charge starts with CC again
        }
        if (rack.action == kActionCharge && rack.charge_complete && !rack.cv_failure) {
            rack.action = kActionFloat;
        }
    }
}

CommandStatus Simulation::reset_protection(std::uint32_t rack_index) {
    if (rack_index != kAllTargets && rack_index >= geometry_.racks) {
        return CommandStatus::rejected_target;
    }
    auto targeted = [rack_index](std::uint32_t r) {
        return rack_index == kAllTargets || r == rack_index;
    };
    // All or nothing: while any targeted rack's cells still show a critical
    // condition (at the last step), nothing is reset.
    for (std::uint32_t r = 0; r < geometry_.racks; ++r) {
        if (targeted(r) && racks_[r].contactor_open && racks_[r].conditions != 0) {
            return CommandStatus::rejected_condition;
        }
    }
    for (std::uint32_t r = 0; r < geometry_.racks; ++r) {
        if (targeted(r)) {
            RackState& rack = racks_[r];
            rack.contactor_open = false;
            rack.trip_reasons = 0;
            rack.voltage_condition_steps = 0;
            rack.temperature_condition_steps = 0;
        }
    }
    return CommandStatus::applied;
}

CommandStatus Simulation::handle_command(const ReceivedCommand& received) {
    const Command& command = received.command;
    const Target target{command.rack, command.module, command.cell};
    switch (static_cast<CommandKind>(received.raw_kind)) {
        case CommandKind::apply_scenario: {
            if (find_scenario(static_cast<ScenarioKind>(command.code)) == nullptr) {
                return CommandStatus::rejected_unknown;
            }
            const std::optional<ScenarioSpec> spec = decode_apply_command(command);
            if (!spec) {
                return CommandStatus::rejected_argument;
            }
            try {
                apply_scenario(*spec);
            } catch (const UsageError&) {
                return CommandStatus::rejected_target;
            }
            return CommandStatus::applied;
        }
        case CommandKind::clear_scenario:
            if (command.code != 0 &&
                find_scenario(static_cast<ScenarioKind>(command.code)) == nullptr) {
                return CommandStatus::rejected_unknown;
            }
            try {
                target_cells(geometry_, target);
            } catch (const UsageError&) {
                return CommandStatus::rejected_target;
            }
            clear_scenarios(command.code, target);
            return CommandStatus::applied;
        case CommandKind::set_rack_mode: {
            if (command.rack != kAllTargets && command.rack >= geometry_.racks) {
                return CommandStatus::rejected_target;
            }
            if (command.code >= kRackModeCount) {
                return CommandStatus::rejected_unknown;
            }
            const double current = command.args[0];
            const double power = command.args[1];
            if (!std::isfinite(current) || current < 0 || !std::isfinite(power) || power < 0) {
                return CommandStatus::rejected_argument;
            }
            for (std::uint32_t r = 0; r < geometry_.racks; ++r) {
                if (command.rack != kAllTargets && r != command.rack) {
                    continue;
                }
                RackState& rack = racks_[r];
                rack.mode = static_cast<RackMode>(command.code);
                rack.charge_complete = false;
                rack.demand_power_w = static_cast<float>(power);
                rack.demand_current_a = current > 0 ? static_cast<float>(current)
                                                    : config_.discharge_c_rate * rack.capacity_ah;
            }
            return CommandStatus::applied;
        }
        case CommandKind::set_ambient:
            if (!ambient_in_range(command.args[0])) {
                return CommandStatus::rejected_argument;
            }
            ambient_c_ = static_cast<float>(command.args[0]);
            effects_dirty_ = true;
            return CommandStatus::applied;
        case CommandKind::reset_protection:
            return reset_protection(command.rack);
        case CommandKind::pause:
            paused_ = true;
            return CommandStatus::applied;
        case CommandKind::resume:
            paused_ = false;
            return CommandStatus::applied;
        case CommandKind::alarm_acknowledge:
        case CommandKind::alarm_shelve:
        case CommandKind::alarm_unshelve:
            break;  // the alarm segment's commands (brt-anomaly-monitor's), not ours
    }
    return CommandStatus::rejected_unknown;
}

}  // namespace brt
