// Session-aware klines (messages/kline/session_mapper.hpp): the scenarios of tests/data/session_klines/, whose
// expected bars were computed by hand, through the same engine the platform and `aggregate` use.
#include <doctest/doctest.h>

#include "tests/harness/iso_time.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "messages/calendar/calendar.hpp"
#include "messages/kline/kline_engine.hpp"

namespace ke = mi::kline_engine;

namespace {

const std::string data_dir = std::string(MI_SOURCE_DIR) + "/tests/data/session_klines/";

using mi::test::iso_ms;

struct bar {
  std::string interval;
  std::int64_t open_ms = 0, close_ms = 0;
  mi::decimal o, h, l, c, v;
  std::uint64_t n = 0;
  bool operator<(const bar& b) const { return std::tie(interval, open_ms) < std::tie(b.interval, b.open_ms); }
};

bool same(const mi::decimal& a, const mi::decimal& b) { return (a <=> b) == 0; }

std::string show(const bar& b) {
  return b.interval + " " + mi::util::iso8601_ms(b.open_ms) + " " + std::to_string(b.open_ms) + ".." +
         std::to_string(b.close_ms) + " " + b.o.to_string() + " " + b.h.to_string() + " " + b.l.to_string() + " " +
         b.c.to_string() + " v" + b.v.to_string() + " n" + std::to_string(b.n);
}

mi::decimal dec(const std::string& s) {
  auto d = mi::decimal::parse(s);
  REQUIRE_MESSAGE(d.has_value(), s);
  return *d;
}

struct scenario {
  std::string market;
  ke::options opts;
  std::vector<mi::trade> trades;
  std::vector<bar> expected;
  int outside = -1;
};

scenario read_scenario(const std::string& name) {
  std::ifstream in(data_dir + name);
  REQUIRE_MESSAGE(in.good(), "missing " << data_dir << name);
  scenario sc;
  std::string line;
  while (std::getline(in, line)) {
    if (auto h = line.find('#'); h != std::string::npos)
      line = line.substr(0, h);
    std::istringstream ls(line);
    std::string key;
    if (!(ls >> key))
      continue;
    if (key == "market") {
      ls >> sc.market;
    } else if (key == "intervals") {
      for (std::string iv; ls >> iv;) {
        auto p = ke::parse_interval(iv);
        REQUIRE(p.has_value());
        sc.opts.intervals.push_back(*p);
      }
    } else if (key == "fill") {
      std::string v;
      ls >> v;
      sc.opts.fill_empty = v == "on";
    } else if (key == "T") {
      std::string ts, price, qty, id;
      ls >> ts >> price >> qty >> id;
      mi::trade t;
      t.exchange = "test";
      t.symbol = "TEST";
      t.trade_id = id;
      t.price = dec(price);
      t.quantity = dec(qty);
      t.taker_side = mi::side::buy;
      t.ts_ns = iso_ms(ts) * 1'000'000;
      sc.trades.push_back(t);
    } else if (key == "K") {
      bar b;
      std::string open, close, o, h, l, c, v;
      ls >> b.interval >> open >> close >> o >> h >> l >> c >> v >> b.n;
      b.open_ms = iso_ms(open);
      b.close_ms = iso_ms(close);
      b.o = dec(o), b.h = dec(h), b.l = dec(l), b.c = dec(c), b.v = dec(v);
      sc.expected.push_back(b);
    } else if (key == "filled") { // filled 1m <first open> <last open> <count> <price>: empty 1m bars
      std::string iv, first, last, price;
      int count = 0;
      ls >> iv >> first >> last >> count >> price;
      REQUIRE(iv == "1m");
      const auto a = iso_ms(first), z = iso_ms(last);
      REQUIRE((z - a) / 60'000 + 1 == count);
      for (auto at = a; at <= z; at += 60'000)
        sc.expected.push_back({iv, at, at + 59'999, dec(price), dec(price), dec(price), dec(price), dec("0"), 0});
    } else if (key == "outside") {
      ls >> sc.outside;
    } else {
      FAIL("unknown line in " << name << ": " << line);
    }
  }
  REQUIRE(!sc.market.empty());
  REQUIRE(sc.outside >= 0);
  return sc;
}

void run_scenario(const std::string& name) {
  auto sc = read_scenario(name);
  auto set = mi::calendar::load_calendars(std::string(MI_SOURCE_DIR) + "/deploy/calendars");
  REQUIRE(set.has_value());
  const auto* cal = set->find(sc.market);
  REQUIRE(cal != nullptr);
  ke::batch_aggregator agg(sc.opts, cal);
  std::vector<mi::kline> finals;
  int outside = 0;
  for (const auto& t : sc.trades) {
    auto r = agg.add(t, finals);
    CHECK(r.rejected == mi::reject_reason::none);
    CHECK(r.late == 0);
    outside += r.outside_session != ke::outside::none;
  }
  agg.finish(finals);
  std::vector<bar> got;
  for (const auto& k : finals) {
    CHECK(k.revision == 0);
    got.push_back(
      {k.interval, k.open_time_ms, k.close_time_ms, k.open, k.high, k.low, k.close, k.volume, k.trade_count});
  }
  std::sort(got.begin(), got.end());
  std::sort(sc.expected.begin(), sc.expected.end());
  CHECK(outside == sc.outside);
  std::string got_text, want_text;
  for (const auto& b : got)
    got_text += show(b) + "\n";
  for (const auto& b : sc.expected)
    want_text += show(b) + "\n";
  REQUIRE_MESSAGE(got.size() == sc.expected.size(), "got:\n" << got_text << "want:\n" << want_text);
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& g = got[i];
    const auto& w = sc.expected[i];
    const bool ok = g.interval == w.interval && g.open_ms == w.open_ms && g.close_ms == w.close_ms && same(g.o, w.o) &&
                    same(g.h, w.h) && same(g.l, w.l) && same(g.c, w.c) && same(g.v, w.v) && g.n == w.n;
    CHECK_MESSAGE(ok, "got  " << show(g) << "\nwant " << show(w));
  }
}

} // namespace

TEST_CASE("session klines: Shanghai lunch break, 1h windows per half-day, auction prints at 09:30 and 14:59") {
  run_scenario("xshg_lunch_auctions.txt");
}

TEST_CASE("session klines: Shanghai fill covers session minutes only, no bars on a holiday") {
  run_scenario("xshg_holiday_fill.txt");
}

TEST_CASE("session klines: New York early close and Thanksgiving") { run_scenario("xnys_early_close_holiday.txt"); }

TEST_CASE("session klines: New York across the March and November DST switches (1m, 1h, 1d, 1w)") {
  run_scenario("xnys_dst.txt");
}

TEST_CASE("session klines: a date beyond the calendar's data is outside (no_calendar), never guessed") {
  auto set = mi::calendar::load_calendars(std::string(MI_SOURCE_DIR) + "/deploy/calendars");
  REQUIRE(set.has_value());
  ke::options o;
  o.intervals = {*ke::parse_interval("1m")};
  ke::symbol_windows w("test", "TEST", o, nullptr, set->find("XSHG"));
  mi::trade t;
  t.exchange = "test";
  t.symbol = "TEST";
  t.trade_id = "1";
  t.price = dec("1");
  t.quantity = dec("1");
  t.ts_ns = iso_ms("2027-03-01T02:00:00.000Z") * 1'000'000; // Monday 10:00 in Shanghai, 2027 not in the data
  auto r = w.add(t, 1);
  CHECK(r.outside_session == ke::outside::no_calendar);
  CHECK(r.accepted == 0);
  CHECK(w.watermark_ms() == std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("session klines: CRYPTO (always open) keeps the UTC windows") {
  ke::options o;
  o.intervals = {*ke::parse_interval("1d")};
  const auto crypto = mi::calendar::calendar::crypto();
  ke::batch_aggregator agg(o, &crypto);
  std::vector<mi::kline> finals;
  mi::trade t;
  t.exchange = "binance";
  t.symbol = "BTCUSDT";
  t.trade_id = "1";
  t.price = dec("1");
  t.quantity = dec("1");
  t.ts_ns = iso_ms("2026-03-07T23:59:59.000Z") * 1'000'000; // a Saturday night: open
  CHECK(agg.add(t, finals).outside_session == ke::outside::none);
  agg.finish(finals);
  REQUIRE(finals.size() == 1);
  CHECK(finals[0].open_time_ms == iso_ms("2026-03-07T00:00:00.000Z"));
  CHECK(finals[0].close_time_ms == iso_ms("2026-03-07T23:59:59.999Z"));
}

TEST_CASE("session klines: a refreshed calendar is taken between sessions, never under an open window") {
  // XNYS from the file, then as a refresh reports it: Tuesday 2026-12-01 closes early at 13:00 (hand-made answer).
  auto file = mi::calendar::load_calendars(std::string(MI_SOURCE_DIR) + "/deploy/calendars");
  REQUIRE(file.has_value());
  const auto* before = file->find("XNYS");
  REQUIRE(before != nullptr);
  mi::calendar::calendar after = *before;
  const auto dec1 = mi::util::days_from_civil(2026, 12, 1);
  REQUIRE(after.merge(dec1, dec1, {{dec1, 9 * 60 + 30, 13 * 60}}).has_value());
  ke::options o;
  o.intervals = {*ke::parse_interval("1h"), *ke::parse_interval("1d")};
  ke::symbol_windows w("alpaca", "AAPL", o, nullptr, before);
  auto trade = [](const std::string& id, const std::string& at) {
    mi::trade t;
    t.exchange = "alpaca";
    t.symbol = "AAPL";
    t.trade_id = id;
    t.price = dec("100");
    t.quantity = dec("1");
    t.ts_ns = iso_ms(at) * 1'000'000;
    return t;
  };
  // Monday 2026-11-30 15:00 New York (EST, UTC-5): the 1h and 1d windows of that day are open.
  CHECK(w.add(trade("1", "2026-11-30T20:00:00.000Z"), 1).accepted == 2);
  CHECK_FALSE(w.set_sessions(&after)); // refused: the windows keep the bounds they opened with
  std::vector<mi::kline> finals;
  w.close_by_wall_clock(iso_ms("2026-12-01T06:00:00.000Z"), finals); // the night: both windows closed
  CHECK(finals.size() == 2);
  CHECK(w.set_sessions(&after));
  // Tuesday 13:30 New York: inside the file's session, after the refreshed early close.
  CHECK(w.add(trade("2", "2026-12-01T18:30:00.000Z"), 2).outside_session == ke::outside::closed);
  // 12:45: the 1h window is 12:30-13:00 (cut at the new close), the 1d window 09:30-13:00.
  CHECK(w.add(trade("3", "2026-12-01T17:45:00.000Z"), 3).accepted == 2);
  finals.clear();
  w.close_all(finals);
  REQUIRE(finals.size() == 2);
  for (const auto& k : finals) {
    CAPTURE(k.interval);
    CHECK(k.close_time_ms == iso_ms("2026-12-01T17:59:59.999Z"));
    CHECK(k.open_time_ms == iso_ms(k.interval == "1h" ? "2026-12-01T17:30:00.000Z" : "2026-12-01T14:30:00.000Z"));
  }
}
