#include "messages/kline/kline_engine.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "messages/codec.hpp"

namespace ke = mi::kline_engine;

namespace {

mi::decimal D(std::string_view s) { return *mi::decimal::parse(s); }

mi::trade make_trade(std::string id, std::int64_t ts_ms, std::string_view price, std::string_view qty,
                     mi::side s = mi::side::buy) {
  mi::trade t;
  t.exchange = "binance";
  t.symbol = "BTCUSDT";
  t.base = "BTC";
  t.quote = "USDT";
  t.set_id(std::move(id)); // as the decoders do: the number beside the text
  t.ts_ns = ts_ms * 1'000'000;
  t.price = D(price);
  t.quantity = D(qty);
  t.taker_side = s;
  return t;
}

ke::options opts(std::vector<std::string> names, std::int64_t grace = 2000) {
  ke::options o;
  for (auto& n : names)
    o.intervals.push_back(*ke::parse_interval(n));
  o.grace_ms = grace;
  return o;
}

// The obviously-correct reference: group by window, sort each group by (ts, id), fold.
std::vector<mi::kline> reference(std::vector<mi::trade> trades, const ke::interval& iv) {
  std::map<std::int64_t, std::vector<mi::trade>> groups;
  for (auto& t : trades)
    groups[iv.open_of(t.ts_ns / 1'000'000)].push_back(t);
  std::vector<mi::kline> out;
  for (auto& [open, g] : groups) {
    std::sort(g.begin(), g.end(), [](const mi::trade& a, const mi::trade& b) {
      return a.ts_ns != b.ts_ns ? a.ts_ns < b.ts_ns : mi::compare_trade_ids(a.trade_id, b.trade_id) < 0;
    });
    mi::kline k;
    k.exchange = "binance";
    k.symbol = "BTCUSDT";
    k.interval = iv.name;
    k.open_time_ms = open;
    k.close_time_ms = iv.next_open(open) - 1;
    k.open = g.front().price;
    k.close = g.back().price;
    k.high = k.low = g.front().price;
    for (auto& t : g) {
      k.high = std::max(k.high, t.price);
      k.low = std::min(k.low, t.price);
      k.volume = *k.volume.checked_add(t.quantity);
      auto n = *t.price.checked_mul(t.quantity);
      k.quote_volume = *k.quote_volume.checked_add(n);
      if (t.taker_side == mi::side::buy) {
        k.taker_buy_volume = *k.taker_buy_volume.checked_add(t.quantity);
        k.taker_buy_quote_volume = *k.taker_buy_quote_volume.checked_add(n);
      }
    }
    k.trade_count = g.size();
    k.vwap = *k.quote_volume.checked_div(k.volume, 18);
    k.first_trade_id = g.front().trade_id;
    k.last_trade_id = g.back().trade_id;
    k.is_final = true;
    out.push_back(k);
  }
  return out;
}

std::vector<mi::kline> run_all(const std::vector<mi::trade>& trades, const ke::options& o) {
  ke::batch_aggregator agg(o);
  std::vector<mi::kline> out;
  for (auto& t : trades)
    agg.add(t, out);
  agg.finish(out);
  return out;
}

} // namespace

TEST_CASE("property: shuffled within the grace and with duplicates, the engine equals the reference") {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 50; ++round) {
    std::vector<mi::trade> trades;
    std::int64_t ts = 1'700'000'000'000 + static_cast<std::int64_t>(rng() % 60000);
    int n = 1 + static_cast<int>(rng() % 400);
    for (int i = 0; i < n; ++i) {
      ts += static_cast<std::int64_t>(rng() % 1500); // several trades per ms happen too (0 step)
      auto price = std::to_string(20000 + rng() % 1000) + "." + std::to_string(rng() % 100);
      auto qty = "0." + std::to_string(1 + rng() % 99999);
      trades.push_back(
        make_trade(std::to_string(1000 + i), ts, price, qty, rng() % 2 ? mi::side::buy : mi::side::sell));
    }
    // Shuffle arrival within the grace: swap neighbours less than 1 s apart.
    auto arrival = trades;
    for (std::size_t i = 1; i < arrival.size(); ++i)
      if (rng() % 3 == 0 && arrival[i].ts_ns - arrival[i - 1].ts_ns < 1'000'000'000)
        std::swap(arrival[i], arrival[i - 1]);
    // Duplicates, as a reconnect overlap delivers them: some trades arrive again a bit later.
    for (std::size_t i = 0; i + 5 < arrival.size(); i += 1 + rng() % 20)
      arrival.insert(arrival.begin() + static_cast<std::ptrdiff_t>(i + 5), arrival[i]);
    auto o = opts({"1m"});
    auto got = run_all(arrival, o);
    auto want = reference(trades, o.intervals[0]);
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i)
      CHECK(mi::kline_to_json(got[i]) == mi::kline_to_json(want[i]));
  }
}

