#include "viewer/color_scale.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace brt::viewer {

namespace {

struct Rgb {
    double r, g, b;
};

// A diverging blue-to-red scale (ColorBrewer RdYlBu, reversed): low values
// cold, high values hot, a pale middle so extremes stand out.
constexpr std::array<Rgb, 6> kStops = {{{49, 54, 149},
                                        {69, 117, 180},
                                        {171, 217, 233},
                                        {254, 224, 144},
                                        {244, 109, 67},
                                        {165, 0, 38}}};

Rgb interpolate(double t) {
    const double position = std::clamp(t, 0.0, 1.0) * (kStops.size() - 1);
    const auto index = std::min<std::size_t>(static_cast<std::size_t>(position), kStops.size() - 2);
    const double f = position - static_cast<double>(index);
    const Rgb& a = kStops[index];
    const Rgb& b = kStops[index + 1];
    return {a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f};
}

// Dark text on light backgrounds, light text on dark ones (relative luminance).
bool light_background(const Rgb& c) {
    return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b > 140;
}

int cube_level(double channel) {
    // The xterm 6x6x6 cube's levels are 0, 95, 135, 175, 215, 255.
    if (channel < 48) {
        return 0;
    }
    return std::min(5, static_cast<int>((channel - 35) / 40));
}

std::string style_for(ColorDepth depth, double t) {
    const Rgb c = interpolate(t);
    const char* foreground = light_background(c) ? "30" : "97";
    switch (depth) {
        case ColorDepth::none:
            return {};
        case ColorDepth::truecolor:
            return fmt::format("\x1b[{};48;2;{};{};{}m", foreground, std::lround(c.r),
                               std::lround(c.g), std::lround(c.b));
        case ColorDepth::ansi256:
            return fmt::format("\x1b[{};48;5;{}m", foreground,
                               16 + 36 * cube_level(c.r) + 6 * cube_level(c.g) + cube_level(c.b));
        case ColorDepth::ansi16: {
            // Five buckets of the 8 basic backgrounds every terminal has.
            static constexpr const char* kBackgrounds[] = {"30;44", "30;46", "30;42", "30;43",
                                                           "97;41"};
            const int bucket = std::min(4, static_cast<int>(std::clamp(t, 0.0, 1.0) * 5));
            return fmt::format("\x1b[{}m", bucket == 0 ? "97;44" : kBackgrounds[bucket]);
        }
    }
    return {};
}

// Greys from dark to light; the text stays readable on each.
std::string calm_style_for(ColorDepth depth, double t) {
    const double clamped = std::clamp(t, 0.0, 1.0);
    const char* foreground = clamped > 0.55 ? "30" : "97";
    switch (depth) {
        case ColorDepth::none:
            return {};
        case ColorDepth::truecolor: {
            const long grey = std::lround(58 + clamped * (190 - 58));
            return fmt::format("\x1b[{};48;2;{};{};{}m", foreground, grey, grey, grey);
        }
        case ColorDepth::ansi256:  // the greyscale ramp 232..255
            return fmt::format("\x1b[{};48;5;{}m", foreground, 236 + std::lround(clamped * 14));
        case ColorDepth::ansi16:
            return clamped > 0.55 ? "\x1b[30;47m" : "\x1b[97;100m";
    }
    return {};
}

}  // namespace

ColorDepth detect_color_depth(const char* colorterm_env, const char* term_env) {
    const std::string_view colorterm = colorterm_env != nullptr ? colorterm_env : "";
    const std::string_view term = term_env != nullptr ? term_env : "";
    if (colorterm == "truecolor" || colorterm == "24bit") {
        return ColorDepth::truecolor;
    }
    if (term.find("256color") != std::string_view::npos) {
        return ColorDepth::ansi256;
    }
    return ColorDepth::ansi16;
}

double ScaleRange::normalize(double value) const {
    if (std::isnan(value) || empty()) {
        return NAN;
    }
    if (high - low <= 0) {
        return 0.5;
    }
    return std::clamp((value - low) / (high - low), 0.0, 1.0);
}

void ScaleRange::include(double value) {
    if (std::isnan(value)) {
        return;
    }
    if (empty()) {
        low = high = value;
        return;
    }
    low = std::min(low, value);
    high = std::max(high, value);
}

ColorScale::ColorScale(ColorDepth depth) : depth_(depth) {
    for (int i = 0; i < kLevels; ++i) {
        styles_[i] = style_for(depth, (i + 0.5) / kLevels);
        calm_styles_[i] = calm_style_for(depth, (i + 0.5) / kLevels);
    }
    if (depth == ColorDepth::ansi16) {
        nan_style_ = "\x1b[30;47m";
    } else if (depth != ColorDepth::none) {
        nan_style_ = "\x1b[97;48;5;240m";  // grey in both 256 and truecolor terminals
    }
}

int ColorScale::level(double t) {
    return std::clamp(static_cast<int>(t * kLevels), 0, kLevels - 1);
}

const std::string& ColorScale::style(double t) const {
    return std::isnan(t) ? nan_style_ : styles_[level(t)];
}

const std::string& ColorScale::calm_style(double t) const {
    return std::isnan(t) ? nan_style_ : calm_styles_[level(t)];
}

char ColorScale::shade(double t) const {
    if (std::isnan(t)) {
        return '?';
    }
    const auto index = std::clamp(static_cast<std::size_t>(t * kShades.size()), std::size_t{0},
                                  kShades.size() - 1);
    return kShades[index];
}

}  // namespace brt::viewer
