#include "ws_bridge/bridge_client.hpp"

#include <signal.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <regex>
#include <stdexcept>
#include <thread>

#include "support/run_command.hpp"
#include "support/test_segment.hpp"

namespace brt::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// Runs `io` until `done` or the deadline; false on timeout.
bool run_until(asio::io_context& io, const bool& done,
               std::chrono::steady_clock::time_point deadline) {
    io.restart();
    while (!done) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            return false;
        }
        if (io.run_one_for(deadline - now) == 0 && io.stopped()) {
            io.restart();
        }
    }
    return true;
}

std::string lower(std::string text) {
    for (char& c : text) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return text;
}

}  // namespace

HttpResult http_request(unsigned short port, const std::string& method, const std::string& target,
                        const std::string& body,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        std::chrono::milliseconds timeout) {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(timeout);
    bool done = false;
    beast::error_code error;
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    stream.async_connect(endpoint, [&](beast::error_code e) {
        error = e;
        done = true;
    });
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if (!run_until(io, done, deadline) || error) {
        throw std::runtime_error("connect to bridge failed: " + error.message());
    }
    http::request<http::string_body> request(http::string_to_verb(method), target, 11);
    request.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) {
        request.set(name, value);
    }
    request.body() = body;
    request.prepare_payload();
    done = false;
    http::async_write(stream, request, [&](beast::error_code e, std::size_t) {
        error = e;
        done = true;
    });
    if (!run_until(io, done, deadline) || error) {
        throw std::runtime_error("HTTP write failed: " + error.message());
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    done = false;
    http::async_read(stream, buffer, parser, [&](beast::error_code e, std::size_t) {
        error = e;
        done = true;
    });
    if (!run_until(io, done, deadline) || error) {
        throw std::runtime_error("HTTP read failed: " + error.message());
    }
    HttpResult result;
    const auto& response = parser.get();
    result.status = response.result_int();
    result.body = response.body();
    for (const auto& field : response) {
        result.headers[lower(std::string(field.name_string()))] = std::string(field.value());
    }
    return result;
}

namespace {

// What comes back on `socket` until the peer closes it or the timeout.
RawReply read_until_closed(asio::io_context& io, tcp::socket& socket,
                           std::chrono::milliseconds timeout) {
    RawReply reply;
    std::string& received = reply.bytes;
    char chunk[4096];
    bool done = false;
    std::function<void()> read_more = [&] {
        socket.async_read_some(asio::buffer(chunk), [&](beast::error_code e, std::size_t n) {
            received.append(chunk, n);
            if (e) {
                done = true;
            } else {
                read_more();
            }
        });
    };
    read_more();
    reply.closed_by_server = run_until(io, done, std::chrono::steady_clock::now() + timeout);
    return reply;
}

}  // namespace

std::string raw_exchange(unsigned short port, const std::string& bytes,
                         std::chrono::milliseconds timeout) {
    return raw_exchange_until_closed(port, bytes, timeout).bytes;
}

RawReply raw_exchange_until_closed(unsigned short port, const std::string& bytes,
                                   std::chrono::milliseconds timeout) {
    asio::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    beast::error_code error;
    asio::write(socket, asio::buffer(bytes), error);
    return read_until_closed(io, socket, timeout);
}

std::string raw_websocket_exchange(unsigned short port, const std::string& path,
                                   const std::vector<std::string>& texts,
                                   std::chrono::milliseconds timeout) {
    return raw_websocket_until_closed(port, path, texts, timeout).bytes;
}

RawReply raw_websocket_until_closed(unsigned short port, const std::string& path,
                                    const std::vector<std::string>& texts,
                                    std::chrono::milliseconds timeout) {
    asio::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    asio::write(socket, asio::buffer("GET " + path +
                                     " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                     "Connection: Upgrade\r\n"
                                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                     "Sec-WebSocket-Version: 13\r\n\r\n"));
    // A client sends nothing more before the server's answer (RFC 6455 4.1).
    std::string response;
    const std::size_t end = asio::read_until(socket, asio::dynamic_buffer(response), "\r\n\r\n");
    if (!response.starts_with("HTTP/1.1 101")) {
        throw std::runtime_error("WebSocket handshake refused: " + response.substr(0, end));
    }
    for (const std::string& text : texts) {
        if (text.size() >= 126) {
            throw std::invalid_argument("raw_websocket_exchange sends short texts only");
        }
        const std::string frame =
            std::string{'\x81', static_cast<char>(0x80 | text.size()), 0, 0, 0, 0} + text;
        asio::write(socket, asio::buffer(frame));
    }
    RawReply reply = read_until_closed(io, socket, timeout);
    reply.bytes.insert(0, response.substr(end));
    return reply;
}

struct WsClient::Impl {
    asio::io_context io;
    websocket::stream<beast::tcp_stream> ws{io};
    beast::flat_buffer buffer;
    std::deque<WsMessage> received;
    bool closed = false;
    bool reading = false;
    unsigned pings = 0;

