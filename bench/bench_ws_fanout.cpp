// WebSocket fan-out of brt-ws-bridge: N clients subscribed to summaries at
// 10 Hz (and clients of full-system binary heatmaps) against a writer
// publishing at 10 Hz. Measures what each client receives (rate), the
// latency from the writer's publish to the client's receipt (the frame's
// CLOCK_MONOTONIC publish stamp, carried in every message, against the
// client's clock at receipt; same host, same clock), and the bridge
// process's CPU and memory. The clients run in this process on one thread,
// so on a two-core machine they compete with the bridge for the CPUs. Two
// kinds of client: a lean one that parses the frames itself (what the bridge
// costs, with the clients as cheap as they go) and a Beast one (a full
// WebSocket client: it checks every text message's UTF-8, as a browser does).
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string_view>
#include <thread>

#include "bench/bench_support.hpp"
#include "bench/paced_writer.hpp"
#include "common/cli/file_limit.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/clock.hpp"
#include "common/segment/segment_writer.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace brt;

namespace {

struct Bridge {
    pid_t pid = -1;
    unsigned short port = 0;
    std::string log_path;
    ~Bridge() {
        if (pid > 0) {
            kill(pid, SIGTERM);
            waitpid(pid, nullptr, 0);
        }
        std::filesystem::remove(log_path);
    }
};

void start_bridge(Bridge& bridge, const std::string& binary, const std::string& segment,
                  unsigned threads) {
    bridge.log_path = fmt::format("/tmp/bench_ws_fanout_{}.log", getpid());
    const std::string threads_text = std::to_string(threads);
    std::vector<std::string> args = {binary, "--shm-name", segment, "--listen", "127.0.0.1:0",
                                     "--threads", threads_text, "--max-connections", "4096",
                                     "--client-queue", "64",
                                     // Every client is 127.0.0.1 here.
                                     "--max-connections-per-peer", "4096"};
    std::vector<char*> argv;
    for (auto& arg : args) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, bridge.log_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawn(&bridge.pid, binary.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
        throw std::runtime_error("cannot start " + binary);
    }
    posix_spawn_file_actions_destroy(&actions);
    const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
    for (int i = 0; i < 1000; ++i) {
        std::ifstream file(bridge.log_path);
        const std::string text((std::istreambuf_iterator<char>(file)), {});
        std::smatch match;
        if (std::regex_search(text, match, listening)) {
            bridge.port = static_cast<unsigned short>(std::stoi(match[1]));
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw std::runtime_error("the bridge did not start");
}

// utime + stime of a process, seconds.
double process_cpu_s(pid_t pid) {
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    const auto close = text.rfind(')');
    if (close == std::string::npos || close + 2 > text.size()) {
        throw std::runtime_error(fmt::format("cannot read /proc/{}/stat", pid));
    }
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    unsigned long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) {
            utime = std::stoul(field);
        } else if (i == 15) {
            stime = std::stoul(field);
        }
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// "VmRSS" or "VmHWM" of a process, MiB.
double process_memory_mib(pid_t pid, const std::string& key) {
    std::ifstream status(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind(key + ":", 0) == 0) {
            return std::stod(line.substr(key.size() + 1)) / 1024.0;
        }
    }
    return NAN;
}

struct Stats {
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    std::vector<double> latencies_ms;
    bool measuring = false;

    // A message received at `now`: counted when it is of the measured view
    // (heatmaps are binary, summaries text), with its publish stamp.
    void record(std::uint64_t now, std::string_view payload, bool binary_message,
                bool binary_view) {
        if (!measuring || binary_message != binary_view) {
            return;
        }
        std::uint64_t published = 0;
        if (binary_view) {
            if (payload.size() < 64) {
                return;
            }
            std::memcpy(&published, payload.data() + 16, sizeof published);
        } else {
            static constexpr std::string_view kKey = "\"publish_monotonic_ns\":";
            const auto at = payload.find(kKey);
            if (at == std::string_view::npos ||
                payload.find("\"type\":\"summary\"") == std::string_view::npos) {
                return;
            }
            published = std::strtoull(payload.data() + at + kKey.size(), nullptr, 10);
        }
        ++messages;
        bytes += payload.size();
        if (published > 0 && now >= published) {
            latencies_ms.push_back(static_cast<double>(now - published) / 1e6);
        }
    }
};

enum class ClientKind { lean, beast };

class BenchClient {
  public:
    virtual ~BenchClient() = default;
    // Connects, subscribes, then reads until closed; `ready` says whether
    // the subscription went out.
    virtual void start(unsigned short port, std::function<void(bool)> ready) = 0;
    virtual void close() = 0;
};

// A WebSocket client with no library: the handshake, one subscription, then
// frames parsed in place from one buffer (the server sends them unmasked;
// pings are answered). The cheapest a client can be, so that the figures
// are the bridge's.
class LeanClient : public BenchClient, public std::enable_shared_from_this<LeanClient> {
  public:
    LeanClient(asio::io_context& io, Stats& stats, std::string subscribe, bool binary)
        : socket_(io), stats_(stats), subscribe_(std::move(subscribe)), binary_(binary) {}

    void start(unsigned short port, std::function<void(bool)> ready) override {
        ready_ = std::move(ready);
        socket_.async_connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
            [self = shared_from_this(), this](beast::error_code error) {
                if (error) {
                    return ready_(false);
                }
                socket_.set_option(tcp::no_delay(true));
                static const std::string kRequest =
                    "GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\n\r\n";
                asio::async_write(socket_, asio::buffer(kRequest),
                                  [self, this](beast::error_code w, std::size_t) {
                                      if (w) {
                                          return ready_(false);
                                      }
                                      read_handshake();
                                  });
            });
    }
    void close() override {
        asio::post(socket_.get_executor(), [self = shared_from_this(), this] {
            beast::error_code ignored;
            socket_.shutdown(tcp::socket::shutdown_both, ignored);
            socket_.close(ignored);
        });
    }

  private:
    void read_handshake() {
        asio::async_read_until(
            socket_, asio::dynamic_buffer(handshake_), "\r\n\r\n",
            [self = shared_from_this(), this](beast::error_code error, std::size_t end) {
                if (error || !handshake_.starts_with("HTTP/1.1 101")) {
                    return ready_(false);
                }
                // Frames that came with the response.
                buffer_.assign(handshake_.begin() + static_cast<std::ptrdiff_t>(end),
                               handshake_.end());
                used_ = buffer_.size();
                beast::error_code w;
                send_frame(0x1, subscribe_, w);
                ready_(!w);
                if (!w) {
                    read();
                }
            });
    }
    // A client frame: masked, with the key 0 (the payload goes as it is).
    void send_frame(unsigned opcode, std::string_view payload, beast::error_code& error) {
        if (payload.size() >= 126) {
            throw std::invalid_argument("the lean client sends short frames only");
        }
        std::string frame{
            static_cast<char>(0x80 | opcode), static_cast<char>(0x80 | payload.size()), 0, 0, 0, 0};
        frame += payload;
        asio::write(socket_, asio::buffer(frame), error);
    }
    void read() {
        if (buffer_.size() - used_ < kReadBytes) {
            buffer_.resize(used_ + kReadBytes);
        }
        socket_.async_read_some(
            asio::buffer(buffer_.data() + used_, buffer_.size() - used_),
            [self = shared_from_this(), this](beast::error_code error, std::size_t bytes) {
                if (error) {
                    return;
                }
                used_ += bytes;
                if (parse_frames(monotonic_ns())) {
                    read();
                }
            });
    }
    // Takes every whole frame from the buffer; false once the server closed.
    bool parse_frames(std::uint64_t now) {
        std::size_t at = 0;
        while (used_ - at >= 2) {
            const auto* head = reinterpret_cast<const unsigned char*>(buffer_.data() + at);
            const bool fin = (head[0] & 0x80u) != 0;
            const unsigned opcode = head[0] & 0x0Fu;
            std::size_t header = 2;
            std::uint64_t length = head[1] & 0x7Fu;
            if (length >= 126) {
                const std::size_t extra = length == 126 ? 2 : 8;
                if (used_ - at < header + extra) {
                    break;
                }
                length = 0;
                for (std::size_t i = 0; i < extra; ++i) {  // network byte order
                    length = length << 8 | head[2 + i];
                }
                header += extra;
            }
            if (used_ - at < header + length) {
                break;
            }
            const std::string_view payload(buffer_.data() + at + header, length);
            at += header + length;
            if (opcode == 0x8) {
                return false;
            }
            if (opcode == 0x9) {
                beast::error_code ignored;
                send_frame(0xA, payload, ignored);
            } else if (opcode == 0x1 || opcode == 0x2 || opcode == 0x0) {
                // A message in several frames is put together; one frame is
                // read where it lies.
                if (opcode != 0x0) {
                    message_binary_ = opcode == 0x2;
                }
                if (fin && message_.empty()) {
                    stats_.record(now, payload, message_binary_, binary_);
                } else {
                    message_ += payload;
                    if (fin) {
                        stats_.record(now, message_, message_binary_, binary_);
                        message_.clear();
                    }
                }
            }
        }
        std::memmove(buffer_.data(), buffer_.data() + at, used_ - at);
        used_ -= at;
        return true;
    }

    static constexpr std::size_t kReadBytes = 256 * 1024;
    tcp::socket socket_;
    Stats& stats_;
    std::string subscribe_;
    bool binary_;
    std::function<void(bool)> ready_;
    std::string handshake_;
    std::vector<char> buffer_;
    std::size_t used_ = 0;
    std::string message_;  // a fragmented message so far
    bool message_binary_ = false;
};

class BeastClient : public BenchClient, public std::enable_shared_from_this<BeastClient> {
  public:
    BeastClient(asio::io_context& io, Stats& stats, std::string subscribe, bool binary)
        : ws_(asio::make_strand(io)),
          stats_(stats),
          subscribe_(std::move(subscribe)),
          binary_(binary) {}

