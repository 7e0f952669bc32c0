// Batch output read back by a program: for a segment holding known values,
// every format parses and carries the right numbers for the selection.
#include <catch2/catch.hpp>

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "support/run_command.hpp"
#include "support/test_segment.hpp"
#include "viewer/test_writer.hpp"

using namespace brt;
namespace pt = boost::property_tree;

namespace {

const Geometry kGeometry{3, 2, 4};  // rack 1 = cells 8..15; its module 1 = cells 12..15

test::CommandOutput viewer(const std::string& segment, std::vector<std::string> args) {
    std::vector<std::string> argv = {test::tool_path("BRT_VIEWER"), "--shm-name", segment};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run_command(argv);
}

std::vector<std::string> words(const std::string& line) {
    std::vector<std::string> parts;
    std::istringstream stream(line);
    std::string word;
    while (stream >> word) {
        parts.push_back(word);
    }
    return parts;
}

// Numbers read as text and converted here: property_tree's own numeric
// translators trip GCC 12's maybe-uninitialized warning under ASan.
double number(const pt::ptree& tree, const std::string& path) {
    return std::stod(tree.get<std::string>(path));
}

int integer(const pt::ptree& tree, const std::string& path) {
    return std::stoi(tree.get<std::string>(path));
}

pt::ptree parse_json(const std::string& text) {
    std::istringstream stream(text);
    pt::ptree tree;
    pt::read_json(stream, tree);
    return tree;
}

std::vector<pt::ptree> array(const pt::ptree& tree, const std::string& path) {
    std::vector<pt::ptree> items;
    for (const auto& [key, child] : tree.get_child(path)) {
        items.push_back(child);
    }
    return items;
}

struct Fixture {
    test::ScopedSegment segment{"viewer-batch", kGeometry};
    test::CellIndexFrame values = test::known_frame(kGeometry);
    SegmentWriter writer = SegmentWriter::acquire(segment.name(), 100'000'000);
    Fixture() {
        const FrameData frame = values.view();
        for (int i = 0; i < 3; ++i) {
            writer.publish_frame(frame);
        }
    }
};

}  // namespace

TEST_CASE("CSV: one row per cell of the selected module, values in base units", "[viewer]") {
    Fixture fixture;
    const auto out = viewer(fixture.segment.name(),
                            {"--once", "--format", "csv", "--rack", "1", "--module", "1"});
    INFO(out.err);
    REQUIRE(out.exit_code == 0);
    const auto lines = test::split(out.out, '\n');
    REQUIRE(lines.size() == 5);
    CHECK(lines[0] ==
          "frame,rack,module,cell,voltage_v,current_a,temperature_c,soc,resistance_ohm,soh,status");
    for (std::uint32_t i = 0; i < 4; ++i) {
        const auto cells = test::split(lines[i + 1], ',');
        REQUIRE(cells.size() == 11);
        const std::uint32_t index = 12 + i;
        CHECK(cells[0] == "3");  // frame number
        CHECK(cells[1] == "1");
        CHECK(cells[2] == "1");
        CHECK(cells[3] == std::to_string(i));
        for (std::uint32_t field = 0; field < 6; ++field) {
            if (index == 13 && field == 2) {
                CHECK(cells[4 + field].empty());  // the NaN temperature
            } else {
                CHECK(std::stod(cells[4 + field]) == index + 100.0 * field);
            }
        }
        CHECK(cells[10] == std::to_string(index));  // the status word is the cell index
    }
}

TEST_CASE("CSV: --fields chooses the columns; --cells gives every cell of the frame", "[viewer]") {
    Fixture fixture;
    const auto out = viewer(fixture.segment.name(),
                            {"--once", "--format", "csv", "--cells", "--fields", "temp,soc"});
    REQUIRE(out.exit_code == 0);
    const auto lines = test::split(out.out, '\n');
    REQUIRE(lines.size() == 1 + kGeometry.cell_count());
    CHECK(lines[0] == "frame,rack,module,cell,temperature_c,soc");
    CHECK(lines[24] == "3,2,1,3,223,323");  // the last cell, 23
}

