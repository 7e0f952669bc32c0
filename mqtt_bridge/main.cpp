// brt-mqtt-bridge: publishes the segment's node state, rack summaries and
// the alarm monitor's alarms to an MQTT broker, and posts the commands it
// receives there to the command rings (docs/mqtt.md). A reader like the
// others: it never writes telemetry and runs no alarm engine of its own.
#include <fmt/format.h>
#include <sys/stat.h>
#include <time.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>

#include "common/alarm/alarm_feed.hpp"
#include "common/alarm_segment/alarm_segment_file.hpp"
#include "common/cli/cli_common.hpp"
#include "common/cli/event_log.hpp"
#include "common/cli/exit_codes.hpp"
#include "common/cli/stop_signal.hpp"
#include "common/config/config_file.hpp"
#include "common/frames/rate_meter.hpp"
#include "common/json/json_writer.hpp"
#include "common/reader/reader_loop.hpp"
#include "common/segment/clock.hpp"
#include "common/segment/errors.hpp"
#include "common/segment/shm_name.hpp"
#include "mqtt_bridge/commands.hpp"
#include "mqtt_bridge/mqtt_link.hpp"
#include "mqtt_bridge/payloads.hpp"
#include "mqtt_bridge/sparkplug.hpp"

namespace brt::mqtt {
namespace {

struct Options {
    std::string shm_name;
    std::string broker_host = "127.0.0.1";
    int broker_port = 0;  // 0: 1883, or 8883 with TLS
    std::string mqtt_version = "5";
    std::string client_id;
    int keepalive_s = 30;
    std::string username;
    std::string password_file;
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    std::string topic_prefix = "brt";
    std::string site = "site";
    std::string node;
    std::string payload = "json";
    double summary_rate_hz = 1.0;
    double module_interval_s = 0;  // every module's cells this often; 0: on request only
    int telemetry_qos = 0;
    double reconnect_min_s = 0.5;
    double reconnect_max_s = 30;
    std::size_t buffer_telemetry = 1000;
    std::size_t buffer_events = 1000;
    double startup_grace_s = 5.0;
    double duration_s = 0;
    bool json = false;
};

// The password: the first line of a file only its owner may read, so that
// it never shows in `ps` or in a unit file.
std::string read_password_file(const std::string& path) {
    struct stat file_status {};
    if (stat(path.c_str(), &file_status) != 0) {
        throw UsageError(
            fmt::format("--password-file {}: cannot read it ({})", path, errno_text(errno)));
    }
    if ((file_status.st_mode & 0077) != 0) {
        throw UsageError(fmt::format(
            "--password-file {}: mode {:04o} lets others read it; chmod 600 {} (or 400) first",
            path, file_status.st_mode & 07777, path));
    }
    std::ifstream file(path);
    std::string password;
    if (!file || !std::getline(file, password)) {
        throw UsageError(fmt::format("--password-file {}: cannot read a first line", path));
    }
    while (!password.empty() && (password.back() == '\r' || password.back() == ' ')) {
        password.pop_back();
    }
    if (password.empty()) {
        throw UsageError(fmt::format("--password-file {}: its first line is empty", path));
    }
    return password;
}

class MqttBridge : public ReaderTool {
  public:
    // `session`: Sparkplug B payloads instead of the JSON topic tree (null).
    MqttBridge(const Options& options, MqttLink& link, TopicTree topics, NodeInfo node,
               CommandHandler& commands, const EventLog& log, sparkplug::Session* session)
        : options_(options),
          spb_(session),
          link_(link),
          topics_(std::move(topics)),
          node_(std::move(node)),
          commands_(commands),
          log_(log),
          alarm_feed_(
              AlarmFeedOptions{
                  .alarm_segment_name = alarm_segment_name(node_.segment),
                  .startup_grace = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::duration<double>(options.startup_grace_s))},
              Clock::now()),
          summary_period_(std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(1.0 / options.summary_rate_hz))) {}

    StepResult on_attach(SegmentReader& reader, AttachChange) override {
        rate_.reset();
        latest_.reset();
        device_births_sent_ = false;  // another geometry: every rack is born again
        skipped_through_ = 0;         // frame numbers start again
        publish_writer(reader.writer_status(), reader);
        return keep_going;
    }
    void on_detach(SegmentReader&) override {
        skipped_through_ = 0;
        rate_.reset();
        latest_.reset();
    }
    void on_writer_change(const WriterStatus& writer) override {
        log_.event("writer",
                   fmt::format("writer {}: {}", liveness_name(writer.liveness), writer.detail),
                   {{"liveness", std::string(liveness_name(writer.liveness))}});
        writer_changed_ = true;
    }

