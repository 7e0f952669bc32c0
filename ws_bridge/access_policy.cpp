#include "ws_bridge/access_policy.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/segment/errors.hpp"

namespace brt::bridge {

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    });
    return out;
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

void add(std::vector<std::string>& list, std::string value) {
    if (!contains(list, value)) {
        list.push_back(std::move(value));
    }
}

// "http://Example.COM:8080/" -> "http://example.com:8080"
std::string normalize_origin(std::string_view origin) {
    std::string out = lower(origin);
    while (out.size() > 1 && out.back() == '/') {
        out.pop_back();
    }
    return out;
}

std::string joined(const std::vector<std::string>& list) {
    return fmt::format("{}", fmt::join(list, ", "));
}

}  // namespace

std::string host_name_of(std::string_view host) {
    if (host.starts_with('[')) {
        const std::size_t close = host.find(']');
        return lower(host.substr(0, close == std::string_view::npos ? host.size() : close + 1));
    }
    return lower(host.substr(0, host.find(':')));
}

AccessPolicy::AccessPolicy(const tcp::endpoint& bound, const std::vector<std::string>& hosts,
                           const std::vector<std::string>& origins) {
    std::vector<std::string> names = {"localhost", "127.0.0.1", "[::1]"};
    const auto address = bound.address();
    if (!address.is_unspecified()) {
        add(names,
            address.is_v6() ? fmt::format("[{}]", address.to_string()) : address.to_string());
    }
    for (const std::string& name : names) {
        add(hosts_, name);
        add(origins_, fmt::format("http://{}:{}", name, bound.port()));
        if (bound.port() == 80) {
            add(origins_, "http://" + name);  // a browser leaves the default port out
        }
    }
    for (const std::string& host : hosts) {
        if (host == "*") {
            any_host_ = true;
            continue;
        }
        if (host.empty() || host.find_first_of("/ \t?#@") != std::string::npos ||
            host_name_of(host) != lower(host)) {
            throw UsageError(fmt::format(
                "--allowed-host {:?}: give a host name or address without scheme or port, "
                "e.g. telemetry.example.com, 192.168.1.20 or [fd00::5]",
                host));
        }
        add(hosts_, lower(host));
    }
    for (const std::string& origin : origins) {
        if (origin == "*") {
            any_origin_ = true;
            continue;
        }
        const std::string normalized = normalize_origin(origin);
        const bool has_scheme =
            normalized.starts_with("http://") || normalized.starts_with("https://");
        const std::string_view rest =
            std::string_view(normalized).substr(normalized.find("://") + 3);
        if (!has_scheme || rest.empty() || rest.find_first_of("/ \t?#@") != std::string::npos) {
            throw UsageError(
                fmt::format("--allowed-origin {:?}: give a scheme, host and optional port, e.g. "
                            "https://dashboard.example.com or http://192.168.1.20:3000",
                            origin));
        }
        add(origins_, normalized);
    }
}

std::string AccessPolicy::host_problem(std::string_view host, bool present) const {
    if (!present || any_host_ || contains(hosts_, host_name_of(host))) {
        return {};
    }
    return fmt::format(
        "Host {:?} is not allowed: the bridge answers requests for {} (add names with "
        "--allowed-host); a page on another site could otherwise read it by DNS rebinding",
        std::string(host), joined(hosts_));
}

std::string AccessPolicy::origin_problem(std::string_view origin, bool present,
                                         std::string_view host) const {
    if (!present || any_origin_) {
        return {};
    }
    const std::string normalized = normalize_origin(origin);
    const std::string own = lower(host);
    if (contains(origins_, normalized) ||
        (!own.empty() && (normalized == "http://" + own || normalized == "https://" + own))) {
        return {};
    }
    return fmt::format(
        "Origin {:?} is not allowed: a web page on another site may not open the WebSocket "
        "(allowed: the bridge's own page, {}; add origins with --allowed-origin)",
        std::string(origin), joined(origins_));
}

}  // namespace brt::bridge
