// Alpaca quotes and statuses as published (market.v1.Quote / MarketStatus), from the documented objects of the
// fixtures (alpaca/ws/doc_objects.jsonl lines 2 and 5); expected values read off the fixture by hand.
#include <doctest/doctest.h>

#include <string>

#include "connectors/alpaca/codec.hpp"
#include "connectors/alpaca/market_events.hpp"
#include "connectors/alpaca/test_files.hpp"
#include "market.pb.h"

namespace {

mi::alpaca::frame_events decode_line(std::size_t index) {
  const auto text = mi::alpaca::test::fixture_text("ws/doc_objects.jsonl");
  std::size_t at = 0;
  for (std::size_t i = 0; i < index; ++i)
    at = text.find('\n', at) + 1;
  const auto line = text.substr(at, text.find('\n', at) - at);
  mi::alpaca::codec c;
  auto r = c.decode("[" + line + "]", 5);
  REQUIRE_MESSAGE(r.has_value(), line);
  return std::move(*r);
}

} // namespace

TEST_CASE("alpaca quote published: one level each side with the exchange codes, conditions, tape, sizes as sent") {
  // {"T":"q","S":"AMD","bx":"U","bp":87.66,"bs":1,"ax":"Q","ap":87.68,"as":4,"t":"2021-02-22T15:51:45.335689322Z",
  //  "c":["R"],"z":"C"}
  auto ev = decode_line(1);
  REQUIRE(ev.quotes.size() == 1);
  const auto& q = ev.quotes[0];
  market::v1::Quote m;
  REQUIRE(m.ParseFromString(mi::alpaca::quote_pb(q, 42)));
  CHECK(m.venue() == "alpaca");
  CHECK(m.source() == "alpaca");
  CHECK(m.symbol() == "AMD");
  CHECK(m.ts_ns() == 1614009105335689322);
  CHECK(m.recv_ns() == 42);
  REQUIRE(m.bids_size() == 1);
  REQUIRE(m.asks_size() == 1);
  CHECK(m.bids(0).price() == "87.66");
  CHECK(m.bids(0).size() == "1");
  CHECK(m.bids(0).exchange() == "U");
  CHECK(m.asks(0).price() == "87.68");
  CHECK(m.asks(0).size() == "4");
  CHECK(m.asks(0).exchange() == "Q");
  REQUIRE(m.conditions_size() == 1);
  CHECK(m.conditions(0) == "R");
  CHECK(m.tape() == "C");
  CHECK(m.currency() == "USD");
  CHECK(m.last().empty()); // a quote has no last price
  CHECK(mi::alpaca::quote_subject(q.symbol) == "market.quote.alpaca.AMD");
  CHECK(mi::alpaca::quote_msg_id(q) == "alpaca:AMD:q:1614009105335689322:U:87.66:1:Q:87.68:4");
  // The same quote received by another node (another receive time): the same dedup id.
  CHECK(mi::alpaca::quote_msg_id(q) == mi::alpaca::quote_msg_id(decode_line(1).quotes[0]));
}

TEST_CASE("alpaca quote published: an empty side (price 0) has no level") {
  mi::alpaca::codec c;
  auto r = c.decode(
    R"([{"T":"q","S":"A","bx":"V","bp":177.23,"bs":3,"ax":"V","ap":0,"as":0,"t":"2021-09-03T13:30:01.02752Z","c":["R"],"z":"A"}])",
    1);
  REQUIRE(r);
  REQUIRE(r->quotes.size() == 1);
  market::v1::Quote m;
  REQUIRE(m.ParseFromString(mi::alpaca::quote_pb(r->quotes[0], 1)));
  CHECK(m.bids_size() == 1);
  CHECK(m.asks_size() == 0);
}

TEST_CASE("alpaca status published: a trading halt is halted, a resumption is not") {
  // {"T":"s","S":"AAPL","sc":"H","sm":"Trading Halt","rc":"T12","rm":"Trading Halted; For information requested by
  //  NASDAQ","t":"2021-02-22T19:15:00Z","z":"C"}
  auto ev = decode_line(4);
  REQUIRE(ev.statuses.size() == 1);
  const auto& s = ev.statuses[0];
  market::v1::MarketStatus m;
  REQUIRE(m.ParseFromString(mi::alpaca::status_pb(s, 9)));
  CHECK(m.venue() == "alpaca");
  CHECK(m.symbol() == "AAPL");
  CHECK(m.status_code() == "H");
  CHECK(m.status_message() == "Trading Halt");
  CHECK(m.reason_code() == "T12");
  CHECK(m.reason_message() == "Trading Halted; For information requested by NASDAQ");
  CHECK(m.halted());
  CHECK(m.tape() == "C");
  CHECK(m.ts_ns() == 1614021300000000000);
  CHECK(m.recv_ns() == 9);
  CHECK(mi::alpaca::status_subject(s.symbol) == "market.status.alpaca.AAPL");
  CHECK(mi::alpaca::status_msg_id(s) == "alpaca:AAPL:s:1614021300000000000:H:T12");
  // The resumption that follows a halt (UTP "T" Trading Resumption) is not halted; a volatility pause ("P") is.
  mi::alpaca::codec c;
  for (const auto& [code, halted] :
       std::vector<std::pair<std::string, bool>>{{"T", false}, {"Q", false}, {"P", true}, {"2", true}, {"3", false}}) {
    auto r = c.decode(R"([{"T":"s","S":"AAPL","sc":")" + code +
                        R"(","sm":"x","rc":"","rm":"","t":"2021-02-22T19:20:00Z","z":"C"}])",
                      1);
    REQUIRE(r);
    REQUIRE(r->statuses.size() == 1);
    market::v1::MarketStatus st;
    REQUIRE(st.ParseFromString(mi::alpaca::status_pb(r->statuses[0], 1)));
    CHECK_MESSAGE(st.halted() == halted, code);
  }
}
