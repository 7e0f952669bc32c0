#include "viewer/alarm_listing.hpp"

#include <fmt/format.h>

#include "common/alarm/alarm_list.hpp"
#include "common/cli/exit_codes.hpp"
#include "common/json/json_writer.hpp"
#include "common/segment/clock.hpp"

namespace brt::viewer {

int print_alarm_list(const std::string& shm_name, bool json, bool show_suppressed) {
    AlarmSegmentReader reader(alarm_segment_name(shm_name));
    // A one-off look has no start-up to wait for: a monitor that is not
    // running now is the alarm it shows.
    const AlarmList list = read_alarm_list(reader, true, realtime_ns());
    if (json) {
        JsonWriter writer;
        write_alarm_list_json(writer, list, show_suppressed);
        fmt::print("{}\n", writer.str());
    } else {
        fmt::print("{}", alarm_list_text(list, show_suppressed));
    }
    return kExitOk;
}

}  // namespace brt::viewer
