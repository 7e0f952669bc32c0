// Sensor faults a single frame shows: a NaN reading or the dropout bit
// (sensor_dropout), a reading outside the physical range (voltage_range,
// temperature_range), and the front end's own fault bits (sensor_status);
// and the vent gas sensor (cell_venting, latched), which puts the cell out
// of service.
#include <cmath>

#include "common/alarm/alarm_rule_families.hpp"
#include "common/segment/segment_layout.hpp"

namespace brt::alarm_detail {

namespace {

// Status bits 0..6: what the front end knows is wrong with its sensors.
constexpr std::uint32_t kSensorFaultBits =
    cell_status::voltage_sensor_fault | cell_status::temperature_sensor_fault |
    cell_status::current_sensor_fault | cell_status::dropout | cell_status::open_wire |
    cell_status::stuck | cell_status::offset_drift;

}  // namespace

void SensorRules::check_module(RackEvaluation& eval, const ModuleReadings& module) {
    const AlarmConfig& cfg = eval.config;
    for (std::uint32_t i = 0; i < module.cells.size(); ++i) {
        const CellReading& cell = module.cells[i];
        const std::uint64_t c = module.first_cell + i;
        const std::uint64_t l = module.first_local + i;
        Flags& flags = flags_[c];
        const float v = cell.voltage_v;
        const float t = cell.temperature_c;

        // Latched: a vented cell stays vented until the writer starts a new
        // simulation. From the next frame on the cell is out of service.
        const bool vented = (cell.status & cell_status::venting) != 0;
        cell_rule(eval, flags.venting, Rule::cell_venting, c, vented,
                  eval.writer_restarted && !vented, Debounce{1, 1}, t, NAN);
        if (flags.venting.active) {
            eval.out_of_service[c] = 1;
        }
        // A dead cell's readings are not a sensor's fault: its one alarm is
        // the latched venting or runaway.
        const bool in_service = !cell.out_of_service;

        const bool dropout =
            in_service && (std::isnan(v) || std::isnan(t) || std::isnan(eval.current_a[l]) ||
                           std::isnan(eval.soc[l]) || std::isnan(eval.resistance_ohm[l]) ||
                           std::isnan(eval.soh[l]) || (cell.status & cell_status::dropout) != 0);
        cell_rule(eval, flags.dropout, Rule::sensor_dropout, c, dropout, !dropout,
                  cfg.sensor_debounce, NAN, NAN);

        // The limit named is the end of the range the reading is beyond.
        const bool voltage_out = in_service && cell.voltage_out;
        const bool temperature_out = in_service && cell.temperature_out;
        cell_rule(eval, flags.voltage_range, Rule::voltage_range, c, voltage_out, !voltage_out,
                  cfg.sensor_debounce, v,
                  v < cfg.voltage_range_min_v ? cfg.voltage_range_min_v : cfg.voltage_range_max_v);
        cell_rule(eval, flags.temperature_range, Rule::temperature_range, c, temperature_out,
                  !temperature_out, cfg.sensor_debounce, t,
                  t < cfg.temperature_range_min_c ? cfg.temperature_range_min_c
                                                  : cfg.temperature_range_max_c);

        const std::uint32_t fault_bits = in_service ? cell.status & kSensorFaultBits : 0;
        cell_rule(eval, flags.status, Rule::sensor_status, c, fault_bits != 0, fault_bits == 0,
                  cfg.sensor_debounce, static_cast<float>(fault_bits), 0.0f);
    }
}

}  // namespace brt::alarm_detail
