// The cell model against closed forms and the behaviour a battery engineer
// expects: coulomb counting, the RC pair's exponential, the thermal steady
// state, OCV and resistance tables, thermal runaway, internal short and
// overcharge.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "simulator/model/cell_model.hpp"
#include "simulator/model/chemistry_tables.hpp"

using namespace brt;
using namespace brt::model;

namespace {

constexpr CellVariation kNominal{1.0f, 1.0f};

CellInputs inputs(float current_a, float air_c, float dt_s) {
    CellInputs in{};
    in.current_a = current_a;
    in.air_temperature_c = air_c;
    in.dt_s = dt_s;
    return in;
}

double theta_k(float activation_j_per_mol) {
    return static_cast<double>(activation_j_per_mol) / 8.314462618;
}

}  // namespace

TEST_CASE("coulomb counting: C/2 for one hour takes SoC from 0.9 to 0.4",
          "[model][cell][validation]") {
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        const ChemistryParams p = make_chemistry_params(chemistry);
        INFO(chemistry_name(chemistry));
        CellState s = make_cell_state(0.9, 25.0);
        const CellInputs in = inputs(0.5f * p.nominal_capacity_ah, 25.0f, 0.01f);  // no ageing
        for (int i = 0; i < 360000; ++i) {
            step_cell(p, kNominal, s, in);
        }
        CHECK(s.soc == Approx(0.4).margin(1e-4));
        CHECK(s.ah_throughput == Approx(0.5 * p.nominal_capacity_ah).epsilon(1e-6));
    }
}

TEST_CASE("coulomb counting uses the cell's own and aged capacity", "[model][cell]") {
    const ChemistryParams p = make_chemistry_params(Chemistry::nmc);
    // A cell with 90 % of nominal capacity and 20 % fade holds 72 Ah: 7.2 Ah
    // out of it is 10 % of SoC.
    const CellVariation small{0.9f, 1.0f};
    CellState s = make_cell_state(0.8, 25.0);
    s.capacity_fade = 0.2;
    const CellInputs in = inputs(72.0f, 25.0f, 0.01f);
    for (int i = 0; i < 36000; ++i) {
        step_cell(p, small, s, in);
    }
    CHECK(s.soc == Approx(0.7).margin(1e-4));
}

TEST_CASE("RC pair follows I R1 (1 - exp(-t/tau)) after a current step",
          "[model][cell][validation]") {
    ChemistryParams p = make_chemistry_params(Chemistry::nmc);
    p.heat_capacity_j_per_k = 1e12f;          // hold the temperature at 25 C
    const CellVariation huge{1000.0f, 1.0f};  // and the SoC at 0.5
    CellState s = make_cell_state(0.5, 25.0);
    const float current_a = 100.0f;  // 1 C
    const float dt_s = 0.01f;
    const double r_dc = resistance_dc_ohm(p, 0.5f, 25.0f);
    const double r0 = 0.4 * r_dc;
    const double r1 = 0.6 * r_dc;
    const double ocv = ocv_v(p, 0.5f);

    const CellInputs in = inputs(current_a, 25.0f, dt_s);
    // The ohmic drop appears at once, the RC one after.
    CellStepOutput out = step_cell(p, huge, s, in);
    CHECK(out.r0_ohm == Approx(r0).epsilon(1e-6));
    const double after_one_step = current_a * r1 * (1.0 - std::exp(-dt_s / 30.0));
    CHECK(s.v_rc_v == Approx(after_one_step).epsilon(1e-4));
    CHECK(out.terminal_voltage_v == Approx(ocv - current_a * r0 - after_one_step).epsilon(1e-6));

    int step = 1;
    for (const double t_s : {1.0, 5.0, 10.0, 30.0, 60.0, 90.0, 150.0}) {
        const int target = static_cast<int>(std::lround(t_s / dt_s));
        for (; step < target; ++step) {
            out = step_cell(p, huge, s, in);
        }
        const double expected = current_a * r1 * (1.0 - std::exp(-t_s / 30.0));
        INFO("t = " << t_s << " s");
        CHECK(s.v_rc_v == Approx(expected).epsilon(1e-4));
        CHECK(
            out.terminal_voltage_v ==
            Approx(ocv_v(p, static_cast<float>(s.soc)) - current_a * r0 - expected).epsilon(1e-5));
    }

    // Relaxation after the current stops: the voltage recovers towards OCV
    // with the same time constant.
    const double v_start = s.v_rc_v;
    const CellInputs rest = inputs(0.0f, 25.0f, dt_s);
    for (int i = 0; i < 3000; ++i) {
        out = step_cell(p, huge, s, rest);
    }
    CHECK(s.v_rc_v == Approx(v_start * std::exp(-1.0)).epsilon(1e-4));
    CHECK(out.terminal_voltage_v < ocv_v(p, static_cast<float>(s.soc)));
}

