#include "viewer/styled_line.hpp"

#include <algorithm>

#include "viewer/color_scale.hpp"

namespace brt::viewer {

StyledLine& StyledLine::text(std::string_view ascii) {
    const auto fits = std::min<std::size_t>(ascii.size(), static_cast<std::size_t>(remaining()));
    out_.append(ascii.substr(0, fits));
    column_ += static_cast<int>(fits);
    return *this;
}

StyledLine& StyledLine::styled(std::string_view style, std::string_view ascii) {
    if (style.empty()) {
        return text(ascii);
    }
    if (remaining() <= 0 || ascii.empty()) {
        return *this;
    }
    out_.append(style);
    text(ascii);
    out_.append(kReset);
    return *this;
}

StyledLine& StyledLine::pad_to(int target) {
    const int end = std::min(target, width_);
    if (end > column_) {
        out_.append(static_cast<std::size_t>(end - column_), ' ');
        column_ = end;
    }
    return *this;
}

}  // namespace brt::viewer
