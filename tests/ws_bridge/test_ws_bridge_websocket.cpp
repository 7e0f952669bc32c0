// brt-ws-bridge's WebSocket side end to end: subscriptions and what they
// push, the binary heatmap, hostile messages, and slow clients.
#include <catch2/catch.hpp>

#include <cstring>
#include <limits>
#include <optional>

#include "support/test_segment.hpp"
#include "ws_bridge/bridge_client.hpp"
#include "ws_bridge/known_writer.hpp"

using namespace brt;
using namespace brt::test;

namespace {

const Geometry kGeometry{4, 2, 8};  // 64 cells

template <typename T>
T read_le(const std::string& bytes, std::size_t offset) {
    T value{};
    std::memcpy(&value, bytes.data() + offset, sizeof value);
    return value;
}

}  // namespace

TEST_CASE("hello, then a summary subscription pushes live summaries at its rate",
          "[ws_bridge][websocket]") {
    ScopedSegment segment("ws-summary", kGeometry);
    KnownWriter writer(segment.name(), kGeometry);  // 20 frames/s
    BridgeProcess bridge(segment.name());
    REQUIRE(becomes_live(bridge));

    for (const std::string path : {"/api/v1/ws", "/updates"}) {
        INFO(path);
        WsClient client(bridge.port(), path);
        const auto hello = client.read_type("hello");
        REQUIRE(hello);
        CHECK((*hello)["geometry"]["racks"] == 4);
        CHECK((*hello)["max_rate_hz"].get<double>() == 20);

        client.send(Json{{"action", "subscribe"}, {"view", "summary"}, {"rate_hz", 5}});
        const auto subscribed = client.read_type("subscribed");
        REQUIRE(subscribed);
        CHECK((*subscribed)["view"] == "summary");
        CHECK((*subscribed)["rate_hz"].get<double>() == 5);
        std::uint64_t previous = 0;
        for (int i = 0; i < 4; ++i) {
            const auto summary = client.read_type("summary");
            REQUIRE(summary);
            CHECK((*summary)["racks"][1]["voltage_v"]["max"].get<double>() == 31.0);
            const auto frame = (*summary)["frame"].get<std::uint64_t>();
            CHECK(frame > previous);  // a new frame each time
            previous = frame;
        }
    }
}

TEST_CASE("rates are capped, and a subscription is not sent faster than asked",
          "[ws_bridge][websocket]") {
    ScopedSegment segment("ws-rate", kGeometry);
    KnownWriter writer(segment.name(), kGeometry, std::chrono::milliseconds(10));  // 100 frames/s
    BridgeProcess bridge(segment.name(), {"--max-rate-hz", "8"});
    REQUIRE(becomes_live(bridge));
    WsClient client(bridge.port());
    client.send(Json{{"action", "subscribe"}, {"view", "summary"}, {"rate_hz", 500}});
    const auto subscribed = client.read_type("subscribed");
    REQUIRE(subscribed);
    CHECK((*subscribed)["rate_hz"].get<double>() == 8);
    CHECK((*subscribed)["capped"] == true);
    // 2 s at 8/s is 16 messages (+ the one at subscription); never 100/s.
    int count = 0;
    const auto end = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < end) {
        if (const auto message = client.read(100ms); message && !message->binary) {
            count += message->json()["type"] == "summary";
        }
    }
    CHECK(count >= 4);  // loose: a busy machine may deliver fewer
    CHECK(count <= 20);
}

TEST_CASE("select and subscribe change what is pushed", "[ws_bridge][websocket]") {
    ScopedSegment segment("ws-select", kGeometry);
    KnownWriter writer(segment.name(), kGeometry);
    BridgeProcess bridge(segment.name());
    REQUIRE(becomes_live(bridge));
    WsClient client(bridge.port());

    // The first design's message: the cells of one module.
    client.send(R"({"action":"select","rack":3,"module":0})");
    auto module = client.read_type("module");
    REQUIRE(module);
    CHECK((*module)["rack"] == 3);
    CHECK((*module)["cell_list"][0]["voltage_v"].get<double>() == 48.0);

    // Selecting another module replaces it.
    client.send(R"({"action":"select","rack":1,"module":1})");
    REQUIRE(client.read_type("subscribed"));
    module = client.read_type("module");
    REQUIRE(module);
    CHECK((*module)["rack"] == 1);
    CHECK((*module)["module"] == 1);
    CHECK((*module)["cell_list"][7]["temperature_c"].get<double>() == 2031.0);

    client.send(R"({"action":"subscribe","view":"rack","rack":2,"rate_hz":5})");
    const auto rack = client.read_type("rack");
    REQUIRE(rack);
    CHECK((*rack)["rack"] == 2);
    CHECK((*rack)["voltage_v"]["min"].get<double>() == 32.0);

    client.send(R"({"action":"subscribe","view":"alarms","rate_hz":2})");
    const auto alarms = client.read_type("alarms");
    REQUIRE(alarms);
    // The alarm monitor's list (none runs here: the list and its state).
    CHECK(alarms->contains("alarms"));
    CHECK(alarms->contains("monitor"));
    CHECK(alarms->contains("counts"));

    // Unsubscribing everything stops the pushes.
    client.send(R"({"action":"unsubscribe"})");
    REQUIRE(client.read_type("unsubscribed"));
    while (client.read(300ms)) {
        // drain what was already queued
    }
    CHECK_FALSE(client.read(1500ms));
}

