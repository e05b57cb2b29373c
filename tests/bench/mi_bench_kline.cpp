// mi_bench_kline: aggregation throughput of mi::kline_engine::symbol_windows on one core.
//
//   mi_bench_kline [--rounds R] [--count N] [--calendar XNYS]   (defaults: 5 rounds of 1000000 trades, crypto)
//
// --calendar M: the symbol aggregates on market M's sessions (the session mapper of an equities venue); the trades
// start at M's open on 2026-03-02, so with the default count (2.8 h) they stay inside New York's session (XSHG's
// lunch break puts some outside: those are counted, not aggregated).
//
// One symbol, the six default intervals 1m,5m,15m,1h,4h,1d, trades 10 ms apart (1M trades span
// ~2.8 h, so 1m/5m/15m/1h windows close during the run). Per trade: add() then
// close_by_event_time() (what the platform's kline stage does per trade); take_partials() every
// 1000 trades with a clock advancing 1 s each time. Trades are generated before timing.

#include <algorithm>
#include <optional>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "messages/calendar/calendar.hpp"
#include "messages/kline/kline_engine.hpp"
#include "messages/trade.hpp"

namespace {

// Time on this thread's CPU, not wall time: on a shared, overloaded machine it leaves out the
// time the benchmark waits for a core (cache and memory contention from other work still count).
struct cpu_clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<cpu_clock>;
  static constexpr bool is_steady = true;
  static time_point now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return time_point(duration(static_cast<rep>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec));
  }
};

std::vector<mi::trade> make_trades(std::size_t n, std::int64_t start_ns) {
  std::vector<mi::trade> out;
  out.reserve(n);
  std::uint64_t state = 42;
  std::int64_t ticks = 5'800'000;
  for (std::size_t i = 0; i < n; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    ticks += static_cast<std::int64_t>((state >> 33) % 11) - 5;
    mi::trade t;
    t.exchange = "binance";
    t.symbol = "BTCUSDT";
    t.base = "BTC";
    t.quote = "USDT";
    t.set_id(std::to_string(700'000'000 + i));
    t.price = *mi::decimal::from_parts(ticks, 2);
    t.quantity = *mi::decimal::from_parts(static_cast<std::int64_t>((state >> 20) % 200'000) + 1, 5);
    t.taker_side = ((state >> 50) & 1) ? mi::side::buy : mi::side::sell;
    t.ts_ns = start_ns + static_cast<std::int64_t>(i) * 10'000'000;
    t.recv_ns = t.ts_ns;
    out.push_back(std::move(t));
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

} // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  std::size_t count = 1'000'000;
  std::string market;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--rounds")
      rounds = std::atoi(argv[i + 1]);
    else if (a == "--count")
      count = static_cast<std::size_t>(std::atoll(argv[i + 1]));
    else if (a == "--calendar")
      market = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: %s [--rounds R] [--count N] [--calendar MARKET]\n", argv[0]);
      return 2;
    }
  }
  mi::kline_engine::options opts;
  for (const char* name : {"1m", "5m", "15m", "1h", "4h", "1d"}) {
    auto iv = mi::kline_engine::parse_interval(name);
    if (!iv) {
      std::fprintf(stderr, "bad interval %s: %s\n", name, iv.err().message.c_str());
      return 1;
    }
    opts.intervals.push_back(*iv);
  }
  std::int64_t start_ns = 1'617'580'800'000'000'000LL; // 2021-04-05 00:00:00 UTC
  std::optional<mi::calendar::calendar_set> calendars;
  const mi::calendar::calendar* cal = nullptr;
  if (!market.empty()) {
    auto dir = mi::calendar::resolve_calendar_dir("");
    auto set = dir ? mi::calendar::load_calendars(*dir) : mi::result<mi::calendar::calendar_set>(dir.err());
    if (!set) {
      std::fprintf(stderr, "calendars: %s\n", set.err().message.c_str());
      return 1;
    }
    calendars = std::move(*set);
    cal = calendars->find(market);
    auto day = cal != nullptr ? cal->session_on({2026, 3, 2})
                              : mi::result<std::optional<mi::calendar::session>>(mi::error{"unknown market " + market});
    if (!day || !*day) {
      std::fprintf(stderr, "no session of %s on 2026-03-02\n", market.c_str());
      return 1;
    }
    start_ns = (*day)->open_ns;
  }
  const auto trades = make_trades(count, start_ns);
  std::printf("mi_bench_kline: %d rounds x %zu trades, one symbol, intervals 1m,5m,15m,1h,4h,1d%s%s "
              "(rates per thread CPU second)\n",
              rounds, count, market.empty() ? "" : ", calendar ", market.c_str());
  std::vector<double> rates;
  for (int r = 0; r < rounds; ++r) {
    mi::kline_engine::symbol_windows w("binance", "BTCUSDT", opts, nullptr, cal);
    std::vector<mi::kline> finals, partials;
    std::size_t n_finals = 0, n_partials = 0, accepted = 0, outside = 0;
    std::int64_t now_ms = trades.front().ts_ns / 1'000'000;
    auto t0 = cpu_clock::now();
    for (std::size_t i = 0; i < trades.size(); ++i) {
      const auto res = w.add(trades[i], i + 1);
      accepted += static_cast<std::size_t>(res.accepted);
      outside += static_cast<std::size_t>(res.outside_session != mi::kline_engine::outside::none);
      w.close_by_event_time(finals);
      n_finals += finals.size();
      finals.clear();
      if (i % 1000 == 999) {
        now_ms += 1000;
        w.take_partials(now_ms, partials);
        n_partials += partials.size();
        partials.clear();
      }
    }
    w.close_all(finals);
    n_finals += finals.size();
    double secs = std::chrono::duration<double>(cpu_clock::now() - t0).count();
    if (accepted != (trades.size() - outside) * opts.intervals.size())
      throw std::runtime_error("not every trade was accepted by every interval");
    rates.push_back(static_cast<double>(trades.size()) / secs);
    std::printf("round %d: %.0f trades/s (%.3f s, %zu finals, %zu partials, %zu outside the sessions)\n", r + 1,
                rates.back(), secs, n_finals, n_partials, outside);
    std::fflush(stdout);
  }
  std::printf("median: %.0f trades/s (x6 intervals = %.0f window updates/s)\n", median(rates), median(rates) * 6);
  return 0;
}
