// End-to-end latency of brt-mqtt-bridge: a writer publishes frames at 10 Hz,
// the bridge publishes the system and rack summaries of every frame
// (--summary-rate 10) to a local Mosquitto this benchmark starts, and a
// subscriber in this process (libmosquitto) measures, for every rack
// summary, the time from the frame's publish (its CLOCK_MONOTONIC stamp,
// carried in the payload) to its own receipt: same host, same clock. The
// bridge's and the broker's CPU come from /proc over the same window.
// Prints "skipped" and exits 0 without mosquitto.
#include <fcntl.h>
#include <fmt/format.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "bench/bench_support.hpp"
#include "bench/paced_writer.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/clock.hpp"

using namespace brt;

namespace {

// A child process killed (SIGTERM) and reaped when this goes out of scope.
struct Child {
    pid_t pid = -1;
    Child() = default;
    Child(const std::vector<std::string>& args, const std::string& log) {
        std::vector<char*> argv;
        std::vector<std::string> copy = args;
        for (auto& arg : copy) {
            argv.push_back(arg.data());
        }
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
            throw std::runtime_error("cannot start " + args[0]);
        }
        posix_spawn_file_actions_destroy(&actions);
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (pid > 0) {
            kill(pid, SIGTERM);
            waitpid(pid, nullptr, 0);
        }
    }
};

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

int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    close(fd);
    return ntohs(address.sin_port);
}

std::string find_mosquitto() {
    if (const char* given = std::getenv("BRT_MOSQUITTO")) {
        return given;
    }
    for (const char* path : {"/usr/sbin/mosquitto", "/usr/bin/mosquitto",
                             "/usr/local/sbin/mosquitto", "/usr/local/bin/mosquitto"}) {
        if (access(path, X_OK) == 0) {
            return path;
        }
    }
    return {};
}

struct Receipts {
    std::mutex mutex;
    std::vector<double> rack_latency_ms;       // every rack summary
    std::vector<double> last_rack_latency_ms;  // the last rack of each frame (sent last)
    std::string last_rack_topic;
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    bool recording = false;
};

void on_message(mosquitto*, void* self, const mosquitto_message* message) {
    const std::uint64_t now_ns = monotonic_ns();
    auto& receipts = *static_cast<Receipts*>(self);
    const std::string_view payload(static_cast<const char*>(message->payload),
                                   static_cast<std::size_t>(message->payloadlen));
    constexpr std::string_view kKey = "\"publish_monotonic_ns\":";
    const auto at = payload.find(kKey);
    if (at == std::string_view::npos) {
        return;
    }
    const std::uint64_t published_ns =
        std::strtoull(payload.data() + at + kKey.size(), nullptr, 10);
    const double latency_ms = static_cast<double>(now_ns - published_ns) / 1e6;
    std::lock_guard lock(receipts.mutex);
    if (!receipts.recording) {
        return;
    }
    ++receipts.messages;
    receipts.bytes += payload.size();
    if (std::string_view(message->topic).find("/telemetry/rack/") != std::string_view::npos) {
        receipts.rack_latency_ms.push_back(latency_ms);
        if (receipts.last_rack_topic == message->topic) {
            receipts.last_rack_latency_ms.push_back(latency_ms);
        }
    }
}

struct Result {
    std::uint32_t racks = 0;
    std::uint64_t cells = 0;
    std::uint64_t frames = 0;
    std::uint64_t messages = 0;
    double megabytes_per_s = 0;
    double p50_ms = 0, p99_ms = 0, max_ms = 0;
    double last_p50_ms = 0, last_p99_ms = 0;
    double bridge_cpu_percent = 0;
    double broker_cpu_percent = 0;
};

