#include "viewer/screen.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace brt::viewer {

std::string Screen::update(const std::vector<std::string>& lines, int rows) {
    std::string out;
    lines_written_ = 0;
    if (full_) {
        out += "\x1b[H\x1b[2J";
    }
    shown_.resize(static_cast<std::size_t>(std::max(rows, 0)));
    for (int row = 0; row < rows; ++row) {
        static const std::string kEmpty;
        const std::string& wanted =
            static_cast<std::size_t>(row) < lines.size() ? lines[row] : kEmpty;
        std::string& shown = shown_[row];
        if (!full_ && wanted == shown) {
            continue;
        }
        if (full_ && wanted.empty()) {
            continue;  // the clear already blanked it
        }
        // Reset attributes before clearing so the rest of the row is blank,
        // not painted in the last cell's background.
        fmt::format_to(std::back_inserter(out), "\x1b[{};1H{}\x1b[0m\x1b[K", row + 1, wanted);
        shown = wanted;
        ++lines_written_;
    }
    full_ = false;
    if (out.empty()) {
        return out;
    }
    // Synchronized output (DEC mode 2026): terminals that know it show the
    // update at once; the others ignore the two sequences.
    return "\x1b[?2026h" + out + "\x1b[?2026l";
}

}  // namespace brt::viewer
