// The web page's files, compiled into the binary (web_assets.cpp is
// generated at build time from ws_bridge/web/ by embed_web_assets.py), so an
// installed bridge serves its page with nothing else on disk.
#pragma once

#include <string_view>

namespace brt::bridge {

struct WebAsset {
    std::string_view path;  // "/index.html"
    std::string_view content_type;
    std::string_view bytes;
};

// "/" is "/index.html". Null when there is no such file.
const WebAsset* find_web_asset(std::string_view path);

}  // namespace brt::bridge