    // Sleeps on the segment's futex for the next frame, past the frames it
    // let go by between two summaries: it wakes as a frame is published, so
    // a summary leaves within microseconds of its frame.
    bool wait(SegmentReader& reader, std::chrono::nanoseconds longest) override {
        return reader.wait_for_frame(std::max(reader.last_frame_read(), skipped_through_), longest);
    }

    StepResult on_frame(SegmentReader& reader) override {
        handle_connect(reader);
        const auto now = Clock::now();
        if (!summary_due(now)) {
            skipped_through_ = reader.latest_frame();  // not copied: nothing is due
            return keep_going;
        }
        FrameBuffer frame;
        if (reader.read_latest(frame) != ReadOutcome::ok) {
            return keep_going;
        }
        // Paced from the schedule, not from the last read, so that 10 Hz
        // summaries of 10 Hz frames do not slip to every other frame.
        next_summary_ = now - next_summary_ > summary_period_ ? now + summary_period_
                                                              : next_summary_ + summary_period_;
        rate_.add(frame.frame_number, frame.publish_monotonic_ns);
        latest_ = summarize_frame(std::move(frame), reader.layout().geometry,
                                  reader.segment().rack_chemistries());
        publish_telemetry();
        return keep_going;
    }

    StepResult on_tick(SegmentReader& reader, const WriterStatus& writer,
                       Clock::time_point now) override {
        if (const auto fatal = link_.fatal_error()) {
            fmt::print(stderr, "{}: error: {}\n", tool_name("mqtt_bridge"), *fatal);
            return kExitRuntimeFailure;
        }
        track_connection();
        handle_connect(reader);
        if (link_.connected() && link_.queued() > 0) {
            link_.flush_queued();
        }
        if (writer_changed_ || writer.liveness != last_writer_.liveness ||
            writer.state != last_writer_.state) {
            publish_writer(writer, reader);
        }
        if (alarm_feed_.poll(now, realtime_ns())) {
            const AlarmView& alarms = *alarm_feed_.view();
            if (spb_ == nullptr) {
                for (const std::string& event : alarms.new_events) {
                    link_.publish(topics_.alarm_events(), event, 1, false, MessageClass::event);
                }
            }
            // A transition goes out at once; a list whose live values only
            // moved (the monitor republishes every frame while alarms are
            // active) at most at the summary rate.
            alarms_changed_ = true;
            alarms_urgent_ = alarms_urgent_ || !alarms.new_events.empty();
        }
        if (alarms_changed_ && (alarms_urgent_ || now - last_alarms_publish_ >= summary_period_)) {
            alarms_changed_ = false;
            alarms_urgent_ = false;
            last_alarms_publish_ = now;
            if (spb_ != nullptr) {
                publish_node_data();
            } else {
                link_.publish(topics_.alarms_active(), alarms_json(*alarm_feed_.view()), 1, true,
                              MessageClass::state);
            }
        }
        for (const InboundMessage& message : link_.take_inbound()) {
            if (spb_ != nullptr && message.topic.starts_with("spBv1.0/")) {
                take_sparkplug_command(message);
                continue;
            }
            for (const CommandResult& result : commands_.submit(message)) {
                publish_result(result);
            }
        }
        for (const CommandResult& result : commands_.poll(now)) {
            publish_result(result);
        }
        serve_module_requests();
        if (now - last_bridge_report_ >= std::chrono::seconds(10)) {
            publish_bridge_report();
        }
        return keep_going;
    }

    std::string status_text() const override {
        const LinkCounters counters = link_.counters();
        return fmt::format("broker {}; writer {}; {} published, {} dropped while disconnected",
                           link_.connected() ? "connected" : "disconnected",
                           liveness_name(last_writer_.liveness), counters.published,
                           counters.dropped_telemetry + counters.dropped_events);
    }

  private:
    // A frame early by up to a tenth of a period still counts as due.
    bool summary_due(Clock::time_point now) const {
        return now + summary_period_ / 10 >= next_summary_;
    }

    // After every connect: JSON mode re-publishes its retained state,
    // Sparkplug mode starts a session with NBIRTH and DBIRTHs.
    void handle_connect(SegmentReader& reader) {
        if (!link_.take_connected()) {
            return;
        }
        if (spb_ != nullptr) {
            publish_births();
            publish_bridge_report();
        } else {
            republish_state(reader, reader.writer_status());
        }
    }

