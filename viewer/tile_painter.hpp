// How the dashboard colours a module or a cell. By state (the default, in
// the style of ISA-101 high-performance displays): a place with an active
// alarm of brt-anomaly-monitor takes its severity's colour; every other
// place is a calm grey by its value on a fixed scale per metric and
// chemistry (the default alarm limits), so noise never looks like danger.
// By range (--scale range, for engineers): the frame's own range on the
// blue-to-red scale, so small differences show.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/alarm/alarm_list.hpp"
#include "viewer/color_scale.hpp"
#include "viewer/snapshot.hpp"

namespace brt::viewer {

enum class ColorMode { state, range };

// The colour of an alarm severity, as a block (white on red, black on amber,
// black on cyan); bold without colour. Without colour a tile shows the
// letter C, W or I instead.
std::string_view severity_style(const ColorScale& scale, Severity severity);

// The worst active alarm (not shelved) at each place.
class AlarmPlaces {
  public:
    explicit AlarmPlaces(const AlarmList* list);
    // In the module (any of its cells, or the module itself); in the rack
    // (anywhere in it, or the rack as a whole); at the cell.
    std::optional<Severity> module(std::uint32_t rack, std::uint32_t module) const;
    std::optional<Severity> rack(std::uint32_t rack) const;
    std::optional<Severity> cell(std::uint32_t rack, std::uint32_t module,
                                 std::uint32_t cell) const;

  private:
    std::map<std::pair<std::uint32_t, std::uint32_t>, Severity> modules_;
    std::map<std::uint32_t, Severity> racks_;
    std::map<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>, Severity> cells_;
};

// The fixed scale of the state colours: the chemistry's MSLs for voltage
// and temperature (discharge), 0..100 % for SoC, the SoH MSL..100 %; empty
// for resistance (no limit: the frame's range is used).
ScaleRange state_range(Field field, Chemistry chemistry);

struct Tile {
    std::string_view style;  // SGR; empty without colour
    char shade = ' ';        // the character without colour (a letter for an alarm)
};

class TilePainter {
  public:
    // `frame_range`: the values on screen (for --scale range, and for
    // resistance).
    TilePainter(ColorMode mode, const ColorScale& scale, const Snapshot& snapshot,
                const AlarmList* alarms, Field field, const ScaleRange& frame_range);

    // A module (`cell` kNoIndex) or one cell, with its value in base units.
    Tile paint(std::uint32_t rack, std::uint32_t module, std::uint32_t cell, double value) const;
    // A run of `count` modules shown as one tile: the worst alarm among them,
    // else `value` (their mean).
    Tile paint_modules(std::uint32_t rack, std::uint32_t first, std::uint32_t count,
                       double value) const;
    // The alarm colour of a rack's label, or empty.
    std::string_view rack_style(std::uint32_t rack) const;
    // The value scale of `rack` (the legend's).
    const ScaleRange& range(std::uint32_t rack) const;
    ColorMode mode() const { return mode_; }

  private:
    ColorMode mode_;
    const ColorScale& scale_;
    AlarmPlaces places_;
    ScaleRange frame_range_;
    std::vector<ScaleRange> rack_ranges_;  // by rack (state mode)
};

}  // namespace brt::viewer
