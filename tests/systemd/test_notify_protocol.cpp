// The sd_notify protocol of every Type=notify tool, as systemd would see it
// (systemd/brt-*@.service): READY=1 once the tool is serving, WATCHDOG=1
// every WATCHDOG_USEC/2 from its main loop, and no ping while that loop is
// stuck, so that systemd's watchdog would restart it. No systemd is needed:
// the test is the notification socket.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <thread>

#include "common/segment/segment_reader.hpp"
#include "support/run_command.hpp"
#include "support/test_segment.hpp"
#include "systemd/notify_socket.hpp"

using namespace brt;
using namespace std::chrono_literals;

namespace {

// What a tool under test was started with.
struct Context {
    std::string segment;
    int port = 0;
};

// Checks, when READY=1 arrives, that the tool is really serving.
bool frames_published(const Context& context) {
    SegmentReader reader(context.segment);
    reader.require_attached();
    return reader.latest_frame() >= 1;
}

bool accepts_connections(const Context& context) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(context.port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    close(fd);
    return connected;
}

// A reader that only watches shows nothing outside before its first alarm:
// READY=1 itself is the sign.
bool no_outside_sign(const Context&) {
    return true;
}

struct NotifyTool {
    const char* name;           // as in its unit, brt-<name>@.service
    const char* path_variable;  // the built tool, set by tests/meson.build
    bool needs_writer;          // a reader: a simulator publishes first
    bool listens;               // takes --listen 127.0.0.1:PORT
    bool (*serving)(const Context&);
};

// One line per Type=notify tool.
const NotifyTool kTools[] = {
    {"simulator", "BRT_SIMULATOR", false, false, frames_published},
    {"anomaly-monitor", "BRT_ANOMALY_MONITOR", true, false, no_outside_sign},
    {"ws-bridge", "BRT_WS_BRIDGE", true, true, accepts_connections},
    // Without a broker: it is ready once it reads the segment, and retries the broker.
    {"mqtt-bridge", "BRT_MQTT_BRIDGE", true, false, no_outside_sign},
};

// systemd's WatchdogSec as the tools see it; they ping every half of it.
constexpr auto kWatchdog = 2s;
constexpr auto kPingInterval = kWatchdog / 2;
constexpr int kPingsMeasured = 4;

bool has_line(const std::string& message, const std::string& line) {
    return ("\n" + message + "\n").find("\n" + line + "\n") != std::string::npos;
}

// The port a tool started with --listen 127.0.0.1:0 says it took.
int announced_port(const std::string& log) {
    const std::string marker = "listening on 127.0.0.1:";
    for (int i = 0; i < 500; ++i) {
        const std::string said = test::read_file(log);
        if (const auto at = said.find(marker); at != std::string::npos) {
            return std::atoi(said.c_str() + at + marker.size());
        }
        std::this_thread::sleep_for(10ms);
    }
    return 0;
}

bool running(pid_t pid) {
    int status = 0;
    return waitpid(pid, &status, WNOHANG) == 0;
}

// Removes the files a test made, however it ends.
struct RemoveOnExit {
    std::vector<std::string> paths;
    ~RemoveOnExit() {
        for (const auto& path : paths) {
            unlink(path.c_str());
        }
    }
};

// Everything the tool sent, and a way to wait for one message.
class Listener {
  public:
    explicit Listener(test::NotifySocket& socket) : socket_(socket) {}

    // The first message (after those already seen) with this line, waiting
    // up to `timeout`; every message received meanwhile goes to `seen`.
    std::optional<test::NotifyMessage> wait_for(const std::string& line,
                                                std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            auto message = socket_.receive(std::max(left, 1ms));
            if (!message) {
                continue;
            }
            seen.push_back(*message);
            if (has_line(message->text, line)) {
                return message;
            }
        }
        return std::nullopt;
    }
    // Whether any message with this line was seen.
    int count(const std::string& line) const {
        return static_cast<int>(std::count_if(seen.begin(), seen.end(), [&](const auto& message) {
            return has_line(message.text, line);
        }));
    }

    std::vector<test::NotifyMessage> seen;

  private:
    test::NotifySocket& socket_;
};

}  // namespace

