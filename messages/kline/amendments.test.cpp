// Trade amendments (Alpaca corrections and cancels, docs/architecture.md "Trade amendments"): the windows holding the
// amended trade are re-aggregated from the amended history and published as revision + 1, compared with the
// hand-computed bars of tests/data/alpaca/amendments/.
#include <doctest/doctest.h>

#include "tests/harness/iso_time.hpp"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "messages/calendar/calendar.hpp"
#include "messages/codec.hpp"
#include "messages/kline/kline_engine.hpp"
#include "messages/util/civil_time.hpp"

namespace ke = mi::kline_engine;

namespace {

const std::string data_dir = std::string(MI_SOURCE_DIR) + "/tests/data/alpaca/amendments/";

using mi::test::iso_ms;

std::vector<mi::trade> read_messages() {
  std::ifstream in(data_dir + "messages.jsonl");
  REQUIRE(in.good());
  std::vector<mi::trade> out;
  for (std::string line; std::getline(in, line);) {
    auto t = mi::trade_from_json(line);
    REQUIRE_MESSAGE(t.has_value(), line);
    out.push_back(std::move(*t));
  }
  return out;
}

// One expected final as text, in the same shape as `show` prints a kline.
std::vector<std::string> read_expected() {
  std::ifstream in(data_dir + "expected_finals.txt");
  REQUIRE(in.good());
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (auto h = line.find('#'); h != std::string::npos)
      line = line.substr(0, h);
    std::istringstream ls(line);
    std::string k, iv, open, close, o, h, l, c, v, qv, n, first, last, rev;
    if (!(ls >> k))
      continue;
    REQUIRE(k == "K");
    REQUIRE((ls >> iv >> open >> close >> o >> h >> l >> c >> v >> qv >> n >> first >> last >> rev));
    out.push_back(iv + " " + std::to_string(iso_ms(open)) + " " + std::to_string(iso_ms(close)) + " " + o + " " + h +
                  " " + l + " " + c + " " + v + " " + qv + " " + n + " " + first + " " + last + " r" + rev);
  }
  return out;
}

std::string show(const mi::kline& k) {
  return k.interval + " " + std::to_string(k.open_time_ms) + " " + std::to_string(k.close_time_ms) + " " +
         k.open.to_string() + " " + k.high.to_string() + " " + k.low.to_string() + " " + k.close.to_string() + " " +
         k.volume.to_string() + " " + k.quote_volume.to_string() + " " + std::to_string(k.trade_count) + " " +
         k.first_trade_id + " " + k.last_trade_id + " r" + std::to_string(k.revision);
}

ke::options options_1m_5m_1d() {
  ke::options o;
  for (const char* iv : {"1m", "5m", "1d"})
    o.intervals.push_back(*ke::parse_interval(iv));
  o.grace_ms = 1000;
  return o;
}

// Feeds the messages to one symbol's windows as the kline stage does: trades through add(), an amendment through
// rebuild_for_amendment (the history before it) and amend(); every window closes once the trades are in.
struct stage {
  ke::options opts = options_1m_5m_1d();
  const mi::calendar::calendar* cal;
  ke::symbol_windows w;
  std::vector<std::pair<mi::trade, std::uint64_t>> history;
  std::vector<mi::kline> finals;
  std::uint64_t seq = 0;

  explicit stage(const mi::calendar::calendar* c) : cal(c), w("alpaca", "AAPL", opts, nullptr, c) {}

  ke::amend_result feed(const mi::trade& t) {
    ++seq;
    ke::amend_result r;
    if (t.is_amendment()) {
      auto rebuilt = ke::rebuild_for_amendment("alpaca", "AAPL", opts, cal, history, t);
      if (rebuilt.amended_ts_ns)
        r = w.amend(*rebuilt.windows, *rebuilt.amended_ts_ns, seq);
      w.close_by_event_time(finals);
    } else {
      auto a = w.add(t, seq);
      CHECK(a.accepted == 3);
      w.close_by_event_time(finals);
    }
    history.emplace_back(t, seq);
    return r;
  }
};

} // namespace