TEST_CASE("a NaN reading (sensor dropout) is null in the WebSocket JSON, which parses",
          "[ws_bridge][websocket]") {
    ScopedSegment segment("ws-nan", kGeometry);
    // Cell 42 (rack 2 module 1, its third cell) lost its voltage reading.
    KnownWriter writer(segment.name(), kGeometry, std::chrono::milliseconds(50),
                       [](CellIndexFrame& frame) {
                           frame.columns[0][42] = std::numeric_limits<float>::quiet_NaN();
                       });
    BridgeProcess bridge(segment.name());
    REQUIRE(becomes_live(bridge));
    WsClient client(bridge.port());

    client.send(R"({"action":"subscribe","view":"module","rack":2,"module":1})");
    // read_type parses every message on the way: a NaN token would throw.
    std::optional<Json> module;
    REQUIRE_NOTHROW(module = client.read_type("module"));
    REQUIRE(module);
    const Json& cell = (*module)["cell_list"][2];
    CHECK(cell["index"] == 42);
    CHECK(cell["voltage_v"].is_null());
    CHECK(cell["current_a"].get<double>() == 1042.0);
    CHECK((*module)["voltage_v"]["valid"] == 7);

    client.send(R"({"action":"subscribe","view":"summary"})");
    std::optional<Json> summary;
    REQUIRE_NOTHROW(summary = client.read_type("summary"));
    REQUIRE(summary);
    CHECK((*summary)["racks"][2]["voltage_v"]["valid"] == 15);
    CHECK((*summary)["racks"][2]["voltage_v"]["min"].get<double>() == 32.0);
}

TEST_CASE("the heatmap view is a binary frame with the documented layout",
          "[ws_bridge][websocket]") {
    ScopedSegment segment("ws-heatmap", kGeometry);
    KnownWriter writer(segment.name(), kGeometry);
    BridgeProcess bridge(segment.name());
    REQUIRE(becomes_live(bridge));
    WsClient client(bridge.port());

    client.send(R"({"action":"subscribe","view":"heatmap","fields":["temperature_c","status"]})");
    auto message = client.read_binary();
    REQUIRE(message);
    const std::string& bytes = message->data;
    REQUIRE(bytes.size() == 64 + 2 * 64 * 4);
    CHECK(bytes.substr(0, 4) == "BRTH");
    CHECK(read_le<std::uint16_t>(bytes, 4) == 1);
    CHECK(read_le<std::uint16_t>(bytes, 6) == 64);
    CHECK(read_le<std::uint64_t>(bytes, 8) >= 1);    // frame
    CHECK(read_le<std::uint32_t>(bytes, 32) == 0);   // first cell
    CHECK(read_le<std::uint32_t>(bytes, 36) == 64);  // cells
    CHECK(read_le<std::uint32_t>(bytes, 40) == 4);   // racks
    CHECK(read_le<std::uint32_t>(bytes, 44) == 2);   // modules per rack
    CHECK(read_le<std::uint32_t>(bytes, 48) == 8);   // cells per module
    CHECK(read_le<std::uint32_t>(bytes, 52) == ((1u << 2) | (1u << 6)));
    CHECK(read_le<std::uint32_t>(bytes, 56) == 0xFFFFFFFFu);
    for (std::uint32_t cell = 0; cell < 64; ++cell) {
        CHECK(read_le<float>(bytes, 64 + cell * 4) == static_cast<float>(cell) + 2000.0f);
        CHECK(read_le<std::uint32_t>(bytes, 64 + 256 + cell * 4) == cell);
    }

    // One rack, every field.
    client.send(R"({"action":"subscribe","view":"heatmap","rack":1})");
    message = client.read_binary();
    REQUIRE(message);
    // A frame queued before the change may come first.
    if (read_le<std::uint32_t>(message->data, 56) != 1) {
        message = client.read_binary();
        REQUIRE(message);
    }
    CHECK(read_le<std::uint32_t>(message->data, 56) == 1);
    CHECK(read_le<std::uint32_t>(message->data, 32) == 16);
    CHECK(read_le<std::uint32_t>(message->data, 36) == 16);
    CHECK(message->data.size() == 64 + 7 * 16 * 4);
    CHECK(read_le<float>(message->data, 64 + 3 * 16 * 4 + 5 * 4) ==
          21.0f + 3000.0f);  // soc of cell 21
}

