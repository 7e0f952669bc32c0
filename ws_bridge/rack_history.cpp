#include "ws_bridge/rack_history.hpp"

#include <algorithm>
#include <cmath>

#include "common/json/json_writer.hpp"
#include "common/segment/segment_layout.hpp"

namespace brt::bridge {

namespace {

// Intervals a point may cover: round figures, so that points line up with
// the clock.
constexpr double kIntervalsS[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600};

}  // namespace

RackHistory::RackHistory(RackHistoryOptions options) : options_(options) {}

void RackHistory::allocate(std::size_t racks) {
    racks_ = racks;
    const double point_bytes =
        static_cast<double>(sizeof(double) + racks * kValuesPerRack * sizeof(float));
    const double budget = static_cast<double>(options_.max_bytes);
    interval_s_ = kIntervalsS[std::size(kIntervalsS) - 1];
    for (const double interval : kIntervalsS) {
        if (std::ceil(options_.span_s / interval) * point_bytes <= budget) {
            interval_s_ = interval;
            break;
        }
    }
    const double wanted = std::ceil(options_.span_s / interval_s_);
    // Even the coarsest interval does not fit: a shorter span, in budget.
    capacity_ = static_cast<std::size_t>(std::max(2.0, std::min(wanted, budget / point_bytes)));
    times_.assign(capacity_, 0.0);
    values_.assign(capacity_ * racks_ * kValuesPerRack, NAN);
    head_ = 0;
    count_ = 0;
    bucket_ = -1;
    bucket_min_.assign(racks_ * kFloatFieldCount, NAN);
    bucket_max_.assign(racks_ * kFloatFieldCount, NAN);
    bucket_sum_.assign(racks_ * kFloatFieldCount, 0.0);
    bucket_frames_.assign(racks_ * kFloatFieldCount, 0);
}

void RackHistory::close_bucket() {
    times_[head_] = static_cast<double>(bucket_) * interval_s_;
    float* point = values_.data() + head_ * racks_ * kValuesPerRack;
    for (std::size_t i = 0; i < racks_ * kFloatFieldCount; ++i) {
        point[i * 3] = bucket_min_[i];
        point[i * 3 + 1] =
            bucket_frames_[i] == 0 ? NAN : static_cast<float>(bucket_sum_[i] / bucket_frames_[i]);
        point[i * 3 + 2] = bucket_max_[i];
    }
    head_ = (head_ + 1) % capacity_;
    count_ = std::min(count_ + 1, capacity_);
    std::fill(bucket_min_.begin(), bucket_min_.end(), NAN);
    std::fill(bucket_max_.begin(), bucket_max_.end(), NAN);
    std::fill(bucket_sum_.begin(), bucket_sum_.end(), 0.0);
    std::fill(bucket_frames_.begin(), bucket_frames_.end(), 0);
}

void RackHistory::add(std::uint64_t wall_time_ns, std::span<const GroupSummary> racks) {
    const std::lock_guard lock(mutex_);
    if (racks.empty()) {
        return;
    }
    if (racks.size() != racks_) {
        allocate(racks.size());
    }
    const auto bucket = static_cast<std::int64_t>(
        std::floor(static_cast<double>(wall_time_ns) / 1e9 / interval_s_));
    if (bucket_ >= 0 && bucket != bucket_) {
        close_bucket();  // also when the clock stepped back: the old point is whole
    }
    bucket_ = bucket;
    for (std::size_t rack = 0; rack < racks_; ++rack) {
        for (std::size_t f = 0; f < kFloatFieldCount; ++f) {
            const FieldSummary& field = racks[rack].fields[f];
            if (field.valid == 0) {
                continue;
            }
            const std::size_t i = rack * kFloatFieldCount + f;
            // fmin/fmax ignore the NaN of an empty bucket.
            bucket_min_[i] = std::fmin(bucket_min_[i], field.min);
            bucket_max_[i] = std::fmax(bucket_max_[i], field.max);
            bucket_sum_[i] += field.mean();
            ++bucket_frames_[i];
        }
    }
}

void RackHistory::clear() {
    const std::lock_guard lock(mutex_);
    head_ = 0;
    count_ = 0;
    bucket_ = -1;
    std::fill(bucket_min_.begin(), bucket_min_.end(), NAN);
    std::fill(bucket_max_.begin(), bucket_max_.end(), NAN);
    std::fill(bucket_sum_.begin(), bucket_sum_.end(), 0.0);
    std::fill(bucket_frames_.begin(), bucket_frames_.end(), 0);
}

std::optional<RackHistorySeries> RackHistory::series(std::uint32_t rack,
                                                     std::uint32_t field_mask) const {
    const std::lock_guard lock(mutex_);
    if (rack >= racks_) {
        return std::nullopt;
    }
    RackHistorySeries out;
    out.rack = rack;
    out.interval_s = interval_s_;
    out.span_s = static_cast<double>(capacity_) * interval_s_;
    out.time_unix_s.reserve(count_);
    for (std::size_t f = 0; f < kFloatFieldCount; ++f) {
        if ((field_mask & (1u << f)) != 0) {
            out.values[f].reserve(count_ * 3);
        }
    }
    const std::size_t oldest = (head_ + capacity_ - count_) % capacity_;
    for (std::size_t k = 0; k < count_; ++k) {
        const std::size_t point = (oldest + k) % capacity_;
        out.time_unix_s.push_back(times_[point]);
        const float* values = values_.data() + (point * racks_ + rack) * kValuesPerRack;
        for (std::size_t f = 0; f < kFloatFieldCount; ++f) {
            if ((field_mask & (1u << f)) != 0) {
                out.values[f].insert(out.values[f].end(), values + f * 3, values + f * 3 + 3);
            }
        }
    }
    return out;
}

RackHistory::Usage RackHistory::usage() const {
    const std::lock_guard lock(mutex_);
    return {.bytes = times_.capacity() * sizeof(double) + values_.capacity() * sizeof(float),
            .points = count_,
            .capacity = capacity_,
            .interval_s = interval_s_};
}

std::string history_json(const RackHistorySeries& series, std::uint32_t field_mask) {
    JsonWriter json;
    json.begin_object();
    json.key("type").value("history");
    json.key("rack").value(series.rack);
    json.key("interval_s").value(series.interval_s);
    json.key("span_s").value(series.span_s);
    json.key("points").value(static_cast<std::uint64_t>(series.time_unix_s.size()));
    json.key("time_unix_s").begin_array();
    for (const double t : series.time_unix_s) {
        json.value(t);
    }
    json.end_array();
    constexpr const char* kStatistics[] = {"min", "mean", "max"};
    for (std::uint32_t f = 0; f < kFloatFieldCount; ++f) {
        if ((field_mask & (1u << f)) == 0) {
            continue;
        }
        json.key(field_info(static_cast<Field>(f)).name).begin_object();
        for (std::size_t s = 0; s < 3; ++s) {
            json.key(kStatistics[s]).begin_array();
            const std::vector<float>& values = series.values[f];
            for (std::size_t i = s; i < values.size(); i += 3) {
                json.value(values[i]);
            }
            json.end_array();
        }
        json.end_object();
    }
    json.end_object();
    return json.str();
}

std::optional<std::string> rack_history_json(const RackHistory& history, std::uint32_t rack,
                                             std::uint32_t field_mask) {
    constexpr std::uint32_t kFloatFields = (1u << kFloatFieldCount) - 1;
    field_mask = field_mask == 0 ? kFloatFields : field_mask & kFloatFields;
    const auto series = history.series(rack, field_mask);
    if (!series) {
        return std::nullopt;
    }
    return history_json(*series, field_mask);
}

}  // namespace brt::bridge
