// mi_bench_cluster: the platform on a NATS cluster (issue 16), two measurements in one run.
//
//   mi_bench_cluster [--rounds R] [--count N] [--latency M] [--kills K] [--ttl-s T]
//                    (defaults: 3 rounds of 100000 messages, 2000 latency samples, 10 kills, lease TTL 6 s)
//
// 1. Replication: the same trades (protobuf, Nats-Msg-Id, as the publisher sends them) through our gateway into
//    MARKET_RAW with 1 replica on one nats-server (the raw baseline) and with 3 replicas on a 3-node loopback
//    cluster, alternating which goes first, a fresh stream per run: async throughput (publish_async of N, then
//    flush: every ack in) and the latency of one acked publish (publish_sync, M in a row: p50/p99).
// 2. Takeover: two `market-ingestor run --roles kline` nodes with klines.partitions 2 on the cluster; K times:
//    wait until each holds one lease, kill -9 the holder of partition 0, time until the other node holds both
//    leases (read from the bucket MI_KLINE_LEASES), start the killed node again. Prints p50/p99.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "gateways/jetstream/jetstream.hpp"
#include "tests/bench/bench_trades.hpp"
#include "messages/codec.hpp"
#include "messages/trade.hpp"
#include "tests/harness/nats_server.hpp"
#include "tests/harness/process.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double percentile(std::vector<double> v, double q) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::vector<mi::gw::outgoing> make_messages(std::size_t n, std::size_t first) {
  std::vector<mi::gw::outgoing> out;
  out.reserve(n);
  for (std::size_t i = first; i < first + n; ++i)
    out.push_back(mi::bench::bench_message(mi::bench::bench_trade(i)));
  return out;
}

std::unique_ptr<mi::gw::jetstream> connect(const std::string& urls) {
  mi::gw::jetstream::options o;
  o.url = urls;
  o.max_retries = 1000;
  auto js = mi::gw::jetstream::connect(o);
  if (!js)
    throw std::runtime_error(js.err().message);
  return std::move(*js);
}

// A fresh stream with `replicas` and subjects of its own ("bench{run}.market.raw.>": streams may not overlap).
std::string fresh_stream(mi::gw::jetstream& js, int replicas, int run) {
  mi::gw::stream_spec s;
  s.name = "BENCH_R" + std::to_string(replicas) + "_" + std::to_string(run);
  s.subjects = {"bench" + std::to_string(run) + ".market.raw.>"};
  s.replicas = replicas;
  auto st = js.ensure_stream(s);
  if (!st)
    throw std::runtime_error(st.err().message);
  return s.name;
}

struct sample {
  double msgs_per_s = 0;
  std::vector<double> latency_us;
};

sample measure(const std::string& urls, int replicas, int run, std::size_t count, std::size_t latency_n) {
  auto js = connect(urls);
  auto name = fresh_stream(*js, replicas, run);
  sample out;
  const auto prefix = "bench" + std::to_string(run) + ".";
  auto msgs = make_messages(count, 0);
  auto more = make_messages(latency_n, count);
  for (auto* v : {&msgs, &more})
    for (auto& m : *v)
      m.subject = prefix + m.subject;
  auto t0 = clock_type::now();
  for (const auto& m : msgs)
    if (auto r = js->publish_async(m); !r)
      throw std::runtime_error(r.err().message);
  if (auto f = js->flush(120s); !f)
    throw std::runtime_error(f.err().message);
  out.msgs_per_s = static_cast<double>(count) / seconds_since(t0);
  for (const auto& m : more) {
    auto t1 = clock_type::now();
    if (auto r = js->publish_sync(m); !r)
      throw std::runtime_error(r.err().message);
    out.latency_us.push_back(seconds_since(t1) * 1e6);
  }
  auto st = js->state(name);
  if (!st || st->messages != count + latency_n)
    throw std::runtime_error("stream " + name + " holds " + (st ? std::to_string(st->messages) : "?"));
  return out;
}

// --- takeover ---------------------------------------------------------------------------------

std::string kline_config(const std::string& dir, const std::string& urls, const std::string& node, int ttl_s) {
  auto path = dir + "/" + node + ".yaml";
  std::ofstream(path) << "nats:\n  url: " << urls << "\n  kv_replicas: 3\n"
                      << "klines:\n  intervals: [1s, 1m]\n  partitions: 2\n  lease_ttl: " << ttl_s << "s\n"
                      << "metrics:\n  listen: 127.0.0.1:" << mi::test::free_port() << "\n"
                      << "runtime:\n  node_id: " << node << "\n";
  return path;
}

std::unique_ptr<mi::test::child_process> start_kline(const std::string& config, const std::string& log) {
  return std::make_unique<mi::test::child_process>(
    std::vector<std::string>{MI_BINARY, "run", "--config", config, "--roles", "kline"}, log);
}

