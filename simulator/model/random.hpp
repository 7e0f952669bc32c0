// Counter-based random numbers: every draw is a pure function of (seed, cell,
// step, stream), so the CPU and CUDA backends, any thread count and any
// order of evaluation produce the same numbers, and a run is reproducible
// from its seed. The integer hashing is bit-identical everywhere; the normal
// transform is evaluated in double and rounded to float, so CPU and GPU
// agree except when the double result falls within ~1e-16 of a float
// rounding boundary (about one draw in 10^8).
#pragma once

#include <cmath>
#include <cstdint>

#include "simulator/model/hd.hpp"

namespace brt::model {

// Independent streams of one cell's random numbers. Values are part of the
// reproducibility contract: renumbering changes every run.
namespace random_stream {
enum : std::uint32_t {
    variation_capacity = 1,    // step 0: the cell's capacity factor
    variation_resistance = 2,  // step 0: the cell's resistance factor
    initial_soc = 3,           // step 0: the cell's initial SoC
    sensor_noise = 4,  // one key per (cell, step) for the voltage, temperature and current noise
    // 5 and 6: retired (the sensors had a stream each before sensor_noise)
    initial_temperature = 7,  // step 0
    scenario = 8,             // picks of scenarios (which cell, when)
};
}  // namespace random_stream

// splitmix64's finaliser (Steele, Lea, Flood 2014): a bijection on 64 bits
// whose output bits each depend on every input bit.
BRT_HD inline std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Chained through the finaliser one input at a time, so (cell a, step b)
// and (cell b, step a) give unrelated keys.
BRT_HD inline std::uint64_t mix_key(std::uint64_t seed, std::uint64_t cell, std::uint64_t step,
                                    std::uint32_t stream) {
    std::uint64_t h = splitmix64(seed);
    h = splitmix64(h ^ cell);
    h = splitmix64(h ^ step);
    return splitmix64(h ^ (std::uint64_t{stream} << 32 | stream));
}

// Uniform in (0, 1]: 24 random bits, exact in float; never 0, so log() is safe.
BRT_HD inline float uniform01(std::uint64_t key) {
    const std::uint64_t bits = splitmix64(key) >> 40;
    return static_cast<float>(bits + 1) * (1.0f / 16777216.0f);
}

// Standard normal by Box-Muller from two uniforms derived from the key.
BRT_HD inline float standard_normal(std::uint64_t key) {
    const std::uint64_t a = splitmix64(key);
    const std::uint64_t b = splitmix64(key ^ 0xd1b54a32d192ed03ull);
    // 53-bit uniforms in (0, 1].
    const double u1 = static_cast<double>((a >> 11) + 1) * (1.0 / 9007199254740992.0);
    const double u2 = static_cast<double>(b >> 11) * (1.0 / 9007199254740992.0);
    const double two_pi = 6.283185307179586;
    return static_cast<float>(sqrt(-2.0 * log(u1)) * cos(two_pi * u2));
}

// SplitMix64's sequence from a key: the i-th output. Independent draws from
// one key without hashing the whole (seed, cell, step, stream) again.
BRT_HD inline std::uint64_t sequence_draw(std::uint64_t key, std::uint32_t i) {
    return splitmix64(key + 0x9e3779b97f4a7c15ull * (std::uint64_t{i} + 1));
}

// A cheap approximately normal draw for sensor noise: the sum of the four
// 16-bit fields of a hash (Irwin-Hall), centred and scaled to sd 1. Integer
// work and one exact conversion, so every backend gets the same float; tails
// end at +-3.46 sd, which a converter's noise floor does not miss. About 20x
// cheaper than Box-Muller in double (the frame builder draws three per cell).
BRT_HD inline float approx_standard_normal(std::uint64_t bits) {
    const std::uint32_t sum = static_cast<std::uint32_t>((bits & 0xFFFF) + ((bits >> 16) & 0xFFFF) +
                                                         ((bits >> 32) & 0xFFFF) + (bits >> 48));
    // Mean of the sum 4 x 32767.5; sd 65536 / sqrt(3) (to 1e-9).
    return (static_cast<float>(sum) - 131070.0f) * (1.7320508f / 65536.0f);
}

}  // namespace brt::model
