// A uniquely named alarm segment for one test, removed when the test ends,
// and records whose every field follows from one number (so a reader can
// tell a consistent record from a torn one).
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

#include "common/alarm_segment/alarm_segment_file.hpp"
#include "support/test_segment.hpp"

namespace brt::test {

class ScopedAlarmName {
  public:
    explicit ScopedAlarmName(const std::string& tag)
        : name_(unique_segment_name(tag) + ".alarms") {}
    ~ScopedAlarmName() { remove_alarm_segment(name_); }
    ScopedAlarmName(const ScopedAlarmName&) = delete;
    ScopedAlarmName& operator=(const ScopedAlarmName&) = delete;
    const std::string& name() const { return name_; }

  private:
    std::string name_;
};

inline AlarmRecord derived_record(std::uint64_t seed) {
    AlarmRecord record;
    record.id = seed;
    record.first_out_id = seed / 2;
    record.key_rule = static_cast<std::uint8_t>(seed % 27);
    record.rule = static_cast<std::uint8_t>((seed + 1) % 27);
    record.severity = static_cast<std::uint8_t>(seed % 3);
    record.state = static_cast<std::uint8_t>(1 + seed % 3);
    record.flags = static_cast<std::uint32_t>(seed % 32);
    record.key_rack = static_cast<std::uint32_t>(seed % 20);
    record.key_module = static_cast<std::uint32_t>(seed % 10);
    record.key_cell = seed % 7 == 0 ? kNoLocation : static_cast<std::uint32_t>(seed % 32);
    record.rack = static_cast<std::uint32_t>(seed % 21);
    record.module = static_cast<std::uint32_t>(seed % 11);
    record.cell = static_cast<std::uint32_t>(seed % 33);
    record.value = static_cast<float>(seed) * 0.5f;
    record.worst_value = static_cast<float>(seed) * 0.75f;
    record.limit = static_cast<float>(seed) + 0.25f;
    record.raised_realtime_ns = seed * 1000;
    record.changed_realtime_ns = seed * 1000 + 1;
    record.shelved_until_realtime_ns = seed * 1000 + 2;
    record.raised_frame = seed * 3;
    std::snprintf(record.acknowledged_by, sizeof record.acknowledged_by, "ctl uid %llu",
                  static_cast<unsigned long long>(seed));
    return record;
}

inline bool same_record(const AlarmRecord& a, const AlarmRecord& b) {
    return a.id == b.id && a.first_out_id == b.first_out_id && a.key_rule == b.key_rule &&
           a.rule == b.rule && a.severity == b.severity && a.state == b.state &&
           a.flags == b.flags && a.key_rack == b.key_rack && a.key_module == b.key_module &&
           a.key_cell == b.key_cell && a.rack == b.rack && a.module == b.module &&
           a.cell == b.cell && a.value == b.value && a.worst_value == b.worst_value &&
           a.limit == b.limit && a.raised_realtime_ns == b.raised_realtime_ns &&
           a.changed_realtime_ns == b.changed_realtime_ns &&
           a.shelved_until_realtime_ns == b.shelved_until_realtime_ns &&
           a.raised_frame == b.raised_frame &&
           std::string(a.acknowledged_by) == std::string(b.acknowledged_by);
}

}  // namespace brt::test
