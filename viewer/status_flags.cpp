#include "viewer/status_flags.hpp"

#include <string_view>

#include "common/segment/segment_layout.hpp"

namespace brt::viewer {

namespace {

struct Flag {
    std::uint32_t bit;
    std::string_view name;
};

constexpr Flag kFlags[] = {
    {cell_status::voltage_sensor_fault, "Vsens"},
    {cell_status::temperature_sensor_fault, "Tsens"},
    {cell_status::current_sensor_fault, "Isens"},
    {cell_status::dropout, "drop"},
    {cell_status::open_wire, "open"},
    {cell_status::stuck, "stuck"},
    {cell_status::offset_drift, "drift"},
    {cell_status::balancing, "bal"},
    {cell_status::self_heating, "heat"},
    {cell_status::venting, "VENT"},
    {cell_status::thermal_runaway, "RUNAWAY"},
};

}  // namespace

std::string status_flags_text(std::uint32_t status) {
    std::string text;
    for (const Flag& flag : kFlags) {
        if ((status & flag.bit) != 0) {
            if (!text.empty()) {
                text += ' ';
            }
            text += flag.name;
        }
    }
    return text;
}

bool status_is_alarm(std::uint32_t status) {
    return (status & ~cell_status::balancing) != 0;
}

}  // namespace brt::viewer
