// The bridge's limits in all, not per client (issue 20, items 8 and 10):
// the bytes of messages it holds for every WebSocket client together, and
// the connections one client address may take.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <regex>

#include "support/test_segment.hpp"
#include "ws_bridge/bridge_client.hpp"
#include "ws_bridge/known_writer.hpp"

using namespace brt;
using namespace brt::test;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// Sanitizers keep freed memory in quarantine and shadow it: RSS says
// nothing there about the bridge's own bounds (its byte counters still do).
constexpr bool kRssMeaningful = false;
#else
constexpr bool kRssMeaningful = true;
#endif

// A TCP connection to the bridge from `source` (any 127.x.y.z is this
// machine, so several client addresses can be played). `receive_buffer`:
// a small one makes a client that never reads fill up at once.
class RawConnection {
  public:
    RawConnection(const std::string& source, unsigned short port, int receive_buffer = 0)
        : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        REQUIRE(fd_ >= 0);
        if (receive_buffer > 0) {
            ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
        }
        sockaddr_in from{};
        from.sin_family = AF_INET;
        ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
        REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&from), sizeof from) == 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
        REQUIRE(::connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0);
        timeval timeout{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;
    ~RawConnection() { ::close(fd_); }

    void send(const std::string& bytes) {
        REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(bytes.size()));
    }
    // What came until `end` was seen (or the connection ended).
    std::string read_until(const std::string& end) {
        std::string out;
        char byte = 0;
        while (out.find(end) == std::string::npos && ::recv(fd_, &byte, 1, 0) == 1) {
            out += byte;
        }
        return out;
    }
    // Everything until the bridge closes the connection (or 5 s of silence).
    std::string read_all() {
        std::string out;
        char buffer[4096];
        for (;;) {
            const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
            if (got <= 0) {
                return out;
            }
            out.append(buffer, static_cast<std::size_t>(got));
        }
    }

  private:
    int fd_;
};

std::string health_request(unsigned short port) {
    return "GET /health HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
           "\r\nConnection: close\r\n\r\n";
}

// One GET /health from `source`: the status line's code and the body.
std::pair<unsigned, std::string> health_from(const std::string& source, unsigned short port) {
    RawConnection connection(source, port);
    connection.send(health_request(port));
    const std::string reply = connection.read_all();
    if (!reply.starts_with("HTTP/1.1 ") || reply.size() < 12) {
        return {0, reply};
    }
    const auto body = reply.find("\r\n\r\n");
    return {static_cast<unsigned>(std::stoul(reply.substr(9, 3))),
            body == std::string::npos ? std::string() : reply.substr(body + 4)};
}

double metric(unsigned short port, const std::string& name) {
    const std::string text = http_get(port, "/metrics").body;
    const std::regex line("\n" + name + " ([0-9.e+]+)\n");
    std::smatch match;
    return std::regex_search(text, match, line) ? std::stod(match[1].str()) : -1;
}

// The bridge process's resident memory, in MiB.
double rss_mib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string word;
    while (status >> word) {
        if (word == "VmRSS:") {
            double kib = 0;
            status >> kib;
            return kib / 1024;
        }
    }
    return -1;
}

// A WebSocket client that subscribes to a heatmap of the fields in `mask`
// and never reads again (the issue's flood: each with its own mask, so no
// two share an encoding).
std::unique_ptr<RawConnection> non_reading_heatmap_client(unsigned short port, std::uint32_t mask) {
    static const char* const kFields[] = {"voltage_v",      "current_a", "temperature_c", "soc",
                                          "resistance_ohm", "soh",       "status"};
    std::string fields;
    for (std::uint32_t f = 0; f < 7; ++f) {
        if (mask & (1u << f)) {
            fields += std::string(fields.empty() ? "" : ",") + "\"" + kFields[f] + "\"";
        }
    }
    const std::string text =
        R"({"action":"subscribe","view":"heatmap","rate_hz":20,"fields":[)" + fields + "]}";
    REQUIRE(text.size() < 65536);
    // 126: a 16-bit length follows, then the mask key.
    const std::string frame = std::string{'\x81',
                                          static_cast<char>(0x80 | 126),
                                          static_cast<char>(text.size() >> 8),
                                          static_cast<char>(text.size() & 0xff),
                                          0,
                                          0,
                                          0,
                                          0} +
                              text;
    auto client = std::make_unique<RawConnection>("127.0.0.1", port, 4096);
    client->send(
        "GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    // Nothing more before the bridge's answer (RFC 6455 4.1); then the
    // subscription, masked as frames from a client are (here with the key 0).
    REQUIRE(client->read_until("\r\n\r\n").starts_with("HTTP/1.1 101"));
    client->send(frame);
    return client;
}

}  // namespace