TEST_CASE("thermal steady state at constant current is T_air + Q / k_air",
          "[model][cell][validation]") {
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        const ChemistryParams p = make_chemistry_params(chemistry);
        const CellVariation huge{1.0e4f, 1.0f};  // SoC stays at 0.5 for hours
        CellState s = make_cell_state(0.5, 25.0);
        const float current_a = p.nominal_capacity_ah;  // 1 C
        const CellInputs in = inputs(current_a, 25.0f, 0.1f);
        // Ten thermal time constants.
        const double tau_s = p.heat_capacity_j_per_k / p.cell_to_air_w_per_k;
        const int steps = static_cast<int>(10.0 * tau_s / 0.1);
        CellStepOutput out{};
        for (int i = 0; i < steps; ++i) {
            out = step_cell(p, huge, s, in);
        }
        // Q from the closed form at the final temperature: I^2 R0 + (I R1)^2 / R1.
        const double r_dc =
            resistance_dc_ohm(p, static_cast<float>(s.soc), static_cast<float>(s.temperature_c));
        const double q_w = current_a * current_a * r_dc;
        const double t_ss = 25.0 + q_w / p.cell_to_air_w_per_k;
        INFO("Q = " << q_w << " W, T_ss = " << t_ss << " C");
        CHECK(s.temperature_c == Approx(t_ss).margin(0.05));
        CHECK(out.heat_generated_w == Approx(q_w).epsilon(1e-3));
        CHECK(out.heat_to_air_w == Approx(out.heat_generated_w).epsilon(1e-3));
        // A few kelvin over the air at 1 C: warm, not hot.
        CHECK(s.temperature_c > 27.0);
        CHECK(s.temperature_c < 40.0);
    }
}

TEST_CASE("a resting cell cools all the way to the air even at 1 kHz, with tau = C / k",
          "[model][cell][validation]") {
    // With a float temperature the last kelvin never goes: an increment of
    // 1 mW x 1 ms / 1000 J/K is below half an ulp of 25 C. On the way the
    // excess over the air decays as exp(-t / tau), tau = C / k_air (NMC:
    // 1000 J/K / 1.5 W/K = 667 s).
    const ChemistryParams p = make_chemistry_params(Chemistry::nmc);
    CellState s = make_cell_state(0.5, 30.0);
    const CellInputs in = inputs(0.0f, 25.0f, 0.001f);
    const double tau_s = p.heat_capacity_j_per_k / p.cell_to_air_w_per_k;
    const int steps = static_cast<int>(8.0 * tau_s / 0.001);
    const int steps_per_tau = static_cast<int>(std::lround(tau_s / 0.001));
    for (int i = 1; i <= steps; ++i) {
        step_cell(p, kNominal, s, in);
        if (i % steps_per_tau == 0 && i / steps_per_tau <= 3) {
            const double n = static_cast<double>(i) / steps_per_tau;
            INFO("t = " << n << " tau");
            CHECK(s.temperature_c - 25.0 == Approx(5.0 * std::exp(-n)).epsilon(1e-3));
        }
    }
    CHECK(s.temperature_c == Approx(25.0 + 5.0 * std::exp(-8.0)).margin(0.002));
}

