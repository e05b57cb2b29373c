// mi_bench_book_e2e: end-to-end latency of an order-book delta to a push client, real processes.
//
//   mi_bench_book_e2e [--count N] [--rate R]      (defaults: N = 20000 trades, R = 1000 trades/s)
//
// One run: nats-server -js, `market-ingestor simulate --exchange binance` (every trade moves the BTCUSDT book by
// one update: one depthUpdate frame per update), `market-ingestor run --roles ingest,push` with
// exchanges.binance.books (depth 20, snapshot_interval 10s), and two WebSocket clients on this machine:
//   - baseline: a client subscribed to the simulator's own btcusdt@depth@100ms stream: now - the frame's E (the
//     simulator's wall clock at sending, ms: truncation adds 0..1 ms);
//   - platform: a push client subscribed to book.binance.BTCUSDT: for every delta, now - recv_ns (the platform's
//     receive time of the exchange frame, ns: the platform's own path: book codec, publisher, JetStream ack path,
//     MARKET_BOOK ordered consumer, push hub, client session, WebSocket) and now - ts_ns (the exchange event time E,
//     the same clock and the same ms truncation as the baseline: the whole path as a user sees it).
// Prints count, p50, p90, p99 and max of each, in microseconds.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "messages/util/clock.hpp"
#include "tests/harness/nats_server.hpp"
#include "tests/harness/process.hpp"

namespace {

using namespace std::chrono_literals;
namespace t = mi::test;

/// The integer after `"key":` in `text`, or -1.
std::int64_t field(const std::string& text, const char* key) {
  const std::string k = std::string("\"") + key + "\":";
  auto at = text.find(k);
  if (at == std::string::npos)
    return -1;
  return std::strtoll(text.c_str() + at + k.size(), nullptr, 10);
}

struct samples {
  std::mutex mu;
  std::vector<std::int64_t> ns;
  void add(std::int64_t v) {
    std::lock_guard<std::mutex> lock(mu);
    ns.push_back(v);
  }
  void print(const char* what) {
    std::lock_guard<std::mutex> lock(mu);
    if (ns.empty()) {
      std::printf("%-34s no samples\n", what);
      return;
    }
    std::sort(ns.begin(), ns.end());
    auto q = [&](double p) { return static_cast<double>(ns[static_cast<std::size_t>(p * (ns.size() - 1))]) / 1e3; };
    std::printf("%-34s n=%-7zu p50 %8.0f us  p90 %8.0f us  p99 %8.0f us  max %8.0f us\n", what, ns.size(), q(0.5),
                q(0.9), q(0.99), static_cast<double>(ns.back()) / 1e3);
  }
};

std::shared_ptr<mi::net::ws_client> client(mi::net::io_thread& io, const std::string& url, std::string subscribe,
                                           std::function<void(const std::string&)> on_text) {
  mi::net::ws_handlers h;
  auto sub = std::make_shared<std::string>(std::move(subscribe));
  auto self = std::make_shared<std::weak_ptr<mi::net::ws_client>>();
  h.on_open = [self, sub] {
    if (auto c = self->lock())
      c->send(*sub);
  };
  h.on_text = [on_text = std::move(on_text)](std::string&& s, std::int64_t) { on_text(s); };
  h.on_close = [](std::string) {};
  auto c = mi::net::ws_client::create(io.context(), *mi::net::parse_url(url), {}, std::move(h));
  *self = c;
  c->start();
  return c;
}

} // namespace

