// Ageing against the source laws written out here independently of the
// model's folded coefficients (data/README.md): Schmalstieg 2014 for NMC,
// Naumann (via SimSES) for LFP.
#include <catch2/catch.hpp>

#include <cmath>

#include "simulator/model/cell_model.hpp"

using namespace brt;
using namespace brt::model;

namespace {

constexpr CellVariation kNominal{1.0f, 1.0f};
constexpr double kGas = 8.314462618;
constexpr double kDayS = 86400.0;
constexpr double kYearS = 365.25 * kDayS;

struct Expected {
    double capacity_fade;
    double resistance_growth;
};

double kelvin(double c) {
    return c + 273.15;
}

// Calendar ageing after t_s at a constant SoC and temperature.
Expected calendar_closed_form(Chemistry chemistry, double soc, double temperature_c, double t_s) {
    const ChemistryParams p = make_chemistry_params(chemistry);
    const double t_k = kelvin(temperature_c);
    if (chemistry == Chemistry::nmc) {
        const double v = ocv_v(p, static_cast<float>(soc));
        const double days = t_s / kDayS;
        const double a_cap = (7.543 * v - 23.75) * 1e6 * std::exp(-6976.0 / t_k);
        const double a_res = (5.270 * v - 16.32) * 1e5 * std::exp(-5986.0 / t_k);
        return {a_cap * std::pow(days, 0.75), a_res * std::pow(days, 0.75)};
    }
    const double d = soc - 0.5;
    const double inv = 1.0 / t_k - 1.0 / kelvin(25.0);
    const double k_cap =
        1.2571e-5 * std::exp(-17126.0 / kGas * inv) * (2.8575 * d * d * d + 0.60225);
    const double k_res = 3.4194e-10 * std::exp(-71827.0 / kGas * inv) * (-3.3903 * d * d + 1.5604);
    return {k_cap * std::sqrt(t_s), k_res * t_s};
}

// Cyclic ageing after a throughput of n nominal capacities at a constant
// C-rate and temperature, around SoC 0.5, with the 80 % DOD the model assumes.
Expected cyclic_closed_form(Chemistry chemistry, double c_rate, double temperature_c, double n) {
    const ChemistryParams p = make_chemistry_params(chemistry);
    const double t_k = kelvin(temperature_c);
    const double dod = 0.8;
    if (chemistry == Chemistry::nmc) {
        // Schmalstieg's Q is Ah on his 2.05 Ah cell; cycling tests at 35 C.
        const double v = ocv_v(p, 0.5f);
        const double q = 2.05 * n;
        const double speed = std::exp(-6976.0 * (1.0 / t_k - 1.0 / kelvin(35.0)));
        const double b_cap = 7.348e-3 * (v - 3.667) * (v - 3.667) + 7.6e-4 + 4.081e-3 * dod;
        const double b_res = 2.153e-4 * (v - 3.725) * (v - 3.725) - 1.521e-5 + 2.798e-4 * dod;
        return {speed * b_cap * std::sqrt(q), speed * b_res * q};
    }
    // Naumann, FEC = n / 2; cycling tests at 40 C.
    const double fec = n / 2.0;
    const double speed = std::exp(-17126.0 / kGas * (1.0 / t_k - 1.0 / kelvin(40.0)));
    const double cap = (0.0630 * c_rate + 0.0971) * (4.0253 * std::pow(dod - 0.6, 3.0) + 1.0923) *
                       std::sqrt(fec) / 100.0;
    const double res =
        (-0.0020 * c_rate + 0.0021) * (6.8477 * std::pow(dod - 0.5, 3.0) + 0.9182) * fec / 100.0;
    return {speed * cap, speed * res};
}

// A cell resting at soc and temperature_c for ageing_s of ageing time, in
// `steps` steps of 1 s with the matching speed-up.
CellState rest(const ChemistryParams& p, CellState s, float temperature_c, double ageing_s,
               int steps) {
    s.temperature_c = temperature_c;
    CellInputs in{};
    in.air_temperature_c = temperature_c;
    in.dt_s = 1.0f;
    in.ageing_speedup = static_cast<float>(ageing_s / steps);
    for (int i = 0; i < steps; ++i) {
        step_cell(p, kNominal, s, in);
    }
    return s;
}

}  // namespace

