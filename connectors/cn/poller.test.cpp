// The A-share venue's plain classes: poll windows from the calendar, the Tencent -> Sina failover with per-source
// rate limits and circuits, which snapshots are published, and minute bars from snapshots. Times are written by hand
// (2026-09-14 is a Monday, a trading day in deploy/calendars/xshg.cal; Shanghai is UTC+8).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/cn/minute_bars.hpp"
#include "connectors/cn/poller.hpp"
#include "connectors/cn/quote_tracker.hpp"
#include "market.pb.h"

namespace {

namespace docs = mi::documents;
constexpr std::int64_t s_ns = 1'000'000'000;
constexpr std::int64_t min_ns = 60 * s_ns;
/// 2026-09-14 09:30:00 Asia/Shanghai = 01:30:00Z (`date -u -d 2026-09-14T01:30:00Z +%s`).
constexpr std::int64_t t0930 = 1'789'349'400 * s_ns;
constexpr std::int64_t t1300 = t0930 + 210 * min_ns;
constexpr std::int64_t t1500 = t0930 + 330 * min_ns;

const mi::calendar::calendar_set& cals() {
  static const auto c = [] {
    auto r = mi::calendar::load_calendars(std::string(MI_SOURCE_DIR) + "/deploy/calendars");
    REQUIRE(r);
    return *r;
  }();
  return c;
}

mi::cn::symbol sym(const char* s) { return *mi::cn::parse_symbol(s); }

std::string fixture(const std::string& name) {
  std::ifstream in(std::filesystem::path(MI_FIXTURES_DIR) / "equities" / "cn" / name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

mi::cn::poller_settings settings() {
  mi::cn::poller_settings p;
  p.symbols = {sym("600000.SH"), sym("688111.SH")};
  p.tencent.url = "http://qt.test";
  p.sina.url = "http://hq.test";
  p.tencent.failure_threshold = 2;
  p.tencent.open_for_ns = 30 * s_ns;
  p.tencent.requests_per_second = 100;
  p.sina.requests_per_second = 100;
  p.interval_ns = 3 * s_ns;
  p.jitter = 0;
  return p;
}

const std::string sina_body = "var hq_str_sh600000=\"NAME,9.28,9.26,9.40,9.43,9.24,9.39,9.40,77187100,722307374,"
                              "114500,9.39,0,0,0,0,0,0,0,0,242500,9.40,0,0,0,0,0,0,0,0,2026-09-14,14:00:00,00\";\n"
                              "var hq_str_sh688111=\"\";\n";

mi::cn::poll_request want_request(mi::cn::quote_poller& p, std::int64_t now) {
  auto n = p.next(now);
  REQUIRE(std::holds_alternative<mi::cn::poll_request>(n));
  return std::get<mi::cn::poll_request>(n);
}

} // namespace

TEST_CASE("poll windows: auction to lunch and afternoon to the closing print plus grace, none at weekends") {
  const auto& xshg = *cals().find("XSHG");
  const std::int64_t grace = min_ns;
  auto at = [&](std::int64_t t) { return *mi::cn::poll_window_wait(xshg, t, grace); };
  CHECK(at(t0930 - 30 * min_ns) == 15 * min_ns); // 09:00: the opening auction starts 09:15
  CHECK(at(t0930 - 15 * min_ns) == 0);           // 09:15 auction
  CHECK(at(t0930 + 30 * min_ns) == 0);
  CHECK(at(t0930 + 120 * min_ns + 30 * s_ns) == 0);                  // 11:30:30, inside the grace
  CHECK(at(t0930 + 122 * min_ns) == t1300 - (t0930 + 122 * min_ns)); // 11:32: wait for 13:00
  CHECK(at(t1500 - min_ns) == 0);
  // 15:00 close, its print stamped up to 15:01 (calendar), then the grace: 15:02:30 waits for Tuesday 09:15.
  CHECK(at(t1500 + 150 * s_ns) == (24 * 60 - 330 - 15) * min_ns - 150 * s_ns);
  // Friday 2026-09-18 16:00 -> Monday 2026-09-21 09:15 (the weekend has no session).
  const std::int64_t fri1600 = t0930 + 4 * 1440 * min_ns + 390 * min_ns;
  CHECK(at(fri1600) == 3 * 1440 * min_ns - 390 * min_ns - 15 * min_ns);
  // Thursday 2026-09-24 16:00 -> Monday 2026-09-28 09:15: Friday 25th is the Mid-Autumn holiday.
  const std::int64_t thu1600 = t0930 + 10 * 1440 * min_ns + 390 * min_ns;
  CHECK(at(thu1600) == 4 * 1440 * min_ns - 390 * min_ns - 15 * min_ns);
}

TEST_CASE("outside the sessions the poller asks for nothing and says why") {
  mi::cn::quote_poller p(settings(), &cals(), 1, t0930 + 150 * min_ns); // 12:00, lunch
  auto n = p.next(t0930 + 150 * min_ns);
  REQUIRE(std::holds_alternative<std::int64_t>(n));
  CHECK(std::get<std::int64_t>(n) == 60 * min_ns);
  CHECK(p.idle_reason() == "outside the sessions");
  auto s = settings();
  s.sessions_only = false;
  mi::cn::quote_poller any(s, &cals(), 1, t0930 + 150 * min_ns);
  CHECK(std::holds_alternative<mi::cn::poll_request>(any.next(t0930 + 150 * min_ns)));
}

TEST_CASE("a failed primary request is asked of the secondary at once, an open primary circuit sends all there, "
          "and the primary serves again after its probe succeeds") {
  const auto tencent_body = fixture("tencent_qt_ashare_2026-09-14_UNVERIFIED_PROVENANCE.txt");
  REQUIRE(!tencent_body.empty());
  std::int64_t now = t0930 + 60 * min_ns;
  mi::cn::quote_poller p(settings(), &cals(), 1, now);
  auto r = want_request(p, now);
  CHECK(r.source == mi::cn::quote_source::tencent);
  CHECK(r.url == "http://qt.test/q=sh600000,sh688111");
  CHECK(!r.failover);
  auto step = p.on_response(r, 200, tencent_body, "", "", mi::cn::text_encoding::utf8, now);
  CHECK(step.outcome == docs::request_outcome::ok);
  CHECK(step.quotes.size() == 2);

  for (int failure = 1; failure <= 2; ++failure) { // two cycles with a failing primary
    CAPTURE(failure);
    now += 3 * s_ns;
    r = want_request(p, now);
    CHECK(r.source == mi::cn::quote_source::tencent);
    step = p.on_response(r, failure == 1 ? std::optional<int>(503) : std::nullopt, "", "", "timeout",
                         mi::cn::text_encoding::gbk, now);
    CHECK(step.retry_elsewhere);
    auto again = want_request(p, now);
    CHECK(again.source == mi::cn::quote_source::sina);
    CHECK(again.failover);
    CHECK(again.url == "http://hq.test/list=sh600000,sh688111");
    CHECK(again.headers.at(0).first == "Referer");
    step = p.on_response(again, 200, sina_body, "", "", mi::cn::text_encoding::utf8, now);
    CHECK(step.outcome == docs::request_outcome::ok);
    REQUIRE(step.quotes.size() == 1);
    CHECK(step.quotes[0].source == mi::cn::quote_source::sina);
    CHECK(step.empty == std::vector<std::string>{"sh688111"});
  }
  CHECK(p.state(mi::cn::quote_source::tencent) == docs::circuit_state::open);
  CHECK(p.serving() == mi::cn::quote_source::sina);
  now += 3 * s_ns; // open: the secondary serves without asking the primary
  r = want_request(p, now);
  CHECK(r.source == mi::cn::quote_source::sina);
  CHECK(!r.failover);
  (void)p.on_response(r, 200, sina_body, "", "", mi::cn::text_encoding::utf8, now);
  now += 30 * s_ns; // the circuit's wait is over: the primary's probe
  r = want_request(p, now);
  CHECK(r.source == mi::cn::quote_source::tencent);
  step = p.on_response(r, 200, tencent_body, "", "", mi::cn::text_encoding::utf8, now);
  CHECK(step.outcome == docs::request_outcome::ok);
  CHECK(p.state(mi::cn::quote_source::tencent) == docs::circuit_state::closed);
  CHECK(p.serving() == mi::cn::quote_source::tencent);
}

TEST_CASE("both sources failing a batch lose it for the cycle, visibly") {
  std::int64_t now = t0930 + 60 * min_ns;
  mi::cn::quote_poller p(settings(), &cals(), 1, now);
  auto r = want_request(p, now);
  (void)p.on_response(r, 500, "", "", "", mi::cn::text_encoding::gbk, now);
  r = want_request(p, now);
  CHECK(r.source == mi::cn::quote_source::sina);
  auto step = p.on_response(r, 200, "<html>blocked</html>", "", "", mi::cn::text_encoding::gbk, now);
  CHECK(step.outcome == docs::request_outcome::bad_body);
  CHECK(step.batch_lost);
  auto n = p.next(now); // nothing more this cycle
  REQUIRE(std::holds_alternative<std::int64_t>(n));
  CHECK(std::get<std::int64_t>(n) == 3 * s_ns);
  now += 3 * s_ns; // an empty 200 answer (a source's rate-limited answer) is a failure too: asked of Sina
  r = want_request(p, now);
  CHECK(r.source == mi::cn::quote_source::tencent);
  step = p.on_response(r, 200, "", "", "", mi::cn::text_encoding::gbk, now);
  CHECK(step.outcome == docs::request_outcome::bad_body);
  CHECK(step.error == "empty answer");
  CHECK(step.retry_elsewhere);
  CHECK(want_request(p, now).source == mi::cn::quote_source::sina);
}

TEST_CASE("each source keeps its own rate limit and honours Retry-After") {
  auto s = settings();
  s.tencent.batch_size = 1;
  s.tencent.requests_per_second = 2;
  s.tencent.burst = 1;
  std::int64_t now = t0930 + 60 * min_ns;
  mi::cn::quote_poller p(s, &cals(), 1, now);
  const auto body = fixture("tencent_qt_ashare_2026-09-14_UNVERIFIED_PROVENANCE.txt");
  auto r = want_request(p, now);
  CHECK(r.batch.size() == 1);
  (void)p.on_response(r, 200, body, "", "", mi::cn::text_encoding::utf8, now);
  auto n = p.next(now); // the second batch waits for Tencent's next token (0.5 s), not for Sina
  REQUIRE(std::holds_alternative<std::int64_t>(n));
  CHECK(std::get<std::int64_t>(n) == s_ns / 2);
  now += s_ns / 2;
  r = want_request(p, now);
  CHECK(r.source == mi::cn::quote_source::tencent);
  auto step = p.on_response(r, 429, "", "10", "", mi::cn::text_encoding::gbk, now);
  CHECK(step.outcome == docs::request_outcome::rate_limited);
  CHECK(want_request(p, now).source == mi::cn::quote_source::sina); // this batch, at once
  (void)p.on_response(want_request(p, now), 200, sina_body, "", "", mi::cn::text_encoding::utf8, now);
  now += 3 * s_ns; // still inside Tencent's Retry-After: the next cycle goes to Sina
  CHECK(want_request(p, now).source == mi::cn::quote_source::sina);
}

TEST_CASE("a snapshot is published when later and changed, once across sources, with a source-free dedup id") {
  auto a = mi::cn::parse_tencent(fixture("tencent_qt_ashare_2026-09-14_UNVERIFIED_PROVENANCE.txt"),
                                 mi::cn::text_encoding::utf8, 5);
  REQUIRE(a.quotes.size() == 2);
  auto q = a.quotes[0];
  mi::cn::quote_tracker t;
  CHECK(t.admit(q));
  CHECK(!t.admit(q)); // the same poll answer again
  auto later_same = q;
  later_same.ts_ns += s_ns;
  CHECK(!t.admit(later_same)); // nothing changed
  auto from_sina = q;
  from_sina.source = mi::cn::quote_source::sina;
  from_sina.volume = *mi::decimal::parse("77187200");
  CHECK(!t.admit(from_sina)); // not later than the last published: a failover source's older view
  CHECK(mi::cn::quote_dedup_id(from_sina) == mi::cn::quote_dedup_id(q));
  CHECK(mi::cn::quote_dedup_id(q) == "cn:600000.SH:1789373678000000000");
  from_sina.ts_ns += 2 * s_ns;
  CHECK(t.admit(from_sina));
  CHECK(t.last_ts_ns(q.sym) == q.ts_ns + 2 * s_ns);
  CHECK(mi::cn::quote_subject(q.sym) == "market.quote.cn.600000_SH");

  market::v1::Quote m;
  REQUIRE(m.ParseFromString(mi::cn::quote_payload(q)));
  CHECK(m.venue() == "cn");
  CHECK(m.symbol() == "600000.SH");
  CHECK(m.source() == "tencent");
  CHECK(m.ts_ns() == 1789373678000000000);
  CHECK(m.recv_ns() == 5);
  CHECK(m.trading_day() == "2026-09-14");
  CHECK(m.last() == "9.4");
  CHECK(m.volume() == "77187100");
  CHECK(m.turnover() == "722307374");
  CHECK(m.currency() == "CNY");
  REQUIRE(m.bids_size() == 5);
  CHECK(m.bids(0).price() == "9.39");
  CHECK(m.bids(0).size() == "114500");
  CHECK(m.asks(4).size() == "1058000");
}

namespace {

mi::cn::snapshot snap(std::int64_t ts, const char* last, std::int64_t volume, std::int64_t turnover) {
  mi::cn::snapshot s;
  s.sym = sym("600000.SH");
  s.ts_ns = ts;
  if (*last)
    s.last = mi::decimal::parse(last);
  s.volume = *mi::decimal::from_parts(volume, 0);
  s.turnover = *mi::decimal::from_parts(turnover, 0);
  return s;
}

std::string show(const mi::cn::minute_bar& b) {
  return std::to_string((b.open_time_ns - t0930) / min_ns) + " " + b.open.to_string() + " " + b.high.to_string() + " " +
         b.low.to_string() + " " + b.close.to_string() + " " + b.volume.to_string() + " " + b.turnover.to_string() +
         " " + std::to_string(b.snapshots);
}

} // namespace

TEST_CASE("minute bars from cumulative totals: auction print in the first minute, a missed poll a gap, the "
          "lunch break and the closing print in the right minutes") {
  mi::cn::minute_bars mb(cals().find("XSHG"));
  std::vector<mi::cn::minute_bar> bars;
  std::vector<mi::cn::minute_gap> gaps;
  auto feed = [&](const mi::cn::snapshot& s) {
    auto o = mb.on_snapshot(s);
    bars.insert(bars.end(), o.bars.begin(), o.bars.end());
    gaps.insert(gaps.end(), o.gaps.begin(), o.gaps.end());
  };
  feed(snap(t0930 - 10 * min_ns, "", 0, 0));                     // 09:20, auction, nothing traded
  feed(snap(t0930 - 4 * min_ns - 57 * s_ns, "9.3", 1000, 9300)); // 09:25:03, the opening print
  feed(snap(t0930 + 10 * s_ns, "9.32", 1500, 13960));            // 09:30:10
  feed(snap(t0930 + 40 * s_ns, "9.28", 2000, 18600));            // 09:30:40
  feed(snap(t0930 + 65 * s_ns, "9.35", 2600, 24210));            // 09:31:05
  // no poll in 09:32
  feed(snap(t0930 + 182 * s_ns, "9.36", 4000, 37310));                 // 09:33:02
  feed(snap(t0930 + 241 * s_ns, "9.37", 4100, 38247));                 // 09:34:01
  feed(snap(t0930 + 118 * min_ns + 30 * s_ns, "9.39", 89000, 830000)); // 11:28:30
  feed(snap(t0930 + 119 * min_ns + 30 * s_ns, "9.4", 90000, 840000));  // 11:29:30
  feed(snap(t0930 + 120 * min_ns + 2 * s_ns, "9.41", 90050, 840470));  // 11:30:02 (lunch: 11:29)
  feed(snap(t1300 + 3 * s_ns, "9.42", 90080, 840752));                 // 13:00:03
  feed(snap(t1500 - 90 * s_ns, "9.49", 199000, 1890000));              // 14:58:30
  feed(snap(t1500 - 30 * s_ns, "9.5", 200000, 1900000));               // 14:59:30
  feed(snap(t1500 + 2 * s_ns, "9.51", 200900, 1908559));               // 15:00:02, the closing print
  auto last = mb.flush();
  bars.insert(bars.end(), last.bars.begin(), last.bars.end());
  gaps.insert(gaps.end(), last.gaps.begin(), last.gaps.end());

  // minute (after 09:30), open high low close, volume, turnover, snapshots: computed by hand from the feed above.
  std::vector<std::string> want = {
    "0 9.3 9.32 9.28 9.28 2000 18600 4",  // 09:30 with the 09:20 and 09:25 auction snapshots
    "1 9.35 9.35 9.35 9.35 600 5610 1",   // 09:31
    "4 9.37 9.37 9.37 9.37 100 937 1",    // 09:34 (its base 09:33 was polled)
    "119 9.4 9.41 9.4 9.41 1050 10470 2", // 11:29 with the 11:30:02 snapshot, based on 11:28
    "210 9.42 9.42 9.42 9.42 30 282 1",   // 13:00, based on 11:29
    "329 9.5 9.51 9.5 9.51 1900 18559 2", // 14:59 with the 15:00:02 closing print, based on 14:58
  };
  REQUIRE(gaps.size() == 3);
  // 09:32-09:33: 09:33's totals cover two minutes. 09:35-11:28: the feed skipped 09:35-11:27 (11:28
  // has a snapshot but no base). 13:01-14:58 likewise (14:58
  // has a snapshot but no base in 14:57).
  CHECK((gaps[0].from_ns - t0930) / min_ns == 2);
  CHECK((gaps[0].to_ns - t0930) / min_ns == 4);
  CHECK((gaps[1].from_ns - t0930) / min_ns == 5);
  CHECK((gaps[1].to_ns - t0930) / min_ns == 119);
  CHECK((gaps[2].from_ns - t0930) / min_ns == 211);
  CHECK((gaps[2].to_ns - t0930) / min_ns == 329);
  std::vector<std::string> got;
  for (const auto& b : bars)
    got.push_back(show(b));
  for (std::size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    CAPTURE(i);
    CHECK((i < got.size() ? got[i] : "") == (i < want.size() ? want[i] : ""));
  }
}

TEST_CASE("minute bars become final 1m klines of venue cn on the subject token, without trade fields") {
  mi::cn::minute_bars mb(cals().find("XSHG"));
  mb.on_snapshot(snap(t0930 + 10 * s_ns, "9.32", 1500, 13960));
  mb.on_snapshot(snap(t0930 + 65 * s_ns, "9.35", 2600, 24210));
  auto o = mb.on_snapshot(snap(t0930 + 125 * s_ns, "9.3", 3000, 27930));
  REQUIRE(o.bars.size() == 1); // 09:31: volume 2600 - 1500, turnover 24210 - 13960 (by hand)
  const auto k = mi::cn::to_kline(o.bars[0]);
  CHECK(mi::kline_subject(k) == "market.kline.cn.600000_SH.1m");
  CHECK(k.symbol == "600000_SH");
  CHECK(k.open_time_ms * 1'000'000 == t0930 + 60 * s_ns);
  CHECK(k.close_time_ms == k.open_time_ms + 59'999);
  CHECK(k.open.to_string() == "9.35");
  CHECK(k.close.to_string() == "9.35");
  CHECK(k.volume.to_string() == "1100");
  CHECK(k.quote_volume.to_string() == "10250");
  CHECK(k.vwap.to_string() == "9.318181818181818181"); // 10250 / 1100, 18 digits truncated
  CHECK(k.trade_count == 0);
  CHECK(k.first_trade_id.empty());
  CHECK(k.taker_buy_volume.is_zero());
  CHECK(k.is_final);
  CHECK(k.revision == 0);
}
