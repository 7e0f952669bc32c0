#include "ws_bridge/hub.hpp"

#include <boost/asio/post.hpp>

namespace brt::bridge {

void Hub::publish(SnapshotPtr snapshot) {
    std::shared_ptr<const FrameView> new_frame;
    {
        const std::lock_guard lock(mutex_);
        if (snapshot->view && (!latest_ || latest_->view != snapshot->view)) {
            new_frame = snapshot->view;
        }
        latest_ = snapshot;
    }
    if (new_frame) {  // status-only snapshots repeat the last frame: added once
        history_.add(new_frame->frame.wall_time_ns, new_frame->racks);
    }
    boost::asio::post(io_, [this, snapshot = std::move(snapshot)] { fan_out(snapshot); });
}

SnapshotPtr Hub::latest() const {
    const std::lock_guard lock(mutex_);
    return latest_;
}

void Hub::add(const std::shared_ptr<Connection>& connection) {
    const std::lock_guard lock(mutex_);
    connections_.push_back(connection);
}

std::vector<std::shared_ptr<Connection>> Hub::live_connections() {
    std::vector<std::shared_ptr<Connection>> live;
    const std::lock_guard lock(mutex_);
    live.reserve(connections_.size());
    // Compacts the registry while copying it: closed connections drop out.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < connections_.size(); ++i) {
        if (auto connection = connections_[i].lock()) {
            live.push_back(std::move(connection));
            if (kept != i) {  // never a self-move: it would empty the pointer
                connections_[kept] = std::move(connections_[i]);
            }
            ++kept;
        }
    }
    connections_.resize(kept);
    return live;
}

void Hub::fan_out(const SnapshotPtr& snapshot) {
    for (const auto& connection : live_connections()) {
        connection->deliver(snapshot);
    }
}

void Hub::close_all() {
    {
        const std::lock_guard lock(mutex_);
        closing_ = true;
    }
    for (const auto& connection : live_connections()) {
        connection->close_for_shutdown();
    }
}

bool Hub::closing() const {
    const std::lock_guard lock(mutex_);
    return closing_;
}

}  // namespace brt::bridge
