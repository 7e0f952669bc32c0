// A small streaming JSON writer: every tool's --json output goes through it,
// so escaping, number format (common/json/number_format.hpp) and NaN handling
// (NaN and infinities become null) are done once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace brt {

class JsonWriter {
  public:
    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    JsonWriter& key(std::string_view name);
    JsonWriter& value(std::string_view text);
    JsonWriter& value(const char* text) { return value(std::string_view(text)); }
    // A float32 measurement: its shortest form that reads back as the same
    // float (3.806, not 3.8060002). A double that holds one (a mean of a
    // float column) is passed as float.
    JsonWriter& value(float number);
    // Any other double: its shortest round-trip form.
    JsonWriter& value(double number);
    // A time as seconds, exact to the nanosecond ("99.8", not 99.80000000000001).
    JsonWriter& seconds_from_ns(std::uint64_t ns);
    // Seconds held in a double, rounded to the nanosecond.
    JsonWriter& seconds(double seconds);
    JsonWriter& value(std::uint64_t number);
    JsonWriter& value(std::int64_t number);
    JsonWriter& value(std::uint32_t number) { return value(std::uint64_t{number}); }
    JsonWriter& value(std::int32_t number) { return value(std::int64_t{number}); }
    JsonWriter& value(bool flag);
    JsonWriter& null();
    // A value that is already JSON text (e.g. an event line), written as is.
    JsonWriter& raw(std::string_view json);

    const std::string& str() const { return out_; }

  private:
    void separate();
    std::string out_;
    // One entry per open container: true once it holds an element.
    std::vector<bool> has_element_;
    bool after_key_ = false;
};

// The inside of a JSON string: quotes, backslashes and control characters
// escaped; bytes that are not well-formed UTF-8 become \ufffd.
std::string json_escape(std::string_view text);

}  // namespace brt
