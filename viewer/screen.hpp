// Flicker-free drawing: remembers what the terminal shows and emits only the
// lines that changed, each rewritten in place (cursor move, text, clear to
// end of line), with no clear-screen between frames. One string per update so
// the terminal receives it in a single write.
#pragma once

#include <string>
#include <vector>

namespace brt::viewer {

class Screen {
  public:
    // The bytes that turn the terminal's current content into `lines` on a
    // screen of `rows` rows; empty when nothing changed.
    std::string update(const std::vector<std::string>& lines, int rows);
    // Forget what is shown (after a resize or a resume): the next update
    // clears the screen and draws every line.
    void invalidate() { shown_.clear(), full_ = true; }
    // Lines written by the last update (for tests and the benchmark).
    int lines_written() const { return lines_written_; }

  private:
    std::vector<std::string> shown_;
    bool full_ = true;
    int lines_written_ = 0;
};

}  // namespace brt::viewer
