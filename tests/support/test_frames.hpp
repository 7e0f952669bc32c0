// Frames whose every value encodes the frame number, so a reader can prove a
// copy is not torn: any mix of two frames breaks the encoding.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "common/segment/segment_reader.hpp"
#include "common/segment/segment_writer.hpp"

namespace brt::test {

// Exactly representable in float32 for frame numbers below 2^24.
inline float encoded_value(std::uint64_t frame, std::uint32_t field) {
    return static_cast<float>((frame + field) & 0xFFFFFF);
}

inline std::uint32_t encoded_status(std::uint64_t frame, std::uint64_t cell) {
    return static_cast<std::uint32_t>(frame * 2654435761u) ^ static_cast<std::uint32_t>(cell);
}

class EncodedFrameSource {
  public:
    explicit EncodedFrameSource(const Geometry& geometry)
        : cells_(geometry.cell_count()), racks_(geometry.racks) {
        for (auto& column : columns_) {
            column.resize(cells_);
        }
        status_.resize(cells_);
        rack_table_.resize(racks_);
    }

    // Fills the private arrays for `frame` and returns the FrameData view.
    FrameData make(std::uint64_t frame) {
        FrameData data;
        for (std::uint32_t field = 0; field < 6; ++field) {
            std::fill(columns_[field].begin(), columns_[field].end(), encoded_value(frame, field));
            data.columns[field] = columns_[field];
        }
        for (std::uint64_t cell = 0; cell < cells_; ++cell) {
            status_[cell] = encoded_status(frame, cell);
        }
        for (auto& rack : rack_table_) {
            rack.current_a = encoded_value(frame, 7);
            rack.mode = static_cast<std::uint32_t>(frame);
        }
        data.status = status_;
        data.racks = rack_table_;
        data.sim_time_ns = frame * 1000;
        data.ambient_temperature_c = encoded_value(frame, 8);
        return data;
    }

  private:
    std::uint64_t cells_;
    std::uint32_t racks_;
    std::vector<float> columns_[6];
    std::vector<std::uint32_t> status_;
    std::vector<RackRecord> rack_table_;
};

// A frame whose value in column `field` of cell `c` is c + field * field_step
// (exact in float32) and whose status word is the cell index, so a reader can
// check it copied the right cells of the right columns.
struct CellIndexFrame {
    std::vector<float> columns[6];
    std::vector<std::uint32_t> status;
    std::vector<RackRecord> racks;

    CellIndexFrame(const Geometry& geometry, float field_step) : racks(geometry.racks) {
        for (std::uint64_t cell = 0; cell < geometry.cell_count(); ++cell) {
            for (std::uint32_t field = 0; field < 6; ++field) {
                columns[field].push_back(static_cast<float>(cell) + field * field_step);
            }
            status.push_back(static_cast<std::uint32_t>(cell));
        }
    }
    FrameData view() const {
        FrameData frame;
        for (std::uint32_t field = 0; field < 6; ++field) {
            frame.columns[field] = columns[field];
        }
        frame.status = status;
        frame.racks = racks;
        return frame;
    }
};

// True when every value in `buffer` belongs to buffer.frame_number.
inline bool frame_is_consistent(const FrameBuffer& buffer) {
    const std::uint64_t frame = buffer.frame_number;
    if (buffer.sim_time_ns != frame * 1000 ||
        buffer.ambient_temperature_c != encoded_value(frame, 8)) {
        return false;
    }
    for (std::uint32_t field = 0; field < 6; ++field) {
        const float expected = encoded_value(frame, field);
        for (float value : buffer.columns[field]) {
            if (value != expected) {
                return false;
            }
        }
    }
    for (std::uint64_t i = 0; i < buffer.status.size(); ++i) {
        if (buffer.status[i] != encoded_status(frame, buffer.range.first_cell + i)) {
            return false;
        }
    }
    for (const auto& rack : buffer.racks) {
        if (rack.current_a != encoded_value(frame, 7) ||
            rack.mode != static_cast<std::uint32_t>(frame)) {
            return false;
        }
    }
    return true;
}

}  // namespace brt::test
