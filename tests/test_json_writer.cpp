#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "common/json/json_writer.hpp"

using namespace brt;

TEST_CASE("JSON output escapes text and writes NaN as null", "[json]") {
    JsonWriter json;
    json.begin_object()
        .key("name")
        .value("rack \"3\"\n\\")
        .key("values")
        .begin_array()
        .value(1.5)
        .value(std::numeric_limits<double>::quiet_NaN())
        .value(std::numeric_limits<double>::infinity())
        .value(std::uint64_t{7})
        .end_array()
        .key("ok")
        .value(true)
        .key("empty")
        .begin_object()
        .end_object()
        .end_object();
    CHECK(json.str() ==
          R"({"name":"rack \"3\"\n\\","values":[1.5,null,null,7],"ok":true,"empty":{}})");
    CHECK(json_escape(std::string(1, '\x01')) == "\\u0001");
}

TEST_CASE("JSON output is UTF-8 whatever bytes it is given", "[json]") {
    // Well-formed UTF-8 passes as it is.
    CHECK(json_escape("5 \xC2\xB0"
                      "C \xE2\x82\xAC \xF0\x9F\x94\x8B") ==
          "5 \xC2\xB0"
          "C \xE2\x82\xAC \xF0\x9F\x94\x8B");
    // A stray byte, a cut sequence, an overlong form, a surrogate and a code
    // point above U+10FFFF each become U+FFFD (a request path echoed in an
    // error was invalid JSON).
    CHECK(json_escape("/\xFF\xFE") == "/\\ufffd\\ufffd");
    CHECK(json_escape("a\xE2\x82") == "a\\ufffd\\ufffd");
    CHECK(json_escape("\xC0\xAF") == "\\ufffd\\ufffd");
    CHECK(json_escape("\xED\xA0\x80") == "\\ufffd\\ufffd\\ufffd");
    CHECK(json_escape("\xF4\x90\x80\x80") == "\\ufffd\\ufffd\\ufffd\\ufffd");
}

TEST_CASE("raw JSON values are separated like any other", "[json]") {
    JsonWriter json;
    json.begin_object().key("events").begin_array().raw(R"({"a":1})").raw(R"({"b":2})");
    json.end_array().key("n").value(std::uint64_t{2}).end_object();
    CHECK(json.str() == R"({"events":[{"a":1},{"b":2}],"n":2})");
}

TEST_CASE("JSON numbers: floats in their shortest form, times exact, no -0", "[json]") {
    JsonWriter json;
    json.begin_array()
        .value(3.806f)
        .value(std::nextafter(3.806f, 10.0f))
        .value(-0.0f)
        .value(-0.0)
        .value(std::numeric_limits<float>::quiet_NaN())
        .value(std::numeric_limits<float>::infinity())
        .value(1e-7f)
        .value(0.1)
        .seconds_from_ns(99'800'000'000)
        .seconds(0.30000000000000004)
        .seconds(std::numeric_limits<double>::quiet_NaN())
        .end_array();
    CHECK(json.str() == "[3.806,3.8060002,0,0,null,null,1e-07,0.1,99.8,0.3,null]");
}