    void start(unsigned short port, std::function<void(bool)> ready) override {
        ready_ = std::move(ready);
        beast::get_lowest_layer(ws_).async_connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
            [self = shared_from_this(), this](beast::error_code error) {
                if (error) {
                    return ready_(false);
                }
                ws_.async_handshake("127.0.0.1", "/api/v1/ws", [self, this](beast::error_code e) {
                    if (e) {
                        return ready_(false);
                    }
                    ws_.read_message_max(256 << 20);
                    ws_.async_write(asio::buffer(subscribe_),
                                    [self, this](beast::error_code w, std::size_t) {
                                        ready_(!w);
                                        read();
                                    });
                });
            });
    }
    void close() override {
        asio::post(ws_.get_executor(), [self = shared_from_this(), this] {
            beast::error_code ignored;
            beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
            beast::get_lowest_layer(ws_).close();
        });
    }

  private:
    void read() {
        ws_.async_read(
            buffer_, [self = shared_from_this(), this](beast::error_code error, std::size_t bytes) {
                if (error) {
                    return;
                }
                const auto data = buffer_.data();
                stats_.record(monotonic_ns(),
                              std::string_view(static_cast<const char*>(data.data()), bytes),
                              ws_.got_binary(), binary_);
                buffer_.consume(buffer_.size());
                read();
            });
    }

