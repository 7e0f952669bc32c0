// One screen line under construction: text and SGR styles, never wider than
// the terminal. It counts visible columns itself so that escape sequences
// never push a line past the right edge (which would wrap and scroll the
// whole screen).
#pragma once

#include <string>
#include <string_view>

namespace brt::viewer {

class StyledLine {
  public:
    explicit StyledLine(int width) : width_(width < 0 ? 0 : width) {}

    int column() const { return column_; }
    int remaining() const { return width_ - column_; }

    // Plain ASCII text, cut at the right edge.
    StyledLine& text(std::string_view ascii);
    // Text in a style (an SGR sequence; empty means plain), reset afterwards.
    StyledLine& styled(std::string_view style, std::string_view ascii);
    // Spaces up to `target` (no-op when already there or beyond).
    StyledLine& pad_to(int target);

    std::string take() { return std::move(out_); }

  private:
    int width_;
    int column_ = 0;
    std::string out_;
};

}  // namespace brt::viewer