// The rows of each selection, in the table and in CSV: the same racks,
// modules or cells in the same order (issue 18: CSV gave a row per cell
// where the table and JSON gave a row per rack).
TEST_CASE("CSV rows follow the selection as the table's do", "[viewer]") {
    Fixture fixture;
    struct Case {
        std::vector<std::string> selection;
        std::vector<std::string> keys;  // the key columns of each row: rack[,module[,cell]]
    };
    const std::vector<Case> cases = {
        {{}, {"0", "1", "2"}},
        {{"--rack", "1"}, {"1,0", "1,1"}},
        {{"--rack", "1", "--module", "1"}, {"1,1,0", "1,1,1", "1,1,2", "1,1,3"}},
        {{"--rack", "2", "--cells"},
         {"2,0,0", "2,0,1", "2,0,2", "2,0,3", "2,1,0", "2,1,1", "2,1,2", "2,1,3"}},
    };
    for (const Case& c : cases) {
        std::vector<std::string> args = {"--once", "--fields", "voltage_v,status"};
        args.insert(args.end(), c.selection.begin(), c.selection.end());
        INFO(args.size());
        const auto table = viewer(fixture.segment.name(), args);
        args.insert(args.end(), {"--format", "csv"});
        const auto csv = viewer(fixture.segment.name(), args);
        REQUIRE(table.exit_code == 0);
        REQUIRE(csv.exit_code == 0);
        const auto table_lines = test::split(table.out, '\n');
        const auto csv_lines = test::split(csv.out, '\n');
        INFO(table.out << csv.out);
        REQUIRE(table_lines.size() == 2 + c.keys.size());  // "# ..." line, headings, rows
        REQUIRE(csv_lines.size() == 1 + c.keys.size());    // header row, rows
        const auto headings = words(table_lines[1]);
        // CSV's columns are the table's, led by the frame number (the cell
        // table's flags column aside: CSV has the status word only).
        std::vector<std::string> csv_headings = {"frame"};
        for (const auto& heading : headings) {
            if (heading != "flags") {
                csv_headings.push_back(heading);
            }
        }
        CHECK(test::split(csv_lines[0], ',') == csv_headings);
        const std::size_t key_columns =
            static_cast<std::size_t>(std::count(c.keys[0].begin(), c.keys[0].end(), ',') + 1);
        for (std::size_t i = 0; i < c.keys.size(); ++i) {
            const auto csv_row = test::split(csv_lines[i + 1], ',');
            const auto table_row = words(table_lines[i + 2]);
            CHECK(csv_row[0] == "3");  // the frame
            std::string key = csv_row[1];
            for (std::size_t k = 1; k < key_columns; ++k) {
                key += "," + csv_row[1 + k];
            }
            CHECK(key == c.keys[i]);
            // The same figures: the table's fixed decimals, CSV's shortest form.
            const auto column = std::find(headings.begin(), headings.end(),
                                          key_columns == 3 ? "voltage_v" : "voltage_v.max") -
                                headings.begin();
            REQUIRE(column < static_cast<std::ptrdiff_t>(headings.size()));
            CHECK(std::stod(csv_row[static_cast<std::size_t>(column) + 1]) ==
                  std::stod(table_row[static_cast<std::size_t>(column)]));
        }
    }
}

// One convention, said in every column name: `soc`/`soh` are fractions
// 0..1 (the segment's names, as the bridge's REST and /metrics), tables show
// percent under `soc_pct`/`soh_pct` as the dashboard does.
TEST_CASE("SoC and SoH: percent in tables as soc_pct/soh_pct, fractions in CSV and JSON",
          "[viewer]") {
    Fixture fixture;
    // Cell 13 (rack 1, module 1, cell 1): soc = 313, soh = 513 as fractions.
    const std::vector<std::string> cell = {"--once", "--rack", "1", "--module", "1"};
    auto with = [&](std::vector<std::string> more) {
        std::vector<std::string> args = cell;
        args.insert(args.end(), more.begin(), more.end());
        return viewer(fixture.segment.name(), args);
    };
    const auto table = with({"--fields", "soc,soh"});
    REQUIRE(table.exit_code == 0);
    auto lines = test::split(table.out, '\n');
    CHECK(words(lines[1]) ==
          std::vector<std::string>{"rack", "module", "cell", "soc_pct", "soh_pct"});
    CHECK(words(lines[3]) == std::vector<std::string>{"1", "1", "1", "31300.00", "51300.00"});
    // The table's own names select the columns too.
    const auto by_pct = with({"--fields", "soc_pct,soh_pct"});
    REQUIRE(by_pct.exit_code == 0);
    CHECK(by_pct.out == table.out);

    const auto csv = with({"--fields", "soc,soh", "--format", "csv"});
    REQUIRE(csv.exit_code == 0);
    lines = test::split(csv.out, '\n');
    CHECK(lines[0] == "frame,rack,module,cell,soc,soh");
    CHECK(lines[2] == "3,1,1,1,313,513");

    const auto json = with({"--fields", "soc,soh", "--json"});
    REQUIRE(json.exit_code == 0);
    const auto cells = array(parse_json(json.out), "cells");
    CHECK(number(cells[1], "soc") == 313);
    CHECK(number(cells[1], "soh") == 513);

    // Summaries: the rack table's SoC columns in percent too.
    const auto racks = viewer(fixture.segment.name(), {"--once", "--fields", "soc"});
    REQUIRE(racks.exit_code == 0);
    lines = test::split(racks.out, '\n');
    const auto headings = words(lines[1]);
    CHECK(std::find(headings.begin(), headings.end(), "soc_pct.mean") != headings.end());
    CHECK(words(lines[3]).back() == "31500.00");  // rack 1's max: cell 15, soc 315
}