TEST_CASE("at rest the terminal voltage settles on the OCV table", "[model][cell][validation]") {
    // Discharge at C/2 for 20 min from SoC 0.8, then rest for ten RC time
    // constants (300 s): the RC voltage left is I R1 e^-10 (1.4 uV for NMC),
    // so the terminal voltage is the table's OCV at the coulomb-counted SoC,
    // interpolated here from the table in double precision.
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        const ChemistryParams p = make_chemistry_params(chemistry);
        CellState s = make_cell_state(0.8, 25.0);
        const CellInputs load = inputs(0.5f * p.nominal_capacity_ah, 25.0f, 0.01f);
        for (int i = 0; i < 120000; ++i) {
            step_cell(p, kNominal, s, load);
        }
        const CellInputs rest = inputs(0.0f, 25.0f, 0.01f);
        CellStepOutput out{};
        for (int i = 0; i < 30000; ++i) {
            out = step_cell(p, kNominal, s, rest);
        }
        CHECK(s.soc == Approx(0.8 - 0.5 / 3.0).margin(1e-4));
        const float* table = chemistry == Chemistry::nmc ? tables::kOcvNmcV : tables::kOcvLfpV;
        const int last = chemistry == Chemistry::nmc ? 100 : 200;
        const double x = s.soc * last;
        const int i = static_cast<int>(x);
        const double expected = table[i] + (x - i) * (table[i + 1] - table[i]);
        INFO("SoC " << s.soc << ", OCV " << expected << " V");
        CHECK(out.terminal_voltage_v == Approx(expected).margin(1e-4));
    }
}

TEST_CASE("OCV: table ends, monotonic, clamped extrapolation beyond", "[model][cell]") {
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        const ChemistryParams p = make_chemistry_params(chemistry);
        const int last = p.ocv_points - 1;
        CHECK(ocv_v(p, 0.0f) == p.ocv_v[0]);
        CHECK(ocv_v(p, 1.0f) == p.ocv_v[last]);
        float previous = ocv_v(p, 0.0f);
        for (int i = 1; i <= 10000; ++i) {
            const float v = ocv_v(p, static_cast<float>(i) / 10000.0f);
            REQUIRE(v >= previous);
            previous = v;
        }
        // Extrapolation from the end points, at most 0.3 V beyond the table.
        const float top_slope = (p.ocv_v[last] - p.ocv_v[last - 1]) * static_cast<float>(last);
        CHECK(ocv_v(p, 1.01f) ==
              Approx(std::fmin(p.ocv_v[last] + top_slope * 0.01f, p.ocv_v[last] + 0.3f)));
        CHECK(ocv_v(p, 1.05f) > p.ocv_v[last]);
        CHECK(ocv_v(p, 1.05f) <= p.ocv_v[last] + 0.3f + 1e-6f);
        CHECK(ocv_v(p, 5.0f) == Approx(p.ocv_v[last] + 0.3f));
        CHECK(ocv_v(p, -0.05f) < p.ocv_v[0]);
        CHECK(ocv_v(p, -5.0f) == Approx(p.ocv_v[0] - 0.3f));
        // Overcharge visibly passes the maximum safety limit.
        CHECK(ocv_v(p, 1.05f) > p.v_max_v);
        // The operating window: CV reachable at (LFP) or below (NMC) full,
        // inside the safety limits, the cut-off at or above empty.
        CHECK(p.v_charge_cv_v < ocv_v(p, 1.01f));
        CHECK(p.v_charge_cv_v < p.v_max_v);
        CHECK(p.v_float_v < p.v_charge_cv_v);
        CHECK(p.v_discharge_cutoff_v >= p.ocv_v[0]);
        CHECK(p.v_discharge_cutoff_v > p.v_min_v);
    }
    // Familiar mid-SoC voltages: NMC about 3.7 V, LFP on its 3.3 V plateau.
    CHECK(ocv_v(make_chemistry_params(Chemistry::nmc), 0.5f) == Approx(3.6965).margin(1e-4));
    const ChemistryParams lfp = make_chemistry_params(Chemistry::lfp);
    CHECK(ocv_v(lfp, 0.5f) == Approx(3.2995).margin(1e-4));
    CHECK(ocv_v(lfp, 0.7f) - ocv_v(lfp, 0.3f) < 0.05f);
}

