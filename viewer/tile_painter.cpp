#include "viewer/tile_painter.hpp"

#include "common/alarm/alarm_rules.hpp"

namespace brt::viewer {

std::string_view severity_style(const ColorScale& scale, Severity severity) {
    if (!scale.colored()) {
        return kBold;
    }
    switch (severity) {
        case Severity::critical:
            return "\x1b[1;37;41m";  // white on red
        case Severity::warning:
            return "\x1b[1;30;43m";  // black on amber
        case Severity::info:
            return "\x1b[1;30;46m";  // black on cyan
    }
    return kBold;
}

namespace {

char severity_letter(Severity severity) {
    return severity == Severity::critical ? 'C' : severity == Severity::warning ? 'W' : 'I';
}

}  // namespace

AlarmPlaces::AlarmPlaces(const AlarmList* list) {
    if (list == nullptr) {
        return;
    }
    for (const BoardAlarm& alarm : list->alarms) {
        const AlarmLocation& at = alarm.location;
        if (!alarm.active || alarm.shelved() || at.rack == kNoIndex) {
            continue;
        }
        auto raise = [&](Severity& slot) { slot = std::max(slot, alarm.severity); };
        auto [rack, new_rack] = racks_.emplace(at.rack, alarm.severity);
        if (!new_rack) {
            raise(rack->second);
        }
        if (at.module == kNoIndex) {
            continue;
        }
        auto [module, new_module] = modules_.emplace(std::pair{at.rack, at.module}, alarm.severity);
        if (!new_module) {
            raise(module->second);
        }
        if (at.cell != kNoIndex) {
            auto [cell, new_cell] =
                cells_.emplace(std::tuple{at.rack, at.module, at.cell}, alarm.severity);
            if (!new_cell) {
                raise(cell->second);
            }
        }
    }
}

std::optional<Severity> AlarmPlaces::module(std::uint32_t rack, std::uint32_t module) const {
    const auto found = modules_.find({rack, module});
    return found == modules_.end() ? std::nullopt : std::optional(found->second);
}

std::optional<Severity> AlarmPlaces::rack(std::uint32_t rack) const {
    const auto found = racks_.find(rack);
    return found == racks_.end() ? std::nullopt : std::optional(found->second);
}

std::optional<Severity> AlarmPlaces::cell(std::uint32_t rack, std::uint32_t module,
                                          std::uint32_t cell) const {
    const auto found = cells_.find({rack, module, cell});
    return found == cells_.end() ? std::nullopt : std::optional(found->second);
}

ScaleRange state_range(Field field, Chemistry chemistry) {
    const ChemistryLimits limits = default_chemistry_limits(chemistry);
    switch (field) {
        case Field::voltage_v:
            return {limits.voltage_min_v.msl, limits.voltage_max_v.msl};
        case Field::temperature_c:
            return {limits.temperature_min_discharge_c.msl, limits.temperature_max_discharge_c.msl};
        case Field::soc:
            return {0.0, 1.0};
        case Field::soh:
            return {limits.soh_min.msl, 1.0};
        default:
            return {};
    }
}

TilePainter::TilePainter(ColorMode mode, const ColorScale& scale, const Snapshot& snapshot,
                         const AlarmList* alarms, Field field, const ScaleRange& frame_range)
    : mode_(mode), scale_(scale), places_(alarms), frame_range_(frame_range) {
    if (mode_ != ColorMode::state) {
        return;
    }
    rack_ranges_.reserve(snapshot.rack_chemistry.size());
    for (const Chemistry chemistry : snapshot.rack_chemistry) {
        const ScaleRange fixed = state_range(field, chemistry);
        rack_ranges_.push_back(fixed.empty() ? frame_range_ : fixed);
    }
}

const ScaleRange& TilePainter::range(std::uint32_t rack) const {
    return mode_ == ColorMode::state && rack < rack_ranges_.size() ? rack_ranges_[rack]
                                                                   : frame_range_;
}

Tile TilePainter::paint(std::uint32_t rack, std::uint32_t module, std::uint32_t cell,
                        double value) const {
    if (mode_ == ColorMode::state) {
        const std::optional<Severity> alarm =
            cell == kNoIndex ? places_.module(rack, module) : places_.cell(rack, module, cell);
        if (alarm) {
            return {scale_.colored() ? severity_style(scale_, *alarm) : std::string_view(),
                    severity_letter(*alarm)};
        }
        const double t = range(rack).normalize(value);
        return {scale_.calm_style(t), scale_.shade(t)};
    }
    const double t = frame_range_.normalize(value);
    return {scale_.style(t), scale_.shade(t)};
}

Tile TilePainter::paint_modules(std::uint32_t rack, std::uint32_t first, std::uint32_t count,
                                double value) const {
    std::uint32_t worst = first;
    std::optional<Severity> worst_alarm;
    for (std::uint32_t m = first; m < first + count; ++m) {
        const std::optional<Severity> alarm = places_.module(rack, m);
        if (alarm && (!worst_alarm || *alarm > *worst_alarm)) {
            worst_alarm = alarm;
            worst = m;
        }
    }
    return paint(rack, worst, kNoIndex, value);
}

std::string_view TilePainter::rack_style(std::uint32_t rack) const {
    const std::optional<Severity> alarm = places_.rack(rack);
    if (mode_ != ColorMode::state || !alarm) {
        return {};
    }
    return severity_style(scale_, *alarm);
}

}  // namespace brt::viewer