TEST_CASE("boundaries: start of window, end minus 1 ms, same millisecond, single trade") {
  auto o = opts({"1m"});
  const std::int64_t t0 = 1'700'000'040'000; // a minute boundary
  std::vector<mi::trade> trades = {
    make_trade("1", t0, "10", "1"),                          // exactly at the start
    make_trade("3", t0 + 59'999, "12", "1"),                 // end minus 1 ms
    make_trade("2", t0 + 59'999, "11", "1"),                 // same ms, smaller id, arrives later: not the close
    make_trade("4", t0 + 60'000, "13", "2", mi::side::sell), // next window, single trade
  };
  auto got = run_all(trades, o);
  REQUIRE(got.size() == 2);
  CHECK(got[0].open_time_ms == t0);
  CHECK(got[0].close_time_ms == t0 + 59'999);
  CHECK(got[0].trade_count == 3);
  CHECK(got[0].open == D("10"));
  CHECK(got[0].close == D("12"));
  CHECK(got[0].last_trade_id == "3");
  CHECK(got[0].quote_volume == D("33"));
  CHECK(got[0].vwap == D("11"));
  CHECK(got[1].open_time_ms == t0 + 60'000);
  CHECK(got[1].trade_count == 1);
  CHECK(got[1].taker_buy_volume == D("0"));
  CHECK(got[1].open == got[1].close);
}

TEST_CASE("a final is published once, a trade after it revises it as revision 1") {
  auto o = opts({"1m"}, 2000);
  ke::symbol_windows sw("binance", "BTCUSDT", o);
  std::vector<mi::kline> finals;
  const std::int64_t t0 = 1'700'000'040'000;
  sw.add(make_trade("1", t0 + 1000, "10", "1"), 1);
  sw.close_by_event_time(finals);
  CHECK(finals.empty());
  sw.add(make_trade("2", t0 + 61'000, "11", "1"), 2); // within grace: first window still open
  sw.close_by_event_time(finals);
  CHECK(finals.empty());
  sw.add(make_trade("3", t0 + 59'000, "9", "1"), 3);  // out of order, within grace: own window
  sw.add(make_trade("4", t0 + 62'000, "11", "1"), 4); // passes end + grace
  sw.close_by_event_time(finals);
  REQUIRE(finals.size() == 1);
  CHECK(finals[0].trade_count == 2);
  CHECK(finals[0].close == D("9"));
  auto r = sw.add(make_trade("5", t0 + 30'000, "8", "1"), 5);
  CHECK(r.revised == 1); // default policy: the final is corrected (revision 1), not silently changed
  sw.close_by_event_time(finals);
  REQUIRE(finals.size() == 2);
  CHECK(finals[1].revision == 1);
  sw.close_by_event_time(finals); // exactly once: nothing new to publish
  CHECK(finals.size() == 2);
}

TEST_CASE("a final published before with other values (a wall-clock close of a stage that did not live to revise "
          "it) is superseded by one revision above it, the same values, once") {
  auto o = opts({"1m"}, 2000);
  ke::symbol_windows sw("binance", "BTCUSDT", o);
  std::vector<mi::kline> finals;
  const std::int64_t t0 = 1'700'000'040'000;
  sw.add(make_trade("1", t0 + 1000, "10", "1"), 1);
  sw.add(make_trade("2", t0 + 2000, "12", "1"), 2);
  sw.add(make_trade("3", t0 + 62'000, "11", "1"), 3); // passes end + grace
  sw.close_by_event_time(finals);
  REQUIRE(finals.size() == 1);
  const auto ours = finals[0];
  CHECK(ours.revision == 0);
  // The stream holds another revision 0 (one trade, closed early by a stage now gone), and even a revision 1.
  CHECK(sw.supersede("1m", t0, 0));
  sw.close_by_event_time(finals);
  REQUIRE(finals.size() == 2);
  auto expected = ours;
  expected.revision = 1;
  CHECK(finals[1] == expected);
  CHECK(sw.supersede("1m", t0, 1));
  sw.close_by_event_time(finals);
  REQUIRE(finals.size() == 3);
  expected.revision = 2;
  CHECK(finals[2] == expected);
  // A late report of an older revision does not lower it: republished as it is (its dedup id keeps it once).
  CHECK(sw.supersede("1m", t0, 0));
  sw.close_by_event_time(finals);
  REQUIRE(finals.size() == 4);
  CHECK(finals[3].revision == 2);
  sw.close_by_event_time(finals); // nothing more due
  CHECK(finals.size() == 4);
  // A late trade afterwards revises on from there.
  sw.add(make_trade("4", t0 + 3000, "13", "1"), 4);
  sw.close_by_event_time(finals);
  REQUIRE(finals.size() == 5);
  CHECK(finals[4].revision == 3);
  CHECK(finals[4].trade_count == 3);
  // Unknown interval or a window no longer kept: nothing to correct.
  CHECK_FALSE(sw.supersede("5m", t0, 0));
  CHECK_FALSE(sw.supersede("1m", t0 + 60'000, 0));
}

TEST_CASE("a quiet symbol's window closes by the wall clock") {
  auto o = opts({"1m"}, 2000);
  ke::symbol_windows sw("binance", "BTCUSDT", o);
  std::vector<mi::kline> finals;
  const std::int64_t t0 = 1'700'000'040'000;
  sw.add(make_trade("1", t0 + 1000, "10", "1"), 1);
  sw.close_by_wall_clock(t0 + 61'999, finals);
  CHECK(finals.empty());
  sw.close_by_wall_clock(t0 + 62'000, finals);
  CHECK(finals.size() == 1);
}

TEST_CASE("partials are rate limited and marked not final") {
  auto o = opts({"1m"});
  o.partial_every_ms = 1000;
  ke::symbol_windows sw("binance", "BTCUSDT", o);
  std::vector<mi::kline> partials;
  const std::int64_t t0 = 1'700'000'040'000;
  sw.add(make_trade("1", t0, "10", "1"), 1);
  sw.take_partials(5000, partials);
  REQUIRE(partials.size() == 1);
  CHECK(!partials[0].is_final);
  sw.add(make_trade("2", t0 + 1, "10", "1"), 2);
  sw.take_partials(5500, partials); // too soon
  CHECK(partials.size() == 1);
  sw.take_partials(6000, partials);
  CHECK(partials.size() == 2);
  CHECK(partials[1].trade_count == 2);
  sw.take_partials(7000, partials); // nothing changed
  CHECK(partials.size() == 2);
}

TEST_CASE("restart from a checkpoint gives the same finals as an uninterrupted run") {
  auto o = opts({"1m", "5m"});
  std::mt19937_64 rng(7);
  std::vector<mi::trade> trades;
  std::int64_t ts = 1'700'000'000'000;
  for (int i = 0; i < 3000; ++i) {
    ts += static_cast<std::int64_t>(rng() % 400);
    trades.push_back(make_trade(std::to_string(i + 1), ts, std::to_string(100 + rng() % 10), "1.5"));
  }
  // Uninterrupted.
  std::vector<mi::kline> want;
  {
    ke::symbol_windows sw("binance", "BTCUSDT", o);
    for (std::size_t i = 0; i < trades.size(); ++i) {
      sw.add(trades[i], i + 1);
      sw.close_by_event_time(want);
    }
    sw.close_all(want);
  }
  for (std::size_t crash_at : {1ul, 250ul, 1234ul, 2999ul}) {
    std::vector<mi::kline> got;
    ke::checkpoint cp;
    {
      ke::symbol_windows sw("binance", "BTCUSDT", o);
      for (std::size_t i = 0; i < crash_at; ++i) {
        sw.add(trades[i], i + 1);
        sw.close_by_event_time(got);
      }
      cp = *ke::checkpoint::decode(sw.current_checkpoint().encode());
    } // crash: open windows lost
    ke::symbol_windows sw("binance", "BTCUSDT", o, &cp);
    for (std::size_t i = cp.min_resume_seq() - 1; i < trades.size(); ++i) {
      sw.add(trades[i], i + 1);
      sw.close_by_event_time(got);
    }
    sw.close_all(got);
    auto key = [](const mi::kline& k) { return std::make_pair(k.interval, k.open_time_ms); };
    std::sort(got.begin(), got.end(), [&](auto& a, auto& b) { return key(a) < key(b); });
    auto sorted_want = want;
    std::sort(sorted_want.begin(), sorted_want.end(), [&](auto& a, auto& b) { return key(a) < key(b); });
    REQUIRE(got.size() == sorted_want.size());
    for (std::size_t i = 0; i < got.size(); ++i)
      CHECK(mi::kline_to_json(got[i]) == mi::kline_to_json(sorted_want[i]));
  }
}

TEST_CASE("late policy revise: a trade for a final window publishes revision + 1 with it included") {
  auto o = opts({"1m"}, 2000);
  ke::symbol_windows sw("binance", "BTCUSDT", o);
  std::vector<mi::kline> finals;
  const std::int64_t t0 = 1'700'000'040'000;
  sw.add(make_trade("1", t0 + 1000, "10", "1"), 1);
  sw.add(make_trade("3", t0 + 62'000, "11", "1"), 2);
  sw.close_by_event_time(finals);
  REQUIRE(finals.size() == 1);
  CHECK(finals[0].revision == 0);
  auto r = sw.add(make_trade("2", t0 + 2000, "7", "2"), 3);
  CHECK(r.revised == 1);
  CHECK(r.late == 0);
  sw.close_by_event_time(finals);
  REQUIRE(finals.size() == 2);
  CHECK(finals[1].revision == 1);
  CHECK(finals[1].open_time_ms == finals[0].open_time_ms);
  CHECK(finals[1].trade_count == 2);
  CHECK(finals[1].close == D("7")); // trade 2 is the last by time
  CHECK(finals[1].low == D("7"));
  CHECK(finals[1].volume == D("3"));
  // Same result as if the trade had come on time.
  auto on_time = run_all({make_trade("1", t0 + 1000, "10", "1"), make_trade("2", t0 + 2000, "7", "2")}, o);
  auto revised = finals[1];
  revised.revision = 0;
  CHECK(mi::kline_to_json(revised) == mi::kline_to_json(on_time[0]));
}

TEST_CASE("late policy drop: the trade is counted and the final stays") {
  auto o = opts({"1m"}, 2000);
  o.revise_late = false;
  ke::symbol_windows sw("binance", "BTCUSDT", o);
  std::vector<mi::kline> finals;
  const std::int64_t t0 = 1'700'000'040'000;
  sw.add(make_trade("1", t0 + 1000, "10", "1"), 1);
  sw.add(make_trade("3", t0 + 62'000, "11", "1"), 2);
  sw.close_by_event_time(finals);
  auto r = sw.add(make_trade("2", t0 + 2000, "7", "2"), 3);
  CHECK(r.late == 1);
  sw.close_by_event_time(finals);
  CHECK(finals.size() == 1);
}

TEST_CASE("empty windows: skip emits nothing for them, fill repeats the previous close with volume 0") {
  const std::int64_t t0 = 1'700'000'040'000;
  std::vector<mi::trade> trades = {make_trade("1", t0 + 10, "10", "1"),
                                   make_trade("2", t0 + 3 * 60'000 + 5, "12", "2")};
  auto skip = run_all(trades, opts({"1m"}));
  CHECK(skip.size() == 2);
  auto o = opts({"1m"});
  o.fill_empty = true;
  auto fill = run_all(trades, o);
  REQUIRE(fill.size() == 4);
  for (int i = 1; i <= 2; ++i) {
    CHECK(fill[i].open_time_ms == t0 + i * 60'000);
    CHECK(fill[i].open == D("10"));
    CHECK(fill[i].high == D("10"));
    CHECK(fill[i].low == D("10"));
    CHECK(fill[i].close == D("10"));
    CHECK(fill[i].volume == D("0"));
    CHECK(fill[i].trade_count == 0);
  }
  CHECK(fill[3].open == D("12"));
}

TEST_CASE("empty windows with fill close by the wall clock for a quiet symbol") {
  auto o = opts({"1m"}, 2000);
  o.fill_empty = true;
  ke::symbol_windows sw("binance", "BTCUSDT", o);
  std::vector<mi::kline> finals;
  const std::int64_t t0 = 1'700'000'040'000;
  sw.add(make_trade("1", t0 + 10, "10", "1"), 1);
  sw.close_by_wall_clock(t0 + 60'000 + 2000, finals);
  REQUIRE(finals.size() == 1);
  sw.close_by_wall_clock(t0 + 3 * 60'000 + 2000, finals); // two empty minutes have passed
  REQUIRE(finals.size() == 3);
  CHECK(finals[2].open_time_ms == t0 + 2 * 60'000);
  CHECK(finals[2].close == D("10"));
  // A restart keeps the close for later fills.
  auto cp = *ke::checkpoint::decode(sw.current_checkpoint().encode());
  ke::symbol_windows again("binance", "BTCUSDT", o, &cp);
  again.close_by_wall_clock(t0 + 4 * 60'000 + 2000, finals);
  REQUIRE(finals.size() == 4);
  CHECK(finals[3].open_time_ms == t0 + 3 * 60'000);
  CHECK(finals[3].open == D("10"));
}

TEST_CASE("a duplicate trade id is ignored") {
  auto o = opts({"1m"});
  ke::symbol_windows sw("binance", "BTCUSDT", o);
  const std::int64_t t0 = 1'700'000'040'000;
  CHECK(!sw.add(make_trade("1", t0, "10", "1"), 1).duplicate);
  CHECK(sw.add(make_trade("1", t0, "10", "1"), 2).duplicate);
  std::vector<mi::kline> finals;
  sw.close_all(finals);
  REQUIRE(finals.size() == 1);
  CHECK(finals[0].trade_count == 1);
}

// -- fast paths (raw sums, numeric trade ids, sorted dedup ring) against the reference -------

TEST_CASE("property: ids of every form and amounts of every scale give the reference's exact candles") {
  std::mt19937_64 rng(7);
  // Ids: canonical numbers, leading zeros (text), letters, more than 19 digits (text, numeric order).
  auto id_of = [&](int i) -> std::string {
    switch (rng() % 5) {
    case 0:
      return "00" + std::to_string(i);
    case 1:
      return "x" + std::to_string(i);
    case 2:
      return "123456789012345678901" + std::to_string(1000 + i);
    default:
      return std::to_string(i);
    }
  };
  // Amounts: up to `max_digits` fraction digits; `big`: some beyond 64 bits of mantissa.
  auto amount = [&](int max_digits, bool big) {
    std::string whole = std::to_string(1 + rng() % 1000);
    if (big && rng() % 3 == 0)
      whole += "00000000000000000"; // ~10^20: a 128-bit mantissa
    int digits = static_cast<int>(rng() % static_cast<unsigned>(max_digits + 1));
    std::string frac;
    for (int d = 0; d < digits; ++d)
      frac += static_cast<char>('0' + rng() % 10);
    return frac.empty() ? whole : whole + "." + frac;
  };
  for (int round = 0; round < 30; ++round) {
    std::vector<mi::trade> trades;
    std::int64_t ts = 1'700'000'000'000 + static_cast<std::int64_t>(rng() % 60000);
    int n = 1 + static_cast<int>(rng() % 300);
    const bool big = round % 3 == 0; // 128-bit quantities, few fraction digits (sums stay in range)
    for (int i = 0; i < n; ++i) {
      ts += static_cast<std::int64_t>(rng() % 3) * static_cast<std::int64_t>(rng() % 700); // often the same ms
      auto price = amount(big ? 2 : 8, false);
      auto qty = amount(big ? 2 : 18, big);
      trades.push_back(make_trade(id_of(1000 + i), ts, price, qty, rng() % 2 ? mi::side::buy : mi::side::sell));
    }
    auto arrival = trades;
    for (std::size_t i = 1; i < arrival.size(); ++i)
      if (rng() % 4 == 0 && arrival[i].ts_ns - arrival[i - 1].ts_ns < 1'000'000'000)
        std::swap(arrival[i], arrival[i - 1]);
    auto o = opts({"1m"});
    auto got = run_all(arrival, o);
    auto want = reference(trades, o.intervals[0]);
    // vwap has 18 fraction digits, fewer where that quotient does not fit 128 bits (big sums).
    for (auto& k : want)
      for (int digits = 18; digits >= 0; --digits)
        if (auto v = k.quote_volume.checked_div(k.volume, digits)) {
          k.vwap = *v;
          break;
        }
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i)
      CHECK(mi::kline_to_json(got[i]) == mi::kline_to_json(want[i]));
  }
}

TEST_CASE("sums: scales that differ add exactly, and a sum whose raw scale would overflow falls back exactly") {
  auto o = opts({"1m"});
  const std::int64_t t0 = 1'700'000'040'000;
  SUBCASE("scale mismatch") {
    auto got = run_all({make_trade("1", t0, "2", "1.5"), make_trade("2", t0 + 1, "2", "0.25"),
                        make_trade("3", t0 + 2, "2", "3"), make_trade("4", t0 + 3, "2", "0.000000000000000001")},
                       o);
    REQUIRE(got.size() == 1);
    CHECK(got[0].volume.to_string() == "4.750000000000000001");
    CHECK(got[0].quote_volume.to_string() == "9.500000000000000002");
  }
  SUBCASE("128-bit amounts") {
    auto got = run_all({make_trade("1", t0, "1", "12345678901234567890123.5"), make_trade("2", t0 + 1, "1", "0.25"),
                        make_trade("3", t0 + 2, "1", "10000000000000000000000")},
                       o);
    REQUIRE(got.size() == 1);
    CHECK(got[0].volume.to_string() == "22345678901234567890123.75");
  }
  SUBCASE("the raw sum is kept at scale 1 (0.5 + 0.5), then 10^38 at scale 0 only fits normalized") {
    auto got = run_all(
      {make_trade("1", t0, "1", "0.5"), make_trade("2", t0 + 1, "1", "0.5"), make_trade("3", t0 + 2, "1", "1e38")}, o);
    REQUIRE(got.size() == 1);
    CHECK(got[0].volume.to_string() == "100000000000000000000000000000000000001");
    CHECK(got[0].taker_buy_quote_volume.to_string() == "100000000000000000000000000000000000001");
  }
}

TEST_CASE("dedup remembers exactly the last dedup_ids distinct ids, in order and out of order") {
  auto o = opts({"1m"});
  o.dedup_ids = 3;
  const std::int64_t t0 = 1'700'000'040'000;
  SUBCASE("increasing numeric ids (sorted ring)") {
    ke::symbol_windows sw("binance", "BTCUSDT", o);
    std::uint64_t seq = 0;
    for (const char* id : {"1", "2", "3", "4"})
      CHECK(!sw.add(make_trade(id, t0, "10", "1"), ++seq).duplicate);
    CHECK(sw.add(make_trade("3", t0, "10", "1"), ++seq).duplicate);
    CHECK(sw.add(make_trade("2", t0, "10", "1"), ++seq).duplicate);
    CHECK(sw.add(make_trade("4", t0, "10", "1"), ++seq).duplicate);
    CHECK(!sw.add(make_trade("1", t0, "10", "1"), ++seq).duplicate); // forgotten: counted again
    CHECK(sw.add(make_trade("1", t0, "10", "1"), ++seq).duplicate);
    CHECK(!sw.add(make_trade("2", t0, "10", "1"), ++seq).duplicate); // 2 was pushed out by 1
  }
  SUBCASE("out of order and non-numeric ids (hashed set)") {
    ke::symbol_windows sw("binance", "BTCUSDT", o);
    std::uint64_t seq = 0;
    for (const char* id : {"5", "3", "abc", "007"})
      CHECK(!sw.add(make_trade(id, t0, "10", "1"), ++seq).duplicate);
    CHECK(!sw.add(make_trade("7", t0, "10", "1"), ++seq).duplicate); // "007" is another id than "7"
    CHECK(sw.add(make_trade("abc", t0, "10", "1"), ++seq).duplicate);
    CHECK(sw.add(make_trade("007", t0, "10", "1"), ++seq).duplicate);
    CHECK(!sw.add(make_trade("5", t0, "10", "1"), ++seq).duplicate); // forgotten
    CHECK(!sw.add(make_trade("3", t0, "10", "1"), ++seq).duplicate); // pushed out by 7 / 5
    CHECK(sw.add(make_trade("5", t0, "10", "1"), ++seq).duplicate);
  }
  SUBCASE("dedup off") {
    o.dedup_ids = 0;
    ke::symbol_windows sw("binance", "BTCUSDT", o);
    CHECK(!sw.add(make_trade("1", t0, "10", "1"), 1).duplicate);
    CHECK(!sw.add(make_trade("1", t0, "10", "1"), 2).duplicate);
  }
}

// -- issue 9: nothing from outside aborts, far-future trades, revisions across restarts ----------

namespace {

// Every distinct final (interval, open, revision) -> its JSON; a repeat must be identical.
std::map<std::tuple<std::string, std::int64_t, std::uint32_t>, std::string>
by_revision(const std::vector<mi::kline>& ks) {
  std::map<std::tuple<std::string, std::int64_t, std::uint32_t>, std::string> out;
  for (const auto& k : ks) {
    auto json = mi::kline_to_json(k) + " rev " + std::to_string(k.revision);
    auto [it, fresh] = out.emplace(std::make_tuple(k.interval, k.open_time_ms, k.revision), json);
    if (!fresh)
      CHECK_MESSAGE(it->second == json, "the same final published twice with different values");
  }
  return out;
}

} // namespace

TEST_CASE("the trade of issue 9 (23-digit price x 20-digit quantity) is rejected, the symbol goes on") {
  auto o = opts({"1m"});
  const std::int64_t t0 = 1'672'515'780'000;
  ke::batch_aggregator agg(o);
  std::vector<mi::kline> finals;
  CHECK(agg.add(make_trade("1", t0, "100", "1"), finals).accepted == 1);
  auto r = agg.add(make_trade("2", t0 + 1, "99999999999999999999999", "99999999999999999999"), finals);
  CHECK(r.rejected == mi::reject_reason::unrepresentable);
  CHECK(r.accepted == 0);
  CHECK(agg.add(make_trade("3", t0 + 2, "101", "2"), finals).accepted == 1);
  agg.finish(finals);
  REQUIRE(finals.size() == 1);
  CHECK(finals[0].trade_count == 2);
  CHECK(finals[0].volume.to_string() == "3");
  CHECK(finals[0].high.to_string() == "101");
  CHECK(finals[0].last_trade_id == "3");
}

TEST_CASE("a trade whose sum would overflow in one interval is rejected in every interval") {
  auto o = opts({"1m", "1h"});
  const std::int64_t t0 = 1'672'516'800'000; // an hour boundary
  ke::batch_aggregator agg(o);
  std::vector<mi::kline> finals;
  CHECK(agg.add(make_trade("1", t0, "1", "1e38"), finals).accepted == 2);
  // Minute 1 of the same hour: its 1m window is new, but the 1h volume would pass 1.7 * 10^38.
  auto r = agg.add(make_trade("2", t0 + 60'000, "1", "1e38"), finals);
  CHECK(r.rejected == mi::reject_reason::unrepresentable);
  CHECK(r.accepted == 0);
  CHECK(agg.add(make_trade("3", t0 + 61'000, "1", "1"), finals).accepted == 2);
  agg.finish(finals);
  std::map<std::pair<std::string, std::int64_t>, mi::kline> got;
  for (auto& k : finals)
    got[{k.interval, k.open_time_ms}] = k;
  REQUIRE(got.size() == 3); // 1m at t0 and t0+60s, 1h at t0
  CHECK(got.at({"1m", t0 + 60'000}).trade_count == 1);
  CHECK(got.at({"1m", t0 + 60'000}).volume.to_string() == "1");
  CHECK(got.at({"1h", t0}).trade_count == 2);
  CHECK(got.at({"1h", t0}).volume.to_string() == "100000000000000000000000000000000000001");
}

TEST_CASE(
  "a trade whose quote volume would need more than 38 fraction digits is rejected (found by fuzz_kline_engine)") {
  auto o = opts({"1m"});
  const std::int64_t t0 = 1'672'516'800'000;
  ke::batch_aggregator agg(o);
  std::vector<mi::kline> finals;
  CHECK(agg.add(make_trade("1", t0, "0.00000000000000000000006", "0.000000000000000000000054"), finals).rejected ==
        mi::reject_reason::unrepresentable);
  CHECK(agg.add(make_trade("2", t0 + 1, "0.0000000000000000001", "0.0000000000000000001"), finals).accepted == 1);
  agg.finish(finals);
  REQUIRE(finals.size() == 1);
  // Every decimal of the candle reads back (the protobuf and JSON contract).
  auto again = mi::kline_from_json(mi::kline_to_json(finals[0]));
  REQUIRE(again);
  CHECK(again->quote_volume.to_string() == "0.00000000000000000000000000000000000001");
}

TEST_CASE("an overflow in the second interval of a trade that both hot windows take undoes the first") {
  auto o = opts({"1m", "1h"});
  const std::int64_t t0 = 1'672'516'800'000; // an hour boundary
  ke::batch_aggregator agg(o);
  std::vector<mi::kline> finals;
  CHECK(agg.add(make_trade("1", t0, "1", "1e38"), finals).accepted == 2);
  CHECK(agg.add(make_trade("2", t0 + 60'000, "1", "5e37"), finals).accepted == 2);     // 1h: 1.5e38 still fits
  auto r = agg.add(make_trade("3", t0 + 61'000, "1", "5e37", mi::side::sell), finals); // 1m fits, 1h does not
  CHECK(r.rejected == mi::reject_reason::unrepresentable);
  CHECK(agg.add(make_trade("4", t0 + 62'000, "1", "1"), finals).accepted == 2);
  agg.finish(finals);
  std::map<std::pair<std::string, std::int64_t>, mi::kline> got;
  for (auto& k : finals)
    got[{k.interval, k.open_time_ms}] = k;
  REQUIRE(got.count({"1m", t0 + 60'000}) == 1);
  CHECK(got.at({"1m", t0 + 60'000}).trade_count == 2);
  CHECK(got.at({"1m", t0 + 60'000}).volume.to_string() == "50000000000000000000000000000000000001");
  CHECK(got.at({"1m", t0 + 60'000}).last_trade_id == "4");
  CHECK(got.at({"1h", t0}).volume.to_string() == "150000000000000000000000000000000000001");
}

TEST_CASE(
  "a trade rejected for a sum overflow is rejected again by the replay after a restart (found by fuzz_kline_engine)") {
  auto o = opts({"1m", "1h"});
  const std::int64_t t0 = 1'672'516'800'000; // an hour boundary
  std::vector<mi::trade> trades{make_trade("1", t0, "1", "1e38"), make_trade("2", t0 + 60'000, "1", "5e37"),
                                make_trade("3", t0 + 3 * 3'600'000, "1", "1"),
                                make_trade("4", t0 + 61'000, "1", "5e37"), // late: 1m fits, 1h overflows
                                make_trade("5", t0 + 500, "1", "1")};      // late: revises minute 0 and the hour
  ke::symbol_windows sw("binance", "BTCUSDT", o);
  std::vector<mi::kline> finals;
  for (std::size_t i = 0; i < trades.size(); ++i) {
    auto r = sw.add(trades[i], i + 1);
    CHECK((r.rejected == mi::reject_reason::unrepresentable) == (i == 3));
    sw.close_by_event_time(finals);
  }
  auto cp = *ke::checkpoint::decode(sw.current_checkpoint().encode());
  CHECK(cp.rejected_seqs == std::vector<std::uint64_t>{4});
  ke::symbol_windows again("binance", "BTCUSDT", o, &cp);
  std::vector<mi::kline> replayed;
  for (std::size_t i = cp.min_resume_seq() - 1; i < trades.size(); ++i) {
    auto r = again.add(trades[i], i + 1);
    CHECK((r.rejected == mi::reject_reason::unrepresentable) == (i == 3));
    again.close_by_event_time(replayed);
  }
  again.close_all(replayed);
  for (const auto& k : replayed)
    CHECK_MESSAGE(!(k.interval == "1m" && k.open_time_ms == t0 + 60'000 && k.revision > 0), mi::kline_to_json(k));
}

TEST_CASE("a far-future trade already in the stream neither opens a window nor freezes the symbol") {
  auto o = opts({"1m"});
  const std::int64_t t0 = 1'700'000'040'000;
  const std::int64_t year_ms = 365LL * 24 * 3600 * 1000;
  ke::symbol_windows sw("binance", "BTCUSDT", o);
  std::vector<mi::kline> finals;
  std::uint64_t seq = 0;
  auto at = [&](std::string id, std::int64_t ts_ms, std::int64_t recv_ms) {
    auto t = make_trade(std::move(id), ts_ms, "100", "1");
    t.recv_ns = recv_ms * 1'000'000;
    auto r = sw.add(t, ++seq);
    sw.close_by_event_time(finals);
    return r;
  };
  CHECK(at("1", t0, t0).accepted == 1);
  auto r = at("2", t0 + year_ms, t0 + 1); // stamped next year, received now
  CHECK(r.rejected == mi::reject_reason::clock_skew);
  CHECK(sw.watermark_ms() == t0);
  CHECK(sw.open_windows() == 1);
  // Within the skew of its receive time: accepted (an exchange clock a little ahead of ours).
  CHECK(at("3", t0 + 20'000, t0 + 20'000 - 299'000).accepted == 1);
  // The following minutes close normally by event time.
  for (int m = 1; m <= 8; ++m)
    CHECK(at(std::to_string(10 + m), t0 + m * 60'000, t0 + m * 60'000).accepted == 1);
  CHECK(finals.size() >= 6);
  CHECK(finals.front().open_time_ms == t0 - t0 % 60'000);
  CHECK(finals.front().trade_count == 2); // trades 1 and 3, not the far-future one
  // No receive time (the aggregate command's input): not checked.
  CHECK(at("30", t0 + 9 * 60'000, 0).accepted == 1);
}

TEST_CASE("a checkpoint whose watermark a far-future trade froze is clamped and the symbol goes on") {
  auto o = opts({"1m"});
  const std::int64_t t0 = 1'700'000'040'000;
  ke::checkpoint cp;
  cp.watermark_ms = t0 + 365LL * 24 * 3600 * 1000;
  cp.intervals.push_back({"1m", 5, t0 - 60'000, "100", {}});
  ke::symbol_windows frozen("binance", "BTCUSDT", o, &cp);
  CHECK(frozen.add(make_trade("9", t0, "100", "1"), 5).late == 1); // what a frozen symbol does
  ke::symbol_windows sw("binance", "BTCUSDT", o, &cp);
  sw.clamp_watermark(t0 + 300'000);
  CHECK(sw.add(make_trade("9", t0, "100", "1"), 5).accepted == 1);
  CHECK(sw.add(make_trade("10", t0 + 63'000, "100", "1"), 6).accepted == 1);
  std::vector<mi::kline> finals;
  sw.close_by_event_time(finals);
  REQUIRE(finals.size() == 1);
  CHECK(finals[0].open_time_ms == t0 - t0 % 60'000);
}

TEST_CASE("after a restart a late trade revises the final kept in the checkpoint and a duplicate stays ignored") {
  auto o = opts({"1m"});
  const std::int64_t t0 = 1'700'000'040'000; // a minute boundary
  std::vector<mi::trade> trades{make_trade("1", t0 + 1000, "100", "1"), make_trade("2", t0 + 2000, "102", "1"),
                                make_trade("3", t0 + 65'000, "103", "1")};
  std::vector<mi::kline> finals;
  ke::checkpoint cp;
  {
    ke::symbol_windows sw("binance", "BTCUSDT", o);
    for (std::size_t i = 0; i < trades.size(); ++i) {
      sw.add(trades[i], i + 1);
      sw.close_by_event_time(finals);
    }
    REQUIRE(finals.size() == 1); // minute 0 final, revision 0
    cp = *ke::checkpoint::decode(sw.current_checkpoint().encode());
  } // the process dies (or the symbol is passivated)
  ke::symbol_windows sw("binance", "BTCUSDT", o, &cp);
  std::uint64_t seq = cp.min_resume_seq();
  for (; seq <= trades.size(); ++seq) // the replay from the checkpoint
    sw.add(trades[seq - 1], seq);
  sw.close_by_event_time(finals);
  REQUIRE(finals.size() == 1);
  // The late trade of minute 0 arrives: revision 1 with it included.
  auto r = sw.add(make_trade("4", t0 + 3000, "99", "2"), seq++);
  CHECK(r.revised == 1);
  CHECK(r.late == 0);
  sw.close_by_event_time(finals);
  REQUIRE(finals.size() == 2);
  CHECK(finals[1].revision == 1);
  CHECK(finals[1].open_time_ms == t0);
  CHECK(finals[1].trade_count == 3);
  CHECK(finals[1].volume.to_string() == "4");
  CHECK(finals[1].low.to_string() == "99");
  CHECK(finals[1].close.to_string() == "99");
  // Trade 2 published again (e.g. by a backfill after the dedup window): counted once.
  CHECK(sw.add(make_trade("2", t0 + 2000, "102", "1"), seq++).duplicate);
}

TEST_CASE("property: restarts at any point with late trades and duplicates publish the uninterrupted run's finals") {
  auto o = opts({"1s", "1m", "5m"}, 1000);
  std::mt19937_64 rng(99);
  for (int round = 0; round < 20; ++round) {
    std::vector<mi::trade> arrival;
    std::int64_t ts = 1'700'000'000'000;
    const int n = 200 + static_cast<int>(rng() % 600);
    for (int i = 0; i < n; ++i) {
      ts += static_cast<std::int64_t>(rng() % 700);
      auto t =
        make_trade(std::to_string(1000 + i), ts, std::to_string(100 + rng() % 10) + "." + std::to_string(rng() % 10),
                   "0." + std::to_string(1 + rng() % 999), rng() % 2 ? mi::side::buy : mi::side::sell);
      if (rng() % 15 == 0 && i > 10) // late: stamped 2 to 90 s back (beyond the grace), ids out of order
        t.ts_ns -= static_cast<std::int64_t>(2000 + rng() % 88'000) * 1'000'000;
      arrival.push_back(t);
      if (rng() % 20 == 0) // a duplicate of an earlier trade, as a backfill or reconnect delivers
        arrival.push_back(arrival[rng() % arrival.size()]);
    }
    if (round % 2 == 1) // text ids: the dedup set starts hashed
      for (auto& t : arrival)
        t.set_id("x" + t.trade_id);
    std::vector<mi::kline> want;
    {
      ke::symbol_windows sw("binance", "BTCUSDT", o);
      for (std::size_t i = 0; i < arrival.size(); ++i) {
        sw.add(arrival[i], i + 1);
        sw.close_by_event_time(want);
      }
      sw.close_all(want);
    }
    const auto want_by = by_revision(want);
    for (int restarts = 1; restarts <= 3; ++restarts) {
      std::vector<mi::kline> got;
      ke::checkpoint cp;
      bool have_cp = false;
      std::size_t next = 0; // index into arrival
      for (int k = 0; k <= restarts; ++k) {
        const bool last = k == restarts;
        const std::size_t crash_at = last ? arrival.size() : next + rng() % (arrival.size() - next + 1);
        ke::symbol_windows sw("binance", "BTCUSDT", o, have_cp ? &cp : nullptr);
        for (std::size_t i = have_cp ? cp.min_resume_seq() - 1 : 0; i < std::max(crash_at, next); ++i) {
          sw.add(arrival[i], i + 1);
          sw.close_by_event_time(got);
        }
        next = std::max(crash_at, next);
        if (last) {
          sw.close_all(got);
        } else {
          auto text = sw.current_checkpoint().encode();
          auto decoded = ke::checkpoint::decode(text);
          REQUIRE_MESSAGE(decoded, decoded.err().message);
          CHECK(decoded->encode() == text);
          cp = *decoded;
          have_cp = true;
        }
      }
      auto got_by = by_revision(got);
      REQUIRE_MESSAGE(got_by.size() == want_by.size(), "round " << round << ", " << restarts << " restarts");
      for (auto& [key, json] : want_by)
        CHECK_MESSAGE(got_by[key] == json, "round " << round << " " << std::get<0>(key) << " " << std::get<1>(key));
    }
  }
}

TEST_CASE("checkpoint size per symbol stays bounded: kept finals and recent ids") {
  // The six default intervals of the benchmark, 16 kept finals each, 1024 recent ids.
  std::mt19937_64 rng(3);
  auto run = [&](const ke::options& o, bool in_order) {
    ke::symbol_windows sw("binance", "BTCUSDT", o);
    std::vector<mi::kline> finals;
    std::int64_t ts = 1'700'000'000'000;
    for (int i = 0; i < 200'000; ++i) { // ~2.3 days at 1 s: every interval has 16 finals or more
      ts += 1000;
      auto id = in_order ? 700'000'000 + i : 700'000'000 + i + static_cast<int>(rng() % 5) * 1000;
      sw.add(make_trade(std::to_string(id), ts,
                        std::to_string(20000 + rng() % 1000) + "." + std::to_string(rng() % 100),
                        "0." + std::to_string(10000 + rng() % 90000)),
             static_cast<std::uint64_t>(i + 1));
      sw.close_by_event_time(finals);
    }
    auto cp = sw.current_checkpoint();
    auto before = cp; // what the checkpoint held before issue 9: no finals, no ids
    for (auto& i : before.intervals)
      i.finals.clear();
    before.recent = {};
    const std::string line = std::to_string(o.intervals.size()) + " intervals, ids " +
                             (in_order ? "in order: " : "out of order: ") + std::to_string(before.encode().size()) +
                             " bytes before, " + std::to_string(cp.encode().size()) + " bytes with " +
                             std::to_string(cp.recent.values.size()) + " ids";
    MESSAGE(line);
    return cp.encode().size();
  };
  const auto six = opts({"1m", "5m", "15m", "1h", "4h", "1d"});
  const auto one = opts({"1m"});
  CHECK(run(six, true) <= 24 * 1024);
  CHECK(run(six, false) <= 40 * 1024);
  CHECK(run(one, true) <= 8 * 1024);
  CHECK(run(one, false) <= 16 * 1024);
}
