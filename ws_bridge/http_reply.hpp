// An HTTP answer before it meets Beast, so routing and control stay plain C++.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace brt::bridge {

struct HttpReply {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::shared_ptr<const std::string> body;
    std::vector<std::pair<std::string, std::string>> headers;

    static HttpReply json(unsigned status, std::string text) {
        return {
            status, "application/json", std::make_shared<const std::string>(std::move(text)), {}};
    }
};

}  // namespace brt::bridge
