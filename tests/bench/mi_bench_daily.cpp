// The Alpaca daily job's work for the full US universe (issue 13): one 1Day page of 10,000 bars (Alpaca's
// multi-symbol shape, as the simulator serves it) parsed, compared field by field with 10,000 1d klines, every
// symbol's differences as the table's jsonb and the day's report. Baseline in the same run: a raw scan of the same
// bytes (counting '{'). Prints the median of `runs` runs. With a third argument `pg`: also the day's two PostgreSQL
// transactions (the bars through equity_writer, the quality rows through quality_store) on a fresh local server.
// Usage: mi_bench_daily [runs] [symbols] [pg].
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "connectors/alpaca/daily_job.hpp"
#include "connectors/alpaca/rest.hpp"
#include "gateways/postgres/equity_store.hpp"
#include "gateways/postgres/postgres.hpp"
#include "gateways/postgres/quality_store.hpp"
#include "market.pb.h"
#include "tests/harness/pg_server.hpp"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string ticker(std::size_t i) { // AAAA, AAAB, ...: 4 letters, distinct
  std::string t(4, 'A');
  for (int k = 3; k >= 0; --k, i /= 26)
    t[static_cast<std::size_t>(k)] = static_cast<char>('A' + i % 26);
  return t;
}

} // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  const std::size_t n = argc > 2 ? static_cast<std::size_t>(std::atoll(argv[2])) : 10000;
  std::vector<std::string> universe;
  std::string page = R"({"bars":{)";
  std::vector<mi::kline> ours;
  for (std::size_t i = 0; i < n; ++i) {
    universe.push_back(ticker(i));
    const auto cents = 1000 + static_cast<long>(i % 5000);
    const std::string px = std::to_string(cents / 100) + "." + std::to_string(100 + cents % 100).substr(1);
    page += (i == 0 ? "\"" : ",\"") + universe.back() + R"(":[{"t":"2026-12-02T05:00:00Z","o":)" + px + R"(,"h":)" +
            px + R"(,"l":)" + px + R"(,"c":)" + px + R"(,"v":)" + std::to_string(1000 + i) + R"(,"n":)" +
            std::to_string(10 + i % 90) + R"(,"vw":)" + px + "}]";
    mi::kline k;
    k.exchange = "alpaca";
    k.symbol = universe.back();
    k.interval = "1d";
    k.open = k.high = k.low = k.close = *mi::decimal::parse(px);
    k.volume = *mi::decimal::parse(std::to_string(1000 + i + (i % 100 == 0 ? 1 : 0))); // 1 % differ
    k.trade_count = 10 + i % 90;
    ours.push_back(std::move(k));
  }
  page += R"(},"next_page_token":null})";
  std::vector<double> raw, job;
  std::size_t sink = 0, mismatched = 0;
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    sink += static_cast<std::size_t>(std::count(page.begin(), page.end(), '{'));
    auto t1 = std::chrono::steady_clock::now();
    auto parsed = mi::alpaca::parse_bars_page(page, true);
    if (!parsed || parsed->bars.size() != n) {
      std::fprintf(stderr, "parse failed\n");
      return 1;
    }
    auto c = mi::alpaca::compare_day(universe, parsed->bars, ours);
    for (const auto& s : c.symbols)
      sink += mi::alpaca::differences_json(s.differences).size();
    sink += mi::alpaca::day_report_json(20'424, "live", c).size();
    mismatched = c.mismatched();
    auto t2 = std::chrono::steady_clock::now();
    raw.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    job.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  std::printf("%zu symbols, page %.1f MB, %zu mismatched: raw scan %.2f ms, parse+compare+rows+report %.1f ms "
              "(median of %d; sink %zu)\n",
              n, static_cast<double>(page.size()) / 1e6, mismatched, median(raw), median(job), runs, sink % 10);
  if (argc <= 3 || std::string(argv[3]) != "pg")
    return 0;
  mi::test::pg_server pg;
  if (!mi::gw::migrate(pg.conninfo())) {
    std::fprintf(stderr, "migrate failed\n");
    return 1;
  }
  mi::gw::equity_writer bars(pg.conninfo());
  mi::gw::quality_store quality(pg.conninfo());
  auto parsed = mi::alpaca::parse_bars_page(page, true);
  const auto c = mi::alpaca::compare_day(universe, parsed->bars, ours);
  std::vector<double> bar_ms, row_ms;
  for (int r = 0; r < runs; ++r) {
    std::vector<market::v1::DailyBar> rows;
    for (const auto& b : parsed->bars) {
      market::v1::DailyBar d;
      d.set_venue("alpaca");
      d.set_symbol(b.symbol);
      d.set_market("XNYS");
      d.set_trading_day("2026-12-02");
      d.set_source("alpaca");
      d.set_adjustment(market::v1::ADJUSTMENT_NONE);
      d.set_open(b.open.to_string());
      d.set_high(b.high.to_string());
      d.set_low(b.low.to_string());
      d.set_close(b.close.to_string());
      d.set_volume(std::to_string(r) + b.volume.to_string()); // other values each run: every row revised
      d.set_trade_count(b.trade_count);
      d.set_fetched_at_ns(1'796'300'000'000'000'000 + r);
      rows.push_back(std::move(d));
    }
    std::vector<mi::gw::quality_row> q;
    for (const auto& s : c.symbols)
      q.push_back({"alpaca", s.symbol, "XNYS", "2026-12-02", "alpaca", static_cast<int>(s.differences.size()),
                   mi::alpaca::differences_json(s.differences), 1'796'300'000'000'000'000 + r});
    auto t0 = std::chrono::steady_clock::now();
    auto w1 = bars.write({}, rows);
    auto t1 = std::chrono::steady_clock::now();
    auto w2 = quality.write(q);
    auto t2 = std::chrono::steady_clock::now();
    if (!w1 || !w2) {
      std::fprintf(stderr, "write failed\n");
      return 1;
    }
    bar_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    row_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  std::printf("PostgreSQL: %zu daily bars %.0f ms, %zu quality rows %.0f ms (median of %d)\n", parsed->bars.size(),
              median(bar_ms), c.symbols.size(), median(row_ms), runs);
  return 0;
}
