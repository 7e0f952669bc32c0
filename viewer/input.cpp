#include "viewer/input.hpp"

namespace brt::viewer {

namespace {

// Keys from the final byte of "ESC [ ... X" or "ESC O X" (xterm, VT100
// application mode) and from "ESC [ n ~" (VT220).
bool final_key(char final_byte, std::string_view parameters, Key& key) {
    switch (final_byte) {
        case 'A':
            key = Key::up;
            return true;
        case 'B':
            key = Key::down;
            return true;
        case 'C':
            key = Key::right;
            return true;
        case 'D':
            key = Key::left;
            return true;
        case 'H':
            key = Key::home;
            return true;
        case 'F':
            key = Key::end;
            return true;
        case '~':
            if (parameters == "5") {
                key = Key::page_up;
                return true;
            }
            if (parameters == "6") {
                key = Key::page_down;
                return true;
            }
            if (parameters == "1" || parameters == "7") {
                key = Key::home;
                return true;
            }
            if (parameters == "4" || parameters == "8") {
                key = Key::end;
                return true;
            }
            if (parameters == "3") {  // Delete: treated like Backspace (back)
                key = Key::backspace;
                return true;
            }
            return false;
        default:
            return false;
    }
}

bool plain_key(char byte, Key& key) {
    switch (byte) {
        case 'k':
            key = Key::up;
            return true;
        case 'j':
            key = Key::down;
            return true;
        case 'h':
            key = Key::left;
            return true;
        case 'l':
            key = Key::right;
            return true;
        case 'g':
            key = Key::home;
            return true;
        case 'G':
            key = Key::end;
            return true;
        case ' ':
            key = Key::page_down;
            return true;
        case '\r':
        case '\n':
            key = Key::enter;
            return true;
        case 0x7f:
        case 0x08:
            key = Key::backspace;
            return true;
        case 'm':
            key = Key::cycle_metric;
            return true;
        case 'a':
            key = Key::alarms;
            return true;
        case 'A':
            key = Key::acknowledge_all;
            return true;
        case 's':
            key = Key::shelve;
            return true;
        case 'u':
            key = Key::unshelve;
            return true;
        case 'S':
            key = Key::toggle_suppressed;
            return true;
        case '?':
            key = Key::help;
            return true;
        case 'q':
        case 'Q':
        case 0x04:  // Ctrl-D
            key = Key::quit;
            return true;
        case 0x0c:  // Ctrl-L
            key = Key::redraw;
            return true;
        default:
            return false;
    }
}

}  // namespace

std::vector<Key> KeyDecoder::feed(std::string_view bytes) {
    std::vector<Key> keys;
    pending_.append(bytes);
    std::size_t i = 0;
    const std::string& in = pending_;
    while (i < in.size()) {
        const char byte = in[i];
        if (byte != '\x1b') {
            Key key;
            keys.push_back(plain_key(byte, key) ? key : Key::other);
            ++i;
            continue;
        }
        if (i + 1 >= in.size()) {
            break;  // lone ESC so far: wait for more, or flush()
        }
        const char introducer = in[i + 1];
        if (introducer == '\x1b') {
            keys.push_back(Key::escape);  // ESC ESC: the first one was the key
            ++i;
            continue;
        }
        if (introducer != '[' && introducer != 'O') {
            keys.push_back(Key::escape);  // Esc followed by a plain key (Alt-x)
            ++i;
            continue;
        }
        // Parameters are 0x30..0x3F, intermediates 0x20..0x2F, the final byte 0x40..0x7E.
        std::size_t end = i + 2;
        while (end < in.size() && static_cast<unsigned char>(in[end]) >= 0x20 &&
               static_cast<unsigned char>(in[end]) <= 0x3F) {
            ++end;
        }
        if (end >= in.size()) {
            break;  // cut off: wait for the rest
        }
        Key key;
        keys.push_back(final_key(in[end], std::string_view(in).substr(i + 2, end - i - 2), key)
                           ? key
                           : Key::other);
        i = end + 1;
    }
    pending_.erase(0, i);
    return keys;
}

std::vector<Key> KeyDecoder::flush() {
    std::vector<Key> keys;
    if (pending_ == "\x1b") {
        keys.push_back(Key::escape);
    }
    pending_.clear();
    return keys;
}

}  // namespace brt::viewer