TEST_CASE("JSON: --cells without a rack gives every cell of the frame", "[viewer]") {
    Fixture fixture;
    const auto out =
        viewer(fixture.segment.name(), {"--once", "--json", "--cells", "--fields", "voltage_v"});
    REQUIRE(out.exit_code == 0);
    const pt::ptree json = parse_json(out.out);
    CHECK(array(json, "racks").size() == 3);
    const auto cells = array(json, "cells");
    REQUIRE(cells.size() == kGeometry.cell_count());
    CHECK(number(cells[23], "voltage_v") == 23);
    CHECK(json.count("modules") == 0);
}

TEST_CASE("JSON: one object with the rack, module and cells of the selection", "[viewer]") {
    Fixture fixture;
    const auto out =
        viewer(fixture.segment.name(), {"--once", "--json", "--rack", "1", "--module", "1"});
    INFO(out.err);
    REQUIRE(out.exit_code == 0);
    REQUIRE(test::split(out.out, '\n').size() == 1);  // one line per snapshot
    const pt::ptree json = parse_json(out.out);
    CHECK(json.get<std::string>("segment") == "/dev/shm/" + fixture.segment.name());
    CHECK(integer(json, "geometry.racks") == 3);
    CHECK(integer(json, "frame_number") == 3);
    CHECK(json.get<std::string>("writer.liveness") == "live");
    CHECK(integer(json, "selection.rack") == 1);

    const auto racks = array(json, "racks");
    REQUIRE(racks.size() == 1);
    CHECK(integer(racks[0], "rack") == 1);
    CHECK(racks[0].get<std::string>("mode") == "charge");
    CHECK(number(racks[0], "current_a") == 12.5);
    CHECK(number(racks[0], "voltage_v.min") == 8);
    CHECK(number(racks[0], "voltage_v.mean") == 11.5);
    CHECK(number(racks[0], "voltage_v.max") == 15);
    CHECK(number(racks[0], "voltage_spread_v") == 7);
    CHECK(integer(racks[0], "temperature_c.valid") == 7);  // the NaN is left out
    CHECK(number(racks[0], "soh.max") == 515);
    const auto max_at = array(racks[0], "voltage_v.max_at");
    REQUIRE(max_at.size() == 3);
    CHECK(std::stoi(max_at[1].data()) == 1);  // module 1
    CHECK(std::stoi(max_at[2].data()) == 3);  // cell 3

    const auto modules = array(json, "modules");
    REQUIRE(modules.size() == 1);
    CHECK(integer(modules[0], "module") == 1);
    CHECK(number(modules[0], "current_a.mean") == 113.5);

    const auto cells = array(json, "cells");
    REQUIRE(cells.size() == 4);
    for (std::uint32_t i = 0; i < 4; ++i) {
        CHECK(integer(cells[i], "cell") == static_cast<int>(i));
        CHECK(number(cells[i], "voltage_v") == 12 + i);
        CHECK(number(cells[i], "resistance_ohm") == 412 + i);
        CHECK(integer(cells[i], "status") == static_cast<int>(12 + i));
    }
    CHECK(cells[1].get<std::string>("temperature_c") == "null");  // NaN
    CHECK(out.out.find("\"temperature_c\":null") != std::string::npos);
}

TEST_CASE("JSON: without a selection every rack's summary, no cells", "[viewer]") {
    Fixture fixture;
    const auto out = viewer(fixture.segment.name(),
                            {"--once", "--format", "json", "--fields", "voltage_v,status"});
    REQUIRE(out.exit_code == 0);
    const pt::ptree json = parse_json(out.out);
    const auto racks = array(json, "racks");
    REQUIRE(racks.size() == 3);
    CHECK(number(racks[2], "voltage_v.mean") == 19.5);
    CHECK(racks[2].count("soc") == 0);  // not among --fields
    // Status words 16..23 (the cell indices) all have bit 4 (open wire): a sensor fault.
    CHECK(integer(racks[2], "status_counts.sensor_fault") == 8);
    CHECK(json.count("cells") == 0);
}

