#include "connectors/venue/venue.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "connectors/venue/detail.hpp"
#include "messages/venue_registry.hpp"

using mi::venue::gap;
using mi::venue::gap_tracker;

TEST_CASE("make_venue knows every venue of the registry and names them when asked for another") {
  CHECK(mi::venue::exchange_names() == mi::venue_names());
  for (std::string_view name : {"binance", "okx", "bybit", "coinbase", "kraken"}) // the public contract's five
    CHECK(std::find(mi::venue::exchange_names().begin(), mi::venue::exchange_names().end(), name) !=
          mi::venue::exchange_names().end());
  for (const mi::venue_info& info : mi::venues()) {
    CAPTURE(info.name);
    auto v = mi::venue::make_venue(info.name);
    REQUIRE_MESSAGE(v.has_value(), v.err().message);
    CHECK((*v)->name() == info.name);
    // Its example symbol (the first default of config) resolves while no listing is loaded.
    CHECK((*v)->resolve(mi::default_symbols(info).front()).has_value());
  }
  auto unknown = mi::venue::make_venue("bitmex");
  REQUIRE_FALSE(unknown.has_value());
  // The registry's names in its order (a venue added later goes after kraken).
  CHECK(unknown.err().message.rfind("unknown exchange 'bitmex' (known: binance, okx, bybit, coinbase, kraken", 0) == 0);
  CHECK(unknown.err().message.back() == ')');
}

TEST_CASE("the generated factory table holds each registry venue once, and nothing else") {
  std::set<std::string_view> factories;
  for (const auto& r : mi::venue::detail::registered_venues()) {
    CAPTURE(r.name);
    CHECK(factories.insert(r.name).second);   // one mi_add_venue() per name
    CHECK(mi::find_venue(r.name) != nullptr); // a folder without a registry line would be unreachable
    REQUIRE(static_cast<bool>(r.make));
    CHECK(r.make({})->name() == r.name);
  }
  for (const mi::venue_info& info : mi::venues()) {
    CAPTURE(info.name);
    CHECK(factories.count(info.name) == 1);
  }
}

TEST_CASE("every venue of the registry makes a book codec that starts invalid and refuses garbage") {
  for (const mi::venue_info& info : mi::venues()) {
    CAPTURE(info.name);
    auto v = mi::venue::make_venue(info.name);
    REQUIRE(v);
    auto codec = (*v)->make_book_codec(0);
    REQUIRE(codec != nullptr);
    CHECK(!codec->book().valid());
    const auto r = codec->on_frame("{not json");
    CHECK(r.what == mi::book::status::awaiting_snapshot);
    CHECK(!codec->book().valid());
    CHECK(codec->resyncs() == 0);
  }
}
TEST_CASE("instruments parsed once serve every venue of the exchange: listed symbols resolve, others are refused") {
  const std::string body =
    R"({"code":"0","msg":"","data":[{"instType":"SPOT","instId":"BTC-USDT","baseCcy":"BTC","quoteCcy":"USDT","state":"live"}]})";
  auto parser = mi::venue::make_venue("okx");
  REQUIRE(parser);
  auto table = (*parser)->parse_instruments(body);
  REQUIRE(table);
  CHECK((*table)->size() == 1);
  CHECK((*table)->venue_name() == "okx");
  // Two actors' venues over the one parsed table.
  for (int i = 0; i < 2; ++i) {
    auto v = mi::venue::make_venue("okx", {}, *table);
    REQUIRE(v);
    CHECK((*v)->resolve("BTC/USDT"));
    auto refused = (*v)->resolve("DOGE/USDT");
    REQUIRE_FALSE(refused);
    CHECK(refused.err().message.find("not listed by okx") != std::string::npos);
  }
  CHECK(table->use_count() == 1); // the venues above are gone: nothing else holds it

  auto none = mi::venue::make_venue("okx", {}, nullptr);
  REQUIRE(none);
  CHECK((*none)->resolve("DOGE/USDT")); // no listing: every well-formed name resolves

  CHECK_FALSE((*parser)->parse_instruments("<html>"));
  // A table is read only by the venue kind that parsed it.
  auto coinbase = mi::venue::make_venue("coinbase", {}, *table);
  REQUIRE_FALSE(coinbase);
  CHECK(coinbase.err().message == "instruments parsed by okx cannot serve coinbase");
}