int main(int argc, char** argv) {
  std::uint64_t count = 20000;
  int rate = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--count")
      count = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--rate")
      rate = std::atoi(argv[i + 1]);
  }
  t::temp_dir dir("mi-bench-book");
  t::nats_server nats;
  const int sim_port = t::free_port(), push_port = t::free_port(), metrics_port = t::free_port();
  {
    std::ofstream cfg(dir.path() + "/config.yaml");
    cfg << "nats:\n  url: " << nats.url() << "\n"
        << "exchanges:\n  binance:\n    enabled: true\n    ws_url: ws://127.0.0.1:" << sim_port << "/stream\n"
        << "    rest_url: http://127.0.0.1:" << sim_port << "\n    symbols: [BTC/USDT]\n"
        << "    books:\n      enabled: true\n      depth: 20\n      snapshot_interval: 10s\n"
        << "push:\n  listen: 127.0.0.1:" << push_port << "\n  queue_size: 65536\napi:\n  auth: \"off\"\n"
        << "metrics:\n  listen: 127.0.0.1:" << metrics_port << "\n";
  }
  t::child_process sim({MI_BINARY, "simulate", "--exchange", "binance", "--port", std::to_string(sim_port), "--symbols",
                        "BTCUSDT", "--rate", std::to_string(rate), "--count", std::to_string(count), "--linger-ms",
                        "600000"},
                       dir.path() + "/sim.log");
  if (!t::wait_for_port(sim_port, 10s)) {
    std::fprintf(stderr, "simulator did not start\n");
    return 1;
  }
  const std::string log = dir.path() + "/platform.log";
  t::child_process platform({MI_BINARY, "run", "--config", dir.path() + "/config.yaml", "--roles", "ingest,push"}, log);
  if (!t::eventually([&] { return t::read_file(log).find("\nready") != std::string::npos || !platform.running(); },
                     30s) ||
      !platform.running()) {
    std::fprintf(stderr, "platform did not start:\n%s\n", t::read_file(log).c_str());
    return 1;
  }
  mi::net::io_thread io;
  samples baseline, platform_path, whole_path;
  std::atomic<std::uint64_t> deltas{0}, direct{0};
  auto direct_client =
    client(io, "ws://127.0.0.1:" + std::to_string(sim_port) + "/stream",
           R"({"method":"SUBSCRIBE","params":["btcusdt@depth@100ms"],"id":1})", [&](const std::string& s) {
             const auto now = mi::util::now_ns();
             const auto e = field(s, "E");
             if (e > 0) {
               baseline.add(now - e * 1'000'000);
               ++direct;
             }
           });
  auto push_client = client(io, "ws://127.0.0.1:" + std::to_string(push_port) + "/",
                            R"({"op":"subscribe","channels":["book.binance.BTCUSDT"]})", [&](const std::string& s) {
                              const auto now = mi::util::now_ns();
                              if (s.find(R"("type":"delta")") == std::string::npos)
                                return;
                              platform_path.add(now - field(s, "recv_ns"));
                              whole_path.add(now - field(s, "ts_ns"));
                              ++deltas;
                            });
  // Until the simulator's updates stop (it lingers after its count) and the deltas stop coming.
  std::uint64_t last = 0;
  int quiet = 0;
  while (quiet < 3) {
    std::this_thread::sleep_for(1s);
    const auto d = deltas.load();
    quiet = d == last && d > 0 ? quiet + 1 : 0;
    last = d;
  }
  std::printf("book delta latency, %llu trades at %d/s (one book update each), depth 20\n",
              static_cast<unsigned long long>(count), rate);
  baseline.print("baseline: simulator -> client (E)");
  whole_path.print("platform: exchange E -> push client");
  platform_path.print("platform: recv_ns -> push client");
  std::printf("direct frames %llu, push deltas %llu\n", static_cast<unsigned long long>(direct.load()),
              static_cast<unsigned long long>(deltas.load()));
  // What the platform itself counted (book messages published by kind, resyncs).
  if (auto u = mi::net::parse_url("http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics")) {
    if (auto text = mi::net::http_get(*u, 5s)) {
      std::istringstream in(*text);
      for (std::string line; std::getline(in, line);)
        if (line.rfind("mi_book_", 0) == 0 || line.rfind("mi_push_dropped", 0) == 0)
          std::printf("  %s\n", line.c_str());
    }
  }
  push_client->close();
  direct_client->close();
  platform.signal(SIGTERM);
  platform.wait_for(60s);
  sim.kill_hard();
  return 0;
}