TEST_CASE("resistance: Arrhenius in temperature, shaped in SoC, clamped", "[model][cell]") {
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        const ChemistryParams p = make_chemistry_params(chemistry);
        const double r0c = resistance_dc_ohm(p, 0.5f, 0.0f);
        const double r25 = resistance_dc_ohm(p, 0.5f, 25.0f);
        const double r45 = resistance_dc_ohm(p, 0.5f, 45.0f);
        CHECK(r0c > r25);
        CHECK(r25 > r45);
        const double th = theta_k(p.r_activation_j_per_mol);
        CHECK(r0c / r25 == Approx(std::exp(th * (1.0 / 273.15 - 1.0 / 298.15))).epsilon(1e-5));
        CHECK(r25 / r45 == Approx(std::exp(th * (1.0 / 298.15 - 1.0 / 318.15))).epsilon(1e-5));
        CHECK(r25 == Approx(p.r_dc_ref_ohm).epsilon(1e-6));
        // Runaway temperatures do not drive the resistance to zero, nor does
        // deep cold drive it to infinity.
        CHECK(resistance_dc_ohm(p, 0.5f, 700.0f) == resistance_dc_ohm(p, 0.5f, 80.0f));
        CHECK(resistance_dc_ohm(p, 0.5f, -60.0f) == resistance_dc_ohm(p, 0.5f, -30.0f));
        CHECK(resistance_dc_ohm(p, 0.5f, 700.0f) > 0.25 * r25);
    }
    // NMC (PyBaMM): 1 mOhm at 50 %, 1.2 mOhm at the ends, 20 kJ/mol: 0 C is
    // about 2x the 25 C value.
    const ChemistryParams nmc = make_chemistry_params(Chemistry::nmc);
    CHECK(resistance_dc_ohm(nmc, 0.5f, 25.0f) == Approx(1.0e-3).epsilon(1e-6));
    CHECK(resistance_dc_ohm(nmc, 0.0f, 25.0f) == Approx(1.2e-3).epsilon(1e-5));
    CHECK(resistance_dc_ohm(nmc, 1.0f, 25.0f) == Approx(1.2e-3).epsilon(1e-5));
    CHECK(resistance_dc_ohm(nmc, 0.5f, 0.0f) / 1.0e-3 == Approx(2.09).margin(0.01));
}

TEST_CASE("sign convention: discharge pulls the terminal below OCV, charge above",
          "[model][cell]") {
    const ChemistryParams p = make_chemistry_params(Chemistry::nmc);
    CellState discharge = make_cell_state(0.5, 25.0);
    CellState charge = make_cell_state(0.5, 25.0);
    const CellStepOutput d = step_cell(p, kNominal, discharge, inputs(50.0f, 25.0f, 0.01f));
    const CellStepOutput c = step_cell(p, kNominal, charge, inputs(-50.0f, 25.0f, 0.01f));
    CHECK(d.terminal_voltage_v < d.open_circuit_voltage_v);
    CHECK(c.terminal_voltage_v > c.open_circuit_voltage_v);
    CHECK(discharge.soc < 0.5);
    CHECK(charge.soc > 0.5);
}

TEST_CASE("charging uses the table's charge column, discharging its discharge column",
          "[model][cell]") {
    // LFP (Sony US26650 table, data/rint_lfp_sony_us26650.csv, 25 C): at 50 %
    // SoC the charge resistance is 44.767 mOhm, the discharge one 47.828
    // (scaled alike to 280 Ah), 6.4 % less; at 70 % 49.791 against 41.786,
    // 19 % more. The step's R0 and its voltage drop follow the direction.
    const ChemistryParams lfp = make_chemistry_params(Chemistry::lfp);
    struct Case {
        double soc;
        double charge_over_discharge;
    };
    for (const Case c : {Case{0.5, 0.044767 / 0.047828}, Case{0.7, 0.049791 / 0.041786}}) {
        INFO("SoC " << c.soc);
        CellState discharging = make_cell_state(c.soc, 25.0);
        CellState charging = make_cell_state(c.soc, 25.0);
        const float current_a = 140.0f;  // 0.5 C
        const CellStepOutput d =
            step_cell(lfp, kNominal, discharging, inputs(current_a, 25.0f, 0.001f));
        const CellStepOutput ch =
            step_cell(lfp, kNominal, charging, inputs(-current_a, 25.0f, 0.001f));
        CHECK(ch.r0_ohm / d.r0_ohm == Approx(c.charge_over_discharge).epsilon(1e-5));
        CHECK(d.r0_ohm ==
              Approx(0.4 * resistance_dc_ohm(lfp, static_cast<float>(c.soc), 25.0f)).epsilon(1e-5));
        // From rest (no RC voltage yet): V = OCV - I R0 in both directions.
        CHECK(ch.terminal_voltage_v - ch.open_circuit_voltage_v ==
              Approx(current_a * ch.r0_ohm).epsilon(1e-3));
        CHECK(d.open_circuit_voltage_v - d.terminal_voltage_v ==
              Approx(current_a * d.r0_ohm).epsilon(1e-3));
        // At rest the discharge column (a resting cell has no direction).
        CellState resting = make_cell_state(c.soc, 25.0);
        CHECK(step_cell(lfp, kNominal, resting, inputs(0.0f, 25.0f, 0.001f)).r0_ohm == d.r0_ohm);
    }
    // NMC (PyBaMM ECM_Example) has one resistance for both directions.
    const ChemistryParams nmc = make_chemistry_params(Chemistry::nmc);
    CHECK(resistance_dc_ohm(nmc, 0.3f, 25.0f, true) == resistance_dc_ohm(nmc, 0.3f, 25.0f, false));
}

