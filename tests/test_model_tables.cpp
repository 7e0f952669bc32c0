// The literal tables of simulator/model/chemistry_tables.hpp against the
// CSVs they were copied from (simulator/model/data, provenance in its
// README), and the parameters derived from them.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "simulator/model/cell_model.hpp"
#include "simulator/model/chemistry_params.hpp"
#include "simulator/model/chemistry_tables.hpp"

using namespace brt;
using namespace brt::model;

namespace {

struct Csv {
    std::vector<std::string> header;
    std::vector<std::vector<float>> rows;

    std::vector<float> column(const std::string& name) const {
        std::size_t index = header.size();
        for (std::size_t i = 0; i < header.size(); ++i) {
            if (header[i] == name) {
                index = i;
            }
        }
        REQUIRE(index < header.size());
        std::vector<float> values;
        for (const auto& row : rows) {
            values.push_back(row.at(index));
        }
        return values;
    }
};

std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> fields;
    std::stringstream stream(line);
    std::string field;
    while (std::getline(stream, field, ',')) {
        fields.push_back(field);
    }
    return fields;
}

// Parsed with strtof, like the compiler parses the header's float literals,
// so equal decimal text gives bit-equal floats.
Csv read_csv(const std::string& file) {
    const char* dir = std::getenv("BRT_MODEL_DATA_DIR");
    REQUIRE(dir != nullptr);
    std::ifstream in(std::string(dir) + "/" + file);
    INFO("reading " << dir << "/" << file);
    REQUIRE(in.good());
    Csv csv;
    std::string line;
    REQUIRE(std::getline(in, line));
    csv.header = split(line);
    while (std::getline(in, line)) {
        if (line.empty()) {
            continue;
        }
        std::vector<float> row;
        for (const std::string& field : split(line)) {
            row.push_back(std::strtof(field.c_str(), nullptr));
        }
        REQUIRE(row.size() == csv.header.size());
        csv.rows.push_back(row);
    }
    return csv;
}

template <std::size_t N>
void check_equal(const float (&table)[N], const std::vector<float>& csv) {
    REQUIRE(csv.size() == N);
    for (std::size_t i = 0; i < N; ++i) {
        INFO("entry " << i);
        CHECK(table[i] == csv[i]);
    }
}

// The SoC column must be the uniform grid the model assumes.
void check_uniform_grid(const std::vector<float>& soc) {
    const std::size_t last = soc.size() - 1;
    for (std::size_t i = 0; i < soc.size(); ++i) {
        INFO("row " << i);
        CHECK(soc[i] == Approx(static_cast<double>(i) / static_cast<double>(last)).margin(1e-6));
    }
}

}  // namespace

TEST_CASE("OCV tables equal their CSVs entry by entry", "[model][tables]") {
    const Csv nmc = read_csv("ocv_nmc_ecm_example.csv");
    check_uniform_grid(nmc.column("soc"));
    check_equal(tables::kOcvNmcV, nmc.column("ocv_v"));

    const Csv lfp = read_csv("ocv_lfp_sony_us26650.csv");
    check_uniform_grid(lfp.column("soc"));
    check_equal(tables::kOcvLfpV, lfp.column("ocv_v"));
}

TEST_CASE("LFP resistance columns equal their CSV entry by entry", "[model][tables]") {
    const Csv rint = read_csv("rint_lfp_sony_us26650.csv");
    check_uniform_grid(rint.column("soc"));
    check_equal(tables::kRintLfpDischarge10COhm, rint.column("r_discharge_10c_ohm"));
    check_equal(tables::kRintLfpDischarge25COhm, rint.column("r_discharge_25c_ohm"));
    check_equal(tables::kRintLfpDischarge40COhm, rint.column("r_discharge_40c_ohm"));
    check_equal(tables::kRintLfpCharge25COhm, rint.column("r_charge_25c_ohm"));
}

