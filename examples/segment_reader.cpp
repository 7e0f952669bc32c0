// A reader written outside this repository, against the installed segment
// library only:
//
//   g++ -std=c++20 segment_reader.cpp $(pkg-config --cflags --libs brt-segment)
//   ./a.out brt_telemetry 3 2
//
// It attaches to the segment, waits for the next frame, copies one module
// of it under the seqlock and prints each cell's voltage and temperature,
// then the writer's liveness. Exit 1 when there is no segment or no frame.
#include <brt/segment/segment_reader.hpp>
#include <brt/segment/shm_name.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

// Shortest text that reads back as the same float, as the tools print it.
std::string shortest(float value) {
    char text[32];
    const auto result = std::to_chars(text, text + sizeof text, value == 0.0f ? 0.0f : value);
    return std::string(text, result.ptr);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace std::chrono_literals;
    const std::string name = argc > 1 ? argv[1] : brt::default_shm_name();
    const std::uint32_t rack = argc > 2 ? static_cast<std::uint32_t>(std::atoi(argv[2])) : 0;
    const std::uint32_t module = argc > 3 ? static_cast<std::uint32_t>(std::atoi(argv[3])) : 0;
    try {
        brt::SegmentReader reader(brt::normalize_shm_name(name));
        reader.require_attached();
        const brt::Geometry& geometry = reader.layout().geometry;
        if (const std::string problem = brt::selection_problem(geometry, rack, module);
            !problem.empty()) {
            std::fprintf(stderr, "segment_reader: %s\n", problem.c_str());
            return 2;
        }
        brt::FrameBuffer frame;
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (reader.read_latest(frame, brt::module_range(geometry, rack, module)) !=
               brt::ReadOutcome::ok) {
            if (std::chrono::steady_clock::now() > deadline) {
                std::fprintf(stderr, "segment_reader: no frame published within 5 s\n");
                return 1;
            }
            reader.wait_for_frame(reader.last_frame_read(), 100ms);
        }
        std::printf(
            "frame %llu rack %u module %u chemistry %s\n",
            static_cast<unsigned long long>(frame.frame_number), rack, module,
            std::string(brt::chemistry_name(reader.segment().rack_chemistry(rack))).c_str());
        const auto voltage = frame.column(brt::Field::voltage_v);
        const auto temperature = frame.column(brt::Field::temperature_c);
        for (std::size_t cell = 0; cell < voltage.size(); ++cell) {
            std::printf("cell %zu voltage_v %s temperature_c %s\n", cell,
                        shortest(voltage[cell]).c_str(), shortest(temperature[cell]).c_str());
        }
        const brt::WriterStatus writer = reader.writer_status();
        std::printf("writer %s: %s\n", std::string(brt::liveness_name(writer.liveness)).c_str(),
                    writer.detail.c_str());
        return 0;
    } catch (const brt::UsageError& error) {
        std::fprintf(stderr, "segment_reader: %s\n", error.what());
        return 2;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "segment_reader: %s\n", error.what());
        return 1;
    }
}