TEST_CASE("every Type=notify tool: READY=1 when serving, WATCHDOG=1 from its main loop",
          "[systemd]") {
    // The tools under test must see only this test's socket.
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    for (const NotifyTool& tool : kTools) {
        // brt-mqtt-bridge is built only where libmosquitto is found.
        if (std::string_view(tool.name) == "mqtt-bridge" &&
            std::getenv(tool.path_variable) == nullptr) {
            continue;
        }
        const std::string path = test::tool_path(tool.path_variable);
        DYNAMIC_SECTION("brt-" << tool.name) {
            test::ScopedSegment scoped(std::string("notify-") + tool.name, Geometry{2, 2, 8});
            Context context{scoped.name(), 0};
            const std::string stem = "/tmp/" + test::unique_segment_name(tool.name);
            const std::string stall_file = stem + ".stall";
            const std::string log = stem + ".log";
            RemoveOnExit files{{stall_file, log, stem + ".writer.log"}};
            test::KillOnExit processes;

            if (tool.needs_writer) {
                processes.pids.push_back(test::spawn_background(
                    {test::tool_path("BRT_SIMULATOR"), "--shm-name", scoped.name()},
                    stem + ".writer.log"));
                SegmentReader reader(scoped.name());
                reader.require_attached();
                for (int i = 0; i < 2000 && reader.header().latest_frame.load() < 1; ++i) {
                    std::this_thread::sleep_for(10ms);
                }
                REQUIRE(reader.header().latest_frame.load() >= 1);
            }

            test::NotifySocket socket;
            // As its unit starts it: the default config file as installed,
            // the segment name from the instance.
            const char* config_dir = std::getenv("BRT_DEFAULT_CONFIG_DIR");
            REQUIRE(config_dir != nullptr);
            std::vector<std::string> argv = {path, "--config",
                                             std::string(config_dir) + "/" + tool.name + ".conf",
                                             "--shm-name", scoped.name()};
            if (tool.listens) {
                argv.insert(argv.end(), {"--listen", "127.0.0.1:0"});  // any free port
            }
            const pid_t pid = test::spawn_background(
                argv, log,
                {socket.environment(),
                 "WATCHDOG_USEC=" + std::to_string(std::chrono::microseconds(kWatchdog).count()),
                 "BRT_TEST_STALL_FILE=" + stall_file});
            processes.pids.push_back(pid);
            Listener listener(socket);

            // READY=1 once serving (checked the moment it arrives).
            if (!listener.wait_for("READY=1", 30s)) {
                FAIL("no READY=1 within 30 s; the tool said:\n" << test::read_file(log));
            }
            if (tool.listens) {
                context.port = announced_port(log);
                REQUIRE(context.port > 0);
            }
            CHECK(tool.serving(context));

            // WATCHDOG=1 keeps coming, every WATCHDOG_USEC/2: never late
            // enough for systemd to fire, never a flood.
            std::vector<std::chrono::nanoseconds> pings;
            while (static_cast<int>(pings.size()) < kPingsMeasured) {
                const auto ping = listener.wait_for("WATCHDOG=1", 10s);
                if (!ping) {
                    FAIL("WATCHDOG=1 stopped after " << pings.size() << " pings; the tool said:\n"
                                                     << test::read_file(log));
                }
                pings.push_back(ping->arrival);
            }
            for (std::size_t i = 1; i < pings.size(); ++i) {
                const auto gap_ms =
                    std::chrono::duration_cast<std::chrono::milliseconds>(pings[i] - pings[i - 1]);
                INFO("gap between pings " << i << " and " << i + 1 << ": " << gap_ms.count()
                                          << " ms");
                CHECK(gap_ms >= kPingInterval * 3 / 4);
                CHECK(gap_ms < kWatchdog);
            }

            // The main loop stuck (the test hook blocks it; the rest of the
            // process runs on): no ping for twice the watchdog period.
            std::ofstream{stall_file};
            if (!listener.wait_for("STATUS=stalled by BRT_TEST_STALL_FILE (test hook)", 15s)) {
                FAIL(
                    "the main loop never reached SystemdNotifier::stall_point_for_tests(); the "
                    "tool said:\n"
                    << test::read_file(log));
            }
            const auto stalled = listener.wait_for("WATCHDOG=1", 2 * kWatchdog);
            CHECK_FALSE(stalled.has_value());
            CHECK(running(pid));

            // Unstuck, it pings again at once (its interval has long passed).
            unlink(stall_file.c_str());
            CHECK(listener.wait_for("WATCHDOG=1", 15s).has_value());

            // SIGHUP (a closed terminal, a careless `kill -HUP`) stops it
            // as cleanly as SIGTERM, which the other tests send: exit 0
            // after STOPPING=1, not death by the signal.
            kill(pid, SIGHUP);
            CHECK(test::wait_for_exit(pid, 10000) == 0);
            CHECK(listener.wait_for("STOPPING=1", 5s).has_value());
            CHECK(listener.count("READY=1") == 1);
        }
    }
}
