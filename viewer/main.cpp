// brt-viewer: the terminal dashboard (on a terminal) and batch snapshots
// (--once, --batch, or whenever stdout is not a terminal).
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "common/cli/cli_common.hpp"
#include "common/cli/stop_signal.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/segment_reader.hpp"
#include "common/segment/shm_name.hpp"
#include "viewer/alarm_listing.hpp"
#include "viewer/batch.hpp"
#include "viewer/dashboard.hpp"
#include "viewer/fields.hpp"

namespace brt::viewer {
namespace {

struct Options {
    std::string shm_name;
    double interval_s = 0.5;
    bool once = false;
    bool batch = false;
    std::int64_t count = 0;
    std::string format = "table";
    bool json = false;
    std::optional<std::int64_t> rack;
    std::optional<std::int64_t> module;
    std::string fields;
    bool cells = false;
    std::string metric = "voltage";
    std::string color = "auto";
    std::string scale = "state";
    bool alarms = false;
    bool show_suppressed = false;
};

ColorDepth choose_color(const std::string& mode) {
    if (mode == "never") {
        return ColorDepth::none;
    }
    if (mode == "auto" && !color_enabled(stdout)) {
        return ColorDepth::none;
    }
    return detect_color_depth(std::getenv("COLORTERM"), std::getenv("TERM"));
}

Metric parse_metric(const std::string& name) {
    for (std::uint32_t m = 0; m < kMetricCount; ++m) {
        const auto metric = static_cast<Metric>(m);
        std::string lower(metric_name(metric));
        for (char& c : lower) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        if (lower == name) {
            return metric;
        }
    }
    throw UsageError(fmt::format(
        "--metric {}: unknown; use voltage, temperature, soc, soh or resistance", name));
}

// Checks --rack/--module against the segment's geometry (UsageError: exit 2).
Selection check_selection(const Options& options, const Geometry& geometry) {
    Selection selection;
    if (options.module && !options.rack) {
        throw UsageError("--module needs --rack: a module is numbered within its rack");
    }
    auto in_range = [](const char* option, std::int64_t value, std::uint32_t count,
                       const char* what) {
        if (value < 0 || value >= static_cast<std::int64_t>(count)) {
            throw UsageError(fmt::format("{} {} is out of range: this segment has {} {} (0..{})",
                                         option, value, count, what, count - 1));
        }
        return static_cast<std::uint32_t>(value);
    };
    if (options.rack) {
        selection.rack = in_range("--rack", *options.rack, geometry.racks, "racks");
    }
    if (options.module) {
        selection.module =
            in_range("--module", *options.module, geometry.modules_per_rack, "modules per rack");
    }
    return selection;
}

int run(const Options& options, bool batch_asked) {
    if (!(options.interval_s >= 0.05 && options.interval_s <= 3600)) {
        throw UsageError(
            fmt::format("--interval {} is out of range: give seconds between 0.05 and 3600",
                        options.interval_s));
    }
    if (options.alarms) {
        return print_alarm_list(normalize_shm_name(options.shm_name),
                                options.json || options.format == "json", options.show_suppressed);
    }
    const Metric metric = parse_metric(options.metric);
    const std::vector<Field> fields =
        options.fields.empty() ? std::vector<Field>{} : parse_fields(options.fields);
    SegmentReader reader(normalize_shm_name(options.shm_name));
    reader.require_attached();  // SegmentError (exit 1) says to run brt-shm-init
    const Selection selection = check_selection(options, reader.layout().geometry);
    const ColorDepth color = choose_color(options.color);
    install_stop_signal_handlers();

    const bool interactive =
        !batch_asked && isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0;
    if (interactive) {
        DashboardOptions dashboard;
        dashboard.interval_s = options.interval_s;
        dashboard.color = color;
        dashboard.metric = metric;
        dashboard.color_mode = options.scale == "range" ? ColorMode::range : ColorMode::state;
        dashboard.rack = selection.rack;
        dashboard.module = selection.module;
        return run_dashboard(reader, dashboard);
    }
    BatchOptions batch;
    batch.interval_s = options.interval_s;
    batch.count = options.once                         ? 1
                  : options.batch || options.count > 0 ? static_cast<std::uint64_t>(options.count)
                                                       : 1;
    batch.format.format = options.json || options.format == "json" ? BatchFormat::json
                          : options.format == "csv"                ? BatchFormat::csv
                                                                   : BatchFormat::table;
    batch.format.selection = selection;
    batch.format.fields = fields;
    batch.format.cells = options.cells;
    batch.format.color = color != ColorDepth::none;
    return run_batch(reader, batch);
}

}  // namespace
}  // namespace brt::viewer

