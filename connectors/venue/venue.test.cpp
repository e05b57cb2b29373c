#include "connectors/venue/venue.hpp"

#include <doctest/doctest.h>

using mi::venue::gap;
using mi::venue::gap_tracker;

TEST_CASE("make_venue knows the five exchanges and names them when asked for another") {
  CHECK(mi::venue::exchange_names() == std::vector<std::string>{"binance", "okx", "bybit", "coinbase", "kraken"});
  for (const std::string& name : mi::venue::exchange_names()) {
    CAPTURE(name);
    auto v = mi::venue::make_venue(name);
    REQUIRE_MESSAGE(v.has_value(), v.err().message);
    CHECK((*v)->name() == name);
  }
  auto unknown = mi::venue::make_venue("bitmex");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.err().message == "unknown exchange 'bitmex' (known: binance, okx, bybit, coinbase, kraken)");
}

TEST_CASE("make_venue with an instruments body: listed symbols resolve, others are refused, a bad body is an error") {
  const std::string body = R"({"code":"0","msg":"","data":[{"instType":"SPOT","instId":"BTC-USDT","baseCcy":"BTC","quoteCcy":"USDT","state":"live"}]})";
  auto v = mi::venue::make_venue("okx", {}, &body);
  REQUIRE(v);
  CHECK((*v)->resolve("BTC/USDT"));
  auto refused = (*v)->resolve("DOGE/USDT");
  REQUIRE_FALSE(refused);
  CHECK(refused.err().message.find("not listed by okx") != std::string::npos);

  auto none = mi::venue::make_venue("okx", {}, nullptr);
  REQUIRE(none);
  CHECK((*none)->resolve("DOGE/USDT")); // no listing: every well-formed name resolves

  const std::string garbage = "<html>";
  CHECK_FALSE(mi::venue::make_venue("okx", {}, &garbage));
}

TEST_CASE("gap_tracker: consecutive ids make no gap") {
  gap_tracker t;
  CHECK_FALSE(t.last_id("BTCUSDT").has_value());
  for (std::int64_t id = 10; id < 20; ++id) CHECK_FALSE(t.on_trade("BTCUSDT", id, id * 1000).has_value());
  CHECK(t.last_id("BTCUSDT") == 19);
}

TEST_CASE("gap_tracker: a jump gives exactly the missing range with the neighbours' times") {
  gap_tracker t;
  CHECK_FALSE(t.on_trade("BTCUSDT", 100, 5'000).has_value());
  auto g = t.on_trade("BTCUSDT", 105, 9'000);
  REQUIRE(g.has_value());
  CHECK(*g == gap{101, 104, 5'000, 9'000});
  CHECK(g->size() == 4);
  CHECK(t.last_id("BTCUSDT") == 105);
  CHECK_FALSE(t.on_trade("BTCUSDT", 106, 9'500).has_value());
  // Symbols are tracked apart.
  CHECK_FALSE(t.on_trade("ETHUSDT", 7, 1).has_value());
  CHECK(t.on_trade("ETHUSDT", 9, 2) == gap{8, 8, 1, 2});
  CHECK(t.last_id("BTCUSDT") == 106);
}

TEST_CASE("gap_tracker: duplicates and older (backfilled) ids return nullopt and change nothing") {
  gap_tracker t;
  CHECK_FALSE(t.on_trade("BTCUSDT", 100, 5'000).has_value());
  CHECK_FALSE(t.on_trade("BTCUSDT", 100, 5'000).has_value());
  CHECK_FALSE(t.on_trade("BTCUSDT", 42, 1'000).has_value());
  CHECK(t.last_id("BTCUSDT") == 100);
  CHECK(t.on_trade("BTCUSDT", 102, 6'000) == gap{101, 101, 5'000, 6'000});
}

TEST_CASE("gap_tracker: a seed (the last stored trade before a restart) makes the first live trade show the gap") {
  gap_tracker t;
  t.seed("BTCUSDT", 500, 50'000);
  CHECK(t.last_id("BTCUSDT") == 500);
  t.seed("BTCUSDT", 400, 40'000); // lower than known: ignored
  CHECK(t.last_id("BTCUSDT") == 500);
  CHECK(t.on_trade("BTCUSDT", 650, 65'000) == gap{501, 649, 50'000, 65'000});
  t.seed("BTCUSDT", 600, 60'000); // below the live id: ignored
  CHECK(t.last_id("BTCUSDT") == 650);
  t.seed("BTCUSDT", 700, 70'000); // above: taken
  CHECK(t.on_trade("BTCUSDT", 701, 70'100) == std::nullopt);
  gap_tracker fresh;
  fresh.seed("ETHUSDT", 10, 1);
  CHECK_FALSE(fresh.on_trade("ETHUSDT", 11, 2).has_value());
}

TEST_CASE("gap_tracker: an aggregated trade covering first_id..id makes no gap for its own fills") {
  gap_tracker t;
  CHECK_FALSE(t.on_trade("BTCUSDT", 100, 1000));
  CHECK_FALSE(t.on_trade("BTCUSDT", 103, 1001, 101)); // fills 101..103 in one push
  CHECK(t.last_id("BTCUSDT") == 103);
  auto g = t.on_trade("BTCUSDT", 110, 1002, 108); // fills 108..110: 104..107 are missing
  REQUIRE(g);
  CHECK(*g == gap{104, 107, 1001, 1002});
}

TEST_CASE("okx venue: an aggregated push gives the first fill id of each trade") {
  auto v = mi::venue::make_venue("okx");
  REQUIRE(v);
  auto ev = (*v)->decode(
    R"({"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"130","px":"2","sz":"3","side":"sell","ts":"1001","count":"3"}]})",
    1);
  REQUIRE(ev);
  REQUIRE(ev->trades.size() == 1);
  CHECK(ev->first_ids == std::vector<std::int64_t>{128});
}
