// bench_snapshot: how fast a reader copies a frame (or one rack of it) out of
// the segment with SegmentReader::read_latest, compared with a plain memcpy of
// the same bytes from the same place in the segment into the same buffer.
//
// Three ways of copying the same regions (seven columns of the range plus the
// rack table) are timed in the same run, interleaved, on an idle segment:
//   read_latest  the API: seqlock, word-wise relaxed atomic loads, bookkeeping
//   atomic_copy  copy_from_shared() over the regions, no seqlock: the cost of
//                the word-wise copy alone
//   memcpy       std::memcpy over the regions: the machine's copy speed
// Each figure is the median over --repetitions timed batches after a warm-up.
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "common/cli/cli_common.hpp"
#include "common/cli/exit_codes.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/atomic_copy.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/segment_reader.hpp"
#include "common/segment/segment_writer.hpp"

namespace brt::bench {
namespace {

struct Options {
    int repetitions = 11;
    double batch_ms = 20.0;
    bool small_only = false;
    bool json = false;
};

struct Config {
    const char* label;
    Geometry geometry;
};

enum Method { kReadLatest = 0, kAtomicCopy = 1, kMemcpy = 2, kMethodCount = 3 };
constexpr const char* kMethodNames[kMethodCount] = {"read_latest", "atomic_copy", "memcpy"};

struct Region {
    const std::byte* source;
    void* destination;
    std::size_t bytes;
};

struct MethodResult {
    double ns_median = 0;
    double ns_min = 0;
    double ns_max = 0;
};

struct RangeResult {
    std::string config_label;
    Geometry geometry;
    std::string range_label;
    CellRange range;
    std::uint64_t bytes_per_read = 0;
    std::uint64_t iterations = 0;
    MethodResult methods[kMethodCount];
};

// Known, cell-dependent data, so the sanity check below notices a wrong range.
float known_value(std::uint32_t field, std::uint64_t cell) {
    return static_cast<float>(field) * 1000.0f + static_cast<float>(cell % 100'003) * 0.001f;
}

void publish_known_frame(SegmentWriter& writer, const Geometry& geometry) {
    const std::uint64_t cells = geometry.cell_count();
    std::vector<std::vector<float>> columns(6, std::vector<float>(cells));
    for (std::uint32_t field = 0; field < 6; ++field) {
        for (std::uint64_t cell = 0; cell < cells; ++cell) {
            columns[field][cell] = known_value(field, cell);
        }
    }
    std::vector<std::uint32_t> status(cells);
    for (std::uint64_t cell = 0; cell < cells; ++cell) {
        status[cell] = static_cast<std::uint32_t>(cell);
    }
    std::vector<RackRecord> racks(geometry.racks);
    for (std::uint32_t rack = 0; rack < geometry.racks; ++rack) {
        racks[rack] = RackRecord{static_cast<float>(rack), 25.0f, 1, 0};
    }
    FrameData frame;
    for (std::uint32_t field = 0; field < 6; ++field) {
        frame.columns[field] = columns[field];
    }
    frame.status = status;
    frame.racks = racks;
    frame.sim_time_ns = 1'000'000;
    frame.ambient_temperature_c = 25.0f;
    writer.publish_frame(frame);
}

// Not a timing check: a benchmark of a read that returns the wrong cells is
// worthless, so say so and stop.
void check_copy(const FrameBuffer& buffer, CellRange range) {
    for (std::uint32_t field = 0; field < 6; ++field) {
        for (std::uint64_t i : {std::uint64_t{0}, range.cell_count / 2, range.cell_count - 1}) {
            if (buffer.columns[field][i] != known_value(field, range.first_cell + i)) {
                throw std::runtime_error(
                    fmt::format("read_latest returned unexpected data (field {}, cell {})", field,
                                range.first_cell + i));
            }
        }
    }
    if (buffer.status[range.cell_count - 1] !=
        static_cast<std::uint32_t>(range.first_cell + range.cell_count - 1)) {
        throw std::runtime_error("read_latest returned an unexpected status column");
    }
}

// The regions read_latest copies, from the slot holding the latest frame,
// into the buffer's own vectors.
std::vector<Region> regions_of(const SegmentReader& reader, FrameBuffer& buffer, CellRange range) {
    const SegmentLayout& layout = reader.layout();
    const std::uint64_t latest = reader.header().latest_frame.load(std::memory_order_acquire);
    const std::byte* slot =
        reader.segment().bytes() +
        layout.slot_offset(static_cast<std::uint32_t>(latest % layout.slot_count));
    std::vector<Region> regions;
    regions.push_back({slot + layout.rack_table_offset_in_slot, buffer.racks.data(),
                       buffer.racks.size() * sizeof(RackRecord)});
    for (std::uint32_t field = 0; field < 6; ++field) {
        regions.push_back({slot + layout.column_offset_in_slot[field] + range.first_cell * 4,
                           buffer.columns[field].data(), range.cell_count * 4});
    }
    regions.push_back({slot +
                           layout.column_offset_in_slot[static_cast<std::uint32_t>(Field::status)] +
                           range.first_cell * 4,
                       buffer.status.data(), range.cell_count * 4});
    return regions;
}

// Runs `iterations` copies with one method; returns nanoseconds per copy.
double time_batch(Method method, std::uint64_t iterations, SegmentReader& reader,
                  FrameBuffer& buffer, CellRange range, const std::vector<Region>& regions) {
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < iterations; ++i) {
        switch (method) {
            case kReadLatest:
                if (reader.read_latest(buffer, range) != ReadOutcome::ok) {
                    throw std::runtime_error("read_latest did not return ok on an idle segment");
                }
                break;
            case kAtomicCopy:
                for (const Region& region : regions) {
                    copy_from_shared(region.destination, region.source, region.bytes);
                }
                break;
            case kMemcpy:
                for (const Region& region : regions) {
                    std::memcpy(region.destination, region.source, region.bytes);
                }
                break;
            default:
                break;
        }
        keep(buffer.columns[0].data());
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    return static_cast<double>(
               std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) /
           static_cast<double>(iterations);
}

RangeResult measure_range(const Options& options, const Config& config, SegmentReader& reader,
                          const char* range_label, CellRange range) {
    FrameBuffer buffer;
    if (reader.read_latest(buffer, range) != ReadOutcome::ok) {
        throw std::runtime_error("read_latest did not return ok on an idle segment");
    }
    check_copy(buffer, range);
    const std::vector<Region> regions = regions_of(reader, buffer, range);

    RangeResult result;
    result.config_label = config.label;
    result.geometry = config.geometry;
    result.range_label = range_label;
    result.range = range;
    for (const Region& region : regions) {
        result.bytes_per_read += region.bytes;
    }

    // Warm-up (page faults in the destination, caches, frequency), then size
    // a batch to about --batch-ms with the slowest method.
    double slowest_ns = 0;
    for (int method = 0; method < kMethodCount; ++method) {
        time_batch(static_cast<Method>(method), 3, reader, buffer, range, regions);
        slowest_ns = std::max(
            slowest_ns, time_batch(static_cast<Method>(method), 3, reader, buffer, range, regions));
    }
    result.iterations = std::max<std::uint64_t>(
        3, static_cast<std::uint64_t>(options.batch_ms * 1e6 / std::max(slowest_ns, 1.0)));

    std::vector<double> samples[kMethodCount];
    for (int repetition = 0; repetition < options.repetitions; ++repetition) {
        // Rotate the order so that no method always runs right after another.
        for (int k = 0; k < kMethodCount; ++k) {
            const auto method = static_cast<Method>((repetition + k) % kMethodCount);
            samples[method].push_back(
                time_batch(method, result.iterations, reader, buffer, range, regions));
        }
    }
    check_copy(buffer, range);
    for (int method = 0; method < kMethodCount; ++method) {
        auto& s = samples[method];
        result.methods[method].ns_median = median(s);
        result.methods[method].ns_min = *std::min_element(s.begin(), s.end());
        result.methods[method].ns_max = *std::max_element(s.begin(), s.end());
    }
    return result;
}

std::vector<RangeResult> measure_config(const Options& options, const Config& config) {
    BenchSegment segment("snapshot", config.geometry, kDefaultSlots);
    SegmentWriter writer = SegmentWriter::acquire(segment.name(), 100'000'000);
    publish_known_frame(writer, config.geometry);

    SegmentReader reader(segment.name());
    reader.require_attached();
    std::vector<RangeResult> results;
    results.push_back(
        measure_range(options, config, reader, "whole frame", whole_frame(config.geometry)));
    results.push_back(
        measure_range(options, config, reader, "rack 3", rack_range(config.geometry, 3)));
    return results;
}

double gb_per_s(std::uint64_t bytes, double ns) {
    return static_cast<double>(bytes) / ns;  // bytes per ns == GB/s
}

std::string group_digits(std::uint64_t value) {
    std::string digits = std::to_string(value);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
        digits.insert(static_cast<std::size_t>(i), ",");
    }
    return digits;
}

void print_table(const Options& options, const std::vector<RangeResult>& results) {
    fmt::print("bench_snapshot: snapshot copy speed, read_latest() vs memcpy of the same bytes\n");
    fmt::print("machine: {}\n", machine_line());
    fmt::print("median of {} batches of ~{} ms each after a warm-up; idle segment, {} slots\n\n",
               options.repetitions, options.batch_ms, kDefaultSlots);
    fmt::print("{:<24} {:<12} {:>11}  {:<12} {:>12} {:>8} {:>9} {:>17}\n", "geometry", "range",
               "bytes/read", "method", "ns/read", "GB/s", "x memcpy", "spread min-max");
    for (const RangeResult& r : results) {
        const double memcpy_ns = r.methods[kMemcpy].ns_median;
        for (int method = 0; method < kMethodCount; ++method) {
            const MethodResult& m = r.methods[method];
            const bool first = method == 0;
            fmt::print("{:<24} {:<12} {:>11}  {:<12} {:>12.0f} {:>8.2f} {:>9.2f} {:>17}\n",
                       first ? r.config_label : "", first ? r.range_label : "",
                       first ? group_digits(r.bytes_per_read) : "", kMethodNames[method],
                       m.ns_median, gb_per_s(r.bytes_per_read, m.ns_median),
                       m.ns_median / memcpy_ns, fmt::format("{:.0f}-{:.0f}", m.ns_min, m.ns_max));
        }
    }
    fmt::print(
        "\nbytes/read: 7 columns x 4 bytes x cells in range + the rack table (16 bytes per rack);\n"
        "x memcpy: median time / median memcpy time of the same regions in the same run.\n");
}

void print_json(const Options& options, const std::vector<RangeResult>& results) {
    JsonWriter json;
    json.begin_object();
    json.key("benchmark").value("bench_snapshot");
    json.key("machine").begin_object();
    json.key("cpu_model").value(cpu_model());
    json.key("usable_cpus").value(static_cast<std::int64_t>(usable_cpus()));
    json.key("build").value(build_type());
    json.end_object();
    json.key("repetitions").value(static_cast<std::int64_t>(options.repetitions));
    json.key("batch_ms").value(options.batch_ms);
    json.key("slot_count").value(kDefaultSlots);
    json.key("results").begin_array();
    for (const RangeResult& r : results) {
        json.begin_object();
        json.key("geometry").begin_object();
        json.key("racks").value(r.geometry.racks);
        json.key("modules_per_rack").value(r.geometry.modules_per_rack);
        json.key("cells_per_module").value(r.geometry.cells_per_module);
        json.key("cells").value(r.geometry.cell_count());
        json.end_object();
        json.key("range").value(r.range_label);
        json.key("first_cell").value(r.range.first_cell);
        json.key("cell_count").value(r.range.cell_count);
        json.key("bytes_per_read").value(r.bytes_per_read);
        json.key("iterations_per_batch").value(r.iterations);
        json.key("methods").begin_object();
        for (int method = 0; method < kMethodCount; ++method) {
            const MethodResult& m = r.methods[method];
            json.key(kMethodNames[method]).begin_object();
            json.key("ns_per_read_median").value(m.ns_median);
            json.key("ns_per_read_min").value(m.ns_min);
            json.key("ns_per_read_max").value(m.ns_max);
            json.key("gb_per_s").value(gb_per_s(r.bytes_per_read, m.ns_median));
            json.key("ratio_to_memcpy").value(m.ns_median / r.methods[kMemcpy].ns_median);
            json.end_object();
        }
        json.end_object();
        json.end_object();
    }
    json.end_array();
    json.end_object();
    fmt::print("{}\n", json.str());
}

}  // namespace
}  // namespace brt::bench

