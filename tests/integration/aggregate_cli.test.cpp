// `market-ingestor aggregate --calendar XSHG` as a user runs it: the binary, a hand-made trade file on stdin
// (tests/data/session_klines/xshg_aggregate_trades.jsonl: the trades of xshg_lunch_auctions.txt), final klines on
// stdout, compared with the hand-computed bars of xshg_lunch_auctions.txt (K lines). No servers.
#include <doctest/doctest.h>

#include "tests/harness/iso_time.hpp"

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "messages/codec.hpp"
#include "messages/decimal.hpp"
#include "tests/harness/process.hpp"

namespace {

const std::string data_dir = std::string(MI_SOURCE_DIR) + "/tests/data/session_klines/";

// "2026-03-02T01:30:00.000Z" -> ms (hand-made times, parsed here).
using mi::test::iso_ms;

std::string canon(const std::string& interval, std::int64_t open, std::int64_t close, const std::string& o,
                  const std::string& h, const std::string& l, const std::string& c, const std::string& v,
                  std::uint64_t n) {
  // Numbers compared by value: trailing fraction zeros dropped ("10.50" == "10.5").
  auto num = [](std::string x) {
    if (x.find('.') != std::string::npos) {
      while (x.back() == '0')
        x.pop_back();
      if (x.back() == '.')
        x.pop_back();
    }
    return x;
  };
  return interval + " " + std::to_string(open) + " " + std::to_string(close) + " " + num(o) + " " + num(h) + " " +
         num(l) + " " + num(c) + " " + num(v) + " " + std::to_string(n);
}

} // namespace

TEST_CASE("aggregate --calendar XSHG: the hand-computed bars of a Shanghai day (lunch break, auction prints)") {
  const auto trades = mi::test::read_file(data_dir + "xshg_aggregate_trades.jsonl");
  REQUIRE(!trades.empty());
  std::vector<std::string> want;
  std::istringstream expected(mi::test::read_file(data_dir + "xshg_lunch_auctions.txt"));
  for (std::string line; std::getline(expected, line);) {
    std::istringstream ls(line.substr(0, line.find('#')));
    std::string key, iv, open, close, o, h, l, c, v;
    std::uint64_t n = 0;
    if (!(ls >> key) || key != "K")
      continue;
    ls >> iv >> open >> close >> o >> h >> l >> c >> v >> n;
    want.push_back(canon(iv, iso_ms(open), iso_ms(close), o, h, l, c, v, n));
  }
  REQUIRE(want.size() == 12);
  const auto r = mi::test::run({MI_BINARY, "aggregate", "--intervals", "1m,1h,1d", "--calendar", "XSHG",
                                "--calendars-dir", std::string(MI_SOURCE_DIR) + "/deploy/calendars"},
                               trades);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  std::vector<std::string> got;
  std::istringstream out(r.output);
  for (std::string line; std::getline(out, line);) {
    auto k = mi::kline_from_json(line);
    REQUIRE_MESSAGE(k.has_value(), line);
    CHECK(k->exchange == "sse");
    CHECK(k->symbol == "600000SH");
    got.push_back(canon(k->interval, k->open_time_ms, k->close_time_ms, k->open.to_string(), k->high.to_string(),
                        k->low.to_string(), k->close.to_string(), k->volume.to_string(), k->trade_count));
  }
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  CHECK(got == want);
  // stderr: the three trades outside the sessions (09:10, 11:45, 15:05) are counted, not aggregated.
  const auto err = mi::test::run({MI_BINARY, "aggregate", "--intervals", "1m", "--calendar", "XSHG", "--calendars-dir",
                                  std::string(MI_SOURCE_DIR) + "/deploy/calendars"},
                                 trades, true);
  CHECK_MESSAGE(err.output.find("aggregate: 3 trades outside the XSHG sessions") != std::string::npos, err.output);
}

TEST_CASE("aggregate --calendar: an unknown market or a malformed calendar directory is a usage error (exit 2)") {
  const auto unknown = mi::test::run(
    {MI_BINARY, "aggregate", "--calendar", "XLON", "--calendars-dir", std::string(MI_SOURCE_DIR) + "/deploy/calendars"},
    "", true);
  CHECK(unknown.exit_code == 2);
  CHECK_MESSAGE(unknown.output.find("unknown market \"XLON\"") != std::string::npos, unknown.output);
  CHECK_MESSAGE(unknown.output.find("CRYPTO, XNYS, XSHE, XSHG") != std::string::npos, unknown.output);
  const auto missing = mi::test::run(
    {MI_BINARY, "aggregate", "--calendar", "XSHG", "--calendars-dir", "/nonexistent/calendars"}, "", true);
  CHECK(missing.exit_code == 2);
  CHECK_MESSAGE(missing.output.find("/nonexistent/calendars is not a directory") != std::string::npos, missing.output);
}
