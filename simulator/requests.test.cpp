#include <doctest/doctest.h>

#include "simulator/requests.hpp"

using namespace mi::sim;

TEST_CASE("requests: SUBSCRIBE, UNSUBSCRIBE and LIST_SUBSCRIPTIONS parse") {
  auto s = parse_control_request(R"({"method":"SUBSCRIBE","params":["btcusdt@trade","ethusdt@aggTrade"],"id":7})");
  REQUIRE(std::holds_alternative<control_request>(s));
  auto& r = std::get<control_request>(s);
  CHECK(r.what == control_request::method::subscribe);
  CHECK(r.id == 7);
  CHECK(r.params == std::vector<std::string>{"btcusdt@trade", "ethusdt@aggTrade"});

  auto u = parse_control_request(R"({"method":"UNSUBSCRIBE","params":["btcusdt@trade"],"id":8})");
  REQUIRE(std::holds_alternative<control_request>(u));
  CHECK(std::get<control_request>(u).what == control_request::method::unsubscribe);

  auto l = parse_control_request(R"({"method":"LIST_SUBSCRIPTIONS","id":9})");
  REQUIRE(std::holds_alternative<control_request>(l));
  CHECK(std::get<control_request>(l).what == control_request::method::list_subscriptions);
}

TEST_CASE("requests: malformed requests get Binance's error codes, with the id when it was valid") {
  struct bad {
    const char* text;
    int code;
    const char* msg_part;
    bool has_id;
  };
  for (auto b :
       {bad{"not json", 3, "Invalid JSON", false}, bad{"[1,2]", 2, "Invalid request: expected a JSON object", false},
        bad{R"({"method":"SUBSCRIBE","params":["btcusdt@trade"]})", 2, "missing field `id`", false},
        bad{R"({"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":-1})", 2, "unsigned integer", false},
        bad{R"({"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":"x"})", 2, "unsigned integer", false},
        bad{R"({"method":"FOO","id":1})", 2, "unknown variant `FOO`", true},
        bad{R"({"params":[],"id":1})", 2, "missing field `method`", true},
        bad{R"({"method":"SUBSCRIBE","id":1})", 2, "missing field `params`", true},
        bad{R"({"method":"SUBSCRIBE","params":"btcusdt@trade","id":1})", 2, "must be an array", true},
        bad{R"({"method":"SUBSCRIBE","params":[1],"id":1})", 2, "must be strings", true},
        bad{R"({"method":"SUBSCRIBE","params":["BTCUSDT@trade"],"id":1})", 2, "invalid stream name", true},
        bad{R"({"method":"SUBSCRIBE","params":["btcusdt"],"id":1})", 2, "invalid stream name", true},
        bad{R"({"method":"SUBSCRIBE","params":[],"id":1,"x":2})", 0, "Unknown property", true}}) {
    CAPTURE(b.text);
    auto r = parse_control_request(b.text);
    REQUIRE(std::holds_alternative<control_error>(r));
    auto& e = std::get<control_error>(r);
    CHECK(e.code == b.code);
    CHECK(e.msg.find(b.msg_part) != std::string::npos);
    CHECK(e.id.has_value() == b.has_id);
  }
}

TEST_CASE("requests: stream names split into symbol and kind") {
  auto t = parse_stream_name("btcusdt@trade");
  REQUIRE(t);
  CHECK(t->symbol == "BTCUSDT");
  CHECK(t->kind == mi::binance::stream_kind::trade);
  auto a = parse_stream_name("ethusdt@aggTrade");
  REQUIRE(a);
  CHECK(a->kind == mi::binance::stream_kind::agg_trade);
  auto d = parse_stream_name("btcusdt@depth");
  REQUIRE(d);
  CHECK_FALSE(d->kind);
  CHECK_FALSE(parse_stream_name("@trade"));
  CHECK_FALSE(parse_stream_name("btcusdt@"));
  CHECK_FALSE(parse_stream_name("btc-usdt@trade"));
}

TEST_CASE("requests: ack, list and error frames are Binance's JSON") {
  CHECK(ack_frame(3) == R"({"result":null,"id":3})");
  CHECK(list_frame({"btcusdt@trade", "ethusdt@trade"}, 4) == R"({"result":["btcusdt@trade","ethusdt@trade"],"id":4})");
  CHECK(list_frame({}, 5) == R"({"result":[],"id":5})");
  CHECK(error_frame({2, "Invalid request: x \"y\"", 6}) == R"({"code":2,"msg":"Invalid request: x \"y\"","id":6})");
  CHECK(error_frame({3, "Invalid JSON: z", std::nullopt}) == R"({"code":3,"msg":"Invalid JSON: z"})");
}