TEST_CASE("clients that never read cannot make the bridge hold more than --max-queued-mib",
          "[ws_bridge][websocket][hostile]") {
    // 20,000 cells: one field of a full heatmap is 80 KB, a mask of k fields
    // 80k KB. 32 clients that never read, each with its own mask, made the
    // bridge hold 33 MB of messages in 4 s without the cap (RSS 7 -> 55
    // MiB), and more the longer they stayed.
    const Geometry geometry{20, 10, 100};
    ScopedSegment segment("limits-memory", geometry);
    KnownWriter writer(segment.name(), geometry, std::chrono::milliseconds(50));
    constexpr double kCapMiB = 8;
    BridgeProcess bridge(segment.name(), {"--max-queued-mib", "8", "--slow-client-timeout", "60"});
    REQUIRE(becomes_live(bridge));
    const double rss_before = rss_mib(bridge.pid());

    WsClient reader(bridge.port());
    reader.send(R"({"action":"subscribe","view":"summary","rate_hz":10})");
    REQUIRE(reader.read_type("subscribed"));

    std::vector<std::unique_ptr<RawConnection>> flood;
    std::uint32_t mask = 127;
    for (int i = 0; i < 32; ++i, --mask) {
        flood.push_back(non_reading_heatmap_client(bridge.port(), mask));
    }
    double rss_during = rss_before;
    const auto end = std::chrono::steady_clock::now() + 5s;
    int summaries = 0;
    while (std::chrono::steady_clock::now() < end) {
        rss_during = std::max(rss_during, rss_mib(bridge.pid()));
        // The client that reads is served throughout.
        if (reader.read_type("summary", 2s)) {
            ++summaries;
        }
    }
    CHECK(summaries >= 3);
    const double peak_mib = metric(bridge.port(), "brt_bridge_message_bytes_peak") / (1 << 20);
    const double dropped = metric(bridge.port(), "brt_bridge_memory_cap_disconnects_total");
    flood.clear();
    // Returned when they left: the queues' memory goes back to the system.
    double rss_after = 0;
    eventually(
        [&] {
            rss_after = rss_mib(bridge.pid());
            return rss_after < rss_before + 24;
        },
        5s);
    UNSCOPED_INFO("bridge RSS before " << rss_before << " MiB, during the flood at most "
                                       << rss_during << " MiB, after " << rss_after
                                       << " MiB; messages held at most " << peak_mib << " MiB");

    // Over the cap, clients that were behind were disconnected, said so in
    // the log, and the bytes held stayed near the cap (one message of each
    // client that was not behind yet may go over it).
    CHECK(dropped >= 1);
    CHECK(peak_mib > 0);
    CHECK(peak_mib < kCapMiB + 8);
    CHECK_THAT(bridge.log(), Catch::Contains("over --max-queued-mib 8"));
    if (kRssMeaningful) {
        CHECK(rss_during < rss_before + kCapMiB + 24);
        CHECK(rss_after < rss_before + 24);
    }
    // The reader is still served.
    CHECK(reader.read_type("summary"));
}

TEST_CASE("one peer holding many connections leaves room for others, and is told why",
          "[ws_bridge][rest][hostile]") {
    const Geometry geometry{4, 2, 8};
    ScopedSegment segment("limits-peer", geometry);
    KnownWriter writer(segment.name(), geometry);
    BridgeProcess bridge(segment.name(),
                         {"--max-connections", "8", "--max-connections-per-peer", "3"});
    REQUIRE(becomes_live(bridge));
    const unsigned short port = bridge.port();

    // 127.0.0.2 opens connections and never sends a request on them.
    std::vector<std::unique_ptr<RawConnection>> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(std::make_unique<RawConnection>("127.0.0.2", port));
    }
    // Its fourth is refused as its own: 429, not the 503 of a stale writer.
    std::pair<unsigned, std::string> refused;
    REQUIRE(eventually([&] {
        refused = health_from("127.0.0.2", port);
        return refused.first == 429;
    }));
    const Json refusal = Json::parse(refused.second);
    CHECK(refusal["reason"] == "too_many_connections_from_peer");
    CHECK_THAT(refusal["error"].get<std::string>(),
               Catch::Contains("too many connections from 127.0.0.2") &&
                   Catch::Contains("--max-connections-per-peer"));
    CHECK(refusal["retry_after_s"] == 5);

    // Another peer is served as if nothing happened.
    const auto other = health_from("127.0.0.3", port);
    CHECK(other.first == 200);
    CHECK(Json::parse(other.second)["status"] == "ok");

    // With every connection of the bridge taken (by three peers), the answer
    // is 503 saying so, with Retry-After: not the writer-down body.
    for (const char* peer : {"127.0.0.3", "127.0.0.3", "127.0.0.3", "127.0.0.4", "127.0.0.4"}) {
        held.push_back(std::make_unique<RawConnection>(peer, port));
    }
    std::string full;
    REQUIRE(eventually([&] {
        RawConnection connection("127.0.0.5", port);
        connection.send(health_request(port));
        full = connection.read_all();
        return full.starts_with("HTTP/1.1 503");
    }));
    CHECK_THAT(full, Catch::Contains("Retry-After: 5"));
    const Json body = Json::parse(full.substr(full.find("\r\n\r\n") + 4));
    CHECK(body["reason"] == "too_many_connections");
    CHECK_FALSE(body.contains("status"));  // the writer-down answer's field

    held.clear();
    CHECK(eventually([&] { return health_from("127.0.0.2", port).first == 200; }));
    CHECK(metric(port, "brt_bridge_peer_connections_rejected_total") >= 1);
}