    void start_read() {
        reading = true;
        ws.async_read(buffer, [this](beast::error_code error, std::size_t) {
            reading = false;
            if (error) {
                closed = true;
                return;
            }
            received.push_back({ws.got_binary(), beast::buffers_to_string(buffer.data())});
            buffer.consume(buffer.size());
            start_read();
        });
    }
};

WsClient::WsClient(unsigned short port, const std::string& path) : impl_(std::make_unique<Impl>()) {
    auto& lowest = beast::get_lowest_layer(impl_->ws);
    lowest.expires_after(10s);
    lowest.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    websocket::response_type response;
    beast::error_code error;
    bool done = false;
    impl_->ws.async_handshake(response, "127.0.0.1", path, [&](beast::error_code e) {
        error = e;
        done = true;
    });
    if (!run_until(impl_->io, done, std::chrono::steady_clock::now() + 10s) || error) {
        throw std::runtime_error("WebSocket handshake failed: " + error.message() + " (HTTP " +
                                 std::to_string(response.result_int()) + ": " + response.body() +
                                 ")");
    }
    lowest.expires_never();
    impl_->ws.read_message_max(64 * 1024 * 1024);
    impl_->ws.control_callback(
        [impl = impl_.get()](websocket::frame_type kind, beast::string_view) {
            if (kind == websocket::frame_type::ping) {
                ++impl->pings;
            }
        });
    impl_->start_read();
}

WsClient::~WsClient() {
    if (!impl_->closed) {
        beast::error_code ignored;
        beast::get_lowest_layer(impl_->ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(impl_->ws).close();
    }
}

void WsClient::send(const std::string& text) {
    bool done = false;
    beast::error_code error;
    impl_->ws.text(true);
    impl_->ws.async_write(asio::buffer(text), [&](beast::error_code e, std::size_t) {
        error = e;
        done = true;
    });
    if (!run_until(impl_->io, done, std::chrono::steady_clock::now() + 10s)) {
        throw std::runtime_error("WebSocket write timed out");
    }
    if (error) {
        impl_->closed = true;
    }
}

std::optional<WsMessage> WsClient::read(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool have = !impl_->received.empty();
    impl_->io.restart();
    while (!have && !impl_->closed && std::chrono::steady_clock::now() < deadline) {
        impl_->io.run_one_for(deadline - std::chrono::steady_clock::now());
        have = !impl_->received.empty();
    }
    if (impl_->received.empty()) {
        return std::nullopt;
    }
    WsMessage message = std::move(impl_->received.front());
    impl_->received.pop_front();
    return message;
}

std::optional<Json> WsClient::read_type(const std::string& type,
                                        std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        const auto message = read(std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now()));
        if (!message) {
            return std::nullopt;
        }
        if (!message->binary) {
            Json json = message->json();
            if (json.value("type", "") == type) {
                return json;
            }
        }
    }
    return std::nullopt;
}

std::optional<WsMessage> WsClient::read_binary(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        auto message = read(std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now()));
        if (!message) {
            return std::nullopt;
        }
        if (message->binary) {
            return message;
        }
    }
    return std::nullopt;
}

bool WsClient::closed() const {
    return impl_->closed;
}

unsigned WsClient::close_code() const {
    return static_cast<unsigned>(impl_->ws.reason().code);
}

unsigned WsClient::pings_received() const {
    return impl_->pings;
}

BridgeProcess::BridgeProcess(const std::string& shm_name,
                             const std::vector<std::string>& extra_args,
                             const std::vector<std::string>& extra_env)
    : log_path_("/tmp/" + unique_segment_name("bridge") + ".log") {
    std::vector<std::string> argv = {tool_path("BRT_WS_BRIDGE"), "--shm-name", shm_name, "--listen",
                                     "127.0.0.1:0"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    pid_ = spawn_background(argv, log_path_, extra_env);
    const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
    const bool started = eventually(
        [&] {
            std::smatch match;
            const std::string text = read_file(log_path_);
            if (std::regex_search(text, match, listening)) {
                port_ = static_cast<unsigned short>(std::stoi(match[1]));
                return true;
            }
            return false;
        },
        30s);
    if (!started) {
        const std::string text = log();
        stop(2000);
        throw std::runtime_error("brt-ws-bridge did not start listening: " + text);
    }
}

BridgeProcess::~BridgeProcess() {
    stop(5000);
    unlink(log_path_.c_str());
}

std::string BridgeProcess::log() const {
    return read_file(log_path_);
}

int BridgeProcess::stop(int timeout_ms) {
    if (pid_ <= 0) {
        return -1;
    }
    kill(pid_, SIGTERM);
    const int code = wait_for_exit(pid_, timeout_ms);
    pid_ = -1;
    return code;
}

}  // namespace brt::test