TEST_CASE("one year on the shelf at 25 C, 50 % SoC matches the source laws", "[model][ageing]") {
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        const ChemistryParams p = make_chemistry_params(chemistry);
        const CellState s = rest(p, make_cell_state(0.5, 25.0), 25.0f, kYearS, 10000);
        const Expected e = calendar_closed_form(chemistry, 0.5, 25.0, kYearS);
        CHECK(s.capacity_fade == Approx(e.capacity_fade).epsilon(2e-3));
        CHECK(s.resistance_growth == Approx(e.resistance_growth).epsilon(2e-3));
        // At the reference condition the equivalent age is the age.
        CHECK(s.calendar_age_s == Approx(kYearS).epsilon(1e-5));
        CHECK(s.ah_throughput == 0.0);
    }
    // What an engineer would quote: NMC loses ~2.4 % a year at 25 C, the LFP
    // cell ~4.3 % (data/README.md).
    const ChemistryParams nmc = make_chemistry_params(Chemistry::nmc);
    const ChemistryParams lfp = make_chemistry_params(Chemistry::lfp);
    CHECK(rest(nmc, make_cell_state(0.5, 25.0), 25.0f, kYearS, 1000).capacity_fade ==
          Approx(0.024).margin(0.001));
    CHECK(rest(lfp, make_cell_state(0.5, 25.0), 25.0f, kYearS, 1000).capacity_fade ==
          Approx(0.043).margin(0.001));
}

TEST_CASE("a full cell ages faster on the shelf than a half-full one", "[model][ageing]") {
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        const ChemistryParams p = make_chemistry_params(chemistry);
        const CellState half = rest(p, make_cell_state(0.5, 25.0), 25.0f, kYearS, 1000);
        const CellState full = rest(p, make_cell_state(0.95, 25.0), 25.0f, kYearS, 1000);
        CHECK(full.capacity_fade > 1.1 * half.capacity_fade);
        CHECK(full.capacity_fade ==
              Approx(calendar_closed_form(chemistry, 0.95, 25.0, kYearS).capacity_fade)
                  .epsilon(2e-3));
        CHECK(full.calendar_age_s > half.calendar_age_s);
    }
}

TEST_CASE("ageing at 45 C outpaces 25 C by the Arrhenius factor", "[model][ageing]") {
    struct Case {
        Chemistry chemistry;
        double capacity_theta_k;
        double resistance_theta_k;
    };
    for (const Case c : {Case{Chemistry::nmc, 6976.0, 5986.0},
                         Case{Chemistry::lfp, 17126.0 / kGas, 71827.0 / kGas}}) {
        INFO(chemistry_name(c.chemistry));
        const ChemistryParams p = make_chemistry_params(c.chemistry);
        const CellState cool = rest(p, make_cell_state(0.5, 25.0), 25.0f, kYearS, 2000);
        const CellState hot = rest(p, make_cell_state(0.5, 45.0), 45.0f, kYearS, 2000);
        const double inv = 1.0 / kelvin(25.0) - 1.0 / kelvin(45.0);
        CHECK(hot.capacity_fade / cool.capacity_fade ==
              Approx(std::exp(c.capacity_theta_k * inv)).epsilon(1e-3));
        CHECK(hot.resistance_growth / cool.resistance_growth ==
              Approx(std::exp(c.resistance_theta_k * inv)).epsilon(1e-3));
    }
    // NMC: 4.35x the capacity fade, LFP (weakly activated) 1.54x.
    CHECK(std::exp(6976.0 * (1.0 / kelvin(25.0) - 1.0 / kelvin(45.0))) ==
          Approx(4.35).margin(0.01));
}