TEST_CASE("binance: one parsed exchangeInfo maps symbols in the decode of every venue that shares it") {
  const std::string body =
    R"({"symbols":[{"symbol":"WIFXYZ","status":"TRADING","baseAsset":"WIF","quoteAsset":"XYZ"}]})";
  auto parser = mi::venue::make_venue("binance");
  REQUIRE(parser);
  auto table = (*parser)->parse_instruments(body);
  REQUIRE(table);
  const std::string frame =
    R"({"stream":"wifxyz@trade","data":{"e":"trade","E":1,"s":"WIFXYZ","t":7,"p":"1.5","q":"2","T":1000,"m":true}})";
  for (int i = 0; i < 2; ++i) {
    auto v = mi::venue::make_venue("binance", {}, *table);
    REQUIRE(v);
    auto ev = (*v)->decode(frame, 5);
    REQUIRE(ev);
    REQUIRE(ev->trades.size() == 1);
    // XYZ is no built-in quote: only the listing splits the symbol.
    CHECK(ev->trades[0].base == "WIF");
    CHECK(ev->trades[0].quote == "XYZ");
  }
}

TEST_CASE("gap_tracker: consecutive ids make no gap") {
  gap_tracker t;
  CHECK_FALSE(t.last_id("BTCUSDT").has_value());
  for (std::int64_t id = 10; id < 20; ++id)
    CHECK_FALSE(t.on_trade("BTCUSDT", id, id * 1000).has_value());
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

TEST_CASE("gap tracking reads the id number each codec set: binance frames 100 and 104 show 101..103 missing") {
  auto v = mi::venue::make_venue("binance");
  REQUIRE(v);
  gap_tracker g;
  std::optional<gap> found;
  for (const char* id : {"100", "104"}) {
    auto ev = (*v)->decode(std::string(R"({"e":"trade","E":1,"s":"BTCUSDT","t":)") + id +
                             R"(,"p":"1.5","q":"2","T":1000,"m":true,"M":true})",
                           1);
    REQUIRE_MESSAGE(ev, ev.err().message);
    REQUIRE(ev->trades.size() == 1);
    const mi::trade& t = ev->trades[0];
    REQUIRE(t.id_number); // what the connection actor feeds the tracker with
    CHECK(*t.id_number == std::stoll(id));
    found = g.on_trade(t.symbol, *t.id_number, t.ts_ns);
  }
  REQUIRE(found);
  CHECK(found->first_id == 101);
  CHECK(found->last_id == 103);
}

TEST_CASE("filter_to_gap places trades by their id number, one without (a UUID, a synthesized id) is not placed") {
  auto make = [](std::string id) {
    mi::trade t;
    t.set_id(std::move(id));
    return t;
  };
  std::vector<mi::trade> page{make("9"), make("10"), make("c3b0e7a2-uuid"), make("12"), make("13")};
  auto f = mi::venue::detail::filter_to_gap(std::move(page), gap{10, 12, 0, 0});
  CHECK(f.returned == 5);
  REQUIRE(f.kept.size() == 2);
  CHECK(f.kept[0].trade_id == "10");
  CHECK(f.kept[1].trade_id == "12");
  CHECK(f.min_id == 9);
  CHECK(f.max_id == 13);
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

TEST_CASE("unsubscribe_requests: each exchange's own unsubscribe message for the subscribed names") {
  struct expect {
    std::string exchange, symbol, text;
  };
  const std::vector<expect> cases{
    {"binance", "BTC/USDT", R"({"method":"UNSUBSCRIBE","params":["btcusdt@trade"],"id":1})"},
    {"okx", "BTC/USDT", R"({"op":"unsubscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]})"},
    {"bybit", "BTC/USDT", R"({"req_id":"1","op":"unsubscribe","args":["publicTrade.BTCUSDT"]})"},
    {"coinbase", "BTC/USD", R"({"type":"unsubscribe","product_ids":["BTC-USD"],"channel":"market_trades"})"},
    {"kraken", "BTC/USD", R"({"method":"unsubscribe","params":{"channel":"trade","symbol":["BTC/USD"]}})"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.exchange);
    auto v = mi::venue::make_venue(c.exchange);
    REQUIRE(v);
    auto sub = (*v)->resolve(c.symbol);
    REQUIRE(sub);
    auto msgs = (*v)->unsubscribe_requests({*sub});
    REQUIRE(msgs.size() == 1);
    CHECK(msgs[0] == c.text);
    CHECK((*v)->unsubscribe_requests({}).empty());
    // The subscribe that follows it names the same subscription.
    auto again = (*v)->subscribe_requests({*sub});
    REQUIRE_FALSE(again.empty());
    CHECK(again[0].find(c.exchange == "binance"  ? "btcusdt@trade"
                        : c.exchange == "bybit"  ? "publicTrade.BTCUSDT"
                        : c.exchange == "kraken" ? "BTC/USD"
                        : c.exchange == "okx"    ? "BTC-USDT"
                                                 : "BTC-USD") != std::string::npos);
  }
}