TEST_CASE("variation scales the cell's resistance", "[model][cell]") {
    const ChemistryParams p = make_chemistry_params(Chemistry::nmc);
    CellState a = make_cell_state(0.5, 25.0);
    CellState b = make_cell_state(0.5, 25.0);
    b.resistance_growth = 0.5;
    const CellStepOutput fresh = step_cell(p, kNominal, a, inputs(0.0f, 25.0f, 0.01f));
    const CellStepOutput worn = step_cell(p, {1.0f, 1.1f}, b, inputs(0.0f, 25.0f, 0.01f));
    CHECK(worn.r0_ohm == Approx(fresh.r0_ohm * 1.1 * 1.5).epsilon(1e-6));
}

TEST_CASE("below the onset there is no self-heating", "[model][cell][runaway]") {
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        const ChemistryParams p = make_chemistry_params(chemistry);
        CHECK(self_heating_w(p, 25.0f) == 0.0f);
        CHECK(self_heating_w(p, p.self_heating_onset_c - 0.01f) == 0.0f);
        CHECK(self_heating_w(p, p.self_heating_onset_c) == Approx(p.self_heating_at_onset_w));
        CHECK(self_heating_w(p, p.self_heating_onset_c + 10.0f) >
              2.0f * self_heating_w(p, p.self_heating_onset_c));
        // A hot cell at rest just under the onset: no internal heat, it cools.
        CellState s = make_cell_state(0.5, p.self_heating_onset_c - 1.0f);
        double previous = s.temperature_c;
        for (int i = 0; i < 6000; ++i) {
            const CellStepOutput out = step_cell(p, kNominal, s, inputs(0.0f, 25.0f, 0.1f));
            REQUIRE(out.heat_generated_w == 0.0f);
            REQUIRE(s.temperature_c < previous);
            previous = s.temperature_c;
        }
        CHECK(s.runaway_progress == 0.0f);
    }
}

TEST_CASE("a lone cell runs away from onset + 30 K and cools back from onset + 15 K",
          "[model][cell][runaway]") {
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        const ChemistryParams p = make_chemistry_params(chemistry);
        CellState cooling = make_cell_state(0.5, p.self_heating_onset_c + 15.0f);
        CellState running = make_cell_state(0.5, p.self_heating_onset_c + 30.0f);
        CHECK((cell_condition_bits(p, cooling) & status_bit::self_heating) != 0);
        for (int i = 0; i < 36000; ++i) {  // one hour
            step_cell(p, kNominal, cooling, inputs(0.0f, 25.0f, 0.1f));
            step_cell(p, kNominal, running, inputs(0.0f, 25.0f, 0.1f));
        }
        CHECK(cooling.runaway_progress == 0.0f);
        CHECK(cooling.temperature_c < p.self_heating_onset_c);
        CHECK(running.runaway_progress == 1.0f);
    }
}