    sparkplug::NodeState node_state() const {
        const AlarmView& alarms = *alarm_feed_.view();
        const double rate_hz = rate_.frames_per_second(monotonic_ns());
        return {.writer_liveness = std::string(liveness_name(last_writer_.liveness)),
                .frame_rate_hz = std::isnan(rate_hz) ? 0.0 : rate_hz,
                .latest_frame = last_writer_.latest_frame,
                .alarms_critical = alarms.annunciated.at(Severity::critical),
                .alarms_warning = alarms.annunciated.at(Severity::warning),
                .alarms_info = alarms.annunciated.at(Severity::info),
                .monitor_running = alarms.list.monitor_running,
                .dropped_telemetry = link_.counters().dropped_telemetry};
    }

    // NBIRTH, then a DBIRTH per rack once a frame was read (else with the
    // first frame). Births are not queued: a session that breaks is born
    // again on the next connect.
    void publish_births() {
        link_.publish(spb_->nbirth_topic(), spb_->node_birth(node_state()), 0, false,
                      MessageClass::state);
        births_sent_ = true;
        device_births_sent_ = false;
        if (latest_) {
            publish_device_births();
        }
    }

    void publish_device_births() {
        for (std::uint32_t rack = 0; rack < latest_->geometry.racks; ++rack) {
            link_.publish(spb_->dbirth_topic(rack), spb_->device_birth(*latest_, rack), 0, false,
                          MessageClass::state);
        }
        device_births_sent_ = true;
    }

    void publish_node_data() {
        if (births_sent_ && link_.connected()) {
            link_.publish(spb_->ndata_topic(), spb_->node_data(node_state()), 0, false,
                          MessageClass::state);
        }
    }

    // NCMD and DCMD become the JSON commands (so they are checked and
    // answered on results like those); a rebirth request births again.
    void take_sparkplug_command(const InboundMessage& message) {
        const sparkplug::DecodedCommands decoded =
            spb_->decode_command(message.topic, message.payload);
        if (!decoded.error.empty()) {
            CommandResult result;
            result.verb = message.topic.substr(0, 120);
            result.status = "invalid";
            result.error = decoded.error;
            publish_result(result);
            return;
        }
        if (decoded.rebirth) {
            log_.event("rebirth", "Sparkplug rebirth requested: NBIRTH and DBIRTHs again");
            publish_births();
        }
        for (const sparkplug::DecodedCommand& command : decoded.commands) {
            InboundMessage as_json;
            as_json.topic = topics_.command_prefix() + command.verb;
            as_json.payload = command.json_body;
            for (const CommandResult& result : commands_.submit(as_json)) {
                publish_result(result);
            }
        }
    }

    void track_connection() {
        const bool connected = link_.connected();
        if (connected == was_connected_) {
            return;
        }
        was_connected_ = connected;
        if (connected) {
            log_.event("connected",
                       fmt::format("connected to {} as {}", link_.broker_text(), topics_.base()),
                       {{"base_topic", topics_.base()}});
        } else {
            log_.event("disconnected",
                       fmt::format("disconnected: {} (buffering up to {} telemetry messages and "
                                   "{} alarm transitions)",
                                   link_.last_problem(), options_.buffer_telemetry,
                                   options_.buffer_events));
        }
    }

    // After every connect: the broker may have lost the retained messages
    // (restarted without persistence) and a new subscriber needs them.
    void republish_state(SegmentReader& reader, const WriterStatus& writer) {
        link_.publish(topics_.status(), status_json(node_, true, "running"), 1, true,
                      MessageClass::state);
        publish_writer(writer, reader);
        link_.publish(topics_.alarms_active(), alarms_json(*alarm_feed_.view()), 1, true,
                      MessageClass::state);
        link_.flush_queued();
        publish_bridge_report();
    }

    void publish_writer(const WriterStatus& writer, SegmentReader& reader) {
        last_writer_ = writer;
        writer_changed_ = false;
        if (writer.liveness != Liveness::live) {
            rate_.reset();
        }
        if (spb_ != nullptr) {
            publish_node_data();
            return;
        }
        const double rate_hz = rate_.frames_per_second(monotonic_ns());
        link_.publish(
            topics_.writer(),
            writer_json(writer,
                        reader.attached() ? std::optional(reader.layout().geometry) : std::nullopt,
                        std::isnan(rate_hz) ? 0.0 : rate_hz),
            1, true, MessageClass::state);
    }

