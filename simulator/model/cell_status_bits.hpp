// The per-cell status bits the model sets, with the values of
// common/segment/segment_layout.hpp's cell_status:: constants. Copied rather than
// included because that header needs C++20 and <atomic>, and model code must
// compile as C++17 under nvcc; tests/test_model_sensor.cpp static_asserts
// that the two sets are equal.
#pragma once

#include <cstdint>

namespace brt::model::status_bit {

inline constexpr std::uint32_t voltage_sensor_fault = 1u << 0;
inline constexpr std::uint32_t temperature_sensor_fault = 1u << 1;
inline constexpr std::uint32_t current_sensor_fault = 1u << 2;
inline constexpr std::uint32_t dropout = 1u << 3;  // a published value is NaN
inline constexpr std::uint32_t open_wire = 1u << 4;
inline constexpr std::uint32_t stuck = 1u << 5;
inline constexpr std::uint32_t offset_drift = 1u << 6;
inline constexpr std::uint32_t balancing = 1u << 8;
inline constexpr std::uint32_t self_heating = 1u << 9;
inline constexpr std::uint32_t venting = 1u << 10;
inline constexpr std::uint32_t thermal_runaway = 1u << 11;

}  // namespace brt::model::status_bit
