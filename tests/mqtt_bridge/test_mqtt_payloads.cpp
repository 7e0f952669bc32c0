// What reaches brt-mqtt-bridge from the broker is anyone's bytes: the JSON
// command payloads (common/control/control_json) and Sparkplug NCMD/DCMD
// payloads must give a command or a sentence, never a crash or a command
// nobody asked for. Also the Sparkplug messages the bridge sends: seq and
// bdSeq as the specification wants them.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/control/control_json.hpp"
#include "common/segment/errors.hpp"
#include "mqtt_bridge/payloads.hpp"
#include "mqtt_bridge/sparkplug.hpp"
#include "sparkplug_b.pb.h"

using namespace brt;
using Payload = org::eclipse::tahu::protobuf::Payload;

namespace {

const Geometry kGeometry{2, 2, 8};

ControlCommand command(const char* verb, const std::string& body) {
    const JsonCommandVerb* known = find_json_command_verb(verb);
    REQUIRE(known != nullptr);
    return control_command_from_json(*known, body, kGeometry);
}

std::string refusal(const char* verb, const std::string& body) {
    try {
        command(verb, body);
    } catch (const UsageError& error) {
        return error.what();
    }
    return "accepted";
}

mqtt::FrameSummary two_racks() {
    FrameBuffer frame;
    frame.range = whole_frame(kGeometry);
    frame.frame_number = 7;
    for (auto& column : frame.columns) {
        column.assign(kGeometry.cell_count(), 3.5f);
    }
    frame.status.assign(kGeometry.cell_count(), 0);
    frame.racks.assign(kGeometry.racks, RackRecord{1.0f, 25.0f, 0, 0});
    return *mqtt::summarize_frame(frame, kGeometry, {Chemistry::nmc, Chemistry::lfp});
}

}  // namespace

TEST_CASE("JSON commands: the ctl checks, with a sentence for every refusal", "[mqtt]") {
    const ControlCommand mode = command("rack/mode", R"({"rack": 1, "mode": "idle"})");
    CHECK(mode.command.kind == CommandKind::set_rack_mode);
    CHECK(mode.command.rack == 1);
    CHECK(command("ambient", R"({"temperature_c": -10.5})").command.args[0] == -10.5);
    CHECK(command("pause", "").command.kind == CommandKind::pause);
    CHECK(command("alarm/acknowledge", "{}").command.target_id == 0);
    CHECK(command("alarm/shelve", R"({"id": 4, "seconds": 60})").command.args[0] == 60);
    CHECK(command("scenario/apply", R"({"scenario": "hvac_failure", "rack": 0})").command.kind ==
          CommandKind::apply_scenario);

    CHECK_THAT(refusal("rack/mode", R"({"rack": 2, "mode": "idle"})"), Catch::Contains("rack 2"));
    CHECK_THAT(refusal("rack/mode", R"({"rack": -1, "mode": "idle"})"),
               Catch::Contains("non-negative integer"));
    CHECK_THAT(refusal("rack/mode", R"({"rack": 0, "mode": "warp"})"), Catch::Contains("warp"));
    CHECK_THAT(refusal("ambient", R"({"temperature_c": 71})"), Catch::Contains("-50..70"));
    CHECK_THAT(refusal("ambient", "{}"), Catch::Contains("temperature_c"));
    CHECK_THAT(refusal("alarm/shelve", R"({"id": 4, "seconds": 1e300})"),
               Catch::Contains("seconds"));
    CHECK_THAT(refusal("alarm/shelve", R"({"seconds": 60})"), Catch::Contains("\"id\""));
    CHECK_THAT(refusal("alarm/acknowledge", R"({"id": 0})"), Catch::Contains("\"id\""));
    CHECK_THAT(refusal("scenario/apply", R"({"scenario": "nope"})"),
               Catch::Contains("unknown scenario"));
    for (const std::string& hostile :
         {std::string("["), std::string("[1,2]"), std::string("\"text\""), std::string("nul\0l", 5),
          std::string(100000, '{'), std::string("{\"rack\":") + std::string(5000, '9') + "}"}) {
        for (const JsonCommandVerb& verb : json_command_verbs()) {
            INFO(verb.name << " <- " << hostile.substr(0, 40));
            CHECK_THROWS_AS(control_command_from_json(verb, hostile, kGeometry), UsageError);
        }
    }
}

TEST_CASE("correlation ids are echoed as JSON, or not at all", "[mqtt]") {
    CHECK(json_correlation_id(R"({"correlation_id": "a\"b"})") == R"("a\"b")");
    CHECK(json_correlation_id(R"({"correlation_id": 17})") == "17");
    CHECK(json_correlation_id(R"({"correlation_id": {"x": 1}})").empty());
    CHECK(json_correlation_id("not json").empty());
    CHECK(json_correlation_id(R"({"correlation_id": ")" + std::string(1000, 'x') + "\"}").empty());
}