TEST_CASE("table: racks, a rack's modules, a module's cells", "[viewer]") {
    Fixture fixture;
    const auto overview = viewer(fixture.segment.name(), {"--once"});
    REQUIRE(overview.exit_code == 0);
    CHECK(overview.out.find('\x1b') == std::string::npos);  // plain text into a pipe
    auto lines = test::split(overview.out, '\n');
    REQUIRE(lines.size() == 5);  // header line, headings, 3 racks
    CHECK_THAT(lines[0], Catch::StartsWith("# /dev/shm/" + fixture.segment.name()));
    CHECK_THAT(lines[0], Catch::Contains("3x2x4"));
    const auto headings = words(lines[1]);
    const auto rack1 = words(lines[3]);
    REQUIRE(rack1.size() == headings.size());
    auto column = [&](const std::string& name) {
        return std::find(headings.begin(), headings.end(), name) - headings.begin();
    };
    CHECK(rack1[column("rack")] == "1");
    CHECK(rack1[column("mode")] == "charge");
    CHECK(rack1[column("voltage_v.min")] == "8.0000");
    CHECK(rack1[column("voltage_v.mean")] == "11.5000");
    CHECK(rack1[column("temperature_c.max")] == "215.00");

    const auto rack = viewer(fixture.segment.name(), {"--once", "--rack", "2"});
    REQUIRE(rack.exit_code == 0);
    lines = test::split(rack.out, '\n');
    REQUIRE(lines.size() == 4);  // header, headings, 2 modules
    CHECK(words(lines[3])[1] == "1");
    CHECK(words(lines[3])[2] == "20.0000");  // voltage_v.min of cells 20..23

    const auto module = viewer(fixture.segment.name(), {"--once", "--rack", "1", "--module", "1",
                                                        "--fields", "voltage_v,temperature_c"});
    REQUIRE(module.exit_code == 0);
    lines = test::split(module.out, '\n');
    REQUIRE(lines.size() == 6);
    CHECK(words(lines[1]) ==
          std::vector<std::string>{"rack", "module", "cell", "voltage_v", "temperature_c"});
    CHECK(words(lines[3]) == std::vector<std::string>{"1", "1", "1", "13.0000", "-"});
}

TEST_CASE("batch -n N prints N snapshots", "[viewer]") {
    Fixture fixture;
    const auto out = viewer(fixture.segment.name(),
                            {"-b", "-n", "3", "-d", "0.05", "--format", "json", "--rack", "0"});
    REQUIRE(out.exit_code == 0);
    const auto lines = test::split(out.out, '\n');
    REQUIRE(lines.size() == 3);
    for (const auto& line : lines) {
        CHECK(integer(parse_json(line), "racks..rack") == 0);
    }
    const auto csv =
        viewer(fixture.segment.name(), {"-n", "2", "-d", "0.05", "--format", "csv", "--rack", "0"});
    REQUIRE(csv.exit_code == 0);
    CHECK(test::split(csv.out, '\n').size() == 1 + 2 * 2);  // one header row, rack 0's 2 modules
}

TEST_CASE("colour in a table only when asked for or on a terminal", "[viewer]") {
    Fixture fixture;
    const auto plain = viewer(fixture.segment.name(), {"--once", "--color", "auto"});
    CHECK(plain.out.find('\x1b') == std::string::npos);
    const auto forced = viewer(fixture.segment.name(), {"--once", "--color", "always"});
    CHECK_THAT(forced.out, Catch::Contains("\x1b[1m"));
    const auto never = viewer(fixture.segment.name(), {"--once", "--color", "never"});
    CHECK(never.out.find('\x1b') == std::string::npos);
}

TEST_CASE("a batch run outlives a re-created segment that lost the selected rack", "[viewer]") {
    const std::string name = test::unique_segment_name("viewer-recreate");
    CreateOptions options;
    options.geometry = kGeometry;
    create_segment(name, options);
    const std::string log = "/tmp/" + name + ".log";
    test::KillOnExit guard;
    pid_t viewer_pid = 0;
    {
        const test::CellIndexFrame values = test::known_frame(kGeometry);
        test::BackgroundWriter writer(name, values);
        viewer_pid =
            test::spawn_background({test::tool_path("BRT_VIEWER"), "--shm-name", name, "-b", "-n",
                                    "30", "-d", "0.05", "--format", "csv", "--rack", "2"},
                                   log);
        guard.pids.push_back(viewer_pid);
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
    }
    // The same name, one rack only: rack 2 is gone, and the run goes on.
    remove_segment(name);
    options.geometry.racks = 1;
    create_segment(name, options);
    const Geometry smaller{1, kGeometry.modules_per_rack, kGeometry.cells_per_module};
    const test::CellIndexFrame values = test::known_frame(smaller);
    test::BackgroundWriter writer(name, values);
    const int exit_code = test::wait_for_exit(viewer_pid, 20'000);
    guard.pids.clear();
    const std::string said = test::read_file(log);
    INFO(said);
    CHECK(exit_code == 0);
    CHECK_THAT(said, Catch::Contains("rack 2 does not exist") &&
                         Catch::Contains("in the re-created segment") &&
                         Catch::Contains("skipped"));
    CHECK_THAT(said, Catch::Contains("frame,rack,module,"));  // snapshots before the change
    unlink(log.c_str());
    remove_segment(name);
}
