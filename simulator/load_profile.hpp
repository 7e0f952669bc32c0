// What a rack in `profile` mode is asked to do over time: the built-in daily
// duty cycle, or a CSV of time and current or power. Profiles repeat.
#pragma once

#include <string>
#include <vector>

namespace brt {

struct Demand {
    int action = 0;       // rack_control.hpp kAction*
    float current_a = 0;  // magnitude: charge current, or discharge demand
    float power_w = 0;    // discharge demand in W when > 0 (instead of current_a)
};

class LoadProfile {
  public:
    // A day of a grid-connected storage system, compressed into `period_s`:
    // charge overnight, a morning peak, solar charging at midday, the evening
    // peak, idle in between. Rates are C-rates of the rack's capacity.
    static LoadProfile built_in_daily(double period_s);
    // Header `time_s,current_a` (discharge positive, charge negative) or
    // `time_s,power_w`; each row holds until the next; the last row's time is
    // the period. Throws UsageError naming the line on bad input.
    static LoadProfile from_csv(const std::string& path);

    // The demand `t_s` seconds into the profile, for a rack of `capacity_ah`.
    Demand at(double t_s, float capacity_ah) const;
    double period_s() const { return period_s_; }

  private:
    struct Segment {
        double start_s;
        double value;  // C-rate, A or W, discharge positive
    };
    enum class Unit { c_rate, current_a, power_w };
    std::vector<Segment> segments_;
    double period_s_ = 0;
    Unit unit_ = Unit::c_rate;
};

}  // namespace brt
