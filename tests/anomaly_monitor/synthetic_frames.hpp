// Synthetic frames for the alarm engine's unit tests: healthy cells whose
// readings flicker by one quantum like a real front end's (so no sensor
// looks stuck), with setters to break one cell or one rack at a time.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "common/alarm/alarm_engine.hpp"
#include "common/segment/segment_layout.hpp"

namespace brt::test {

class SyntheticFrames {
  public:
    explicit SyntheticFrames(Geometry geometry = {2, 2, 8}) : geometry_(geometry) {
        const std::uint64_t cells = geometry.cell_count();
        frame_.range = whole_frame(geometry);
        for (auto& column : frame_.columns) {
            column.resize(cells);
        }
        frame_.status.resize(cells);
        frame_.racks.resize(geometry.racks);
        base_voltage_.assign(cells, 3.7f);
        base_temperature_.assign(cells, 25.0f);
        base_soc_.assign(cells, 0.6f);
        base_resistance_.resize(cells);
        for (std::uint64_t c = 0; c < cells; ++c) {
            // A little cell-to-cell spread, as in a real module.
            base_resistance_[c] = 0.0004f * (1.0f + 0.01f * static_cast<float>(c % 5));
        }
        status_.assign(cells, 0);
        rack_current_a_.assign(geometry.racks, 0.0f);
        rack_flags_.assign(geometry.racks, 0u);
    }

    const Geometry& geometry() const { return geometry_; }
    std::uint64_t cell(std::uint32_t rack, std::uint32_t module, std::uint32_t cell) const {
        return geometry_.cell_index(rack, module, cell);
    }

    // Base values, before the flicker. A cell listed in frozen_voltage or
    // frozen_temperature does not flicker (a stuck sensor).
    std::vector<float>& base_voltage() { return base_voltage_; }
    std::vector<float>& base_temperature() { return base_temperature_; }
    std::vector<float>& base_soc() { return base_soc_; }
    std::vector<float>& base_resistance() { return base_resistance_; }
    std::vector<std::uint32_t>& status() { return status_; }
    std::vector<std::uint64_t> frozen_voltage, frozen_temperature;
    float soh = 0.98f;
    void set_rack_current(std::uint32_t rack, float amps) { rack_current_a_[rack] = amps; }
    void set_rack_flags(std::uint32_t rack, std::uint32_t flags) { rack_flags_[rack] = flags; }

    // The next frame, `period_s` of simulated time after the previous one.
    const FrameBuffer& next(double period_s = 0.1) {
        ++number_;
        time_s_ += period_s;
        frame_.frame_number = number_;
        frame_.sim_time_ns = static_cast<std::uint64_t>(std::llround(time_s_ * 1e9));
        frame_.wall_time_ns = 1'800'000'000'000'000'000ull + frame_.sim_time_ns;
        frame_.publish_monotonic_ns = frame_.sim_time_ns;
        const std::uint64_t cells = geometry_.cell_count();
        for (std::uint64_t c = 0; c < cells; ++c) {
            const float flicker = ((number_ + c) % 2 == 0) ? 1.0f : 0.0f;
            const bool v_frozen = contains(frozen_voltage, c);
            const bool t_frozen = contains(frozen_temperature, c);
            frame_.columns[0][c] = base_voltage_[c] + (v_frozen ? 0.0f : 0.001f * flicker);
            frame_.columns[1][c] = 0.0f;
            frame_.columns[2][c] = base_temperature_[c] + (t_frozen ? 0.0f : 0.1f * flicker);
            frame_.columns[3][c] = base_soc_[c];
            frame_.columns[4][c] = base_resistance_[c];
            frame_.columns[5][c] = soh;
            frame_.status[c] = status_[c];
        }
        for (std::uint32_t r = 0; r < geometry_.racks; ++r) {
            frame_.racks[r] = RackRecord{rack_current_a_[r], 25.0f, 0, rack_flags_[r]};
            for (std::uint64_t c = r * geometry_.cells_per_rack();
                 c < (r + 1) * geometry_.cells_per_rack(); ++c) {
                frame_.columns[1][c] = rack_current_a_[r];
            }
        }
        return frame_;
    }
    double time_s() const { return time_s_; }

  private:
    static bool contains(const std::vector<std::uint64_t>& list, std::uint64_t c) {
        for (std::uint64_t x : list) {
            if (x == c) {
                return true;
            }
        }
        return false;
    }
    Geometry geometry_;
    FrameBuffer frame_;
    std::vector<float> base_voltage_, base_temperature_, base_soc_, base_resistance_;
    std::vector<std::uint32_t> status_;
    std::vector<float> rack_current_a_;
    std::vector<std::uint32_t> rack_flags_;
    std::uint64_t number_ = 0;
    double time_s_ = 0;
};

}  // namespace brt::test
