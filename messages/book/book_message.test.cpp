#include "messages/book/book_message.hpp"

#include <doctest/doctest.h>

using namespace mi::book;

namespace {
book_update sample() {
  book_update b;
  b.exchange = "okx";
  b.symbol = "BTCUSDT";
  b.session = 1700000000000000000ULL;
  b.sequence = 7;
  b.kind = update_kind::delta;
  b.valid = true;
  b.ts_ns = 1700000000123000000;
  b.recv_ns = 1700000000124000000;
  b.bids = {{"100.5", "2"}, {"100", "0"}};
  b.asks = {{"101", "0.25"}};
  return b;
}
} // namespace

TEST_CASE("book message: protobuf round trip keeps every field") {
  auto b = sample();
  auto back = decode_book_pb(encode_book_pb(b));
  REQUIRE(back);
  CHECK(*back == b);
  CHECK_FALSE(decode_book_pb("\xff\xff\xff"));
}

TEST_CASE("book message: a level that is not a decimal is refused") {
  auto b = sample();
  b.asks[0].qty = "one";
  CHECK_FALSE(decode_book_pb(encode_book_pb(b)));
}

TEST_CASE("book message: JSON of the push channel") {
  CHECK(book_to_json(sample()) ==
        R"({"exchange":"okx","symbol":"BTCUSDT","session":1700000000000000000,"seq":7,"type":"delta","valid":true,)"
        R"("ts_ns":1700000000123000000,"recv_ns":1700000000124000000,"bids":[["100.5","2"],["100","0"]],)"
        R"("asks":[["101","0.25"]]})");
  bbo q;
  q.exchange = "binance";
  q.symbol = "ETHUSDT";
  q.session = 5;
  q.sequence = 9;
  q.valid = true;
  q.bid = {"10", "1"};
  q.ts_ns = 1;
  q.recv_ns = 2;
  CHECK(bbo_to_json(q) == R"({"exchange":"binance","symbol":"ETHUSDT","session":5,"seq":9,"valid":true,)"
                          R"("bid":["10","1"],"ask":null,"ts_ns":1,"recv_ns":2})");
  auto back = decode_bbo_pb(encode_bbo_pb(q));
  REQUIRE(back);
  CHECK(*back == q);
}

TEST_CASE("book replica: snapshot, deltas in sequence, a gap waits for the next snapshot") {
  book_replica r;
  book_update snap;
  snap.session = 3;
  snap.sequence = 1;
  snap.kind = update_kind::snapshot;
  snap.valid = true;
  snap.bids = {{"10", "1"}, {"9", "2"}};
  snap.asks = {{"11", "1"}};
  auto d = snap;
  d.kind = update_kind::delta;
  d.sequence = 2;
  d.bids = {{"10", "0"}, {"9.5", "4"}};
  d.asks = {};

  CHECK(r.apply(d) == book_replica::outcome::gap); // nothing before a snapshot
  CHECK(r.apply(snap) == book_replica::outcome::snapshot);
  CHECK(r.usable());
  CHECK(r.apply(d) == book_replica::outcome::applied);
  CHECK(r.apply(d) == book_replica::outcome::stale);
  REQUIRE(r.book().size(side::bid) == 2);
  CHECK(r.book().at(side::bid, 0).price.to_string() == "9.5");
  CHECK(r.book().at(side::bid, 1).price.to_string() == "9");

  auto late = d;
  late.sequence = 4; // 3 is missing
  CHECK(r.apply(late) == book_replica::outcome::gap);
  CHECK_FALSE(r.usable());
  auto s = r.snapshot("x", "y");
  CHECK_FALSE(s.valid);
  CHECK(s.bids.empty());

  snap.sequence = 5;
  CHECK(r.apply(snap) == book_replica::outcome::snapshot);
  CHECK(r.usable());
  auto again = r.snapshot("binance", "BTCUSDT");
  CHECK(again.valid);
  CHECK(again.sequence == 5);
  CHECK(again.bids == std::vector<wire_level>{{"10", "1"}, {"9", "2"}});

  auto invalid = snap;
  invalid.sequence = 6;
  invalid.valid = false;
  invalid.bids.clear();
  invalid.asks.clear();
  CHECK(r.apply(invalid) == book_replica::outcome::snapshot);
  CHECK_FALSE(r.usable());
}
