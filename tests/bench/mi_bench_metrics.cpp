// mi_bench_metrics: the cost of counting one event, before and after the probes (issue 10, item 5).
//
//   mi_bench_metrics [--benchmark_repetitions=5 --benchmark_report_aggregates_only=true]
//
// "lookup" is what every event cost before the probes: build the label strings, then Family::Add (a lock, a hash
// of the labels, a map search) and the increment, as gateways/metrics did per frame, trade and ack.
// "probe" is the same event through the probe taken once at start (an atomic load and the increment).
// Both count into a real prometheus-cpp registry; both run in the same process, same build.

#include <benchmark/benchmark.h>

#include <mutex>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <string>
#include <string_view>

#include "gateways/metrics/metrics.hpp"

namespace {

std::string s(std::string_view v) { return std::string(v); }

// The old per-event path, verbatim from the metrics class before the probes.
struct lookup_metrics {
  prometheus::Registry reg;
  prometheus::Family<prometheus::Counter>& received =
    prometheus::BuildCounter().Name("mi_trades_received_total").Help("x").Register(reg);
  prometheus::Family<prometheus::Counter>& rejected =
    prometheus::BuildCounter().Name("mi_frames_rejected_total").Help("x").Register(reg);
  prometheus::Family<prometheus::Histogram>& latency =
    prometheus::BuildHistogram().Name("mi_ingest_latency_seconds").Help("x").Register(reg);
  std::mutex hist_mu;
  const prometheus::Histogram::BucketBoundaries buckets{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                                        0.1,    0.2,   0.5,   1,     2,    5};

  void trade_received(std::string_view ex, std::uint64_t n) {
    received.Add({{"exchange", s(ex)}}).Increment(static_cast<double>(n));
  }
  void frame_rejected(std::string_view ex, std::string_view reason) {
    rejected.Add({{"exchange", s(ex)}, {"reason", s(reason)}}).Increment();
  }
  void ingest_latency(std::string_view ex, double seconds) {
    prometheus::Histogram* h;
    {
      std::lock_guard<std::mutex> lock(hist_mu);
      h = &latency.Add({{"exchange", s(ex)}}, buckets);
    }
    h->Observe(seconds);
  }
};

lookup_metrics& old_metrics() {
  static lookup_metrics m;
  return m;
}
mi::gw::metrics& new_metrics() {
  static mi::gw::metrics m;
  return m;
}

// One label (exchange): a trade received.
void counter_lookup(benchmark::State& state) {
  auto& m = old_metrics();
  std::string_view ex = "binance"; // as the connection actor held it: a std::string in its args
  for (auto _ : state)
    m.trade_received(ex, 1);
}
void counter_probe(benchmark::State& state) {
  auto& p = new_metrics().connection("binance");
  for (auto _ : state)
    p.trade_received(1);
}

// Two labels (exchange, reason): a frame rejected.
void two_labels_lookup(benchmark::State& state) {
  auto& m = old_metrics();
  for (auto _ : state)
    m.frame_rejected("binance", "malformed");
}
void two_labels_probe(benchmark::State& state) {
  auto& p = new_metrics().connection("binance");
  for (auto _ : state)
    p.frame_rejected(mi::gw::frame_reject::malformed);
}

// A histogram observation (exchange): the ingest latency of one acked trade.
void histogram_lookup(benchmark::State& state) {
  auto& m = old_metrics();
  for (auto _ : state)
    m.ingest_latency("binance", 0.003);
}
void histogram_probe(benchmark::State& state) {
  auto& p = new_metrics().publish("binance");
  for (auto _ : state)
    p.ingest_latency(0.003);
}
// The ack path as it is now: the probe found by the exchange read from the subject (a match over the registry's
// names), then the observation.
void histogram_probe_by_name(benchmark::State& state) {
  auto& m = new_metrics();
  std::string_view ex = "kraken"; // the registry's last venue: the longest match
  for (auto _ : state)
    m.publish(ex).ingest_latency(0.003);
}

} // namespace

BENCHMARK(counter_lookup);
BENCHMARK(counter_probe);
BENCHMARK(counter_lookup)->Threads(2);
BENCHMARK(counter_probe)->Threads(2);
BENCHMARK(two_labels_lookup);
BENCHMARK(two_labels_probe);
BENCHMARK(histogram_lookup);
BENCHMARK(histogram_probe);
BENCHMARK(histogram_probe_by_name);

BENCHMARK_MAIN();