TEST_CASE("the parameter sets carry the tables", "[model][tables]") {
    const ChemistryParams nmc = make_chemistry_params(Chemistry::nmc);
    REQUIRE(nmc.ocv_points == 101);
    for (int i = 0; i < nmc.ocv_points; ++i) {
        CHECK(nmc.ocv_v[i] == tables::kOcvNmcV[i]);
    }
    const ChemistryParams lfp = make_chemistry_params(Chemistry::lfp);
    REQUIRE(lfp.ocv_points == kMaxOcvPoints);
    for (int i = 0; i < lfp.ocv_points; ++i) {
        CHECK(lfp.ocv_v[i] == tables::kOcvLfpV[i]);
    }
    // Capacities agree with what shm_init writes into the segment.
    CHECK(nmc.nominal_capacity_ah == default_nominal_capacity_ah(Chemistry::nmc));
    CHECK(lfp.nominal_capacity_ah == default_nominal_capacity_ah(Chemistry::lfp));
}

TEST_CASE("LFP resistance: 3 Ah cell scaled to 280 Ah, SoC shape of the 25 C column",
          "[model][tables]") {
    const Csv rint = read_csv("rint_lfp_sony_us26650.csv");
    const std::vector<float> r25 = rint.column("r_discharge_25c_ohm");
    const ChemistryParams lfp = make_chemistry_params(Chemistry::lfp);
    // 47.8 mOhm x 3/280 = 0.512 mOhm at 25 C, 50 % SoC.
    CHECK(lfp.r_dc_ref_ohm == Approx(r25[5] * 3.0 / 280.0).epsilon(1e-6));
    CHECK(lfp.r_dc_ref_ohm == Approx(0.512e-3).epsilon(0.01));
    for (int i = 0; i < kResistanceSocPoints; ++i) {
        INFO("SoC " << i * 0.1);
        CHECK(lfp.r_soc_factor[i] == Approx(r25[i] / r25[5]).epsilon(1e-6));
        CHECK(resistance_dc_ohm(lfp, 0.1f * static_cast<float>(i), 25.0f) ==
              Approx(r25[i] * 3.0 / 280.0).epsilon(1e-5));
    }
}

TEST_CASE("LFP activation energy is the least-squares fit of the 10/25/40 C columns",
          "[model][tables]") {
    // ln R = c(soc) + (Ea/R) (1/T), one intercept per SoC, over SoC 0.2..1
    // (at 0 and 0.1 the 10 C value is a diffusion limit, 3x the 25 C one).
    const Csv rint = read_csv("rint_lfp_sony_us26650.csv");
    const double temperatures_c[3] = {10.0, 25.0, 40.0};
    const std::vector<float> columns[3] = {rint.column("r_discharge_10c_ohm"),
                                           rint.column("r_discharge_25c_ohm"),
                                           rint.column("r_discharge_40c_ohm")};
    double num = 0.0;
    double den = 0.0;
    for (std::size_t row = 2; row < rint.rows.size(); ++row) {
        double mean_x = 0.0;
        double mean_y = 0.0;
        for (int k = 0; k < 3; ++k) {
            mean_x += 1.0 / (temperatures_c[k] + 273.15) / 3.0;
            mean_y += std::log(static_cast<double>(columns[k][row])) / 3.0;
        }
        for (int k = 0; k < 3; ++k) {
            const double dx = 1.0 / (temperatures_c[k] + 273.15) - mean_x;
            num += dx * (std::log(static_cast<double>(columns[k][row])) - mean_y);
            den += dx * dx;
        }
    }
    const double fitted_ea = num / den * 8.314462618;
    INFO("fitted Ea = " << fitted_ea << " J/mol");
    CHECK(fitted_ea == Approx(15400.0).epsilon(0.005));
    const ChemistryParams lfp = make_chemistry_params(Chemistry::lfp);
    CHECK(lfp.r_activation_j_per_mol == Approx(fitted_ea).epsilon(0.005));
}