Result measure(const std::string& bridge_binary, const std::string& mosquitto_path,
               std::uint32_t racks, double seconds) {
    const Geometry geometry{racks, 10, 32};
    bench::BenchSegment segment("mqtt", geometry, kDefaultSlots);
    const bench::PacedWriter writer(
        segment.name(), geometry, std::chrono::milliseconds(100),
        [](int field, std::uint64_t cell) {
            constexpr float kBase[6] = {3.7f, 10.0f, 25.0f, 0.6f, 0.0004f, 0.99f};
            return kBase[field] * (1.0f + 0.01f * static_cast<float>(cell % 17) / 17.0f);
        },
        RackRecord{10.0f, 25.0f, 5, 1});
    const int port = free_port();
    const std::string stem = fmt::format("/tmp/bench_mqtt_{}", getpid());
    {
        std::ofstream conf(stem + ".conf");
        conf << "listener " << port << " 127.0.0.1\nallow_anonymous true\npersistence false\n"
             << "set_tcp_nodelay true\n";
        if (geteuid() == 0) {
            conf << "user root\n";
        }
    }
    const Child broker({mosquitto_path, "-c", stem + ".conf"}, stem + ".mosquitto.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));

    Receipts receipts;
    receipts.last_rack_topic = fmt::format("brt/bench/n/telemetry/rack/{}", racks - 1);
    mosquitto_lib_init();
    mosquitto* client = mosquitto_new(nullptr, true, &receipts);
    mosquitto_message_callback_set(client, on_message);
    mosquitto_int_option(client, MOSQ_OPT_TCP_NODELAY, 1);
    if (mosquitto_connect(client, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS) {
        throw std::runtime_error("cannot connect to the benchmark's mosquitto");
    }
    mosquitto_subscribe(client, nullptr, "brt/bench/n/telemetry/#", 0);
    mosquitto_loop_start(client);

    const Child bridge(
        {bridge_binary, "--shm-name", segment.name(), "--broker-port", std::to_string(port),
         "--site", "bench", "--node", "n", "--summary-rate", "10", "--startup-grace", "3600"},
        stem + ".bridge.log");
    std::this_thread::sleep_for(std::chrono::seconds(2));  // connected, steady
    const std::uint64_t frames_before = writer.published();
    const double bridge_before = process_cpu_s(bridge.pid);
    const double broker_before = process_cpu_s(broker.pid);
    const auto start = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(receipts.mutex);
        receipts.recording = true;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    {
        std::lock_guard lock(receipts.mutex);
        receipts.recording = false;
    }
    const double elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Result result;
    result.bridge_cpu_percent = 100 * (process_cpu_s(bridge.pid) - bridge_before) / elapsed_s;
    result.broker_cpu_percent = 100 * (process_cpu_s(broker.pid) - broker_before) / elapsed_s;
    result.frames = writer.published() - frames_before;
    mosquitto_disconnect(client);
    mosquitto_loop_stop(client, false);
    mosquitto_destroy(client);
    mosquitto_lib_cleanup();

    std::lock_guard lock(receipts.mutex);
    std::sort(receipts.rack_latency_ms.begin(), receipts.rack_latency_ms.end());
    std::sort(receipts.last_rack_latency_ms.begin(), receipts.last_rack_latency_ms.end());
    result.racks = racks;
    result.cells = geometry.cell_count();
    result.messages = receipts.messages;
    result.megabytes_per_s = static_cast<double>(receipts.bytes) / 1e6 / elapsed_s;
    result.p50_ms = bench::percentile_sorted(receipts.rack_latency_ms, 0.50);
    result.p99_ms = bench::percentile_sorted(receipts.rack_latency_ms, 0.99);
    result.max_ms = receipts.rack_latency_ms.empty() ? 0 : receipts.rack_latency_ms.back();
    result.last_p50_ms = bench::percentile_sorted(receipts.last_rack_latency_ms, 0.50);
    result.last_p99_ms = bench::percentile_sorted(receipts.last_rack_latency_ms, 0.99);
    for (const char* suffix : {".conf", ".mosquitto.log", ".bridge.log"}) {
        std::filesystem::remove(stem + suffix);
    }
    return result;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "brt-mqtt-bridge end to end: frame publish to a subscriber's receipt of the rack "
        "summaries through a local Mosquitto, and the bridge's CPU",
        "bench_mqtt_latency"};
    std::string bridge_binary =
        (std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() /
         "mqtt_bridge" / "brt-mqtt-bridge")
            .string();
    std::vector<std::uint32_t> rack_counts = {20, 100};
    double seconds = 10;
    bool json = false;
    app.add_option("--bridge", bridge_binary, "brt-mqtt-bridge binary")->capture_default_str();
    app.add_option("--racks", rack_counts, "Rack counts (x 10 modules x 32 cells), one run each")
        ->delimiter(',')
        ->capture_default_str();
    app.add_option("--seconds", seconds, "Measurement time per run")->capture_default_str();
    app.add_flag("--json", json, "One JSON object per run on stdout");
    CLI11_PARSE(app, argc, argv);
    const std::string mosquitto_path = find_mosquitto();
    if (mosquitto_path.empty()) {
        fmt::print(
            "bench_mqtt_latency: skipped: mosquitto is not installed "
            "(apt-get install mosquitto)\n");
        return 0;
    }
    try {
        if (!json) {
            fmt::print("bench_mqtt_latency: {}\n", bench::machine_line());
            fmt::print("writer 10 Hz, bridge --summary-rate 10, QoS 0, subscriber in process\n");
            fmt::print("{:>6} {:>7} {:>7} {:>9} {:>8} {:>8} {:>8} {:>10} {:>10} {:>9} {:>9}\n",
                       "racks", "cells", "frames", "msgs/s", "MB/s", "p50 ms", "p99 ms", "last p50",
                       "last p99", "bridge %", "broker %");
        }
        for (const std::uint32_t racks : rack_counts) {
            const Result r = measure(bridge_binary, mosquitto_path, racks, seconds);
            if (json) {
                JsonWriter out;
                out.begin_object();
                out.key("benchmark").value("bench_mqtt_latency");
                out.key("racks").value(r.racks);
                out.key("cells").value(r.cells);
                out.key("frames").value(r.frames);
                out.key("messages_per_s").value(static_cast<double>(r.messages) / seconds);
                out.key("megabytes_per_s").value(r.megabytes_per_s);
                out.key("latency_p50_ms").value(r.p50_ms);
                out.key("latency_p99_ms").value(r.p99_ms);
                out.key("latency_max_ms").value(r.max_ms);
                out.key("last_rack_p50_ms").value(r.last_p50_ms);
                out.key("last_rack_p99_ms").value(r.last_p99_ms);
                out.key("bridge_cpu_percent").value(r.bridge_cpu_percent);
                out.key("broker_cpu_percent").value(r.broker_cpu_percent);
                out.key("machine").value(bench::machine_line());
                out.end_object();
                fmt::print("{}\n", out.str());
            } else {
                fmt::print(
                    "{:>6} {:>7} {:>7} {:>9.0f} {:>8.2f} {:>8.2f} {:>8.2f} {:>10.2f} {:>10.2f} "
                    "{:>9.2f} {:>9.2f}\n",
                    r.racks, r.cells, r.frames, static_cast<double>(r.messages) / seconds,
                    r.megabytes_per_s, r.p50_ms, r.p99_ms, r.last_p50_ms, r.last_p99_ms,
                    r.bridge_cpu_percent, r.broker_cpu_percent);
            }
        }
    } catch (const std::exception& error) {
        fmt::print(stderr, "bench_mqtt_latency: error: {}\n", error.what());
        return 1;
    }
    return 0;
}