TEST_CASE("malformed JSON, unknown actions and out-of-range racks get error messages",
          "[ws_bridge][websocket][hostile]") {
    ScopedSegment segment("ws-errors", kGeometry);
    KnownWriter writer(segment.name(), kGeometry);
    BridgeProcess bridge(segment.name());
    REQUIRE(becomes_live(bridge));
    WsClient client(bridge.port());
    REQUIRE(client.read_type("hello"));

    const std::vector<std::pair<std::string, std::string>> cases = {
        {"{not json", "malformed JSON"},
        {"[1,2,3]", "JSON object"},
        {R"({"action":"dance"})", "unknown action"},
        {R"({"view":"summary"})", "\"action\" is missing"},
        {R"({"action":"subscribe","view":"weather"})", "unknown view"},
        {R"({"action":"select","rack":4,"module":0})", "rack 4 does not exist"},
        {R"({"action":"select","rack":0,"module":9})", "module 9 does not exist"},
        {R"({"action":"select","rack":-1,"module":0})", "non-negative integer"},
        {R"({"action":"select","rack":"zero","module":0})", "non-negative integer"},
        {R"({"action":"subscribe","view":"summary","rate_hz":-3})", "positive number"},
        {R"({"action":"subscribe","view":"heatmap","fields":["colour"]})", "unknown field"},
        {R"({"action":"subscribe","view":"module","rack":1})", "needs \"rack\" and \"module\""},
    };
    for (const auto& [text, expected] : cases) {
        INFO(text);
        client.send(text);
        const auto error = client.read_type("error");
        REQUIRE(error);
        CHECK_THAT((*error)["error"].get<std::string>(), Catch::Contains(expected));
    }
    // Still connected and serving.
    client.send(R"({"action":"subscribe","view":"summary"})");
    CHECK(client.read_type("summary"));
    CHECK_FALSE(client.closed());
}

TEST_CASE("a rate near zero is refused with the allowed range, not streamed past the cap",
          "[ws_bridge][websocket][hostile]") {
    ScopedSegment segment("ws-tiny-rate", kGeometry);
    KnownWriter writer(segment.name(), kGeometry, std::chrono::milliseconds(10));  // 100 frames/s
    BridgeProcess bridge(segment.name(), {"--max-rate-hz", "8"});
    REQUIRE(becomes_live(bridge));
    // 1 / 1e-300 and 1 / 5e-324 overflowed the period into a short one:
    // these streamed faster than --max-rate-hz.
    for (const std::string rate : {"1e-300", "5e-324", "0", "0.001", "-1e-300"}) {
        INFO("rate_hz " << rate);
        WsClient client(bridge.port());
        REQUIRE(client.read_type("hello"));
        client.send(R"({"action":"subscribe","view":"summary","rate_hz":)" + rate + "}");
        const auto error = client.read_type("error");
        REQUIRE(error);
        CHECK_THAT((*error)["error"].get<std::string>(),
                   Catch::Contains("from 0.01 to 8") && Catch::Contains("capped at 8"));
        int summaries = 0;
        const auto end = std::chrono::steady_clock::now() + 1s;
        while (std::chrono::steady_clock::now() < end) {
            if (const auto message = client.read(100ms); message && !message->binary) {
                summaries += message->json()["type"] == "summary";
            }
        }
        CHECK(summaries == 0);
        CHECK_FALSE(client.closed());
    }
    // The smallest allowed rate is taken as asked.
    WsClient client(bridge.port());
    REQUIRE(client.read_type("hello"));
    client.send(R"({"action":"subscribe","view":"summary","rate_hz":0.01})");
    const auto subscribed = client.read_type("subscribed");
    REQUIRE(subscribed);
    CHECK((*subscribed)["rate_hz"].get<double>() == 0.01);
    CHECK((*subscribed)["capped"] == false);
}

TEST_CASE("a message over the size limit closes the connection",
          "[ws_bridge][websocket][hostile]") {
    ScopedSegment segment("ws-oversize", kGeometry);
    BridgeProcess bridge(segment.name());
    WsClient client(bridge.port());
    REQUIRE(client.read_type("hello"));
    client.send(std::string(5000, ' ') + R"({"action":"subscribe","view":"summary"})");
    while (client.read(5s)) {
    }
    CHECK(client.closed());
    CHECK(client.close_code() == 1009);  // message too big
    // Others are unaffected.
    WsClient other(bridge.port());
    CHECK(other.read_type("hello"));
    CHECK_THAT(http_get(bridge.port(), "/metrics").body,
               Catch::Contains("brt_bridge_oversize_closes_total 1\n"));
}