TEST_CASE("runaway: heated past the trigger, the cell reaches its peak and its voltage collapses",
          "[model][cell][runaway]") {
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        const ChemistryParams p = make_chemistry_params(chemistry);
        CellState s = make_cell_state(0.9, 25.0);
        const float dt_s = 0.01f;
        const float v_initial = ocv_v(p, 0.9f);
        // A scenario heater until the runaway starts.
        CellInputs in = inputs(0.0f, 25.0f, dt_s);
        in.external_heat_w = 5000.0f;
        int steps = 0;
        bool vented_before_trigger = false;
        while (s.runaway_progress == 0.0f && steps < 1000000) {
            const CellStepOutput out = step_cell(p, kNominal, s, in);
            if (s.runaway_progress == 0.0f && (out.status_bits & status_bit::venting) != 0) {
                vented_before_trigger = true;
            }
            ++steps;
        }
        REQUIRE(s.runaway_progress > 0.0f);
        CHECK(vented_before_trigger);
        // The heater stays asked for: the model switches it off at the runaway
        // (5 kW more would put the peak above the energy balance's and keep
        // the spent cell hot).

        // The release: the runaway energy over its duration, the peak from
        // the heat the cell keeps (no limit), the voltage falling to zero.
        double released_j = 0.0;
        double vented_j = 0.0;
        double max_t = 0.0;
        CellStepOutput out{};
        const int release_steps = static_cast<int>(p.runaway_duration_s / dt_s) + 10;
        for (int i = 0; i < release_steps; ++i) {
            out = step_cell(p, kNominal, s, in);
            released_j += static_cast<double>(out.heat_generated_w) * dt_s;
            vented_j += static_cast<double>(out.heat_to_air_w) * dt_s;
            max_t = std::fmax(max_t, s.temperature_c);
        }
        CHECK(s.runaway_progress == 1.0f);
        CHECK(released_j == Approx(p.runaway_energy_j).epsilon(0.01));
        // The vent gas takes its share to the air (with the little the cell
        // conducts there), the rest heats the cell: the energy balance's peak.
        const double vent_j = p.runaway_vent_fraction * p.runaway_energy_j;
        CHECK(vented_j >= vent_j);
        CHECK(vented_j <= vent_j + p.cell_to_air_w_per_k * (max_t - 25.0) * p.runaway_duration_s);
        CHECK(max_t <= p.runaway_adiabatic_peak_c);
        CHECK(max_t >= 0.98 * p.runaway_adiabatic_peak_c);
        CHECK(out.terminal_voltage_v == 0.0f);
        CHECK(v_initial > 3.0f);
        CHECK(out.status_bits == (status_bit::thermal_runaway | status_bit::venting));

        // Spent: nothing left to react, the cell cools, the runaway bit stays.
        for (int i = 0; i < 360000; ++i) {
            out = step_cell(p, kNominal, s, in);
        }
        CHECK(out.heat_generated_w == 0.0f);
        CHECK(s.temperature_c < 100.0);
        CHECK((out.status_bits & status_bit::thermal_runaway) != 0);
    }
}

TEST_CASE("runaway spreads through an NMC module, not through an LFP one",
          "[model][cell][runaway]") {
    // Five cells in a row, conduction between neighbours from the previous
    // temperatures (as the engine does), cell 0 heated until it triggers.
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        const ChemistryParams p = make_chemistry_params(chemistry);
        constexpr int kCells = 5;
        CellState cells[kCells];
        double peak_c[kCells] = {};
        for (CellState& s : cells) {
            s = make_cell_state(0.9, 25.0);
        }
        const float dt_s = 0.05f;
        for (int step = 0; step < static_cast<int>(3600 / dt_s); ++step) {
            double previous[kCells];
            for (int c = 0; c < kCells; ++c) {
                previous[c] = cells[c].temperature_c;
            }
            for (int c = 0; c < kCells; ++c) {
                CellInputs in = inputs(0.0f, 25.0f, dt_s);
                double flow_k = 0.0;
                if (c > 0) {
                    flow_k += previous[c - 1] - previous[c];
                }
                if (c + 1 < kCells) {
                    flow_k += previous[c + 1] - previous[c];
                }
                in.neighbour_heat_w = p.cell_to_cell_w_per_k * static_cast<float>(flow_k);
                in.external_heat_w = (c == 0 && cells[0].runaway_progress == 0.0f) ? 5000.0f : 0.0f;
                step_cell(p, kNominal, cells[c], in);
                peak_c[c] = std::fmax(peak_c[c], cells[c].temperature_c);
            }
        }
        CHECK(cells[0].runaway_progress == 1.0f);
        INFO("neighbour peak " << peak_c[1] << " C");
        if (chemistry == Chemistry::nmc) {
            CHECK(cells[1].runaway_progress == 1.0f);
            CHECK(cells[kCells - 1].runaway_progress == 1.0f);
        } else {
            CHECK(peak_c[1] > 60.0);                    // it gets hot ...
            CHECK(peak_c[1] < p.self_heating_onset_c);  // ... but not past its onset
            CHECK(cells[1].runaway_progress == 0.0f);
        }
    }
}

