// A long-running tool's events (listening, connected, writer state changes,
// stopped): its data, one line each on stdout, as text or (--json) as one
// JSON object {"event":NAME, FIELDS..., "message":TEXT}, flushed at once so
// that a pipe or the journal sees each when it happens.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "common/json/json_writer.hpp"

namespace brt {

class EventLog {
  public:
    explicit EventLog(bool json) : json_(json) {}
    void event(const std::string& name, const std::string& text,
               const std::vector<std::pair<std::string, std::string>>& fields = {}) const {
        if (json_) {
            JsonWriter json;
            json.begin_object().key("event").value(name);
            for (const auto& [key, value] : fields) {
                json.key(key).value(value);
            }
            json.key("message").value(text).end_object();
            fmt::print("{}\n", json.str());
        } else {
            fmt::print("{}\n", text);
        }
        std::fflush(stdout);
    }

  private:
    bool json_;
};

}  // namespace brt