TEST_CASE("a client that does not read never delays a fast one, and is dropped",
          "[ws_bridge][websocket][hostile]") {
    // 20,000 cells: a full heatmap of every field is 560 KB, so a client
    // that does not read fills its socket buffers within a second or two.
    const Geometry geometry{20, 10, 100};
    ScopedSegment segment("ws-slow", geometry);
    KnownWriter writer(segment.name(), geometry, std::chrono::milliseconds(100));
    BridgeProcess bridge(segment.name(), {"--client-queue", "4", "--slow-client-timeout", "2"});
    REQUIRE(becomes_live(bridge));

    WsClient slow(bridge.port());
    slow.send(R"({"action":"subscribe","view":"heatmap","rate_hz":20})");
    // The slow client never reads again.

    WsClient fast(bridge.port());
    fast.send(R"({"action":"subscribe","view":"summary","rate_hz":10})");
    REQUIRE(fast.read_type("subscribed"));
    // For 8 s, the fast client keeps getting summaries of new frames, as
    // fast as the bridge reads them, however full the slow one's socket is.
    std::uint64_t previous = 0;
    std::uint64_t first_frame = 0;
    int summaries = 0;
    const auto end = std::chrono::steady_clock::now() + 8s;
    while (std::chrono::steady_clock::now() < end) {
        const auto summary = fast.read_type("summary", 10s);
        REQUIRE(summary);
        const auto frame = (*summary)["frame"].get<std::uint64_t>();
        CHECK(frame >= previous);
        previous = frame;
        first_frame = first_frame == 0 ? frame : first_frame;
        ++summaries;
    }
    // Asked 10/s; a sanitizer build on two busy cores manages fewer, but
    // never stalls behind the slow client.
    CHECK(summaries >= 3);
    // New frames kept coming while the slow client's socket was full.
    CHECK(previous > first_frame);
    // The slow one lost frames, counted, and was disconnected for staying behind.
    CHECK(eventually(
        [&] {
            const std::string metrics = http_get(bridge.port(), "/metrics").body;
            return metrics.find("brt_bridge_slow_client_disconnects_total 1\n") !=
                   std::string::npos;
        },
        30s));
    const std::string metrics = http_get(bridge.port(), "/metrics").body;
    CHECK(metrics.find("brt_bridge_messages_dropped_total 0\n") == std::string::npos);
    // The fast one is still served.
    CHECK(fast.read_type("summary"));
}

TEST_CASE("every message is one WebSocket frame, however large", "[ws_bridge][websocket]") {
    // 6,400 cells: a summary is some 18 KB, a full heatmap 179 KB, both far
    // over the 4 KiB a WebSocket library may cut messages into by default.
    const Geometry geometry{20, 10, 32};
    ScopedSegment segment("ws-frames", geometry);
    KnownWriter writer(segment.name(), geometry, std::chrono::milliseconds(100));
    BridgeProcess bridge(segment.name());
    REQUIRE(becomes_live(bridge));

    const std::string received =
        raw_websocket_exchange(bridge.port(), "/api/v1/ws",
                               {R"({"action":"subscribe","view":"summary","rate_hz":2})",
                                R"({"action":"subscribe","view":"heatmap","rate_hz":2})"},
                               3s);
    std::size_t at = 0;
    int summaries = 0, heatmaps = 0;
    while (received.size() - at >= 2) {
        const auto byte0 = static_cast<unsigned char>(received[at]);
        const auto byte1 = static_cast<unsigned char>(received[at + 1]);
        std::size_t header = 2;
        std::uint64_t length = byte1 & 0x7Fu;
        if (length == 126 || length == 127) {
            const std::size_t bytes = length == 126 ? 2 : 8;
            REQUIRE(received.size() - at >= 2 + bytes);
            length = 0;
            for (std::size_t i = 0; i < bytes; ++i) {  // network byte order
                length = length << 8 | static_cast<unsigned char>(received[at + 2 + i]);
            }
            header += bytes;
        }
        if (received.size() - at < header + length) {
            break;  // the last frame, cut by the end of the exchange
        }
        INFO("frame of " << length << " bytes, first byte " << unsigned{byte0});
        CHECK((byte0 & 0x80u) != 0);  // FIN: the whole message
        CHECK((byte0 & 0x0Fu) != 0);  // never a continuation frame
        CHECK((byte1 & 0x80u) == 0);  // servers do not mask
        const std::string payload = received.substr(at + header, length);
        if ((byte0 & 0x0Fu) == 1 && payload.starts_with(R"({"type":"summary")")) {
            CHECK(Json::parse(payload)["racks"].size() == 20);
            ++summaries;
        } else if ((byte0 & 0x0Fu) == 2) {
            CHECK(payload.size() == 64 + 7 * 6400 * 4);
            ++heatmaps;
        }
        at += header + length;
    }
    CHECK(summaries >= 1);
    CHECK(heatmaps >= 1);
}
