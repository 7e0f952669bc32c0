// Command-ring entries as the writer takes them: any process that can open
// the segment may post any bytes. The input is one entry's fields (kind,
// rack, module, cell, code, six doubles, target id, origin), posted to a
// scratch segment's ring, consumed and handled by a real Simulation
// (handle_command: the simulator's checks), then a publish interval is
// prepared and stepped, so an accepted command's effect on the model runs
// too. The simulation is made afresh every 256 inputs, so scenarios do not
// pile up.
#include <cstring>
#include <memory>

#include "common/segment/command_ring.hpp"
#include "fuzz/fuzz_support.hpp"
#include "simulator/cpu_stepper.hpp"
#include "simulator/simulation.hpp"
#include "simulator/worker_pool.hpp"

namespace {

struct Setup {
    std::string name = brt::fuzz::scratch_name("commands");
    brt::MappedSegment segment;
    brt::SimulationConfig config;
    std::unique_ptr<brt::Simulation> simulation;
    std::unique_ptr<brt::WorkerPool> pool;
    std::unique_ptr<brt::CpuStepper> stepper;
    std::uint64_t inputs = 0;
    Setup() {
        brt::fuzz::create_scratch_segment(name);
        segment = brt::open_segment(name, brt::SegmentAccess::writer);
        config.threads = 1;
        pool = std::make_unique<brt::WorkerPool>(config.threads);
        renew();
    }
    void renew() {
        stepper.reset();
        simulation = std::make_unique<brt::Simulation>(segment, config);
        stepper = std::make_unique<brt::CpuStepper>(*simulation, *pool);
    }
};

Setup& setup() {
    static Setup instance;
    return instance;
}

template <typename T>
T take(const std::uint8_t*& data, std::size_t& size) {
    T value{};
    const std::size_t n = size < sizeof value ? size : sizeof value;
    std::memcpy(&value, data, n);
    data += n;
    size -= n;
    return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace brt;
    Setup& s = setup();
    if (++s.inputs % 256 == 0) {
        s.renew();
    }
    Command command;
    command.kind = static_cast<CommandKind>(take<std::uint32_t>(data, size));
    command.rack = take<std::uint32_t>(data, size);
    command.module = take<std::uint32_t>(data, size);
    command.cell = take<std::uint32_t>(data, size);
    command.code = take<std::uint32_t>(data, size);
    for (double& arg : command.args) {
        arg = take<double>(data, size);
    }
    command.target_id = take<std::uint64_t>(data, size);
    std::memcpy(command.origin.data(), data,
                size < command.origin.size() ? size : command.origin.size());

    CommandRing ring(s.segment);
    if (!ring.post(command)) {
        return 0;
    }
    while (const auto received = ring.try_consume()) {
        ring.complete(received->position, s.simulation->handle_command(*received));
    }
    s.simulation->prepare_interval();
    s.stepper->run(2);
    return 0;
}
