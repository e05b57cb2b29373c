#include <doctest/doctest.h>

#include "messages/deriv/derivative.hpp"

using namespace mi::deriv;

TEST_CASE("derivative: channels named once, subjects and dedup ids") {
  std::vector<std::string> names;
  for (auto c : channels) {
    names.emplace_back(to_string(c));
    CHECK(parse_channel(to_string(c)) == c);
  }
  CHECK(names == std::vector<std::string>{"funding", "mark", "oi", "liquidation"});
  CHECK_FALSE(parse_channel("open_interest"));
  derivative d;
  d.exchange = "okx-swap";
  d.symbol = "BTCUSDT";
  d.what = channel::open_interest;
  d.ts_ns = 5;
  CHECK(subject(d) == "market.oi.okx-swap.BTCUSDT");
  d.open_interest = "5000";
  CHECK(dedup_id(d) == "okx-swap:BTCUSDT:oi:5:5000:");
  d.what = channel::liquidation;
  d.side = mi::side::sell;
  d.price = "10.5";
  d.quantity = "2";
  CHECK(dedup_id(d) == "okx-swap:BTCUSDT:liquidation:5:sell:10.5:2");
}

TEST_CASE("derivative: protobuf round trip of every channel, and non-canonical decimals refused") {
  derivative f{
    "binance-usdm", "BTCUSDT", channel::funding, 1, 2, "-0.0001", 3, "", "", "", "", mi::side::unknown, "", ""};
  derivative m{
    "bybit-linear", "BTCUSDT", channel::mark, 1, 2, "", 0, "17217.33", "", "", "", mi::side::unknown, "", ""};
  derivative o{"okx-swap", "LTCUSD", channel::open_interest, 1,  2, "", 0, "", "",
               "5000",     "50000",  mi::side::unknown,      "", ""};
  derivative l{"okx-swap", "IOSTUSDT", channel::liquidation, 1,          2,   "", 0, "", "",
               "",         "",         mi::side::buy,        "0.007831", "13"};
  for (const auto& d : {f, m, o, l}) {
    auto back = decode_pb(encode_pb(d));
    REQUIRE(back);
    CHECK(*back == d);
  }
  auto bad = m;
  bad.mark_price = "17217.330";
  CHECK_FALSE(decode_pb(encode_pb(bad)));
  bad = l;
  bad.price = "-1";
  CHECK_FALSE(decode_pb(encode_pb(bad)));
  CHECK_FALSE(decode_pb("\xff\xff"));
  CHECK(canonical("11794.15000000", false) == "11794.15");
  CHECK(canonical("-0.000212", true) == "-0.000212");
  CHECK_FALSE(canonical("-0.000212", false));
  CHECK_FALSE(canonical("1.2.3", true));
  CHECK_FALSE(canonical("", true));
  CHECK(to_json(l) == R"({"exchange":"okx-swap","symbol":"IOSTUSDT","channel":"liquidation","ts_ns":1,"recv_ns":2,)"
                      R"("side":"buy","price":"0.007831","quantity":"13"})");
}