TEST_CASE("seed_scan_from: a last message stored long after its trade (a backfill) makes the seed read the tail") {
  constexpr std::int64_t s = 1'000'000'000;
  const std::int64_t t = 1'700'000'000 * s;
  CHECK_FALSE(mi::venue::seed_scan_from(t, t + s / 10).has_value()); // live: stored within ms
  CHECK_FALSE(mi::venue::seed_scan_from(t, t - 2 * s).has_value());  // server clock behind the exchange's
  CHECK_FALSE(mi::venue::seed_scan_from(t, t + mi::venue::seed_live_lag_ns).has_value());
  auto from = mi::venue::seed_scan_from(t, t + 30 * s); // backfilled 30 s later
  REQUIRE(from.has_value());
  CHECK(*from == t - mi::venue::seed_scan_margin_ns);
}

TEST_CASE("deferred_gaps: a gap seen during a connection overlap is backfilled only for the ids that never arrived") {
  mi::venue::deferred_gaps d;
  // The new connection's trade 110 was handled before the old one's 101..109.
  REQUIRE(d.hold("BTCUSDT", gap{101, 109, 5, 9}));
  CHECK_FALSE(d.empty());
  for (std::int64_t id = 101; id <= 109; ++id)
    if (id != 104 && id != 105 && id != 108)
      d.on_trade("BTCUSDT", id, id);
  d.on_trade("ETHUSDT", 104, 104); // another symbol strikes nothing
  d.on_trade("BTCUSDT", 95, 100);  // outside the gap: nothing
  auto missing = d.release();
  REQUIRE(missing.size() == 2);
  CHECK(missing[0].first == "BTCUSDT");
  CHECK(missing[0].second == gap{104, 105, 5, 9});
  CHECK(missing[1].second == gap{108, 108, 5, 9});
  CHECK(d.empty());
  CHECK(d.release().empty());
  // Everything arrived (an OKX push covering fills 1..3 included): nothing to backfill.
  REQUIRE(d.hold("ETHUSDT", gap{1, 3, 0, 0}));
  d.on_trade("ETHUSDT", 1, 3);
  CHECK(d.release().empty());
  // Too large to hold: the caller backfills at once.
  CHECK_FALSE(d.hold("ETHUSDT", gap{1, mi::venue::deferred_gaps::max_held_ids + 1, 0, 0}));
  CHECK(d.empty());
}
