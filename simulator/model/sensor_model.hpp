// What a BMS front end would report for a cell: the true values plus noise,
// quantised to the converter's resolution, with injected faults on top.
// measure_cell takes the true values by value, so a fault can never change
// the physics; it only changes what is published.
#pragma once

#include <cmath>
#include <cstdint>

#include "simulator/model/cell_status_bits.hpp"
#include "simulator/model/hd.hpp"
#include "simulator/model/random.hpp"

namespace brt::model {

// Issue 3: quantisation 1 mV, 0.1 K, 10 mA; noise of one quantum (1 sigma).
inline constexpr float kVoltageNoiseSigmaV = 0.001f;
inline constexpr float kVoltageQuantumV = 0.001f;
inline constexpr float kTemperatureNoiseSigmaK = 0.1f;
inline constexpr float kTemperatureQuantumK = 0.1f;
inline constexpr float kCurrentNoiseSigmaA = 0.01f;
inline constexpr float kCurrentQuantumA = 0.01f;
// An open thermistor wire reads as the bottom of the measuring range.
inline constexpr float kOpenThermistorReadingC = -40.0f;

enum class SensorFault : std::uint32_t {
    none = 0,
    stuck = 1,      // holds the value captured when the fault began
    offset = 2,     // adds a constant offset (V or K)
    dropout = 3,    // NaN, with the dropout bit
    open_wire = 4,  // voltage reads ~0 V (thermistor: -40 C), with the open_wire bit
};

struct SensorFaultState {
    SensorFault voltage_fault;
    SensorFault temperature_fault;
    // Each sensor has its own fault, so one cell can carry a voltage and a
    // temperature fault at once.
    float voltage_offset_v;      // offset faults of the voltage sensor
    float temperature_offset_k;  // offset faults of the thermistor
    float stuck_voltage_v;
    float stuck_temperature_c;
};

struct MeasuredCell {
    float voltage_v, current_a, temperature_c;
    std::uint32_t status_bits;  // status_bit:: sensor fault bits
};

BRT_HD inline float quantise(float x, float quantum) {
    return roundf(x / quantum) * quantum;
}

BRT_HD inline MeasuredCell measure_cell(float true_voltage_v, float true_current_a,
                                        float true_temperature_c, const SensorFaultState& f,
                                        std::uint64_t seed, std::uint64_t cell,
                                        std::uint64_t step) {
    MeasuredCell m{};
    const std::uint64_t noise_key = mix_key(seed, cell, step, random_stream::sensor_noise);

    const float v_noise = kVoltageNoiseSigmaV * approx_standard_normal(sequence_draw(noise_key, 0));
    switch (f.voltage_fault) {
        case SensorFault::stuck:
            m.voltage_v = f.stuck_voltage_v;
            m.status_bits |= status_bit::voltage_sensor_fault | status_bit::stuck;
            break;
        case SensorFault::offset:
            m.voltage_v = quantise(true_voltage_v + v_noise + f.voltage_offset_v, kVoltageQuantumV);
            m.status_bits |= status_bit::voltage_sensor_fault | status_bit::offset_drift;
            break;
        case SensorFault::dropout:
            m.voltage_v = NAN;
            m.status_bits |= status_bit::voltage_sensor_fault | status_bit::dropout;
            break;
        case SensorFault::open_wire:
            // The sense input floats to ground: only the converter's noise.
            m.voltage_v = quantise(fabsf(v_noise), kVoltageQuantumV);
            m.status_bits |= status_bit::voltage_sensor_fault | status_bit::open_wire;
            break;
        default:
            m.voltage_v = quantise(true_voltage_v + v_noise, kVoltageQuantumV);
            break;
    }

    const float t_noise =
        kTemperatureNoiseSigmaK * approx_standard_normal(sequence_draw(noise_key, 1));
    switch (f.temperature_fault) {
        case SensorFault::stuck:
            m.temperature_c = f.stuck_temperature_c;
            m.status_bits |= status_bit::temperature_sensor_fault | status_bit::stuck;
            break;
        case SensorFault::offset:
            m.temperature_c = quantise(true_temperature_c + t_noise + f.temperature_offset_k,
                                       kTemperatureQuantumK);
            m.status_bits |= status_bit::temperature_sensor_fault | status_bit::offset_drift;
            break;
        case SensorFault::dropout:
            m.temperature_c = NAN;
            m.status_bits |= status_bit::temperature_sensor_fault | status_bit::dropout;
            break;
        case SensorFault::open_wire:
            m.temperature_c = kOpenThermistorReadingC;
            m.status_bits |= status_bit::temperature_sensor_fault | status_bit::open_wire;
            break;
        default:
            m.temperature_c = quantise(true_temperature_c + t_noise, kTemperatureQuantumK);
            break;
    }

    const float i_noise = kCurrentNoiseSigmaA * approx_standard_normal(sequence_draw(noise_key, 2));
    m.current_a = quantise(true_current_a + i_noise, kCurrentQuantumA);
    return m;
}

}  // namespace brt::model
