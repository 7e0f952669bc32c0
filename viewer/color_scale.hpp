// Colour scales for heatmaps: a value normalised to 0..1 becomes a background
// colour (with a readable foreground) at the depth the terminal supports, or
// an ASCII shade when there is no colour at all.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace brt::viewer {

enum class ColorDepth { none, ansi16, ansi256, truecolor };

// What the terminal says it supports: COLORTERM=truecolor|24bit, TERM=*256color*,
// otherwise the 16 ANSI colours. (Whether to use colour at all is decided
// separately: NO_COLOR, --color, a terminal on stdout.)
ColorDepth detect_color_depth(const char* colorterm_env, const char* term_env);

// The span of values a scale maps to its two ends; computed from what is on
// screen, so that small differences between cells stay visible.
struct ScaleRange {
    double low = NAN;
    double high = NAN;
    ScaleRange() = default;
    ScaleRange(double low_value, double high_value) : low(low_value), high(high_value) {}
    // 0..1; NaN stays NaN; a range of one value maps everything to 0.5.
    double normalize(double value) const;
    void include(double value);  // widens the range, NaN ignored
    bool empty() const { return !(high >= low); }
};

class ColorScale {
  public:
    static constexpr int kLevels = 32;
    explicit ColorScale(ColorDepth depth);

    bool colored() const { return depth_ != ColorDepth::none; }
    // SGR sequence setting background and a contrasting foreground for a
    // normalised value; for NaN a neutral grey. Empty without colour.
    const std::string& style(double t) const;
    // The calm scale of the state colours: dark to light grey, for values
    // of places without an alarm.
    const std::string& calm_style(double t) const;
    // One character standing for the value without colour: ".:-=+*#%@"
    // from low to high, '?' for NaN.
    char shade(double t) const;
    static constexpr std::string_view kShades = ".:-=+*#%@";

  private:
    static int level(double t);
    ColorDepth depth_;
    std::array<std::string, kLevels> styles_;
    std::array<std::string, kLevels> calm_styles_;
    std::string nan_style_;
};

inline constexpr std::string_view kReset = "\x1b[0m";
inline constexpr std::string_view kBold = "\x1b[1m";
inline constexpr std::string_view kReverse = "\x1b[7m";

}  // namespace brt::viewer
