// mi_bench_kline: aggregation throughput of mi::kline_engine::symbol_windows on one core.
//
//   mi_bench_kline [--rounds R] [--count N]      (defaults: 5 rounds of 1000000 trades)
//
// One symbol, the six default intervals 1m,5m,15m,1h,4h,1d, trades 10 ms apart (1M trades span
// ~2.8 h, so 1m/5m/15m/1h windows close during the run). Per trade: add() then
// close_by_event_time() (what the platform's kline stage does per trade); take_partials() every
// 1000 trades with a clock advancing 1 s each time. Trades are generated before timing.

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

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

std::vector<mi::trade> make_trades(std::size_t n) {
  std::vector<mi::trade> out;
  out.reserve(n);
  std::uint64_t state = 42;
  std::int64_t ticks = 5'800'000;
  const std::int64_t start_ns = 1'617'580'800'000'000'000LL; // 2021-04-05 00:00:00 UTC
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
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--rounds")
      rounds = std::atoi(argv[i + 1]);
    else if (a == "--count")
      count = static_cast<std::size_t>(std::atoll(argv[i + 1]));
    else {
      std::fprintf(stderr, "usage: %s [--rounds R] [--count N]\n", argv[0]);
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
  const auto trades = make_trades(count);
  std::printf("mi_bench_kline: %d rounds x %zu trades, one symbol, intervals 1m,5m,15m,1h,4h,1d "
              "(rates per thread CPU second)\n",
              rounds, count);
  std::vector<double> rates;
  for (int r = 0; r < rounds; ++r) {
    mi::kline_engine::symbol_windows w("binance", "BTCUSDT", opts);
    std::vector<mi::kline> finals, partials;
    std::size_t n_finals = 0, n_partials = 0, accepted = 0;
    std::int64_t now_ms = trades.front().ts_ns / 1'000'000;
    auto t0 = cpu_clock::now();
    for (std::size_t i = 0; i < trades.size(); ++i) {
      accepted += static_cast<std::size_t>(w.add(trades[i], i + 1).accepted);
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
    if (accepted != trades.size() * opts.intervals.size())
      throw std::runtime_error("not every trade was accepted by every interval");
    rates.push_back(static_cast<double>(trades.size()) / secs);
    std::printf("round %d: %.0f trades/s (%.3f s, %zu finals, %zu partials)\n", r + 1, rates.back(), secs, n_finals,
                n_partials);
    std::fflush(stdout);
  }
  std::printf("median: %.0f trades/s (x6 intervals = %.0f window updates/s)\n", median(rates), median(rates) * 6);
  return 0;
}