    void publish_telemetry() {
        const FrameSummary& summary = *latest_;
        if (spb_ != nullptr) {
            if (!births_sent_ || !link_.connected()) {
                return;  // no session: the next NBIRTH/DBIRTH carries the state
            }
            if (!device_births_sent_) {
                publish_device_births();
                return;
            }
            for (std::uint32_t rack = 0; rack < summary.geometry.racks; ++rack) {
                link_.publish(spb_->ddata_topic(rack), spb_->device_data(summary, rack), 0, false,
                              MessageClass::state);
            }
            return;
        }
        link_.publish(topics_.summary(), summary_json(summary, last_writer_, *alarm_feed_.view()),
                      options_.telemetry_qos, false, MessageClass::telemetry);
        for (std::uint32_t rack = 0; rack < summary.geometry.racks; ++rack) {
            link_.publish(topics_.rack(rack), rack_json(summary, rack), options_.telemetry_qos,
                          false, MessageClass::telemetry);
        }
        publish_all_modules_if_due();
    }

    // Every module's cells at the slow --module-interval: a historian's
    // full picture, without a request per module.
    void publish_all_modules_if_due() {
        if (options_.module_interval_s <= 0) {
            return;
        }
        const auto now = Clock::now();
        if (now < next_modules_) {
            return;
        }
        next_modules_ = now + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(options_.module_interval_s));
        const FrameSummary& summary = *latest_;
        for (std::uint32_t rack = 0; rack < summary.geometry.racks; ++rack) {
            for (std::uint32_t module = 0; module < summary.geometry.modules_per_rack; ++module) {
                link_.publish(topics_.module(rack, module), module_json(summary, rack, module),
                              options_.telemetry_qos, false, MessageClass::telemetry);
            }
        }
    }

    void serve_module_requests() {
        for (ModuleRequest& request : commands_.take_module_requests()) {
            CommandResult& result = request.result;
            if (!latest_) {
                result.status = "unavailable";
                result.error = "no frame read yet";
            } else if (request.rack >= latest_->geometry.racks ||
                       request.module >= latest_->geometry.modules_per_rack) {
                result.status = "invalid";
                result.error = fmt::format(
                    "no rack {} module {}: this segment has {} racks x {} "
                    "modules",
                    request.rack, request.module, latest_->geometry.racks,
                    latest_->geometry.modules_per_rack);
            } else {
                link_.publish(topics_.module(request.rack, request.module),
                              module_json(*latest_, request.rack, request.module), 1, false,
                              MessageClass::event);
                result.status = "applied";
            }
            publish_result(result);
        }
    }

    void publish_result(const CommandResult& result) {
        const std::string payload = result_json(result);
        link_.publish(topics_.results(), payload, 1, false, MessageClass::event);
        if (!result.response_topic.empty()) {
            link_.publish_response(result.response_topic, payload, result.correlation_data);
        }
        if (!result.ok()) {
            log_.event("command",
                       fmt::format("command {} {}: {}", result.verb, result.status, result.error),
                       {{"command", result.verb}, {"status", result.status}});
        }
    }

    void publish_bridge_report() {
        last_bridge_report_ = Clock::now();
        const LinkCounters counters = link_.counters();
        JsonWriter json;
        json.begin_object();
        json.key("connects").value(counters.connects);
        json.key("disconnects").value(counters.disconnects);
        json.key("published").value(counters.published);
        json.key("received").value(counters.received);
        json.key("commands").value(commands_.commands_total());
        json.key("dropped_telemetry").value(counters.dropped_telemetry);
        json.key("dropped_events").value(counters.dropped_events);
        json.key("queued").value(static_cast<std::uint64_t>(link_.queued()));
        json.key("time_ns").value(realtime_ns());
        json.end_object();
        link_.publish(topics_.bridge(), json.str(), 1, true, MessageClass::state);
    }

    const Options& options_;
    sparkplug::Session* spb_;
    bool births_sent_ = false;
    bool device_births_sent_ = false;
    MqttLink& link_;
    TopicTree topics_;
    NodeInfo node_;
    CommandHandler& commands_;
    const EventLog& log_;
    AlarmFeed alarm_feed_;
    Clock::duration summary_period_;
    Clock::time_point next_summary_{};
    Clock::time_point next_modules_{};
    std::uint64_t skipped_through_ = 0;  // the newest frame let go by unread
    Clock::time_point last_bridge_report_{};
    Clock::time_point last_alarms_publish_{};
    bool alarms_changed_ = false;
    bool alarms_urgent_ = false;
    std::shared_ptr<const FrameSummary> latest_;
    RateMeter rate_;
    WriterStatus last_writer_;
    bool writer_changed_ = true;
    bool was_connected_ = false;
};