    websocket::stream<beast::tcp_stream> ws_;
    beast::flat_buffer buffer_;
    Stats& stats_;
    std::string subscribe_;
    bool binary_;
    std::function<void(bool)> ready_;
};

struct Row {
    std::string what;
    std::string client_kind;
    int clients = 0;
    double rate_per_client_hz = 0;
    double total_messages_per_s = 0;
    double mib_per_s = 0;
    double p50_ms = 0, p99_ms = 0, max_ms = 0;
    double bridge_cpu_percent = 0;  // of one core
    double bridge_rss_mib = 0;
    double bridge_peak_rss_mib = 0;
    double client_cpu_percent = 0;  // this process: the clients
};

Row measure(const Bridge& bridge, const std::string& what, ClientKind kind, int count, bool binary,
            double duration_s) {
    asio::io_context io;
    Stats stats;
    const std::string subscribe = binary
                                      ? R"({"action":"subscribe","view":"heatmap","rate_hz":10})"
                                      : R"({"action":"subscribe","view":"summary","rate_hz":10})";
    std::vector<std::shared_ptr<BenchClient>> clients;
    int ready = 0, failed = 0;
    for (int i = 0; i < count; ++i) {
        if (kind == ClientKind::lean) {
            clients.push_back(std::make_shared<LeanClient>(io, stats, subscribe, binary));
        } else {
            clients.push_back(std::make_shared<BeastClient>(io, stats, subscribe, binary));
        }
        clients.back()->start(bridge.port, [&](bool ok) { ok ? ++ready : ++failed; });
    }
    while (ready + failed < count) {
        io.run_for(std::chrono::milliseconds(50));
    }
    if (failed > 0) {
        fmt::print(stderr, "warning: {} of {} clients failed to connect\n", failed, count);
    }
    io.run_for(std::chrono::seconds(2));  // warm up: first frames, TCP windows
    stats.measuring = true;
    const double cpu_before = process_cpu_s(bridge.pid);
    const double client_before = process_cpu_s(getpid());
    const auto start = std::chrono::steady_clock::now();
    io.run_for(std::chrono::milliseconds(static_cast<std::int64_t>(duration_s * 1000)));
    const double wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    stats.measuring = false;
    const double cpu_after = process_cpu_s(bridge.pid);
    const double client_after = process_cpu_s(getpid());
    Row row;
    row.what = what;
    row.client_kind = kind == ClientKind::lean ? "lean" : "beast";
    row.clients = ready;
    row.total_messages_per_s = static_cast<double>(stats.messages) / wall_s;
    row.rate_per_client_hz = ready > 0 ? row.total_messages_per_s / ready : 0;
    row.mib_per_s = static_cast<double>(stats.bytes) / wall_s / (1 << 20);
    std::sort(stats.latencies_ms.begin(), stats.latencies_ms.end());
    row.p50_ms = bench::percentile_sorted(stats.latencies_ms, 0.50);
    row.p99_ms = bench::percentile_sorted(stats.latencies_ms, 0.99);
    row.max_ms = stats.latencies_ms.empty() ? NAN : stats.latencies_ms.back();
    row.bridge_cpu_percent = 100.0 * (cpu_after - cpu_before) / wall_s;
    row.client_cpu_percent = 100.0 * (client_after - client_before) / wall_s;
    row.bridge_rss_mib = process_memory_mib(bridge.pid, "VmRSS");
    row.bridge_peak_rss_mib = process_memory_mib(bridge.pid, "VmHWM");
    for (auto& client : clients) {
        client->close();
    }
    io.run_for(std::chrono::milliseconds(500));
    return row;
}

