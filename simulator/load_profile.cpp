#include "simulator/load_profile.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>

#include "common/segment/errors.hpp"
#include "simulator/rack_control.hpp"

namespace brt {

LoadProfile LoadProfile::built_in_daily(double period_s) {
    LoadProfile profile;
    profile.unit_ = Unit::c_rate;
    profile.period_s_ = period_s;
    // (hour of day, C-rate): positive discharges, negative charges.
    const double day[][2] = {
        {0, -0.25},   // overnight charge on cheap energy
        {6, 0.0},     // rest
        {7, 0.30},    // morning peak
        {10, -0.35},  // solar midday charge
        {15, 0.0},    // rest
        {17, 0.45},   // evening peak
        {21, 0.10},   // late evening load
        {23, 0.0},
    };
    for (const auto& entry : day) {
        profile.segments_.push_back({entry[0] / 24.0 * period_s, entry[1]});
    }
    return profile;
}

LoadProfile LoadProfile::from_csv(const std::string& path) {
    std::ifstream file(path);
    if (!file) {
        throw UsageError(fmt::format("cannot read load profile {}", path));
    }
    LoadProfile profile;
    std::string line;
    if (!std::getline(file, line)) {
        throw UsageError(fmt::format("{}: empty load profile", path));
    }
    if (line.rfind("time_s,current_a", 0) == 0) {
        profile.unit_ = Unit::current_a;
    } else if (line.rfind("time_s,power_w", 0) == 0) {
        profile.unit_ = Unit::power_w;
    } else {
        throw UsageError(
            fmt::format("{}:1: the header must be 'time_s,current_a' or 'time_s,power_w'", path));
    }
    for (int number = 2; std::getline(file, line); ++number) {
        if (line.empty() || line == "\r") {
            continue;
        }
        const auto comma = line.find(',');
        double time_s = 0;
        double value = 0;
        const char* end = line.data() + line.size();
        if (!line.empty() && line.back() == '\r') {
            --end;
        }
        const bool ok =
            comma != std::string::npos &&
            std::from_chars(line.data(), line.data() + comma, time_s).ec == std::errc() &&
            std::from_chars(line.data() + comma + 1, end, value).ec == std::errc() &&
            std::isfinite(time_s) && std::isfinite(value);
        if (!ok) {
            throw UsageError(
                fmt::format("{}:{}: expected 'time_s,value', got '{}'", path, number, line));
        }
        if (!profile.segments_.empty() && time_s <= profile.segments_.back().start_s) {
            throw UsageError(fmt::format("{}:{}: times must increase", path, number));
        }
        if (profile.unit_ == Unit::power_w && value < 0) {
            throw UsageError(fmt::format(
                "{}:{}: a power profile describes discharge demand; use a current profile "
                "for charging",
                path, number));
        }
        profile.segments_.push_back({time_s, value});
    }
    if (profile.segments_.size() < 2 || profile.segments_.front().start_s != 0) {
        throw UsageError(
            fmt::format("{}: a profile needs at least two rows and must start at time 0", path));
    }
    profile.period_s_ = profile.segments_.back().start_s;
    profile.segments_.pop_back();  // the last row only marks the period
    return profile;
}

Demand LoadProfile::at(double t_s, float capacity_ah) const {
    const double t = std::fmod(t_s, period_s_);
    double value = 0;
    for (const auto& segment : segments_) {
        if (segment.start_s <= t) {
            value = segment.value;
        }
    }
    Demand demand;
    if (unit_ == Unit::power_w) {
        demand.action = value > 0 ? kActionDischarge : kActionIdle;
        demand.power_w = static_cast<float>(value);
        return demand;
    }
    const double current = unit_ == Unit::c_rate ? value * capacity_ah : value;
    if (current > 0) {
        demand.action = kActionDischarge;
    } else if (current < 0) {
        demand.action = kActionCharge;
    }
    demand.current_a = static_cast<float>(std::fabs(current));
    return demand;
}

}  // namespace brt