int serve(Options& options) {
    const std::string name = normalize_shm_name(options.shm_name);
    NodeInfo node{options.site, options.node.empty() ? default_node_name(name) : options.node,
                  name};
    TopicTree topics(options.topic_prefix, node.site, node.node);
    LinkOptions link_options;
    link_options.host = options.broker_host;
    link_options.port =
        options.broker_port != 0 ? options.broker_port : (options.ca_file.empty() ? 1883 : 8883);
    link_options.protocol_version = options.mqtt_version == "5" ? 5 : 311;
    link_options.client_id = options.client_id.empty()
                                 ? fmt::format("brt-{}", node.node).substr(0, 64)
                                 : options.client_id;
    link_options.keepalive_s = options.keepalive_s;
    link_options.username = options.username;
    if (!options.password_file.empty()) {
        if (options.username.empty()) {
            throw UsageError("--password-file needs --username");
        }
        link_options.password = read_password_file(options.password_file);
    }
    link_options.ca_file = options.ca_file;
    link_options.cert_file = options.cert_file;
    link_options.key_file = options.key_file;
    link_options.reconnect_min_s = options.reconnect_min_s;
    link_options.reconnect_max_s = std::max(options.reconnect_max_s, options.reconnect_min_s);
    link_options.telemetry_buffer = options.buffer_telemetry;
    link_options.event_buffer = options.buffer_events;
    std::unique_ptr<sparkplug::Session> session;
    if (options.payload == "sparkplug") {
        // The site is the Sparkplug group, the node the edge node.
        session = std::make_unique<sparkplug::Session>(node.site, node.node);
        link_options.will_topic = session->ndeath_topic();
        link_options.will_retain = false;  // Sparkplug: NDEATH is never retained
        link_options.will_payload_before_connect = [&session] { return session->next_death(); };
        link_options.subscriptions = {topics.command_prefix() + "#", session->ncmd_topic(),
                                      session->dcmd_filter()};
    } else {
        link_options.will_topic = topics.status();
        link_options.will_payload = status_json(node, false, "connection lost");
        link_options.subscriptions = {topics.command_prefix() + "#"};
    }

    install_stop_signal_handlers();
    std::signal(SIGPIPE, SIG_IGN);  // a broker gone mid-write is an error code, not a signal
    const EventLog log(options.json);
    MqttLink link(link_options);
    CommandHandler commands(name, topics.command_prefix());
    MqttBridge bridge(options, link, topics, node, commands, log, session.get());
    log.event(
        "starting",
        fmt::format("publishing segment {} to {} under {} (commands on {}#{})", shm_path(name),
                    link.broker_text(), session ? session->nbirth_topic() : topics.base() + "/",
                    topics.command_prefix(), session ? ", NCMD and DCMD; Sparkplug B" : ""),
        {{"base_topic", topics.base()}, {"broker", link.broker_text()}});
    link.start();

    SegmentReader reader(name);
    ReaderLoopOptions loop;
    loop.wait_slice = std::chrono::milliseconds(50);
    loop.require_segment = false;  // publishes "no segment" and attaches when it appears
    loop.duration_s = options.duration_s;
    const int code = run_reader_loop(reader, bridge, loop);
    const bool fatal = link.fatal_error().has_value();
    if (session) {
        link.stop(fatal ? std::string() : session->ndeath_topic(), session->death(), false);
    } else {
        link.stop(fatal ? std::string() : topics.status(), status_json(node, false, "stopped"));
    }
    const LinkCounters counters = link.counters();
    log.event("stopped",
              fmt::format("stopped: {} messages published, {} commands received, {} telemetry "
                          "messages and {} alarm transitions dropped while disconnected",
                          counters.published, commands.commands_total(), counters.dropped_telemetry,
                          counters.dropped_events));
    return code;
}

}  // namespace
}  // namespace brt::mqtt

