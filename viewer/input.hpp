// Turns the bytes a terminal sends into keys. Escape sequences may arrive
// split across reads; a lone ESC is only known to be the Esc key once no
// more bytes follow it (the caller waits briefly, then calls flush()).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace brt::viewer {

enum class Key {
    up,
    down,
    left,
    right,
    page_up,
    page_down,
    home,
    end,
    enter,
    escape,
    backspace,
    cycle_metric,       // m
    alarms,             // a: the alarm view, and back
    acknowledge_all,    // A (alarm view)
    shelve,             // s (alarm view): the selected alarm for an hour
    unshelve,           // u (alarm view)
    toggle_suppressed,  // S (alarm view): show the suppressed consequences too
    help,               // ?
    quit,               // q, Ctrl-D
    redraw,             // Ctrl-L
    other,              // any other key (closes the help)
};

class KeyDecoder {
  public:
    // Decodes what it can; incomplete sequences wait for the next bytes.
    std::vector<Key> feed(std::string_view bytes);
    // True when a lone ESC (or a sequence's start) waits for more bytes.
    bool pending() const { return !pending_.empty(); }
    // No more bytes came: a pending lone ESC is the Esc key; a cut-off
    // sequence is dropped.
    std::vector<Key> flush();

  private:
    std::string pending_;
};

}  // namespace brt::viewer
