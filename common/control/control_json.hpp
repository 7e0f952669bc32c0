// Commands given as JSON objects (brt-mqtt-bridge's command topics; the same
// keys as brt-ws-bridge's REST bodies, docs/mqtt.md "Commands"), turned into
// ring commands by the same makers as `brt-simulator ctl`
// (control_command.hpp), so every path checks a command the same way.
// Everything refused throws UsageError with a sentence saying what is wrong
// and what is allowed; a malformed document never gets further.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/control/control_command.hpp"
#include "common/segment/geometry.hpp"

namespace brt {

// Which command ring a verb goes to.
enum class CommandDestination { simulator, alarm_monitor };

struct JsonCommandVerb {
    std::string_view name;  // "scenario/apply"
    CommandDestination destination;
    std::string_view example;  // a valid body, for error messages and docs
};

// Every verb: scenario/apply, scenario/clear, rack/mode, ambient, pause,
// resume, alarm/acknowledge, alarm/shelve, alarm/unshelve.
const std::vector<JsonCommandVerb>& json_command_verbs();
// nullptr for an unknown verb.
const JsonCommandVerb* find_json_command_verb(std::string_view verb);

// `body`: one JSON object (empty text counts as {}). Simulator verbs are
// checked against `geometry`; alarm verbs need none. Unknown keys are
// ignored (a request may carry its own, such as "correlation_id").
ControlCommand control_command_from_json(const JsonCommandVerb& verb, std::string_view body,
                                         const Geometry& geometry);

// The "correlation_id" of `body` as JSON text (a string or a number, cut to
// 200 characters), or "" when the body has none or is not a JSON object.
std::string json_correlation_id(std::string_view body);

}  // namespace brt