TEST_CASE("the speed-up multiplies the ageing clock", "[model][ageing]") {
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        const ChemistryParams p = make_chemistry_params(chemistry);
        // 1000 steps at x36000 and 100 steps at x360000: the same ageing time.
        const CellState slow = rest(p, make_cell_state(0.5, 25.0), 25.0f, 3.6e7, 1000);
        const CellState fast = rest(p, make_cell_state(0.5, 25.0), 25.0f, 3.6e7, 100);
        CHECK(fast.capacity_fade == Approx(slow.capacity_fade).epsilon(1e-5));
        CHECK(fast.resistance_growth == Approx(slow.resistance_growth).epsilon(1e-5));
        // Twice the speed-up over the same steps is twice the age.
        const CellState twice = rest(p, make_cell_state(0.5, 25.0), 25.0f, 7.2e7, 1000);
        const Expected e1 = calendar_closed_form(chemistry, 0.5, 25.0, 3.6e7);
        const Expected e2 = calendar_closed_form(chemistry, 0.5, 25.0, 7.2e7);
        CHECK(twice.capacity_fade / slow.capacity_fade ==
              Approx(e2.capacity_fade / e1.capacity_fade).epsilon(1e-4));
        // Speed-up 0: no ageing at all.
        const CellState none = rest(p, make_cell_state(0.5, 25.0), 25.0f, 0.0, 1000);
        CHECK(none.capacity_fade == 0.0);
        CHECK(none.resistance_growth == 0.0);
        CHECK(none.calendar_age_s == 0.0);
    }
}

TEST_CASE("a hot year is remembered: ageing continues from the damage done", "[model][ageing]") {
    // One year at 45 C, then one at 25 C. Equivalent time: the second year
    // starts from the age at 25 C that gives the first year's loss.
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        const ChemistryParams p = make_chemistry_params(chemistry);
        CellState s = rest(p, make_cell_state(0.5, 45.0), 45.0f, kYearS, 2000);
        const double loss_hot = calendar_closed_form(chemistry, 0.5, 45.0, kYearS).capacity_fade;
        CHECK(s.capacity_fade == Approx(loss_hot).epsilon(2e-3));
        s = rest(p, s, 25.0f, kYearS, 2000);

        const double z = chemistry == Chemistry::nmc ? 0.75 : 0.5;
        const double a25 =
            calendar_closed_form(chemistry, 0.5, 25.0, kYearS).capacity_fade / std::pow(kYearS, z);
        const double t_eq = std::pow(loss_hot / a25, 1.0 / z);
        CHECK(s.capacity_fade == Approx(a25 * std::pow(t_eq + kYearS, z)).epsilon(2e-3));
        // Between two cool years and two hot ones.
        CHECK(s.capacity_fade >
              calendar_closed_form(chemistry, 0.5, 25.0, 2 * kYearS).capacity_fade);
        CHECK(s.capacity_fade <
              calendar_closed_form(chemistry, 0.5, 45.0, 2 * kYearS).capacity_fade);
    }
}