int main(int argc, char** argv) {
    using namespace brt;
    using namespace brt::viewer;
    Options options;
    CLI::App app{
        "Show the battery racks: an interactive dashboard on a terminal, or snapshots as a\n"
        "table, CSV or JSON for scripts (--once, --batch, or when stdout is not a terminal).",
        tool_name("viewer")};
    add_common_options(app, options.shm_name);
    app.add_option("-d,--interval", options.interval_s, "Seconds between refreshes")
        ->capture_default_str();
    auto* once = app.add_flag("--once", options.once, "Print one snapshot and exit");
    auto* batch = app.add_flag("-b,--batch", options.batch,
                               "Print snapshots (-n of them, default until interrupted)");
    auto* count = app.add_option("-n,--count", options.count,
                                 "Number of snapshots in batch mode (implies --batch)")
                      ->check(CLI::PositiveNumber);
    once->excludes(batch);
    once->excludes(count);
    auto* format = app.add_option("--format", options.format, "Batch output: table, csv or json")
                       ->check(CLI::IsMember({"table", "csv", "json"}))
                       ->capture_default_str();
    auto* json = app.add_flag("--json", options.json, "Same as --format json");
    json->excludes(format);
    app.add_option("--rack", options.rack, "Only this rack (0-based)");
    app.add_option("--module", options.module, "Only this module of --rack (0-based)");
    auto* fields = app.add_option(
        "--fields", options.fields,
        "Batch columns, comma separated: voltage_v,current_a,temperature_c,soc,resistance_ohm,"
        "soh,status or all (tables show SoC and SoH in percent, as soc_pct and soh_pct)");
    auto* cells = app.add_flag("--cells", options.cells,
                               "Batch: a row per cell of the selection (the whole frame, a rack) "
                               "in table and CSV; the cells in JSON");
    app.add_option("--metric", options.metric,
                   "Heatmap metric to start with: voltage, temperature, soc, soh, resistance")
        ->capture_default_str();
    app.add_option("--color", options.color,
                   "Colour: auto (a terminal, NO_COLOR unset), always or never")
        ->check(CLI::IsMember({"auto", "always", "never"}))
        ->capture_default_str();
    app.add_option("--scale", options.scale,
                   "Dashboard colours: state (alarms in their colours, other places grey on a "
                   "fixed scale per metric) or range (the frame's own range, blue to red)")
        ->check(CLI::IsMember({"state", "range"}))
        ->capture_default_str();
    auto* alarms = app.add_flag("--alarms", options.alarms,
                                "Print the alarm list of the alarm monitor once, instead of the "
                                "racks (table or --json)");
    alarms->excludes(batch);
    alarms->excludes(count);
    app.add_flag("--show-suppressed", options.show_suppressed,
                 "With --alarms: also the consequential alarms suppressed by design")
        ->needs(alarms);
    app.footer(fmt::format(
        "Examples:\n"
        "  {0}                                dashboard (keys: arrows/hjkl, Enter, Esc, m, ?, q)\n"
        "  {0} --once                         one table of the racks\n"
        "  {0} --once --rack 3 --format json  rack 3, its modules and cells, as JSON\n"
        "  {0} --alarms --once                the alarm list (from brt-anomaly-monitor)\n"
        "  {0} -b -n 10 -d 1 --format csv --rack 0 --module 2 --fields voltage_v,temperature_c\n"
        "  {0} --once --format csv --rack 0 --cells  every cell of rack 0, a row each\n"
        "Exit codes: 0 success, 1 no segment or unreadable (create it with brt-shm-init), "
        "2 bad usage.\nDetails: docs/viewer.md",
        tool_name("viewer")));

    return run_tool(app, argc, argv, [&]() {
        const bool batch_asked = options.once || options.batch || options.count > 0 ||
                                 format->count() > 0 || json->count() > 0 || fields->count() > 0 ||
                                 cells->count() > 0;
        return run(options, batch_asked);
    });
}