int run(const std::string& bridge_binary, const std::vector<ClientKind>& kinds,
        const std::vector<int>& summary_clients, int binary_clients, double seconds,
        unsigned threads, bool json);

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "WebSocket fan-out of brt-ws-bridge: delivered rate, publish-to-receipt "
        "latency, bridge CPU and memory",
        "bench_ws_fanout"};
    std::string bridge_binary =
        (std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "ws_bridge" /
         "brt-ws-bridge")
            .string();
    std::vector<int> summary_clients = {100, 1000};
    int binary_clients = 20;
    double seconds = 10;
    unsigned threads = 2;
    bool json = false;
    app.add_option("--bridge", bridge_binary, "brt-ws-bridge binary")->capture_default_str();
    app.add_option("--summary-clients", summary_clients, "Client counts for the summary runs")
        ->delimiter(',')
        ->capture_default_str();
    app.add_option("--binary-clients", binary_clients, "Clients of full-system heatmaps (0: skip)")
        ->capture_default_str();
    std::vector<std::string> client_kinds = {"lean", "beast"};
    app.add_option("--client", client_kinds,
                   "Kinds of client, each measured in turn: lean (parses the frames itself) "
                   "or beast (Boost.Beast, validates UTF-8)")
        ->delimiter(',')
        ->check(CLI::IsMember({"lean", "beast"}))
        ->capture_default_str();
    app.add_option("--seconds", seconds, "Measurement time per run")->capture_default_str();
    app.add_option("--threads", threads, "The bridge's I/O threads")->capture_default_str();
    app.add_flag("--json", json, "One JSON object on stdout");
    CLI11_PARSE(app, argc, argv);
    std::vector<ClientKind> kinds;
    for (const std::string& kind : client_kinds) {
        kinds.push_back(kind == "lean" ? ClientKind::lean : ClientKind::beast);
    }
    try {
        return run(bridge_binary, kinds, summary_clients, binary_clients, seconds, threads, json);
    } catch (const std::exception& error) {
        // Reached after the bridge and the segment were cleaned up by their destructors.
        fmt::print(stderr, "bench_ws_fanout: error: {}\n", error.what());
        return 1;
    }
}

