// What a WebSocket client may send the bridge: any text, parsed strictly
// (parse_client_message). Every input must end in a request or a
// ProtocolError, never a crash or an exception.
#include <string_view>

#include "ws_bridge/client_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)brt::bridge::parse_client_message(text);
    return 0;
}
