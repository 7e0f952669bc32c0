#include "ws_bridge/ws_session.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "brt_config.h"
#include "common/cli/cli_common.hpp"
#include "common/json/json_writer.hpp"
#include "common/json/number_format.hpp"
#include "ws_bridge/message_memory.hpp"
#include "ws_bridge/rest_api.hpp"
#include "ws_bridge/views.hpp"

namespace brt::bridge {

namespace {

// Summary and alarm views carry the writer's state: without new frames they
// are still sent this often, so a client sees the writer go stale.
constexpr auto kStatusRefresh = std::chrono::seconds(1);
// A frame arriving a little before its subscription is due still goes out,
// so a 10 Hz subscription on a 10 Hz writer gets every frame despite jitter.
constexpr double kEarlyFraction = 0.25;

std::chrono::steady_clock::duration seconds(double value) {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(value));
}

bool needs_frame(View view) {
    return view == View::rack || view == View::module || view == View::heatmap;
}

}  // namespace

WsSession::WsSession(beast::tcp_stream&& stream, ServerContext& context, PeerSlot peer_slot,
                     std::string peer)
    : ws_(std::move(stream)),
      context_(context),
      connection_guard_(context.stats.open_connections),
      peer_slot_(std::move(peer_slot)),
      peer_(std::move(peer)) {}

WsSession::~WsSession() {
    // Its queue may have held megabytes: the server hands freed memory back.
    request_memory_release();
}

void WsSession::run(http::request<http::string_body> request) {
    // The WebSocket stream keeps its own timers: the TCP stream's is off.
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = std::chrono::seconds(10);
    timeout.idle_timeout = seconds(context_.limits.idle_timeout_s);
    timeout.keep_alive_pings = true;  // a live browser answers pings; a dead peer does not
    ws_.set_option(timeout);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
        response.set(http::field::server, std::string("brt-ws-bridge/") + BRT_VERSION);
    }));
    ws_.read_message_max(context_.limits.ws_message_max_bytes);
    // Each message goes out as one frame: one gather write (the frame header,
    // then the snapshot's shared bytes) and one send per client. Beast's
    // default cuts a message into 4 KiB frames, a send and a completion each:
    // five for a summary, 44 for a full heatmap, for every client.
    ws_.auto_fragment(false);
    ws_.async_accept(request, beast::bind_front_handler(&WsSession::on_accept, shared_from_this()));
}

void WsSession::on_accept(beast::error_code error) {
    if (error) {
        return;
    }
    client_guard_.emplace(context_.stats.websocket_clients);
    context_.hub.add(shared_from_this());
    latest_ = context_.hub.latest();
    JsonWriter hello;
    hello.begin_object();
    hello.key("type").value("hello");
    hello.key("bridge").value(std::string("brt-ws-bridge ") + BRT_VERSION);
    hello.key("views").begin_array();
    for (View view : {View::summary, View::rack, View::module, View::alarms, View::heatmap}) {
        hello.value(view_name(view));
    }
    hello.end_array();
    hello.key("default_rate_hz").value(context_.limits.default_rate_hz);
    hello.key("max_rate_hz").value(context_.limits.max_rate_hz);
    hello.key("max_message_bytes")
        .value(static_cast<std::uint64_t>(context_.limits.ws_message_max_bytes));
    if (latest_ && latest_->geometry) {
        hello.key("geometry").begin_object();
        hello.key("racks").value(latest_->geometry->racks);
        hello.key("modules_per_rack").value(latest_->geometry->modules_per_rack);
        hello.key("cells_per_module").value(latest_->geometry->cells_per_module);
        hello.end_object();
    } else {
        hello.key("geometry").null();
    }
    hello.end_object();
    send_text(hello.str());
    do_read();
}

