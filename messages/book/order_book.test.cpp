#include <doctest/doctest.h>

#include "messages/book/book_codec.hpp"
#include "messages/book/order_book.hpp"

#include <vector>

namespace {

using mi::book::side;

mi::decimal d(const char* s) { return *mi::decimal::parse(s); }

} // namespace

TEST_CASE("order book: levels sort best first on each side and keep the exchange's text") {
  mi::book::order_book b;
  CHECK(b.set(side::bid, "99.50", "1"));
  CHECK(b.set(side::bid, "100.0", "2"));
  CHECK(b.set(side::bid, "98", "3"));
  CHECK(b.set(side::ask, "101.5", "1"));
  CHECK(b.set(side::ask, "101.0", "4"));
  REQUIRE(b.size(side::bid) == 3);
  REQUIRE(b.size(side::ask) == 2);
  CHECK(b.at(side::bid, 0).price == d("100"));
  CHECK(b.at(side::bid, 0).price_text == "100.0");
  CHECK(b.at(side::bid, 2).price == d("98"));
  CHECK(b.at(side::ask, 0).price == d("101"));
  CHECK(b.at(side::ask, 1).qty_text == "1");
  CHECK(!b.crossed());
}

TEST_CASE("order book: a price is one level whatever its text, quantity zero removes it") {
  mi::book::order_book b;
  b.set(side::ask, "0.35210000", "5");
  b.set(side::ask, "0.3521", "6"); // same price, other text: replaces, and the new text is kept
  REQUIRE(b.size(side::ask) == 1);
  CHECK(b.at(side::ask, 0).qty == d("6"));
  CHECK(b.at(side::ask, 0).price_text == "0.3521");
  CHECK(b.set(side::ask, "0.352100", "0.00000000"));
  CHECK(b.size(side::ask) == 0);
  CHECK(b.set(side::ask, "7", "0")); // removing an absent level is fine
  CHECK(b.find(side::ask, d("7")) == nullptr);
}

TEST_CASE("order book: untrusted text is refused and changes nothing") {
  mi::book::order_book b;
  b.set(side::bid, "1", "1");
  CHECK(!b.set(side::bid, "abc", "1"));
  CHECK(!b.set(side::bid, "1", "-2"));
  CHECK(!b.set(side::bid, "0", "1"));
  CHECK(!b.set(side::bid, "-1", "1"));
  CHECK(!b.set(side::bid, "1", ""));
  REQUIRE(b.size(side::bid) == 1);
  CHECK(b.at(side::bid, 0).qty == d("1"));
}

TEST_CASE("order book: crossed when the best bid reaches the best ask") {
  mi::book::order_book b;
  b.set(side::bid, "100", "1");
  b.set(side::ask, "101", "1");
  CHECK(!b.crossed());
  b.set(side::bid, "101", "1");
  CHECK(b.crossed());
  b.set(side::bid, "101", "0");
  CHECK(!b.crossed());
}

TEST_CASE("order book: truncate keeps the best levels") {
  mi::book::order_book b;
  for (const char* p : {"1", "2", "3", "4", "5"}) {
    b.set(side::bid, p, "1");
    b.set(side::ask, p, "1");
  }
  b.truncate(side::bid, 2);
  b.truncate(side::ask, 2);
  REQUIRE(b.size(side::bid) == 2);
  CHECK(b.at(side::bid, 0).price == d("5"));
  CHECK(b.at(side::bid, 1).price == d("4"));
  CHECK(b.at(side::ask, 0).price == d("1"));
  CHECK(b.at(side::ask, 1).price == d("2"));
}

TEST_CASE("book line: best first, top depth, canonical decimals, an invalid book shows no levels") {
  mi::book::order_book b;
  b.set(side::bid, "100.50", "1.000");
  b.set(side::bid, "100.40", "2");
  b.set(side::bid, "100.30", "3");
  b.set(side::ask, "100.60", "0.50");
  b.set_valid(true);
  mi::book::frame_result r{mi::book::status::applied, true, {}};
  CHECK(mi::book::to_json_line(b, r, 2) ==
        R"({"bids":[["100.5","1"],["100.4","2"]],"asks":[["100.6","0.5"]],"checksum_ok":true,"status":"applied"})");
  b.set_valid(false);
  r = {mi::book::status::resync, false, "checksum mismatch"};
  CHECK(mi::book::to_json_line(b, r, 2) == R"({"bids":[],"asks":[],"checksum_ok":false,"status":"resync"})");
  b.set_valid(true);
  b.set(side::bid, "100.60", "1");
  r = {mi::book::status::applied, std::nullopt, {}};
  CHECK(mi::book::to_json_line(b, r, 1) ==
        R"({"bids":[["100.6","1"]],"asks":[["100.6","0.5"]],"checksum_ok":null,"status":"applied","crossed":true})");
}

TEST_CASE("order book: a snapshot assigned at once equals the same levels set one by one") {
  const std::vector<mi::book::level_change> levels{
    {side::bid, "100", "1"},   {side::bid, "102", "2"}, {side::bid, "101", "3"},
    {side::ask, "105", "1"},   {side::ask, "103", "2"}, {side::ask, "104", "0"}, // zero: no level
    {side::bid, "101.0", "4"},                                                   // same price again: the last wins
  };
  mi::book::order_book one_by_one;
  for (const auto& l : levels)
    one_by_one.set(l.s, l.price, l.qty);
  mi::book::order_book at_once;
  REQUIRE(at_once.assign(levels));
  for (side s : {side::bid, side::ask}) {
    REQUIRE(at_once.size(s) == one_by_one.size(s));
    for (std::size_t i = 0; i < at_once.size(s); ++i) {
      CHECK(at_once.at(s, i).price == one_by_one.at(s, i).price);
      CHECK(at_once.at(s, i).qty == one_by_one.at(s, i).qty);
      CHECK(at_once.at(s, i).price_text == one_by_one.at(s, i).price_text);
    }
  }
  CHECK(at_once.at(side::bid, 1).price_text == "101.0");
  CHECK(at_once.at(side::bid, 1).qty == d("4"));
  CHECK(!at_once.assign(std::vector<mi::book::level_change>{{side::bid, "1", "1"}, {side::ask, "x", "1"}}));
  CHECK(at_once.size(side::bid) == 0);
}