std::vector<std::string> owners(mi::gw::jetstream& js) {
  std::vector<std::string> out;
  for (int p = 0; p < 2; ++p) {
    auto e = js.kv_get_latest("MI_KLINE_LEASES", "p." + std::to_string(p));
    out.push_back(e && *e ? (*e)->value : "");
  }
  return out;
}

} // namespace

int main(int argc, char** argv) {
  int rounds = 3, kills = 10, ttl_s = 6;
  std::size_t count = 100000, latency_n = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--rounds")
      rounds = std::atoi(argv[i + 1]);
    else if (a == "--count")
      count = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--latency")
      latency_n = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--kills")
      kills = std::atoi(argv[i + 1]);
    else if (a == "--ttl-s")
      ttl_s = std::atoi(argv[i + 1]);
  }
  try {
    mi::test::nats_server single;
    mi::test::nats_cluster cluster(3);
    std::vector<double> r1_rate, r3_rate, r1_lat, r3_lat;
    for (int r = 0; r < rounds; ++r) {
      for (int k = 0; k < 2; ++k) { // alternate which goes first
        const bool r3 = (k == 0) == (r % 2 == 1);
        auto s = r3 ? measure(cluster.urls(), 3, r, count, latency_n) : measure(single.url(), 1, r, count, latency_n);
        std::printf("round %d %s: %.0f msgs/s, publish latency p50 %.0f us p99 %.0f us\n", r + 1,
                    r3 ? "R3 cluster" : "R1 single ", s.msgs_per_s, percentile(s.latency_us, 0.5),
                    percentile(s.latency_us, 0.99));
        (r3 ? r3_rate : r1_rate).push_back(s.msgs_per_s);
        auto& lat = r3 ? r3_lat : r1_lat;
        lat.insert(lat.end(), s.latency_us.begin(), s.latency_us.end());
      }
    }
    if (rounds > 0) {
      std::printf("median throughput: R1 %.0f msgs/s, R3 %.0f msgs/s (R3/R1 %.2f)\n", percentile(r1_rate, 0.5),
                  percentile(r3_rate, 0.5), percentile(r3_rate, 0.5) / percentile(r1_rate, 0.5));
      std::printf("publish latency (all rounds): R1 p50 %.0f us p99 %.0f us, R3 p50 %.0f us p99 %.0f us\n",
                  percentile(r1_lat, 0.5), percentile(r1_lat, 0.99), percentile(r3_lat, 0.5), percentile(r3_lat, 0.99));
    }
    std::fflush(stdout);

    if (kills <= 0)
      return 0;
    mi::test::temp_dir dir("mi-bench-cluster");
    auto js = connect(cluster.urls());
    const std::vector<std::string> nodes{"kline-a", "kline-b"};
    std::vector<std::string> configs;
    std::vector<std::unique_ptr<mi::test::child_process>> procs;
    for (const auto& n : nodes) {
      configs.push_back(kline_config(dir.path(), cluster.urls(), n, ttl_s));
      procs.push_back(start_kline(configs.back(), dir.path() + "/" + n + ".log"));
    }
    auto split = [&] {
      // A node that could not start (e.g. a stream lookup timed out on the loaded cluster) is started again.
      for (std::size_t i = 0; i < procs.size(); ++i)
        if (!procs[i]->running())
          procs[i] = start_kline(configs[i], dir.path() + "/" + nodes[i] + ".log");
      auto o = owners(*js);
      return o[0] != o[1] && !o[0].empty() && !o[1].empty();
    };
    std::vector<double> takeover_s;
    for (int k = 0; k < kills; ++k) {
      if (!mi::test::eventually(split, 60s))
        throw std::runtime_error("the two kline nodes did not split the partitions: " + owners(*js)[0] + "," +
                                 owners(*js)[1]);
      const auto victim = owners(*js)[0] == nodes[0] ? 0 : 1;
      const auto& survivor = nodes[static_cast<std::size_t>(1 - victim)];
      procs[static_cast<std::size_t>(victim)]->kill_hard();
      auto t0 = clock_type::now();
      if (!mi::test::eventually(
            [&] {
              auto o = owners(*js);
              return o[0] == survivor && o[1] == survivor;
            },
            60s))
        throw std::runtime_error("no takeover within 60 s");
      takeover_s.push_back(seconds_since(t0));
      std::printf("kill %d: %s's partition taken over by %s after %.2f s\n", k + 1,
                  nodes[static_cast<std::size_t>(victim)].c_str(), survivor.c_str(), takeover_s.back());
      std::fflush(stdout);
      procs[static_cast<std::size_t>(victim)] = start_kline(
        configs[static_cast<std::size_t>(victim)], dir.path() + "/" + nodes[static_cast<std::size_t>(victim)] + ".log");
    }
    std::printf("takeover after kill -9 (lease TTL %d s, %d kills): p50 %.2f s, p99 %.2f s, max %.2f s\n", ttl_s, kills,
                percentile(takeover_s, 0.5), percentile(takeover_s, 0.99),
                *std::max_element(takeover_s.begin(), takeover_s.end()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mi_bench_cluster: %s\n", e.what());
    return 1;
  }
  return 0;
}
