#include "common/frames/summary_json.hpp"

#include <string_view>
#include <utility>

#include "common/control/rack_mode.hpp"

namespace brt {

namespace {

void write_field_summary(JsonWriter& json, const FieldSummary& field) {
    json.begin_object();
    json.key("min").value(field.min);
    json.key("mean").value(static_cast<float>(field.mean()));
    json.key("max").value(field.max);
    if (field.valid > 0) {
        json.key("min_cell").value(field.min_cell);
        json.key("max_cell").value(field.max_cell);
    } else {
        json.key("min_cell").null();
        json.key("max_cell").null();
    }
    json.key("valid").value(field.valid);
    json.end_object();
}

void write_rack_flags(JsonWriter& json, std::uint32_t flags) {
    static constexpr std::pair<std::uint32_t, const char*> kNames[] = {
        {rack_flags::hvac_on, "hvac_on"},
        {rack_flags::constant_voltage, "constant_voltage"},
        {rack_flags::grid_outage, "grid_outage"},
        {rack_flags::charger_fault, "charger_fault"},
        {rack_flags::discharge_cutoff, "discharge_cutoff"},
        {rack_flags::paused, "paused"},
        {rack_flags::contactor_open, "contactor_open"},
        {rack_flags::charge_complete, "charge_complete"},
        {rack_flags::trip_over_voltage, "trip_over_voltage"},
        {rack_flags::trip_under_voltage, "trip_under_voltage"},
        {rack_flags::trip_over_temperature, "trip_over_temperature"},
        {rack_flags::trip_under_temperature, "trip_under_temperature"},
        {rack_flags::trip_venting, "trip_venting"},
        {rack_flags::trip_thermal_runaway, "trip_thermal_runaway"},
    };
    json.key("flags").begin_array();
    for (const auto& [bit, name] : kNames) {
        if ((flags & bit) != 0) {
            json.value(name);
        }
    }
    json.end_array();
}

}  // namespace

void write_group_fields(JsonWriter& json, const GroupSummary& group) {
    json.key("first_cell").value(group.cells.first_cell);
    json.key("cells").value(group.cells.cell_count);
    for (std::uint32_t f = 0; f < kFloatFieldCount; ++f) {
        json.key(field_info(static_cast<Field>(f)).name);
        write_field_summary(json, group.fields[f]);
    }
    json.key("status").begin_object();
    json.key("sensor_fault_cells").value(group.sensor_fault_cells);
    json.key("balancing_cells").value(group.balancing_cells);
    json.key("self_heating_cells").value(group.self_heating_cells);
    json.key("venting_cells").value(group.venting_cells);
    json.key("thermal_runaway_cells").value(group.thermal_runaway_cells);
    json.end_object();
}

void write_rack_record_fields(JsonWriter& json, std::uint32_t rack, const RackRecord& record,
                              std::optional<Chemistry> chemistry) {
    json.key("rack").value(rack);
    json.key("chemistry")
        .value(chemistry ? chemistry_name(*chemistry) : std::string_view("unknown"));
    json.key("mode").value(record.mode < kRackModeCount
                               ? rack_mode_name(static_cast<RackMode>(record.mode))
                               : std::string_view("unknown"));
    json.key("string_current_a").value(record.current_a);
    json.key("air_temperature_c").value(record.air_temperature_c);
    write_rack_flags(json, record.flags);
}

}  // namespace brt