TEST_CASE("topic levels refuse wildcards and slashes", "[mqtt]") {
    CHECK(mqtt::TopicTree("brt", "plant1", "rack-07").base() == "brt/plant1/rack-07");
    CHECK(mqtt::TopicTree("fleet/brt", "plant1", "n").status() == "fleet/brt/plant1/n/status");
    CHECK_THROWS_AS(mqtt::TopicTree("brt", "plant/1", "n"), UsageError);
    CHECK_THROWS_AS(mqtt::TopicTree("brt", "p", "n+"), UsageError);
    CHECK_THROWS_AS(mqtt::TopicTree("brt/#", "p", "n"), UsageError);
    CHECK_THROWS_AS(mqtt::TopicTree("", "p", "n"), UsageError);
    CHECK_THROWS_AS(mqtt::sparkplug::Session("p#", "n"), UsageError);
}

TEST_CASE("Sparkplug B: bdSeq per connection, seq per message, aliases in data", "[mqtt]") {
    mqtt::sparkplug::Session session("plant1", "rack-07");
    Payload death;
    REQUIRE(death.ParseFromString(session.next_death()));
    REQUIRE(death.metrics_size() == 1);
    CHECK(death.metrics(0).name() == "bdSeq");
    CHECK(death.metrics(0).long_value() == 0);
    CHECK(!death.has_seq());

    Payload birth;
    REQUIRE(birth.ParseFromString(session.node_birth({.writer_liveness = "live"})));
    CHECK(birth.seq() == 0);
    CHECK(birth.metrics(0).name() == "bdSeq");
    CHECK(birth.metrics(0).long_value() == 0);

    const mqtt::FrameSummary summary = two_racks();
    Payload device_birth;
    REQUIRE(device_birth.ParseFromString(session.device_birth(summary, 1)));
    CHECK(device_birth.seq() == 1);
    bool found_chemistry = false;
    for (const auto& metric : device_birth.metrics()) {
        CHECK(metric.has_name());
        CHECK(metric.alias() / 1000 == 2);  // rack 1
        if (metric.name() == "chemistry") {
            found_chemistry = metric.string_value() == "lfp";
        }
    }
    CHECK(found_chemistry);
    Payload data;
    REQUIRE(data.ParseFromString(session.device_data(summary, 1)));
    CHECK(data.seq() == 2);
    CHECK(data.metrics_size() == device_birth.metrics_size() - 3);  // no command metrics
    for (const auto& metric : data.metrics()) {
        CHECK(!metric.has_name());
    }
    // seq wraps at 256; a new connection takes the next bdSeq.
    for (int i = 0; i < 300; ++i) {
        session.node_data({});
    }
    Payload wrapped;
    REQUIRE(wrapped.ParseFromString(session.node_data({})));
    CHECK(wrapped.seq() == (2 + 301) % 256);
    Payload next_death;
    REQUIRE(next_death.ParseFromString(session.next_death()));
    CHECK(next_death.metrics(0).long_value() == 1);
}

TEST_CASE("Sparkplug B: NCMD and DCMD become checked commands; anything else a sentence",
          "[mqtt]") {
    mqtt::sparkplug::Session session("plant1", "rack-07");
    const std::string dcmd = "spBv1.0/plant1/DCMD/rack-07/rack1";
    Payload mode;
    auto* metric = mode.add_metrics();
    metric->set_alias(2000 + 28);  // rack 1's Commands/Mode, by alias
    metric->set_string_value("float");
    const auto decoded = session.decode_command(dcmd, mode.SerializeAsString());
    REQUIRE(decoded.error.empty());
    REQUIRE(decoded.commands.size() == 1);
    CHECK(decoded.commands[0].verb == "rack/mode");
    CHECK(decoded.commands[0].json_body == R"({"mode":"float","rack":1})");

    Payload rebirth;
    metric = rebirth.add_metrics();
    metric->set_name("Node Control/Rebirth");
    metric->set_boolean_value(true);
    const auto reborn =
        session.decode_command("spBv1.0/plant1/NCMD/rack-07", rebirth.SerializeAsString());
    CHECK(reborn.rebirth);
    CHECK(reborn.commands.empty());

    Payload wrong_type;
    metric = wrong_type.add_metrics();
    metric->set_name("Commands/Ambient");
    metric->set_string_value("hot");
    CHECK_THAT(
        session.decode_command("spBv1.0/plant1/NCMD/rack-07", wrong_type.SerializeAsString()).error,
        Catch::Contains("Double"));
    CHECK_THAT(session.decode_command(dcmd, "\xff\xff\xff garbage").error,
               Catch::Contains("not a Sparkplug B payload"));
    CHECK_THAT(
        session.decode_command("spBv1.0/plant1/DCMD/rack-07/pump3", mode.SerializeAsString()).error,
        Catch::Contains("no device"));
    CHECK_THAT(session.decode_command("spBv1.0/plant1/NCMD/rack-07", "").error,
               Catch::Contains("no command"));
    // A command for rack 1 that names rack 0's alias is not rack 1's.
    Payload other_alias;
    metric = other_alias.add_metrics();
    metric->set_alias(1000 + 28);
    metric->set_string_value("idle");
    CHECK(!session.decode_command(dcmd, other_alias.SerializeAsString()).error.empty());
}
