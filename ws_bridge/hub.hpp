// Hands each snapshot from the reader loop to every connection. The reader
// thread only stores the pointer and posts one task; the fan-out to the
// connections runs on the I/O threads, each connection on its own strand.
// Each new frame's rack summaries also go into the rack history that the
// pages' trends start from.
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>
#include <mutex>
#include <vector>

#include "ws_bridge/rack_history.hpp"
#include "ws_bridge/snapshot.hpp"

namespace brt::bridge {

// A connection the hub knows: WebSocket sessions take snapshots, every
// connection can be closed when the bridge stops.
class Connection {
  public:
    virtual ~Connection() = default;
    // Called on any thread; must only post work to the connection's strand.
    virtual void deliver(const SnapshotPtr& snapshot) = 0;
    virtual void close_for_shutdown() = 0;
};

class Hub {
  public:
    Hub(boost::asio::io_context& io, RackHistoryOptions history) : io_(io), history_(history) {}

    // Reader thread: never blocks on a client.
    void publish(SnapshotPtr snapshot);
    SnapshotPtr latest() const;
    const RackHistory& history() const { return history_; }

    void add(const std::shared_ptr<Connection>& connection);
    // Asks every connection to close; new ones are refused from now on.
    void close_all();
    bool closing() const;

  private:
    void fan_out(const SnapshotPtr& snapshot);
    std::vector<std::shared_ptr<Connection>> live_connections();

    boost::asio::io_context& io_;
    mutable std::mutex mutex_;
    SnapshotPtr latest_;
    RackHistory history_;
    std::vector<std::weak_ptr<Connection>> connections_;
    bool closing_ = false;
};

}  // namespace brt::bridge