TEST_CASE("internal short drains the cell through R_s and heats it", "[model][cell]") {
    const ChemistryParams p = make_chemistry_params(Chemistry::nmc);
    CellState s = make_cell_state(0.5, 25.0);
    CellInputs in = inputs(0.0f, 25.0f, 0.01f);
    in.short_circuit_ohm = 0.1f;
    const double ocv = ocv_v(p, 0.5f);
    const double r0 = 0.4 * resistance_dc_ohm(p, 0.5f, 25.0f);
    const CellStepOutput first = step_cell(p, kNominal, s, in);
    // OCV / (R_s + R0) = 36.8 A, all of OCV x I dissipated inside the cell.
    const double expected_a = ocv / (0.1 + r0);
    CHECK(first.short_circuit_current_a == Approx(expected_a).epsilon(1e-4));
    CHECK(first.heat_generated_w == Approx(ocv * expected_a).epsilon(1e-4));
    CHECK(first.terminal_voltage_v == Approx(expected_a * 0.1).epsilon(1e-4));
    for (int i = 1; i < 6000; ++i) {
        step_cell(p, kNominal, s, in);
    }
    // One minute: 36.8 A x 60 s out of 100 Ah.
    CHECK(0.5 - s.soc == Approx(expected_a * 60.0 / 360000.0).epsilon(0.01));
    CHECK(s.temperature_c > 26.5);
}

TEST_CASE("overcharge pushes the cell past its maximum safety voltage", "[model][cell]") {
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        const ChemistryParams p = make_chemistry_params(chemistry);
        CellState s = make_cell_state(0.9, 25.0);
        // A charger whose CV stage failed keeps pushing C/2.
        const CellInputs in = inputs(-0.5f * p.nominal_capacity_ah, 25.0f, 0.1f);
        CellStepOutput out{};
        for (int i = 0; i < 36000; ++i) {
            out = step_cell(p, kNominal, s, in);
        }
        CHECK(s.soc == Approx(kSocMax));
        CHECK(out.terminal_voltage_v > p.v_max_v);
        CHECK(out.terminal_voltage_v < p.v_max_v + 0.5f);
    }
}

TEST_CASE("deep discharge stops at the SoC floor, the voltage far below the cut-off",
          "[model][cell]") {
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        const ChemistryParams p = make_chemistry_params(chemistry);
        CellState s = make_cell_state(0.1, 25.0);
        CellStepOutput out{};
        for (int i = 0; i < 36000; ++i) {
            out = step_cell(p, kNominal, s, inputs(0.5f * p.nominal_capacity_ah, 25.0f, 0.1f));
        }
        CHECK(s.soc == Approx(kSocMin));
        // Well below where the BMS should have stopped (the OCV table is
        // extrapolated by at most 0.3 V, so NMC stays just above its MSL).
        CHECK(out.terminal_voltage_v < p.v_discharge_cutoff_v - 0.2f);
        CHECK(out.terminal_voltage_v > 0.0f);
    }
}