TEST_CASE("cycling adds throughput ageing on top of calendar ageing", "[model][ageing]") {
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        ChemistryParams p = make_chemistry_params(chemistry);
        p.heat_capacity_j_per_k = 1e12f;  // hold 25 C whatever the current
        const float current_a = 0.5f * p.nominal_capacity_ah;
        const float speedup = 100.0f;
        const int steps = 72000;  // 20 h of 1 s steps, 2000 h of ageing
        CellState s = make_cell_state(0.5, 25.0);
        CellInputs in{};
        in.air_temperature_c = 25.0f;
        in.dt_s = 1.0f;
        in.ageing_speedup = speedup;
        for (int i = 0; i < steps; ++i) {
            // +-C/2 for 60 s each, starting with 30 s of discharge: SoC swings
            // +-0.4 % around 50 %.
            in.current_a = ((i + 30) / 60) % 2 == 0 ? current_a : -current_a;
            step_cell(p, kNominal, s, in);
        }
        CHECK(s.soc == Approx(0.5).margin(0.005));
        CHECK(s.ah_throughput == Approx(current_a * steps / 3600.0).epsilon(1e-6));
        const double ageing_s = static_cast<double>(steps) * speedup;
        const double n = current_a * ageing_s / 3600.0 / p.nominal_capacity_ah;  // 1000
        const Expected cal = calendar_closed_form(chemistry, 0.5, 25.0, ageing_s);
        const Expected cyc = cyclic_closed_form(chemistry, 0.5, 25.0, n);
        INFO("calendar " << cal.capacity_fade << ", cyclic " << cyc.capacity_fade);
        CHECK(cyc.capacity_fade > 0.3 * cal.capacity_fade);  // both shares visible
        CHECK(s.capacity_fade == Approx(cal.capacity_fade + cyc.capacity_fade).epsilon(0.01));
        CHECK(s.resistance_growth ==
              Approx(cal.resistance_growth + cyc.resistance_growth).epsilon(0.01));

        // The same time on the shelf ages it less.
        const CellState shelf = rest(p, make_cell_state(0.5, 25.0), 25.0f, ageing_s, 1000);
        CHECK(s.capacity_fade > shelf.capacity_fade);
        CHECK(s.resistance_growth > shelf.resistance_growth);
    }
}

TEST_CASE("SoH never rises and resistance never falls, whatever the conditions",
          "[model][ageing]") {
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        const ChemistryParams p = make_chemistry_params(chemistry);
        CellState s = make_cell_state(0.5, 25.0);
        CellInputs in{};
        in.dt_s = 1.0f;
        in.ageing_speedup = 1.0e4f;
        for (std::uint64_t i = 0; i < 20000; ++i) {
            // New conditions every 100 steps: temperature -20..70 C, current
            // -1.5C..1.5C, SoC anywhere in its range.
            const std::uint64_t block = i / 100;
            if (i % 100 == 0) {
                s.temperature_c = -20.0 + 90.0 * uniform01(mix_key(7, 0, block, 100));
                s.soc = kSocMin + (kSocMax - kSocMin) * uniform01(mix_key(7, 0, block, 101));
                in.current_a =
                    p.nominal_capacity_ah * (3.0f * uniform01(mix_key(7, 0, block, 102)) - 1.5f);
            }
            in.air_temperature_c = static_cast<float>(s.temperature_c);
            const CellState before = s;
            step_cell(p, kNominal, s, in);
            REQUIRE(s.capacity_fade >= before.capacity_fade);
            REQUIRE(s.resistance_growth >= before.resistance_growth);
            REQUIRE(s.calendar_age_s >= before.calendar_age_s);
            REQUIRE(s.ah_throughput >= before.ah_throughput);
        }
        // Six years of abuse: well past end of life (NMC to its 1 % floor).
        CHECK(s.capacity_fade > 0.2);
        CHECK(s.capacity_fade <= kMaxCapacityFade);
        CHECK(capacity_ah(p, kNominal, s) >= 0.0099f * p.nominal_capacity_ah);
        CHECK(s.resistance_growth > 0.2);
    }
}

TEST_CASE("age_cell on its own ages like step_cell", "[model][ageing]") {
    // For an engine that ages every Nth step: same result for the same time.
    const ChemistryParams p = make_chemistry_params(Chemistry::nmc);
    const CellState stepped = rest(p, make_cell_state(0.5, 35.0), 35.0f, kYearS, 1000);
    CellState aged = make_cell_state(0.5, 35.0);
    for (int i = 0; i < 10; ++i) {
        age_cell(p, aged, 35.0f, 0.0f, static_cast<float>(kYearS / 10));
    }
    CHECK(aged.capacity_fade == Approx(stepped.capacity_fade).epsilon(1e-4));
    CHECK(aged.resistance_growth == Approx(stepped.resistance_growth).epsilon(1e-4));
}