void WsSession::do_read() {
    ws_.async_read(read_buffer_,
                   beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
}

void WsSession::on_read(beast::error_code error, std::size_t) {
    if (error) {
        if (error == websocket::error::message_too_big) {
            // Beast has already failed the connection with close code 1009.
            BridgeStats::bump(context_.stats.oversize_closes_total);
        }
        closing_ = true;
        return;
    }
    if (!ws_.got_text()) {
        BridgeStats::bump(context_.stats.client_errors_total);
        send_text(error_json("binary messages are not understood: send JSON text"));
    } else {
        handle_message(beast::buffers_to_string(read_buffer_.data()));
    }
    read_buffer_.consume(read_buffer_.size());
    if (!closing_) {
        do_read();
    }
}

void WsSession::handle_message(const std::string& text) {
    const ClientMessage message = parse_client_message(text);
    if (const auto* problem = std::get_if<ProtocolError>(&message)) {
        BridgeStats::bump(context_.stats.client_errors_total);
        send_text(error_json(problem->message));
    } else if (const auto* request = std::get_if<SubscribeRequest>(&message)) {
        subscribe(*request);
    } else if (const auto* wanted = std::get_if<HistoryRequest>(&message)) {
        if (auto reply =
                rack_history_json(context_.hub.history(), wanted->rack, wanted->field_mask)) {
            send_text(std::move(*reply));
        } else {
            BridgeStats::bump(context_.stats.client_errors_total);
            send_text(error_json(fmt::format(
                "no history of rack {}: no frame read yet, or the segment has no such rack",
                wanted->rack)));
        }
    } else {
        const auto& unsubscribe = std::get<UnsubscribeRequest>(message);
        for (std::size_t view = 0; view < kViewCount; ++view) {
            if (!unsubscribe.view || static_cast<std::size_t>(*unsubscribe.view) == view) {
                subscriptions_[view].reset();
            }
        }
        JsonWriter json;
        json.begin_object().key("type").value("unsubscribed").key("view");
        if (unsubscribe.view) {
            json.value(view_name(*unsubscribe.view));
        } else {
            json.value("all");
        }
        send_text(json.end_object().str());
    }
}

void WsSession::subscribe(const SubscribeRequest& request) {
    if (request.rack) {
        if (!latest_ || !latest_->geometry) {
            BridgeStats::bump(context_.stats.client_errors_total);
            send_text(
                error_json("no segment attached yet: racks cannot be checked; subscribe "
                           "again once the summary shows a geometry"));
            return;
        }
        if (const std::string wrong =
                selection_problem(*latest_->geometry, *request.rack, request.module);
            !wrong.empty()) {
            BridgeStats::bump(context_.stats.client_errors_total);
            send_text(error_json(wrong));
            return;
        }
    }
    const double asked = request.rate_hz.value_or(context_.limits.default_rate_hz);
    // Not `asked <= 0`: NaN and rates so small that 1 / rate overflows the
    // period (then a short one) are refused too.
    if (!(asked >= context_.limits.min_rate_hz)) {
        BridgeStats::bump(context_.stats.client_errors_total);
        send_text(error_json(fmt::format(
            "\"rate_hz\" must be a positive number from {} to {} (faster is capped at {}), got {}",
            format_double(context_.limits.min_rate_hz), format_double(context_.limits.max_rate_hz),
            format_double(context_.limits.max_rate_hz), format_double(asked))));
        return;
    }
    const double rate_hz =
        std::clamp(asked, context_.limits.min_rate_hz, context_.limits.max_rate_hz);
    Subscription subscription;
    subscription.request = request;
    if (request.view == View::heatmap && subscription.request.field_mask == 0) {
        subscription.request.field_mask = kAllFieldsMask;
    }
    subscription.period = seconds(1.0 / rate_hz);
    auto& slot = subscriptions_[static_cast<std::size_t>(request.view)];
    slot = subscription;

    JsonWriter json;
    json.begin_object();
    json.key("type").value("subscribed");
    json.key("view").value(view_name(request.view));
    if (request.rack) {
        json.key("rack").value(*request.rack);
    }
    if (request.module) {
        json.key("module").value(*request.module);
    }
    json.key("rate_hz").value(rate_hz);
    json.key("capped").value(asked > rate_hz);
    json.end_object();
    send_text(json.str());
    // The current state at once, not at the next frame; over the memory cap
    // it waits for the next frame, which first disconnects clients behind.
    if (latest_ && message_bytes() <= context_.limits.max_queued_bytes) {
        push(*slot, latest_, true);
    }
}

void WsSession::deliver(const SnapshotPtr& snapshot) {
    asio::post(ws_.get_executor(),
               [self = shared_from_this(), snapshot] { self->on_snapshot(snapshot); });
}

void WsSession::on_snapshot(const SnapshotPtr& snapshot) {
    if (closing_) {
        return;
    }
    latest_ = snapshot;
    if (behind_over_memory_cap()) {
        drop_for_memory();
        return;
    }
    if (behind_since_ &&
        Clock::now() - *behind_since_ > seconds(context_.limits.slow_client_timeout_s)) {
        BridgeStats::bump(context_.stats.slow_client_disconnects_total);
        drop_connection();
        return;
    }
    for (auto& subscription : subscriptions_) {
        if (subscription) {
            push(*subscription, snapshot, false);
        }
    }
}

void WsSession::push(Subscription& subscription, const SnapshotPtr& snapshot, bool force) {
    const View view = subscription.request.view;
    if (needs_frame(view) && !snapshot->view) {
        return;
    }
    if (subscription.request.rack) {
        // The segment may have been re-created with fewer racks.
        if (!snapshot->geometry ||
            !selection_problem(*snapshot->geometry, *subscription.request.rack,
                               subscription.request.module)
                 .empty()) {
            return;
        }
    }
    const auto now = Clock::now();
    if (!force) {
        const auto early =
            std::chrono::duration_cast<Clock::duration>(subscription.period * kEarlyFraction);
        if (now + early < subscription.next_due) {
            return;
        }
        // Alarms go out when they change; frame views with each new frame.
        const std::uint64_t alarm_version = snapshot->alarms ? snapshot->alarms->version : 0;
        const bool new_frame = view == View::alarms
                                   ? alarm_version != subscription.last_alarm_version
                                   : snapshot->frame_number() != subscription.last_frame;
        const bool status_due = !needs_frame(view) &&
                                snapshot->sequence != subscription.last_snapshot &&
                                now - subscription.last_sent >= kStatusRefresh;
        if (!new_frame && !status_due) {
            return;
        }
    }
    bool binary = false;
    auto bytes = message_for(subscription, *snapshot, binary);
    if (!bytes) {
        return;
    }
    // Keeps the average at the asked rate; after a pause it starts afresh.
    subscription.next_due = now - subscription.next_due > subscription.period
                                ? now + subscription.period
                                : subscription.next_due + subscription.period;
    subscription.last_sent = now;
    subscription.last_frame = snapshot->frame_number();
    subscription.last_snapshot = snapshot->sequence;
    subscription.last_alarm_version = snapshot->alarms ? snapshot->alarms->version : 0;
    enqueue({std::move(bytes), binary});
}

std::shared_ptr<const std::string> WsSession::message_for(const Subscription& subscription,
                                                          const Snapshot& snapshot,
                                                          bool& binary) const {
    const SubscribeRequest& request = subscription.request;
    switch (request.view) {
        case View::summary:
            return snapshot.cached("summary", [&] { return summary_json(snapshot); });
        case View::rack:
            return snapshot.cached(fmt::format("rack/{}", *request.rack),
                                   [&] { return rack_json(snapshot, *request.rack); });
        case View::module:
            return snapshot.cached(
                fmt::format("module/{}/{}", *request.rack, *request.module),
                [&] { return module_json(snapshot, *request.rack, *request.module); });
        case View::heatmap: {
            binary = true;
            const std::uint32_t rack = request.rack.value_or(kAllTargets);
            return snapshot.cached(fmt::format("heatmap/{}/{}", rack, request.field_mask), [&] {
                return heatmap_binary(snapshot, rack, request.field_mask);
            });
        }
        case View::alarms:
            return snapshot.cached("alarms", [&] { return alarms_json(snapshot); });
    }
    return nullptr;
}

void WsSession::send_text(std::string text) {
    enqueue({counted_message(std::move(text)), false});
}

void WsSession::enqueue(Outgoing message) {
    if (closing_) {
        return;
    }
    if (!writing_) {
        queue_.push_back(std::move(message));
        write_next();
        return;
    }
    if (queue_.size() >= context_.limits.client_queue_messages) {
        // The oldest waiting message is the least useful one.
        queue_.pop_front();
        BridgeStats::bump(context_.stats.messages_dropped_total);
        if (!behind_since_) {
            behind_since_ = Clock::now();
        }
    }
    queue_.push_back(std::move(message));
}

void WsSession::write_next() {
    if (queue_.empty() || closing_) {
        return;
    }
    in_flight_ = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    ws_.binary(in_flight_.binary);
    ws_.async_write(asio::buffer(*in_flight_.bytes),
                    beast::bind_front_handler(&WsSession::on_write, shared_from_this()));
}

void WsSession::on_write(beast::error_code error, std::size_t) {
    writing_ = false;
    in_flight_ = {};
    if (error) {
        closing_ = true;
        queue_.clear();
        return;
    }
    BridgeStats::bump(context_.stats.messages_sent_total);
    if (queue_.empty()) {
        behind_since_.reset();  // caught up
    }
    write_next();
}

void WsSession::drop_connection() {
    closing_ = true;
    queue_.clear();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
}

bool WsSession::behind_over_memory_cap() const {
    // A client that keeps up has sent the last snapshot's messages when the
    // next one comes; one that does not read has its write stuck and its
    // queue filling. Checked once per snapshot, before its messages are
    // built: several subscriptions' messages of one snapshot stack up in
    // the queue without the client being behind.
    return (writing_ || !queue_.empty()) && message_bytes() > context_.limits.max_queued_bytes;
}

void WsSession::drop_for_memory() {
    BridgeStats::bump(context_.stats.memory_cap_disconnects_total);
    constexpr double kMiB = 1024.0 * 1024.0;
    fmt::print(stderr,
               "{}: disconnecting WebSocket client {}: it is behind ({} messages waiting) while "
               "the bridge holds {:.1f} MiB of messages, over --max-queued-mib {:.0f}\n",
               tool_name("ws_bridge"), peer_, queue_.size() + (writing_ ? 1 : 0),
               static_cast<double>(message_bytes()) / kMiB,
               static_cast<double>(context_.limits.max_queued_bytes) / kMiB);
    if (writing_) {
        // A close frame cannot overtake the write that is stuck.
        drop_connection();
        return;
    }
    closing_ = true;
    queue_.clear();
    ws_.async_close(websocket::close_reason(websocket::close_code::try_again_later,
                                            "brt-ws-bridge is over its memory cap and this "
                                            "client is behind"),
                    [self = shared_from_this()](beast::error_code) {});
}

void WsSession::close_for_shutdown() {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
        if (self->closing_ || !self->client_guard_) {
            return;
        }
        self->closing_ = true;
        self->queue_.clear();
        if (self->writing_) {
            // A close frame cannot overtake a write in progress.
            self->drop_connection();
            return;
        }
        self->ws_.async_close(websocket::close_reason(websocket::close_code::going_away,
                                                      "brt-ws-bridge is shutting down"),
                              [self](beast::error_code) {});
    });
}

}  // namespace brt::bridge