int main(int argc, char** argv) {
    using namespace brt;
    using namespace brt::mqtt;
    Options options;
    CLI::App app{
        "Publish the battery-rack telemetry segment to an MQTT broker (node state, rack "
        "summaries, alarms) and take commands back from it (docs/mqtt.md).",
        tool_name("mqtt_bridge")};
    add_common_options(app, options.shm_name);
    add_config_option(app);
    app.add_option("--broker-host", options.broker_host, "The broker's host name or address")
        ->capture_default_str();
    app.add_option("--broker-port", options.broker_port,
                   "The broker's port (default 1883, or 8883 with --ca-file)")
        ->check(CLI::Range(1, 65535));
    app.add_option("--mqtt-version", options.mqtt_version, "MQTT protocol version")
        ->check(CLI::IsMember({"5", "3.1.1"}))
        ->capture_default_str();
    app.add_option("--client-id", options.client_id, "MQTT client id (default brt-<node>)");
    app.add_option("--keepalive", options.keepalive_s, "Seconds between MQTT keep-alive pings")
        ->check(CLI::Range(5, 3600))
        ->capture_default_str();
    app.add_option("--username", options.username, "MQTT username");
    app.add_option("--password-file", options.password_file,
                   "File whose first line is the MQTT password; only its owner may read it");
    app.add_option("--ca-file", options.ca_file,
                   "CA certificate (PEM) that signed the broker's: turns TLS on");
    app.add_option("--cert-file", options.cert_file, "Client certificate (PEM), with --ca-file");
    app.add_option("--key-file", options.key_file, "Client private key (PEM), with --cert-file");
    app.add_option("--topic-prefix", options.topic_prefix, "First topic levels")
        ->capture_default_str();
    app.add_option("--site", options.site, "The site's topic level")->capture_default_str();
    app.add_option("--node", options.node,
                   "This node's topic level (default <host name>-<segment name>)");
    app.add_option("--payload", options.payload, "Payload encoding")
        ->check(CLI::IsMember({"json", "sparkplug"}))
        ->capture_default_str();
    app.add_option("--summary-rate", options.summary_rate_hz,
                   "System and rack summaries per second")
        ->check(CLI::Range(0.01, 100.0))
        ->capture_default_str();
    app.add_option("--module-interval", options.module_interval_s,
                   "Seconds between publications of every module's cells (0: only on request, "
                   "commands/module)")
        ->check(CLI::Range(0.0, 86400.0))
        ->capture_default_str();
    app.add_option("--telemetry-qos", options.telemetry_qos, "QoS of the telemetry topics")
        ->check(CLI::Range(0, 1))
        ->capture_default_str();
    app.add_option("--reconnect-min", options.reconnect_min_s,
                   "Seconds before the first reconnect; doubled per failure")
        ->check(CLI::Range(0.05, 60.0))
        ->capture_default_str();
    app.add_option("--reconnect-max", options.reconnect_max_s, "Longest wait between reconnects")
        ->check(CLI::Range(0.05, 3600.0))
        ->capture_default_str();
    app.add_option("--buffer-telemetry", options.buffer_telemetry,
                   "Telemetry messages kept while the broker is unreachable (oldest dropped)")
        ->check(CLI::Range(std::size_t{0}, std::size_t{1'000'000}))
        ->capture_default_str();
    app.add_option("--buffer-events", options.buffer_events,
                   "Alarm transitions and command results kept while the broker is unreachable")
        ->check(CLI::Range(std::size_t{0}, std::size_t{1'000'000}))
        ->capture_default_str();
    app.add_option("--startup-grace", options.startup_grace_s,
                   "Say \"alarm monitor not running\" (an alarm) only this many seconds after "
                   "the start")
        ->check(CLI::Range(0.0, 3600.0))
        ->capture_default_str();
    app.add_option("--duration", options.duration_s, "Stop after this many seconds (0: never)")
        ->check(CLI::Range(0.0, 1e9))
        ->capture_default_str();
    app.add_flag("--json", options.json, "Print events as JSON lines");
    app.footer(fmt::format(
        "Examples:\n"
        "  {0}                                    to mqtt://127.0.0.1:1883\n"
        "  {0} --broker-host broker.lan --site plant1 --username rack7 \\\n"
        "      --password-file /etc/brt/mqtt.password --ca-file /etc/ssl/certs/ca.pem\n"
        "  mosquitto_sub -t 'brt/#' -v            watch what it publishes\n"
        "Topics: brt/<site>/<node>/status|writer|bridge|telemetry/...|alarms/...|results,\n"
        "commands on brt/<site>/<node>/commands/<verb> (docs/mqtt.md).\n"
        "Exit codes: 0 success, 1 runtime failure (refused by the broker, TLS), 2 bad usage.",
        tool_name("mqtt_bridge")));
    return run_tool(app, argc, argv, [&] { return serve(options); });
}
