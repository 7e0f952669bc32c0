#include "mqtt_bridge/mqtt_link.hpp"

#include <fmt/format.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>

#include "common/segment/errors.hpp"

namespace brt::mqtt {

namespace {

// libmosquitto's global state (OpenSSL among it), set up once per process.
void init_library_once() {
    static const int initialised = [] {
        mosquitto_lib_init();
        std::atexit([] { mosquitto_lib_cleanup(); });
        return 0;
    }();
    (void)initialised;
}

MqttLink& link_of(void* self) {
    return *static_cast<MqttLink*>(self);
}

// Publishes sent per flush_queued call: a long outage's backlog goes out
// over a few passes of the reader loop instead of stalling one.
constexpr std::size_t kFlushBatch = 500;

}  // namespace

std::string refusal_text(int protocol_version, int code) {
    if (protocol_version == 5) {
        switch (code) {
            case MQTT_RC_BAD_USERNAME_OR_PASSWORD:
                return "the broker refused the username or password (MQTT 5 reason 0x86)";
            case MQTT_RC_NOT_AUTHORIZED:
                return "the broker refused this client: not authorised (MQTT 5 reason 0x87); "
                       "check the username, the password file and the broker's ACL";
            case MQTT_RC_BANNED:
                return "the broker banned this client (MQTT 5 reason 0x8A)";
            case MQTT_RC_BAD_AUTHENTICATION_METHOD:
                return "the broker refused the authentication method (MQTT 5 reason 0x8C)";
            case MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION:
                return "the broker does not speak MQTT 5: try --mqtt-version 3.1.1";
            case MQTT_RC_CLIENTID_NOT_VALID:
                return "the broker refused the client id (MQTT 5 reason 0x85): set --client-id";
            default:
                return {};
        }
    }
    switch (code) {
        case CONNACK_REFUSED_PROTOCOL_VERSION:
            return "the broker refused MQTT 3.1.1 (CONNACK 1)";
        case CONNACK_REFUSED_IDENTIFIER_REJECTED:
            return "the broker refused the client id (CONNACK 2): set --client-id";
        case CONNACK_REFUSED_BAD_USERNAME_PASSWORD:
            return "the broker refused the username or password (CONNACK 4)";
        case CONNACK_REFUSED_NOT_AUTHORIZED:
            return "the broker refused this client: not authorised (CONNACK 5); check the "
                   "username, the password file and the broker's ACL";
        default:
            return {};
    }
}

MqttLink::MqttLink(LinkOptions options) : options_(std::move(options)) {
    init_library_once();
    client_ = mosquitto_new(options_.client_id.c_str(), true, this);
    if (client_ == nullptr) {
        throw std::runtime_error(
            fmt::format("cannot create an MQTT client: {}", errno_text(errno)));
    }
    mosquitto_threaded_set(client_, true);
    // A summary is one burst of small messages (one per rack): with Nagle's
    // algorithm all but the first would wait for the broker's delayed ACK
    // (40 ms on Linux).
    mosquitto_int_option(client_, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_int_option(client_, MOSQ_OPT_PROTOCOL_VERSION,
                         options_.protocol_version == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
    auto check = [](int rc, const std::string& what) {
        if (rc != MOSQ_ERR_SUCCESS) {
            throw UsageError(fmt::format("{}: {}", what, mosquitto_strerror(rc)));
        }
    };
    if (!options_.username.empty()) {
        check(mosquitto_username_pw_set(
                  client_, options_.username.c_str(),
                  options_.password.empty() ? nullptr : options_.password.c_str()),
              "--username");
    }
    if (!options_.ca_file.empty()) {
        check(mosquitto_tls_set(client_, options_.ca_file.c_str(), nullptr,
                                options_.cert_file.empty() ? nullptr : options_.cert_file.c_str(),
                                options_.key_file.empty() ? nullptr : options_.key_file.c_str(),
                                nullptr),
              fmt::format("TLS (--ca-file {}, --cert-file {}, --key-file {})", options_.ca_file,
                          options_.cert_file, options_.key_file));
    } else if (!options_.cert_file.empty() || !options_.key_file.empty()) {
        throw UsageError("--cert-file and --key-file need --ca-file (TLS)");
    }
    if (!options_.will_topic.empty()) {
        check(mosquitto_will_set(client_, options_.will_topic.c_str(),
                                 static_cast<int>(options_.will_payload.size()),
                                 options_.will_payload.data(), 1, options_.will_retain),
              "the Last Will");
    }
    mosquitto_connect_v5_callback_set(client_, &MqttLink::on_connect);
    mosquitto_disconnect_v5_callback_set(client_, &MqttLink::on_disconnect);
    mosquitto_message_v5_callback_set(client_, &MqttLink::on_message);
    mosquitto_publish_v5_callback_set(client_, &MqttLink::on_publish);
}

MqttLink::~MqttLink() {
    if (network_.joinable()) {
        stopping_ = true;
        mosquitto_disconnect(client_);
        network_.join();
    }
    mosquitto_destroy(client_);
}

std::string MqttLink::broker_text() const {
    return fmt::format("{}://{}:{} (MQTT {})", options_.ca_file.empty() ? "mqtt" : "mqtts",
                       options_.host, options_.port,
                       options_.protocol_version == 5 ? "5" : "3.1.1");
}

void MqttLink::start() {
    network_ = std::thread([this] { run_network(); });
}

void MqttLink::run_network() {
    std::minstd_rand jitter(static_cast<unsigned>(getpid()));
    double delay_s = options_.reconnect_min_s;
    bool first = true;
    while (!stopping_) {
        if (options_.will_payload_before_connect) {
            const std::string will = options_.will_payload_before_connect();
            mosquitto_will_set(client_, options_.will_topic.c_str(), static_cast<int>(will.size()),
                               will.data(), 1, options_.will_retain);
        }
        const int rc = first ? mosquitto_connect(client_, options_.host.c_str(), options_.port,
                                                 options_.keepalive_s)
                             : mosquitto_reconnect(client_);
        first = false;
        if (rc == MOSQ_ERR_TLS) {
            set_fatal(
                fmt::format("TLS handshake with {} failed: check --ca-file, --cert-file "
                            "and --key-file against the broker's certificate",
                            broker_text()));
            return;
        }
        if (rc == MOSQ_ERR_SUCCESS) {
            // Serve the connection until it ends; CONNACK arrives in here.
            int loop_rc = MOSQ_ERR_SUCCESS;
            while (!stopping_ && loop_rc == MOSQ_ERR_SUCCESS) {
                loop_rc = mosquitto_loop(client_, 100, 1);
            }
            if (stopping_) {
                // stop() asked for a clean DISCONNECT: let it go out.
                for (int i = 0; i < 20 && mosquitto_loop(client_, 50, 1) == MOSQ_ERR_SUCCESS; ++i) {
                }
                break;
            }
            if (loop_rc == MOSQ_ERR_TLS) {
                set_fatal(
                    fmt::format("TLS with {} failed: check --ca-file, --cert-file and "
                                "--key-file against the broker's certificate",
                                broker_text()));
                return;
            }
            if (fatal_error()) {
                return;
            }
            connected_ = false;
            set_problem(fmt::format(
                "connection to {} lost: {}", broker_text(),
                loop_rc == MOSQ_ERR_ERRNO ? errno_text(errno) : mosquitto_strerror(loop_rc)));
        } else {
            set_problem(
                fmt::format("cannot connect to {}: {}", broker_text(),
                            rc == MOSQ_ERR_ERRNO ? errno_text(errno) : mosquitto_strerror(rc)));
        }
        if (connected_reset_.exchange(false)) {
            delay_s = options_.reconnect_min_s;  // the last connection worked: start again
        }
        // Bounded exponential back-off with +-20 % jitter, so that a fleet
        // does not reconnect to a restarted central broker all at once.
        const double jittered = delay_s * std::uniform_real_distribution<double>(0.8, 1.2)(jitter);
        const auto until = std::chrono::steady_clock::now() +
                           std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(jittered));
        while (!stopping_ && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        delay_s = std::min(delay_s * 2, options_.reconnect_max_s);
    }
}

void MqttLink::on_connect(mosquitto* client, void* self, int rc, int, const mqtt5__property*) {
    MqttLink& link = link_of(self);
    if (rc != 0) {
        const std::string refusal = refusal_text(link.options_.protocol_version, rc);
        if (!refusal.empty()) {
            link.set_fatal(fmt::format("{}: {}", link.broker_text(), refusal));
            link.stopping_ = true;
        } else {
            link.set_problem(fmt::format("{} refused the connection: {}", link.broker_text(),
                                         link.options_.protocol_version == 5
                                             ? mosquitto_reason_string(rc)
                                             : mosquitto_connack_string(rc)));
        }
        return;
    }
    for (const std::string& filter : link.options_.subscriptions) {
        mosquitto_subscribe(client, nullptr, filter.c_str(), 1);
    }
    {
        std::lock_guard lock(link.mutex_);
        ++link.counters_.connects;
        link.problem_.clear();
    }
    link.connected_reset_ = true;
    link.connected_ = true;
    link.connected_news_ = true;
}

void MqttLink::on_disconnect(mosquitto*, void* self, int rc, const mqtt5__property*) {
    MqttLink& link = link_of(self);
    const bool was_connected = link.connected_.exchange(false);
    std::lock_guard lock(link.mutex_);
    if (was_connected) {
        ++link.counters_.disconnects;
    }
    if (rc != 0 && link.problem_.empty()) {
        link.problem_ =
            fmt::format("disconnected from {}: {}", link.broker_text(), mosquitto_strerror(rc));
    }
}

void MqttLink::on_message(mosquitto*, void* self, const mosquitto_message* message,
                          const mqtt5__property* properties) {
    MqttLink& link = link_of(self);
    InboundMessage in;
    in.topic = message->topic;
    in.payload.assign(static_cast<const char*>(message->payload),
                      static_cast<std::size_t>(message->payloadlen));
    char* response_topic = nullptr;
    if (mosquitto_property_read_string(properties, MQTT_PROP_RESPONSE_TOPIC, &response_topic,
                                       false) != nullptr &&
        response_topic != nullptr) {
        in.response_topic = response_topic;
        std::free(response_topic);
    }
    void* correlation = nullptr;
    std::uint16_t correlation_bytes = 0;
    if (mosquitto_property_read_binary(properties, MQTT_PROP_CORRELATION_DATA, &correlation,
                                       &correlation_bytes, false) != nullptr &&
        correlation != nullptr) {
        in.correlation_data.assign(static_cast<const char*>(correlation), correlation_bytes);
        std::free(correlation);
    }
    std::lock_guard lock(link.mutex_);
    ++link.counters_.received;
    // A flood of commands cannot grow this without bound: the reader loop
    // drains it every pass, and beyond this many the oldest are dropped.
    constexpr std::size_t kMaxInbound = 1000;
    if (link.inbound_.size() >= kMaxInbound) {
        link.inbound_.erase(link.inbound_.begin());
    }
    link.inbound_.push_back(std::move(in));
}

void MqttLink::on_publish(mosquitto*, void* self, int mid, int, const mqtt5__property*) {
    MqttLink& link = link_of(self);
    std::lock_guard lock(link.mutex_);
    if (mid == link.awaited_mid_) {
        link.awaited_done_ = true;
        link.published_cv_.notify_all();
    }
}

bool MqttLink::send(const Outbound& message) {
    const int rc = mosquitto_publish(client_, nullptr, message.topic.c_str(),
                                     static_cast<int>(message.payload.size()),
                                     message.payload.data(), message.qos, message.retain);
    if (rc != MOSQ_ERR_SUCCESS) {
        return false;
    }
    std::lock_guard lock(mutex_);
    ++counters_.published;
    return true;
}

void MqttLink::publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                       MessageClass kind) {
    Outbound message{topic, payload, qos, retain};
    if (connected() && send(message)) {
        return;
    }
    if (kind == MessageClass::state) {
        return;  // re-published whole after the next connect
    }
    std::lock_guard lock(mutex_);
    auto& queue = kind == MessageClass::telemetry ? queued_telemetry_ : queued_events_;
    const std::size_t limit =
        kind == MessageClass::telemetry ? options_.telemetry_buffer : options_.event_buffer;
    if (limit == 0) {
        ++(kind == MessageClass::telemetry ? counters_.dropped_telemetry
                                           : counters_.dropped_events);
        return;
    }
    if (queue.size() >= limit) {
        queue.pop_front();  // the oldest goes first
        ++(kind == MessageClass::telemetry ? counters_.dropped_telemetry
                                           : counters_.dropped_events);
    }
    queue.push_back(std::move(message));
}

void MqttLink::publish_response(const std::string& topic, const std::string& payload,
                                const std::string& correlation_data) {
    if (!connected()) {
        return;  // a requester that waits for its response gave up by the reconnect
    }
    mosquitto_property* properties = nullptr;
    if (!correlation_data.empty()) {
        mosquitto_property_add_binary(&properties, MQTT_PROP_CORRELATION_DATA,
                                      correlation_data.data(),
                                      static_cast<std::uint16_t>(correlation_data.size()));
    }
    mosquitto_publish_v5(client_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                         payload.data(), 1, false, properties);
    mosquitto_property_free_all(&properties);
}

void MqttLink::flush_queued() {
    // Alarm transitions and results before telemetry: they matter more, and
    // each still carries its own time.
    for (auto* queue : {&queued_events_, &queued_telemetry_}) {
        for (std::size_t sent = 0; sent < kFlushBatch && connected(); ++sent) {
            Outbound message;
            {
                std::lock_guard lock(mutex_);
                if (queue->empty()) {
                    break;
                }
                message = std::move(queue->front());
                queue->pop_front();
            }
            if (!send(message)) {
                std::lock_guard lock(mutex_);
                queue->push_front(std::move(message));
                return;
            }
        }
    }
}

bool MqttLink::take_connected() {
    return connected_news_.exchange(false);
}

std::vector<InboundMessage> MqttLink::take_inbound() {
    std::lock_guard lock(mutex_);
    std::vector<InboundMessage> taken;
    taken.swap(inbound_);
    return taken;
}

std::optional<std::string> MqttLink::fatal_error() const {
    std::lock_guard lock(mutex_);
    return fatal_;
}

std::string MqttLink::last_problem() const {
    std::lock_guard lock(mutex_);
    return problem_;
}

LinkCounters MqttLink::counters() const {
    std::lock_guard lock(mutex_);
    LinkCounters copy = counters_;
    return copy;
}

std::size_t MqttLink::queued() const {
    std::lock_guard lock(mutex_);
    return queued_events_.size() + queued_telemetry_.size();
}

void MqttLink::set_problem(std::string text) {
    std::lock_guard lock(mutex_);
    problem_ = std::move(text);
}

void MqttLink::set_fatal(std::string text) {
    std::lock_guard lock(mutex_);
    if (!fatal_) {
        fatal_ = std::move(text);
    }
}

void MqttLink::stop(const std::string& final_topic, const std::string& final_payload,
                    bool final_retain, std::chrono::milliseconds flush_timeout) {
    if (!network_.joinable()) {
        return;
    }
    if (connected() && !final_topic.empty()) {
        int mid = 0;
        {
            std::unique_lock lock(mutex_);
            awaited_done_ = false;
            awaited_mid_ = -1;
        }
        // The mid is known only after the call; on_publish may beat us to
        // the lock, so it is compared under it.
        std::unique_lock lock(mutex_);
        const int rc = mosquitto_publish(client_, &mid, final_topic.c_str(),
                                         static_cast<int>(final_payload.size()),
                                         final_payload.data(), 1, final_retain);
        if (rc == MOSQ_ERR_SUCCESS) {
            awaited_mid_ = mid;
            published_cv_.wait_for(lock, flush_timeout, [this] { return awaited_done_; });
        }
    }
    stopping_ = true;
    mosquitto_disconnect(client_);
    network_.join();
}

}  // namespace brt::mqtt
