// The Boost.Beast and Asio names the bridge uses. Both libraries are built
// once, in beast_asio.cpp (BOOST_*_SEPARATE_COMPILATION, set in meson), so
// each translation unit that includes this compiles faster.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace brt::bridge {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

}  // namespace brt::bridge
