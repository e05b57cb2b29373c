// Derivatives codecs (Google Benchmark, issue 15): frames per second per core through each venue's codec, over the
// documented example frames of tests/data/derivatives/ (every frame line, acks included, in turn), against a raw
// baseline in the same run: the same frames through a bare simdjson DOM parse (what any decoder pays before reading a
// field). Results and the command: docs/performance.md "Derivatives codecs".
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>
#include <vector>

#include <simdjson.h>

#include "connectors/binance/derivatives.hpp"
#include "connectors/bybit/derivatives.hpp"
#include "connectors/okx/derivatives.hpp"

namespace {

std::vector<std::string> frames_of(const std::string& set) {
  std::ifstream in(std::string(MI_SOURCE_DIR) + "/tests/data/derivatives/" + set + ".frames.jsonl");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      out.push_back(line);
  if (out.empty())
    std::abort(); // run from a tree with tests/data
  return out;
}

template <class Codec>
void run_codec(benchmark::State& state, const char* set) {
  const auto frames = frames_of(set);
  Codec codec;
  std::size_t i = 0, events = 0;
  for (auto _ : state) {
    auto r = codec.decode(frames[i], 1);
    if (!r)
      state.SkipWithError("a fixture frame failed to decode");
    events += r ? r->size() : 0;
    benchmark::DoNotOptimize(r);
    i = (i + 1) % frames.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["events_per_frame"] = static_cast<double>(events) / static_cast<double>(state.iterations());
}

void raw_parse(benchmark::State& state, const char* set) {
  const auto frames = frames_of(set);
  simdjson::dom::parser parser;
  std::size_t i = 0;
  for (auto _ : state) {
    simdjson::dom::element doc;
    auto ec = parser.parse(frames[i].data(), frames[i].size(), true).get(doc);
    benchmark::DoNotOptimize(ec);
    benchmark::DoNotOptimize(doc);
    i = (i + 1) % frames.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_binance_usdm_codec(benchmark::State& s) { run_codec<mi::binance::derivatives_codec>(s, "binance_usdm"); }
void BM_binance_usdm_raw_simdjson(benchmark::State& s) { raw_parse(s, "binance_usdm"); }
void BM_okx_swap_codec(benchmark::State& s) { run_codec<mi::okx::derivatives_codec>(s, "okx_swap"); }
void BM_okx_swap_raw_simdjson(benchmark::State& s) { raw_parse(s, "okx_swap"); }
void BM_bybit_linear_codec(benchmark::State& s) { run_codec<mi::bybit::derivatives_codec>(s, "bybit_linear"); }
void BM_bybit_linear_raw_simdjson(benchmark::State& s) { raw_parse(s, "bybit_linear"); }

BENCHMARK(BM_binance_usdm_codec);
BENCHMARK(BM_binance_usdm_raw_simdjson);
BENCHMARK(BM_okx_swap_codec);
BENCHMARK(BM_okx_swap_raw_simdjson);
BENCHMARK(BM_bybit_linear_codec);
BENCHMARK(BM_bybit_linear_raw_simdjson);

} // namespace

BENCHMARK_MAIN();
