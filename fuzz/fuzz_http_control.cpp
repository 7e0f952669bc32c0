// HTTP requests to the bridge, as its sessions hand them on: the input is
// "PATH\nAUTHORIZATION\nBODY". The path goes to the GET routes (handle_get,
// split_path, parse_index) and, where it is a control path, with the header
// and the body to ControlService::submit against a real scratch segment;
// a posted command is answered from the ring (as a simulator would) and
// polled. The Host header check gets the path too.
#include <variant>

#include "common/segment/command_ring.hpp"
#include "fuzz/fuzz_support.hpp"
#include "ws_bridge/access_policy.hpp"
#include "ws_bridge/control.hpp"
#include "ws_bridge/rest_api.hpp"

namespace {

constexpr const char* kToken = "fuzz-token-0123";

struct Setup {
    std::string name = brt::fuzz::scratch_name("http");
    brt::bridge::BridgeStats stats;
    std::unique_ptr<brt::bridge::ControlService> control;
    brt::MappedSegment segment;
    std::unique_ptr<brt::bridge::AccessPolicy> policy;
    // Two racks with a few seconds of points: GET .../history?fields=... has
    // something to parse its query against.
    brt::bridge::RackHistory history;
    Setup() {
        std::vector<brt::GroupSummary> racks(2);
        for (std::uint64_t second = 1; second <= 4; ++second) {
            history.add(second * 1'000'000'000, racks);
        }
        brt::fuzz::create_scratch_segment(name);
        brt::fuzz::remove_at_exit(brt::alarm_segment_name(name));
        control = std::make_unique<brt::bridge::ControlService>(name, kToken, stats);
        segment = brt::open_segment(name, brt::SegmentAccess::writer);
        policy = std::make_unique<brt::bridge::AccessPolicy>(
            brt::bridge::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 8080),
            std::vector<std::string>{}, std::vector<std::string>{});
    }
};

Setup& setup() {
    static Setup instance;
    return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace brt;
    Setup& s = setup();
    std::vector<std::string> parts = fuzz::split_input(data, size, '\n');
    const std::string path = parts[0];
    const std::string authorization = parts.size() > 1 ? parts[1] : "";
    std::string body;
    for (std::size_t i = 2; i < parts.size(); ++i) {
        body += (i > 2 ? "\n" : "") + parts[i];
    }

    for (const std::string_view part : bridge::split_path(path)) {
        (void)bridge::parse_index(part);
    }
    (void)bridge::handle_get(path, nullptr, s.stats, s.history);
    (void)s.policy->host_problem(path, true);
    (void)s.policy->origin_problem(authorization, true, path);
    (void)bridge::host_name_of(path);
    if (!bridge::ControlService::is_control_path(path)) {
        return 0;
    }
    auto submitted = s.control->submit(path, body, authorization);
    if (auto* pending = std::get_if<bridge::PendingCommand>(&submitted)) {
        (void)s.control->poll(*pending);
        // The simulator's side: take the command and answer it.
        CommandRing ring(s.segment);
        while (const auto received = ring.try_consume()) {
            ring.complete(received->position, CommandStatus::applied);
        }
        (void)s.control->poll(*pending);
        (void)s.control->no_answer(*pending);
    }
    return 0;
}
