// A small streaming JSON writer: every tool's --json output goes through it,
// so escaping and NaN handling (NaN and infinities become null) are done once.
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
    JsonWriter& value(double number);
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

std::string json_escape(std::string_view text);

}  // namespace brt