TEST_CASE("a quiet cell's SIMD step gives the very bits of the general step", "[model][cell]") {
    // step_quiet_cell is what the CPU backend runs for nearly every cell;
    // it must be step_cell_with with the rare branches taken out, not an
    // approximation of it. States span charge and discharge, SoC beyond
    // both table ends, cold to just below the onset, heaters and neighbours.
    for (const Chemistry chemistry : {Chemistry::nmc, Chemistry::lfp}) {
        INFO(chemistry_name(chemistry));
        const ChemistryParams p = make_chemistry_params(chemistry);
        const float dt_s = 0.001f;
        const float approach = rc_approach(p, dt_s);
        std::uint64_t compared = 0;
        for (std::uint64_t i = 0; i < 20000; ++i) {
            auto uniform = [&](std::uint32_t stream, double lo, double hi) {
                return lo + (hi - lo) * uniform01(mix_key(7, i, 0, stream));
            };
            CellState s = make_cell_state(uniform(1, -0.04, 1.04),
                                          uniform(2, -20.0, quiet_temperature_limit_c(p) - 0.01));
            s.v_rc_v = static_cast<float>(uniform(3, -0.05, 0.05));
            s.ah_throughput = uniform(4, 0.0, 1e4);
            s.capacity_fade = uniform(5, 0.0, 0.3);
            REQUIRE(cell_is_quiet(p, s, 0.0f));
            const CellCoefficients k =
                cell_coefficients(p, {static_cast<float>(uniform(6, 0.9, 1.1)), 1.0f}, s);
            CellInputs in{};
            in.current_a = static_cast<float>(uniform(7, -2.0, 2.0) * p.nominal_capacity_ah);
            in.air_temperature_c = static_cast<float>(uniform(8, 0.0, 50.0));
            in.neighbour_heat_w = static_cast<float>(uniform(9, -5.0, 5.0));
            in.external_heat_w = i % 4 == 0 ? static_cast<float>(uniform(10, 0.0, 500.0)) : 0.0f;
            in.dt_s = dt_s;

            CellState general = s;
            const CellStepOutput expected = step_cell_with(p, k, approach, general, in);
            CellState quiet = s;
            const QuietStepOutput got =
                step_quiet_cell(p, k, approach, dt_s, quiet.soc, quiet.ah_throughput, quiet.v_rc_v,
                                quiet.temperature_c, in.current_a, in.air_temperature_c,
                                in.neighbour_heat_w, in.external_heat_w);
            REQUIRE(std::memcmp(&got.terminal_voltage_v, &expected.terminal_voltage_v, 4) == 0);
            REQUIRE(std::memcmp(&got.heat_to_air_w, &expected.heat_to_air_w, 4) == 0);
            REQUIRE(std::memcmp(&quiet.soc, &general.soc, 8) == 0);
            REQUIRE(std::memcmp(&quiet.temperature_c, &general.temperature_c, 8) == 0);
            REQUIRE(std::memcmp(&quiet.ah_throughput, &general.ah_throughput, 8) == 0);
            REQUIRE(std::memcmp(&quiet.v_rc_v, &general.v_rc_v, 4) == 0);
            ++compared;
        }
        CHECK(compared == 20000);
    }
}

TEST_CASE("a cell stops being quiet at the reaction onset, in runaway or with a short",
          "[model][cell]") {
    const ChemistryParams p = make_chemistry_params(Chemistry::nmc);
    const float limit_c = quiet_temperature_limit_c(p);
    CHECK(limit_c == p.self_heating_onset_c);
    CHECK(cell_is_quiet(p, make_cell_state(0.5, limit_c - 0.5), 0.0f));
    CHECK_FALSE(cell_is_quiet(p, make_cell_state(0.5, limit_c), 0.0f));
    CHECK_FALSE(cell_is_quiet(p, make_cell_state(0.5, 25.0), 0.01f));
    CellState running = make_cell_state(0.5, 25.0);
    running.runaway_progress = 0.01f;
    CHECK_FALSE(cell_is_quiet(p, running, 0.0f));
    // A NaN temperature is never quiet: the general step handles it.
    CHECK_FALSE(cell_is_quiet(p, make_cell_state(0.5, std::nan("")), 0.0f));
}

TEST_CASE("OCV of a NaN SoC is NaN, with no table index out of range (ASan build)",
          "[model][cell]") {
    const ChemistryParams p = make_chemistry_params(Chemistry::nmc);
    CHECK(std::isnan(ocv_v(p, std::nanf(""))));
}
