// Order-book benchmark (Google Benchmark): book deltas applied per second on one core, the checksum cost per update,
// and whole frames through the OKX and Kraken v2 codecs (parse + apply + checksum), with a raw baseline in the same
// run: the same deltas into a std::map<double, double> parsed with strtod (what a book that does not keep exact
// decimals nor the exchange's text costs). Results and the command: docs/performance.md "Order books".
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <boost/crc.hpp>

#include "connectors/kraken/book.hpp"
#include "messages/book/crc32.hpp"
#include "connectors/okx/book.hpp"
#include "messages/book/order_book.hpp"

namespace {

using mi::book::side;

struct delta {
  side s;
  std::string price;
  std::string qty;
};

/// A deterministic delta stream over a 1000-level book around 30000.0 with 0.1 ticks: most changes near the top
/// (geometric distance from the mid), one in five a removal (later re-added), quantities with 8 decimals.
std::vector<delta> make_deltas(std::size_t n) {
  std::mt19937_64 rng(42);
  std::geometric_distribution<int> distance(0.05);
  std::uniform_int_distribution<int> qty(1, 500'000'000);
  std::vector<delta> out;
  out.reserve(n);
  char buf[64];
  for (std::size_t i = 0; i < n; ++i) {
    const bool bid = (rng() & 1) != 0;
    const int ticks = std::min(distance(rng), 999) + 1;
    const long price_ticks = bid ? 300000 - ticks : 300000 + ticks;
    std::snprintf(buf, sizeof buf, "%ld.%ld", price_ticks / 10, price_ticks % 10);
    std::string p = buf;
    std::string q = "0";
    if (rng() % 5 != 0) {
      const int x = qty(rng);
      std::snprintf(buf, sizeof buf, "%d.%08d", x / 100'000'000, x % 100'000'000);
      q = buf;
    }
    out.push_back({bid ? side::bid : side::ask, std::move(p), std::move(q)});
  }
  return out;
}

const std::vector<delta>& deltas() {
  static const std::vector<delta> d = make_deltas(1 << 16);
  return d;
}

void BM_book_apply_delta(benchmark::State& state) {
  const auto& d = deltas();
  mi::book::order_book book;
  for (const auto& x : d) // warm book
    book.set(x.s, x.price, x.qty);
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& x = d[i++ & (d.size() - 1)];
    benchmark::DoNotOptimize(book.set(x.s, x.price, x.qty));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_book_apply_delta);

void BM_raw_map_double_apply(benchmark::State& state) {
  const auto& d = deltas();
  std::map<double, double, std::greater<>> bids;
  std::map<double, double> asks;
  auto apply = [&](const delta& x) {
    const double p = std::strtod(x.price.c_str(), nullptr);
    const double q = std::strtod(x.qty.c_str(), nullptr);
    if (x.s == side::bid) {
      if (q == 0)
        bids.erase(p);
      else
        bids[p] = q;
    } else {
      if (q == 0)
        asks.erase(p);
      else
        asks[p] = q;
    }
  };
  for (const auto& x : d)
    apply(x);
  std::size_t i = 0;
  for (auto _ : state) {
    apply(d[i++ & (d.size() - 1)]);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_raw_map_double_apply);

mi::book::order_book warm_book() {
  mi::book::order_book book;
  for (const auto& x : deltas())
    book.set(x.s, x.price, x.qty);
  book.set_valid(true);
  return book;
}

void BM_checksum_kraken_top10(benchmark::State& state) {
  const mi::book::order_book book = warm_book();
  std::string scratch;
  for (auto _ : state)
    benchmark::DoNotOptimize(mi::kraken::book_checksum(book, scratch));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_checksum_kraken_top10);

void BM_checksum_okx_top25(benchmark::State& state) {
  const mi::book::order_book book = warm_book();
  std::string scratch;
  for (auto _ : state)
    benchmark::DoNotOptimize(mi::okx::book_checksum(book, scratch));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_checksum_okx_top25);

/// The CRC-32 alone over a 25-level OKX checksum text: zlib (ours) and Boost.CRC's byte table.
std::string okx_text() {
  const mi::book::order_book book = warm_book();
  std::string scratch;
  mi::okx::book_checksum(book, scratch);
  return scratch;
}

void BM_crc32_zlib(benchmark::State& state) {
  const std::string text = okx_text();
  for (auto _ : state)
    benchmark::DoNotOptimize(mi::book::crc32(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_crc32_zlib);

void BM_crc32_boost(benchmark::State& state) {
  const std::string text = okx_text();
  for (auto _ : state) {
    boost::crc_32_type crc;
    crc.process_bytes(text.data(), text.size());
    benchmark::DoNotOptimize(crc.checksum());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_crc32_boost);

std::vector<std::string> fixture(const std::string& name) {
  std::vector<std::string> lines;
  std::ifstream in(std::string(MI_FIXTURES_DIR) + "/books/" + name);
  for (std::string l; std::getline(in, l);)
    if (!l.empty())
      lines.push_back(l);
  return lines;
}

/// Whole recorded frames through a codec (parse, apply, truncate, checksum), the snapshot again every round.
/// Items = levels carried by the frames (snapshot included).
template <class Codec>
void run_codec(benchmark::State& state, const std::string& set, std::string_view level_start) {
  const auto frames = fixture(set + ".frames.jsonl");
  if (frames.empty()) {
    state.SkipWithError(("fixture " + set + " missing").c_str());
    return;
  }
  std::size_t changes = 0; // levels in the frames, counted by how each level starts (OKX `["`, Kraken `{"price"`)
  for (const auto& f : frames)
    for (std::size_t at = 0; (at = f.find(level_start, at)) != std::string::npos; ++at)
      ++changes;
  Codec codec;
  std::size_t bad = 0;
  for (auto _ : state) {
    for (const auto& f : frames)
      bad += codec.on_frame(f).checksum_ok == false;
  }
  if (bad != 0)
    state.SkipWithError("checksum mismatch");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * changes));
  state.counters["frames/s"] =
    benchmark::Counter(static_cast<double>(state.iterations() * frames.size()), benchmark::Counter::kIsRate);
}

void BM_codec_okx_frames(benchmark::State& state) { run_codec<mi::okx::book_sync>(state, "okx.BTC-USDT", "[\""); }
BENCHMARK(BM_codec_okx_frames);

void BM_codec_kraken_v2_frames(benchmark::State& state) {
  run_codec<mi::kraken::book_sync>(state, "kraken_v2.BTC-USD", "{\"price\"");
}
BENCHMARK(BM_codec_kraken_v2_frames);

} // namespace

BENCHMARK_MAIN();
