// The bridge with its segment file truncated under it (issue 20, item 1): it
// used to die of SIGBUS and drop every web client. It must keep serving,
// say why there is no data, and follow a re-created segment.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/segment/futex.hpp"
#include "common/segment/segment_writer.hpp"
#include "common/segment/shm_name.hpp"
#include "support/test_frames.hpp"
#include "support/test_segment.hpp"
#include "ws_bridge/bridge_client.hpp"

using namespace brt;
using namespace std::chrono_literals;

TEST_CASE("the bridge keeps serving through a truncated segment and follows its re-creation",
          "[truncation]") {
    const Geometry geometry{2, 2, 8};  // every frame slot past the first 8192 bytes
    REQUIRE(compute_layout(geometry, kDefaultSlots).slots_offset >= 8192);
    test::ScopedSegment scoped("trunc-bridge", geometry);
    test::EncodedFrameSource source(geometry);
    auto writer =
        std::make_unique<SegmentWriter>(SegmentWriter::acquire(scoped.name(), 100'000'000));
    writer->publish_frame(source.make(1));
    test::BridgeProcess bridge(scoped.name());
    test::WsClient client(bridge.port());
    REQUIRE(test::becomes_live(bridge));

    REQUIRE(truncate(shm_path(scoped.name()).c_str(), 8192) == 0);
    // A writer that still announces frames (the header page is still in the
    // file): the bridge copies slots past the end of the file.
    SegmentHeader& header = writer->segment().header();
    for (int i = 0; i < 50; ++i) {
        header.latest_frame.fetch_add(1, std::memory_order_release);
        futex_bump_and_wake(header.frame_futex, header.futex_waiters);
        std::this_thread::sleep_for(20ms);
    }
    int status = 0;
    REQUIRE(waitpid(bridge.pid(), &status, WNOHANG) == 0);  // alive
    const auto health = test::http_get(bridge.port(), "/health");
    CHECK(health.status == 503);
    CHECK_THAT(health.body, Catch::Contains("truncated"));
    // The WebSocket client is still connected.
    CHECK_FALSE(client.closed());

    // Re-created: live again, same bridge, same client.
    writer.reset();
    remove_segment(scoped.name());
    CreateOptions options;
    options.geometry = geometry;
    create_segment(scoped.name(), options);
    SegmentWriter next_writer = SegmentWriter::acquire(scoped.name(), 100'000'000);
    next_writer.publish_frame(source.make(2));
    CHECK(test::becomes_live(bridge));
    CHECK_FALSE(client.closed());
    CHECK(bridge.stop() == 0);
}
