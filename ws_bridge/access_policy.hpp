// Which Host and Origin headers the bridge answers: a web page on another
// site must not read the telemetry, neither through a WebSocket (Origin)
// nor by DNS rebinding (its own name resolving to this address: Host).
// Clients that send no Origin (curl, scripts) are not browsers on a page and
// are served; so are HTTP/1.0 requests without Host.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ws_bridge/beast.hpp"

namespace brt::bridge {

class AccessPolicy {
  public:
    AccessPolicy() = default;
    // Defaults: localhost, 127.0.0.1, [::1] and the bound address (unless it
    // is 0.0.0.0 or [::]); origins http://NAME:PORT for those names.
    // `hosts` (--allowed-host NAME) and `origins` (--allowed-origin URL) add
    // to them; "*" allows any. Throws UsageError for a malformed entry.
    AccessPolicy(const tcp::endpoint& bound, const std::vector<std::string>& hosts,
                 const std::vector<std::string>& origins);

    // Empty when allowed, else why not (for the 403 body). `host` is the
    // Host header ("name", "name:port", "[v6]:port"); an absent header is
    // allowed.
    std::string host_problem(std::string_view host, bool present) const;
    // Empty when allowed. An absent Origin is allowed; otherwise it must be
    // listed, or be the page's own origin (http(s):// + the Host header).
    std::string origin_problem(std::string_view origin, bool present, std::string_view host) const;

    const std::vector<std::string>& hosts() const { return hosts_; }
    const std::vector<std::string>& origins() const { return origins_; }

  private:
    std::vector<std::string> hosts_;    // lower case, no port; "[v6]"
    std::vector<std::string> origins_;  // lower case, "scheme://name[:port]"
    bool any_host_ = false;
    bool any_origin_ = false;
};

// "name" of "name:port" or "[v6]" of "[v6]:port", lower case.
std::string host_name_of(std::string_view host);

}  // namespace brt::bridge