namespace {

int run(const std::string& bridge_binary, const std::vector<ClientKind>& kinds,
        const std::vector<int>& summary_clients, int binary_clients, double seconds,
        unsigned threads, bool json) {
    // Every client is a socket here and one in the bridge.
    int most_clients = binary_clients;
    for (const int count : summary_clients) {
        most_clients = std::max(most_clients, count);
    }
    const std::uint64_t wanted = static_cast<std::uint64_t>(most_clients) + 64;
    if (raise_open_file_limit(wanted) < wanted) {
        throw std::runtime_error(fmt::format(
            "the open-file limit allows fewer than {} descriptors: raise the hard limit "
            "(ulimit -Hn) or run fewer clients",
            wanted));
    }
    const Geometry geometry{20, 10, 32};
    bench::BenchSegment segment("ws_fanout", geometry, kDefaultSlots);
    // Plausible values, a little different from cell to cell.
    const bench::PacedWriter writer(
        segment.name(), geometry, std::chrono::milliseconds(100),
        [](int field, std::uint64_t cell) {
            constexpr float kBase[6] = {3.7f, 10.0f, 25.0f, 0.6f, 0.0004f, 0.99f};
            return kBase[field] * (1.0f + 0.01f * static_cast<float>(cell % 17) / 17.0f);
        },
        RackRecord{10.0f, 25.0f, 5, 1});
    Bridge bridge;
    start_bridge(bridge, bridge_binary, segment.name(), threads);
    std::this_thread::sleep_for(std::chrono::seconds(1));

    std::vector<Row> rows;
    for (const ClientKind kind : kinds) {
        for (int count : summary_clients) {
            rows.push_back(measure(bridge, "summary 10 Hz", kind, count, false, seconds));
        }
        if (binary_clients > 0) {
            rows.push_back(measure(bridge, "heatmap 10 Hz (6400 cells x 7 fields)", kind,
                                   binary_clients, true, seconds));
        }
    }

    if (json) {
        JsonWriter out;
        out.begin_object().key("machine").value(bench::machine_line());
        out.key("cells").value(geometry.cell_count()).key("bridge_threads").value(threads);
        out.key("rows").begin_array();
        for (const Row& row : rows) {
            out.begin_object()
                .key("view")
                .value(row.what)
                .key("client")
                .value(row.client_kind)
                .key("clients")
                .value(static_cast<std::int64_t>(row.clients))
                .key("rate_per_client_hz")
                .value(row.rate_per_client_hz)
                .key("messages_per_s")
                .value(row.total_messages_per_s)
                .key("mib_per_s")
                .value(row.mib_per_s)
                .key("p50_ms")
                .value(row.p50_ms)
                .key("p99_ms")
                .value(row.p99_ms)
                .key("max_ms")
                .value(row.max_ms)
                .key("bridge_cpu_percent")
                .value(row.bridge_cpu_percent)
                .key("bridge_rss_mib")
                .value(row.bridge_rss_mib)
                .key("bridge_peak_rss_mib")
                .value(row.bridge_peak_rss_mib)
                .key("client_cpu_percent")
                .value(row.client_cpu_percent)
                .end_object();
        }
        out.end_array().end_object();
        fmt::print("{}\n", out.str());
        return 0;
    }
    fmt::print("{}\nwriter 10 frames/s, {} cells; bridge {} I/O threads; {} s per run\n",
               bench::machine_line(), geometry.cell_count(), threads, seconds);
    fmt::print("{:<38} {:<6} {:>7} {:>9} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8}\n", "view",
               "client", "clients", "Hz/client", "msgs/s", "MiB/s", "p50 ms", "p99 ms", "max ms",
               "bridge", "clients", "RSS MiB");
    fmt::print("{:<38} {:<6} {:>7} {:>9} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8}\n", "", "",
               "", "", "", "", "", "", "", "CPU", "CPU", "bridge");
    for (const Row& row : rows) {
        fmt::print(
            "{:<38} {:<6} {:>7} {:>9.2f} {:>8.0f} {:>7.1f} {:>7.2f} {:>7.2f} {:>7.1f} {:>6.0f}% "
            "{:>6.0f}% {:>8.1f}\n",
            row.what, row.client_kind, row.clients, row.rate_per_client_hz,
            row.total_messages_per_s, row.mib_per_s, row.p50_ms, row.p99_ms, row.max_ms,
            row.bridge_cpu_percent, row.client_cpu_percent, row.bridge_rss_mib);
    }
    return 0;
}

}  // namespace
