// Open connections per client address (--max-connections-per-peer, issue 20,
// item 10): one peer holding hundreds of keep-alive connections must not
// take every slot of --max-connections from the others.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace brt::bridge {

class PeerTable : public std::enable_shared_from_this<PeerTable> {
  public:
    // Holds one of a peer's connections; the count drops when the last owner
    // (the HTTP session, then the WebSocket session it became) lets go.
    class Slot {
      public:
        Slot(std::shared_ptr<PeerTable> table, std::string peer)
            : table_(std::move(table)), peer_(std::move(peer)) {}
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;
        ~Slot() { table_->release(peer_); }
        const std::string& peer() const { return peer_; }

      private:
        std::shared_ptr<PeerTable> table_;
        std::string peer_;
    };

    // A slot, or null when `peer` already holds `limit` connections.
    std::shared_ptr<Slot> try_acquire(const std::string& peer, std::size_t limit) {
        {
            const std::lock_guard lock(mutex_);
            std::size_t& open = open_[peer];
            if (open >= limit) {
                return nullptr;
            }
            ++open;
        }
        return std::make_shared<Slot>(shared_from_this(), peer);
    }

    std::size_t open(const std::string& peer) const {
        const std::lock_guard lock(mutex_);
        const auto found = open_.find(peer);
        return found == open_.end() ? 0 : found->second;
    }

  private:
    void release(const std::string& peer) {
        const std::lock_guard lock(mutex_);
        const auto found = open_.find(peer);
        if (found != open_.end() && --found->second == 0) {
            open_.erase(found);  // the table never grows with peers that left
        }
    }

    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::size_t> open_;
};

using PeerSlot = std::shared_ptr<PeerTable::Slot>;

}  // namespace brt::bridge
