// JSON: one object per snapshot on one line (JSON Lines for -n N). Numbers
// through JsonWriter: float readings in their shortest form, times exact.
#include "common/control/rack_mode.hpp"
#include "common/json/json_writer.hpp"
#include "viewer/batch_format.hpp"
#include "viewer/fields.hpp"
#include "viewer/status_flags.hpp"

namespace brt::viewer::detail {

namespace {

void location(JsonWriter& json, const Geometry& g, std::uint64_t cell) {
    const std::uint64_t module_index = cell / g.cells_per_module;
    json.begin_array()
        .value(module_index / g.modules_per_rack)
        .value(module_index % g.modules_per_rack)
        .value(cell % g.cells_per_module)
        .end_array();
}

// Summary figures of a rack or module for the chosen fields.
void summary(JsonWriter& json, const Snapshot& snapshot, const GroupSummary& group,
             const std::vector<Field>& fields) {
    json.key("cells").value(group.cells.cell_count);
    for (Field field : fields) {
        if (field == Field::status) {
            json.key("status_counts")
                .begin_object()
                .key("sensor_fault")
                .value(group.sensor_fault_cells)
                .key("thermal_runaway")
                .value(group.thermal_runaway_cells)
                .key("venting")
                .value(group.venting_cells)
                .key("self_heating")
                .value(group.self_heating_cells)
                .key("balancing")
                .value(group.balancing_cells)
                .end_object();
            continue;
        }
        const FieldSummary& f = group.field(field);
        json.key(field_name(field)).begin_object();
        json.key("min").value(f.min);
        json.key("mean").value(static_cast<float>(f.mean()));
        json.key("max").value(f.max);
        json.key("min_at");
        f.valid > 0 ? location(json, snapshot.geometry, f.min_cell) : (void)json.null();
        json.key("max_at");
        f.valid > 0 ? location(json, snapshot.geometry, f.max_cell) : (void)json.null();
        json.key("valid").value(f.valid);
        json.end_object();
        if (field == Field::voltage_v) {
            json.key("voltage_spread_v").value(f.spread());
        }
    }
}

void rack_object(JsonWriter& json, const Snapshot& snapshot, std::uint32_t rack,
                 const std::vector<Field>& fields) {
    json.begin_object().key("rack").value(rack);
    if (const RackRecord* record = snapshot.rack_record(rack)) {
        json.key("mode").value(rack_mode_name(static_cast<RackMode>(record->mode)));
        json.key("current_a").value(record->current_a);
        json.key("air_temperature_c").value(record->air_temperature_c);
    }
    const std::int64_t index = snapshot.rack_index(rack);
    if (index >= 0) {
        summary(json, snapshot, snapshot.racks[index], fields);
    }
    json.end_object();
}

}  // namespace

std::string format_json(const Snapshot& snapshot, const BatchFormatOptions& options) {
    const std::vector<Field> fields = options.fields.empty() ? all_fields() : options.fields;
    const Geometry& g = snapshot.geometry;
    const Selection& selection = options.selection;
    JsonWriter json;
    json.begin_object();
    json.key("segment").value("/dev/shm/" + snapshot.segment_name);
    json.key("geometry")
        .begin_object()
        .key("racks")
        .value(g.racks)
        .key("modules_per_rack")
        .value(g.modules_per_rack)
        .key("cells_per_module")
        .value(g.cells_per_module)
        .key("cells")
        .value(g.cell_count())
        .end_object();
    const WriterStatus& writer = snapshot.writer;
    json.key("writer")
        .begin_object()
        .key("liveness")
        .value(liveness_name(writer.liveness))
        .key("state")
        .value(writer_state_name(writer.state))
        .key("pid")
        .value(static_cast<std::int64_t>(writer.pid))
        .key("heartbeat_age_s")
        .seconds_from_ns(writer.heartbeat_age_ns)
        .key("publish_period_s")
        .seconds_from_ns(writer.publish_period_ns)
        .end_object();
    json.key("frame_number").value(snapshot.frame.frame_number);
    json.key("sim_time_s").seconds_from_ns(snapshot.frame.sim_time_ns);
    json.key("wall_time_s").seconds_from_ns(snapshot.frame.wall_time_ns);
    json.key("ambient_temperature_c").value(snapshot.frame.ambient_temperature_c);
    json.key("frames_missed").value(snapshot.frames_missed);
    json.key("selection").begin_object().key("rack");
    selection.rack ? (void)json.value(*selection.rack) : (void)json.null();
    json.key("module");
    selection.module ? (void)json.value(*selection.module) : (void)json.null();
    json.end_object();

    json.key("racks").begin_array();
    if (selection.rack) {
        rack_object(json, snapshot, *selection.rack, fields);
    } else {
        for (std::uint32_t rack = 0; rack < g.racks; ++rack) {
            rack_object(json, snapshot, rack, fields);
        }
    }
    json.end_array();

    if (selection.rack) {
        json.key("modules").begin_array();
        for (std::uint32_t module = 0; module < g.modules_per_rack; ++module) {
            if (selection.module && module != *selection.module) {
                continue;
            }
            const std::int64_t index = snapshot.module_index(*selection.rack, module);
            json.begin_object().key("rack").value(*selection.rack).key("module").value(module);
            if (index >= 0) {
                summary(json, snapshot, snapshot.modules[index], fields);
            }
            json.end_object();
        }
        json.end_array();
    }

    // The cells of the selection: a rack's or a module's, or with --cells
    // and no rack every cell of the frame.
    if (selection.rack || options.cells) {
        json.key("cells").begin_array();
        const CellRange cells = selected_cells(snapshot, selection);
        for (std::uint64_t cell = cells.first_cell; cell < cells.first_cell + cells.cell_count;
             ++cell) {
            const std::uint64_t module_index = cell / g.cells_per_module;
            json.begin_object()
                .key("rack")
                .value(module_index / g.modules_per_rack)
                .key("module")
                .value(module_index % g.modules_per_rack)
                .key("cell")
                .value(cell % g.cells_per_module);
            for (Field field : fields) {
                if (field == Field::status) {
                    const std::uint32_t status = snapshot.status(cell);
                    json.key("status").value(status);
                    json.key("status_flags").value(status_flags_text(status));
                } else {
                    json.key(field_name(field)).value(snapshot.value(field, cell));
                }
            }
            json.end_object();
        }
        json.end_array();
    }
    json.end_object();
    return json.str() + "\n";
}

}  // namespace brt::viewer::detail