TEST_CASE("amendments: a correction and a cancel revise exactly the windows holding the trade, as hand-computed") {
  auto set = mi::calendar::load_calendars(std::string(MI_SOURCE_DIR) + "/deploy/calendars");
  REQUIRE(set.has_value());
  const auto* xnys = set->find("XNYS");
  REQUIRE(xnys != nullptr);
  const auto messages = read_messages();
  REQUIRE(messages.size() == 10);
  stage s(xnys);
  for (std::size_t i = 0; i < 7; ++i)
    s.feed(messages[i]);
  s.w.close_all(s.finals); // the trading day is over: every window final (revision 0)
  const auto correction = s.feed(messages[7]);
  CHECK(correction.revised == 3); // 1m 10:00, 5m 10:00, 1d
  CHECK(correction.too_late == 0);
  const auto cancel = s.feed(messages[8]);
  CHECK(cancel.revised == 3); // 1m 10:01, 5m 10:00, 1d
  const auto unknown = s.feed(messages[9]);
  CHECK(unknown.revised == 0);
  std::vector<std::string> got;
  for (const auto& k : s.finals) {
    CHECK(k.is_final);
    got.push_back(show(k));
  }
  // Revision 0 comes in the order the windows closed (close_all: by interval); compare as sets per revision step.
  auto expected = read_expected();
  REQUIRE(got.size() == expected.size());
  std::vector<std::string> got0(got.begin(), got.begin() + 7), exp0(expected.begin(), expected.begin() + 7);
  std::sort(got0.begin(), got0.end());
  std::sort(exp0.begin(), exp0.end());
  CHECK(got0 == exp0);
  for (std::size_t i = 7; i < got.size(); ++i) {
    // After each amendment the revised finals come by interval (1m, 5m, 1d), as the file lists them.
    CHECK(got[i] == expected[i]);
  }
}

TEST_CASE("amendments: an amendment the restored windows already hold is not applied twice") {
  auto set = mi::calendar::load_calendars(std::string(MI_SOURCE_DIR) + "/deploy/calendars");
  REQUIRE(set.has_value());
  const auto* xnys = set->find("XNYS");
  const auto messages = read_messages();
  stage s(xnys);
  for (std::size_t i = 0; i < 7; ++i)
    s.feed(messages[i]);
  s.w.close_all(s.finals);
  s.feed(messages[7]); // the correction, at seq 8
  // A restart from the checkpoint taken after it: the replay meets seq 8 again.
  const auto cp = s.w.current_checkpoint();
  ke::symbol_windows restored("alpaca", "AAPL", s.opts, &cp, xnys);
  std::vector<std::pair<mi::trade, std::uint64_t>> history(s.history.begin(), s.history.begin() + 7);
  auto rebuilt = ke::rebuild_for_amendment("alpaca", "AAPL", s.opts, xnys, history, messages[7]);
  REQUIRE(rebuilt.amended_ts_ns.has_value());
  auto r = restored.amend(*rebuilt.windows, *rebuilt.amended_ts_ns, 8);
  CHECK(r.revised == 0);
  CHECK(r.replayed == 3);
  std::vector<mi::kline> finals;
  restored.close_by_event_time(finals);
  CHECK(finals.empty());
}

TEST_CASE("amendments: a correction of a corrected trade names the correction's id, a cancel then voids it") {
  auto set = mi::calendar::load_calendars(std::string(MI_SOURCE_DIR) + "/deploy/calendars");
  REQUIRE(set.has_value());
  const auto* xnys = set->find("XNYS");
  auto messages = read_messages();
  std::vector<std::pair<mi::trade, std::uint64_t>> history;
  for (std::size_t i = 0; i < 8; ++i) // seven trades and the correction 8-V of 2-V
    history.emplace_back(messages[i], i + 1);
  mi::trade again = messages[7];
  again.set_id("9-V");
  again.amends = "8-V"; // the correction's id
  again.price = *mi::decimal::parse("100.6");
  const auto opts = options_1m_5m_1d();
  auto rebuilt = ke::rebuild_for_amendment("alpaca", "AAPL", opts, xnys, history, again);
  REQUIRE(rebuilt.amended_ts_ns.has_value());
  CHECK(*rebuilt.amended_ts_ns == messages[1].ts_ns); // 2-V's time
  history.emplace_back(again, 9);
  mi::trade cancel = messages[8];
  cancel.amends = "9-V";
  auto gone = ke::rebuild_for_amendment("alpaca", "AAPL", opts, xnys, history, cancel);
  REQUIRE(gone.amended_ts_ns.has_value());
  std::vector<mi::kline> finals;
  gone.windows->close_all(finals);
  for (const auto& k : finals)
    if (k.interval == "1m" && k.open_time_ms == iso_ms("2026-11-18T15:00:00.000Z")) {
      CHECK(k.trade_count == 2); // 1-V and 3-D left
      CHECK(k.volume.to_string() == "30");
      CHECK(k.high.to_string() == "100.8");
    }
}
