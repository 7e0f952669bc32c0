// Turns changes in the writer's state into news for the dashboard's second
// line: "writer stopped ... waiting", then "writer restarted" for a while
// once frames come back. The viewer itself never exits because of them.
#pragma once

#include <chrono>
#include <string>

#include "common/segment/liveness.hpp"
#include "common/segment/segment_reader.hpp"

namespace brt::viewer {

class WriterWatch {
  public:
    using Clock = std::chrono::steady_clock;

    // Called after every refresh with the reader's attach change and the
    // writer's status.
    void update(AttachChange change, const WriterStatus& writer, Clock::time_point now);

    // Empty when there is nothing to say.
    const std::string& message() const { return message_; }
    // True while the writer is not live (the message is a warning).
    bool alert() const { return alert_; }

  private:
    bool seen_ = false;
    pid_t pid_ = 0;          // the last live writer's
    bool was_down_ = false;  // not live at some refresh since the last live one
    std::string news_;       // a passing message ("restarted") and when it expires
    Clock::time_point news_until_{};
    std::string message_;
    bool alert_ = false;
};

}  // namespace brt::viewer