int main(int argc, char** argv) {
    using namespace brt;
    using namespace brt::bench;
    Options options;
    CLI::App app("Snapshot read speed of the segment: read_latest() against memcpy",
                 "bench_snapshot");
    app.add_option("--repetitions", options.repetitions,
                   "Timed batches per method; the median is reported")
        ->check(CLI::Range(1, 1001))
        ->capture_default_str();
    app.add_option("--batch-ms", options.batch_ms, "Approximate length of one timed batch")
        ->check(CLI::Range(0.1, 10'000.0))
        ->capture_default_str();
    app.add_flag(
        "--small-only", options.small_only,
        "Only the 6,400-cell geometry (skips the 1,024,000-cell one, ~115 MB of /dev/shm)");
    app.add_flag("--json", options.json, "Print one JSON object instead of the table");
    return run_tool(app, argc, argv, [&] {
        const Config configs[] = {
            {"20x10x32 (6,400 cells)", Geometry{20, 10, 32}},
            {"100x10x1024 (1,024,000)", Geometry{100, 10, 1024}},
        };
        std::vector<RangeResult> results;
        for (const Config& config : configs) {
            if (options.small_only && config.geometry.cell_count() > 6400) {
                continue;
            }
            for (RangeResult& result : measure_config(options, config)) {
                results.push_back(std::move(result));
            }
        }
        if (options.json) {
            print_json(options, results);
        } else {
            print_table(options, results);
        }
        return kExitOk;
    });
}
