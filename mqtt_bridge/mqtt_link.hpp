// The bridge's one connection to the broker, on libmosquitto (Debian's
// libmosquitto-dev: MQTT 3.1.1 and 5, TLS, Last Will, thread-safe publish).
// A network thread of its own runs the client: it connects, reconnects with
// a bounded exponential back-off, and queues what arrives on the command
// topics; the reader loop publishes from its own thread and takes the
// commands and the "connected again" news on each pass, so the segment side
// never waits for the network.
//
// While the broker is unreachable nothing is lost silently: telemetry and
// alarm transitions wait in bounded queues (the oldest telemetry dropped
// first, alarm transitions kept up to their own limit), every drop is
// counted, and retained state is not queued at all: the owner re-publishes
// it whole after each connect (take_connected).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

struct mosquitto;
struct mosquitto_message;
struct mqtt5__property;

namespace brt::mqtt {

struct LinkOptions {
    std::string host = "127.0.0.1";
    int port = 1883;
    int protocol_version = 5;  // 5 or 311
    std::string client_id;
    int keepalive_s = 30;
    std::string username;
    std::string password;  // read from --password-file
    std::string ca_file;   // TLS when set
    std::string cert_file;
    std::string key_file;
    double reconnect_min_s = 0.5;
    double reconnect_max_s = 30;
    std::size_t telemetry_buffer = 1000;  // messages kept while disconnected
    std::size_t event_buffer = 1000;      // alarm transitions kept while disconnected
    std::string will_topic;
    std::string will_payload;
    bool will_retain = true;
    // When set, called (on the network thread) before every connection
    // attempt for that attempt's will payload: Sparkplug's NDEATH carries
    // the bdSeq of the session it ends.
    std::function<std::string()> will_payload_before_connect;
    std::vector<std::string> subscriptions;  // topic filters, QoS 1
};

// What each message is, for the queues while disconnected.
enum class MessageClass {
    state,      // retained; re-published whole after a reconnect, never queued
    telemetry,  // queued, oldest dropped first
    event,      // alarm transitions and command results: queued up to their own limit
};

struct InboundMessage {
    std::string topic;
    std::string payload;
    std::string response_topic;    // MQTT 5 request/response, else empty
    std::string correlation_data;  // MQTT 5, echoed with the response
};

struct LinkCounters {
    std::uint64_t published = 0;
    std::uint64_t dropped_telemetry = 0;
    std::uint64_t dropped_events = 0;
    std::uint64_t connects = 0;
    std::uint64_t disconnects = 0;
    std::uint64_t received = 0;
};

class MqttLink {
  public:
    // Checks the options and sets the client up; throws UsageError for
    // unusable TLS files and the like. Connects only in start().
    explicit MqttLink(LinkOptions options);
    MqttLink(const MqttLink&) = delete;
    MqttLink& operator=(const MqttLink&) = delete;
    ~MqttLink();

    // Starts the network thread. The first connection is tried at once;
    // `fatal_error()` says when the broker refused it for good.
    void start();
    // Publishes `final_payload` (retained unless told) on `final_topic` (when not empty),
    // waits up to `flush_timeout` for the broker to take it, disconnects
    // cleanly (no Last Will) and joins the thread.
    void stop(const std::string& final_topic, const std::string& final_payload,
              bool final_retain = true,
              std::chrono::milliseconds flush_timeout = std::chrono::milliseconds(2000));

    // Thread-safe. Sends now when connected, else queues per `kind`.
    void publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                 MessageClass kind);
    // MQTT 5 response to a request that named a response topic.
    void publish_response(const std::string& topic, const std::string& payload,
                          const std::string& correlation_data);
    // Sends what waited while disconnected, when connected; called by the owner
    // after it re-published its retained state.
    void flush_queued();

    // True once after every successful connect: re-publish the retained state.
    bool take_connected();
    std::vector<InboundMessage> take_inbound();
    bool connected() const { return connected_.load(std::memory_order_acquire); }
    // A reason to stop with exit 1: the broker refused the credentials or
    // the TLS handshake failed (retrying would not help).
    std::optional<std::string> fatal_error() const;
    // Why the last connection attempt or connection ended, for status lines.
    std::string last_problem() const;
    LinkCounters counters() const;
    std::size_t queued() const;  // messages waiting for the broker
    std::string broker_text() const;

  private:
    struct Outbound {
        std::string topic;
        std::string payload;
        int qos;
        bool retain;
    };
    static void on_connect(mosquitto* client, void* self, int rc, int flags,
                           const mqtt5__property* properties);
    static void on_disconnect(mosquitto* client, void* self, int rc,
                              const mqtt5__property* properties);
    static void on_message(mosquitto* client, void* self, const mosquitto_message* message,
                           const mqtt5__property* properties);
    static void on_publish(mosquitto* client, void* self, int mid, int reason,
                           const mqtt5__property* properties);
    void run_network();
    bool send(const Outbound& message);
    void set_problem(std::string text);
    void set_fatal(std::string text);

    LinkOptions options_;
    mosquitto* client_ = nullptr;
    std::thread network_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> connected_{false};
    std::atomic<bool> connected_news_{false};
    std::atomic<bool> connected_reset_{false};  // a CONNACK came: the back-off starts again

    mutable std::mutex mutex_;  // everything below
    std::condition_variable published_cv_;
    std::deque<Outbound> queued_telemetry_;
    std::deque<Outbound> queued_events_;
    std::vector<InboundMessage> inbound_;
    std::optional<std::string> fatal_;
    std::string problem_;
    LinkCounters counters_;
    int awaited_mid_ = -1;
    bool awaited_done_ = false;
};

// The exit-1 sentence for a CONNACK refusal code (3.1.1 or 5), or "" when the
// code is not one where retrying is pointless.
std::string refusal_text(int protocol_version, int code);

}  // namespace brt::mqtt
