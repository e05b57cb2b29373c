// mi_bench_lagging_pull: how fast a durable pull consumer that is far behind the end of MARKET_RAW drains it, and what
// that costs nats-server (docs/performance.md §21: the saver's slow runs).
//
//   mi_bench_lagging_pull [--count N] [--batch B]       (defaults: 500000 messages, batches of 5000)
//
// Starts its own `nats-server -js` (file storage, via mi_test_harness), publishes N trades to MARKET_RAW with our
// gateway (acked), then drains them with a fresh durable pull consumer as the trade saver does (mi::gw::pull_consumer:
// fetch B with a 1 s wait and 5 ms gathering, ack every message). Prints messages drained and nats-server CPU per
// 250 ms slice, then the drain's rate and the server's CPU µs per message.

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "gateways/jetstream/jetstream.hpp"
#include "tests/bench/bench_trades.hpp"
#include "tests/bench/proc_cpu.hpp"
#include "tests/harness/nats_server.hpp"

namespace {
using clock_type = std::chrono::steady_clock;
} // namespace

int main(int argc, char** argv) {
  std::size_t count = 500000;
  int batch = 5000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--count")
      count = std::stoul(argv[i + 1]);
    else if (k == "--batch")
      batch = std::stoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: mi_bench_lagging_pull [--count N] [--batch B]\n");
      return 2;
    }
  }
  try {
    mi::test::nats_server server;
    mi::gw::jetstream::options o;
    o.url = server.url();
    auto js = mi::gw::jetstream::connect(o);
    if (!js)
      throw std::runtime_error(js.err().message);
    mi::gw::stream_spec raw{"MARKET_RAW", {"market.raw.>"}};
    if (auto r = (*js)->ensure_stream(raw); !r)
      throw std::runtime_error(r.err().message);
    for (std::size_t i = 0; i < count; ++i)
      if (auto r = (*js)->publish_async(mi::bench::bench_message(mi::bench::bench_trade(i))); !r)
        throw std::runtime_error(r.err().message);
    if (auto r = (*js)->flush(std::chrono::seconds(300)); !r)
      throw std::runtime_error(r.err().message);
    std::printf("published %zu messages\n", count);

    mi::gw::pull_consumer::spec sp{"MARKET_RAW", "lagging", "market.raw.>"};
    sp.ack_wait = std::chrono::seconds(10);
    sp.max_ack_pending = 4 * batch + 1000; // as the trade saver
    auto c = mi::gw::pull_consumer::create(**js, sp);
    if (!c)
      throw std::runtime_error(c.err().message);
    const auto t0 = clock_type::now();
    const double cpu0 = mi::bench::proc_cpu(server.pid());
    auto slice_start = t0;
    double slice_cpu = cpu0;
    std::size_t drained = 0, slice_drained = 0;
    while (drained < count) {
      auto got = (*c)->fetch(batch, std::chrono::milliseconds(1000), std::chrono::milliseconds(5));
      if (!got)
        throw std::runtime_error(got.err().message);
      for (auto& m : *got)
        (void)m.ack();
      drained += got->size();
      slice_drained += got->size();
      auto now = clock_type::now();
      if (now - slice_start >= std::chrono::milliseconds(250) || drained >= count) {
        double cpu = mi::bench::proc_cpu(server.pid());
        double secs = std::chrono::duration<double>(now - slice_start).count();
        std::printf("t=%6.2f s  drained %7zu  %8.0f msgs/s  nats-server %3.0f %% of a core\n",
                    std::chrono::duration<double>(now - t0).count(), drained, slice_drained / secs,
                    100.0 * (cpu - slice_cpu) / secs);
        slice_start = now;
        slice_cpu = cpu;
        slice_drained = 0;
      }
      if (now - t0 > std::chrono::seconds(300))
        throw std::runtime_error("drain did not finish in 300 s");
    }
    double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    double cpu = mi::bench::proc_cpu(server.pid()) - cpu0;
    std::printf("drained %zu in %.2f s: %.0f msgs/s, nats-server %.1f µs CPU per message\n", drained, secs,
                static_cast<double>(drained) / secs, 1e6 * cpu / static_cast<double>(drained));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mi_bench_lagging_pull: %s\n", e.what());
    return 1;
  }
  return 0;
}
