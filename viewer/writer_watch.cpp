#include "viewer/writer_watch.hpp"

#include <fmt/format.h>

namespace brt::viewer {

namespace {
constexpr auto kNewsDuration = std::chrono::seconds(10);
}

void WriterWatch::update(AttachChange change, const WriterStatus& writer, Clock::time_point now) {
    const bool live = writer.liveness == Liveness::live;
    if (change == AttachChange::reattached || (change == AttachChange::attached && seen_)) {
        news_ = "segment re-created: re-attached";
        news_until_ = now + kNewsDuration;
    }
    if (seen_ && !live) {
        was_down_ = true;
    }
    if (seen_ && live && (was_down_ || (pid_ != 0 && writer.pid != pid_))) {
        news_ = pid_ != 0 ? fmt::format("writer restarted (pid {}): live again", writer.pid)
                          : fmt::format("writer started (pid {}): live", writer.pid);
        news_until_ = now + kNewsDuration;
        was_down_ = false;
    }
    seen_ = true;
    if (live) {
        pid_ = writer.pid;
    }

    alert_ = !live;
    switch (writer.liveness) {
        case Liveness::live:
            message_ = now < news_until_ ? news_ : std::string();
            break;
        case Liveness::stale:
            message_ = fmt::format(
                "writer (pid {}) not responding: showing the last frame, resuming when it is back",
                writer.pid);
            break;
        case Liveness::stopped:
            message_ = fmt::format(
                "writer (pid {}) stopped: showing its last frame, resuming when it restarts",
                writer.pid);
            break;
        case Liveness::no_writer:
            message_ = "no writer yet: waiting for brt-simulator";
            break;
        case Liveness::no_segment:
            message_ = "no segment: waiting for brt-shm-init and brt-simulator";
            break;
    }
}

}  // namespace brt::viewer
