#include "ws_bridge/snapshot.hpp"

#include "ws_bridge/message_memory.hpp"

namespace brt::bridge {

std::shared_ptr<const std::string> Snapshot::cached(
    const std::string& key, const std::function<std::string()>& build) const {
    {
        const std::lock_guard lock(cache_mutex_);
        if (const auto found = cache_.find(key); found != cache_.end()) {
            return found->second;
        }
    }
    // Built outside the lock so one large build never stalls other keys; two
    // threads racing on the same key build it twice and keep the first.
    auto built = counted_message(build());
    const std::lock_guard lock(cache_mutex_);
    return cache_.emplace(key, std::move(built)).first->second;
}

std::shared_ptr<const FrameView> make_frame_view(FrameBuffer frame, const Geometry& geometry) {
    auto view = std::make_shared<FrameView>();
    view->frame = std::move(frame);
    view->modules = summarize_modules(view->frame, geometry);
    // Racks and the system from the module summaries: one pass over the cells.
    view->racks = summarize_racks(view->modules, geometry);
    for (const GroupSummary& rack : view->racks) {
        view->system.merge(rack);
    }
    return view;
}

}  // namespace brt::bridge
