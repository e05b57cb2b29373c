// Scale of the kline stage (issue 4, item 10): one symbol_window actor per (exchange, symbol),
// created on its first trade and passivated when idle, so memory stays bounded with 10,000+
// symbols. Real nats-server and the real `market-ingestor run --roles kline` process.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "gateways/jetstream/jetstream.hpp"
#include "messages/codec.hpp"
#include "messages/kline.hpp"
#include "messages/trade.hpp"
#include "tests/harness/nats_server.hpp"
#include "tests/harness/process.hpp"

using namespace std::chrono_literals;

namespace {

constexpr int symbols_per_round = 10'000;

// Memory after each round's passivation. What a forgotten symbol keeps is measured as the heap the process's
// allocations hold (mi_process_heap_bytes, glibc's count), the least of samples over 3 s, so that the passivation
// checkpoints still queued for the sink (10,000 KV writes, one round trip each) are not counted. 10,000 more symbols
// ever seen may add at most 512 KiB (~50 bytes each; measured 5-120 KB): before passivated symbols were forgotten
// they kept ~1.4 KB each, and until the checkpoints' fence forgot their revisions ~120 bytes each (1.2 MiB a round).
// VmRSS also holds what the allocator caches after a round's peak (which thread freed what, and when, decides how much:
// 0.2-2.9 MiB from round 2 to 3 from one run to the next), so only its total growth is bounded, over both rounds, with
// round 1's one-off warm-up in it. Measured figures: docs/performance.md §3d.
constexpr long long steady_heap_growth_bound = 512 * 1024;
constexpr long total_growth_bound_kib = 16 * 1024;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// VmRSS of a process, in KiB (-1 if unreadable).
long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

// The value of an unlabelled gauge in a Prometheus text page (-1 if absent).
double gauge(const std::string& page, const std::string& name) {
  std::istringstream in(page);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(name + " ", 0) == 0)
      return std::stod(line.substr(name.size() + 1));
  return -1;
}

// Symbol names of a round: R<round>S<i>USDT (base R1S42, quote USDT).
std::string symbol_of(int round, int i) { return "R" + std::to_string(round) + "S" + std::to_string(i) + "USDT"; }

struct kline_stage_process {
  mi::test::nats_server nats;
  mi::test::temp_dir dir{"mi-kline-scale"};
  int metrics_port = mi::test::free_port();
  std::unique_ptr<mi::test::child_process> proc;

  kline_stage_process() {
    std::ofstream cfg(dir.path() + "/config.yaml");
    cfg << "nats:\n  url: " << nats.url() << "\n"
        << "klines:\n  intervals: [1s]\n  grace: 500ms\n  partial_interval: 60s\n  idle_after: 1s\n"
        << "push:\n  listen: 127.0.0.1:" << mi::test::free_port() << "\n"
        << "metrics:\n  listen: 127.0.0.1:" << metrics_port << "\n";
    cfg.close();
    auto log = dir.path() + "/platform.log";
    proc = std::make_unique<mi::test::child_process>(
      std::vector<std::string>{MI_BINARY, "run", "--config", dir.path() + "/config.yaml", "--roles", "kline"}, log);
    bool ready =
      mi::test::eventually([&] { return mi::test::read_file(log).find("ready\n") != std::string::npos; }, 30s);
    if (!ready)
      FAIL("kline stage did not start:\n" << mi::test::read_file(log));
  }

  std::string log_tail() const {
    const auto log = mi::test::read_file(dir.path() + "/platform.log");
    return log.size() > 6000 ? log.substr(log.size() - 6000) : log;
  }

  std::string metrics() const {
    return mi::test::run({"curl", "-fsS", "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics"}).output;
  }
};

// Publishes one trade for each of `symbols_per_round` new symbols, stamped now.
void publish_round(mi::gw::jetstream& js, int round) {
  const std::int64_t now_ns = wall_ms() * 1'000'000;
  for (int i = 0; i < symbols_per_round; ++i) {
    mi::trade t;
    t.exchange = "binance";
    t.symbol = symbol_of(round, i);
    t.base = "R" + std::to_string(round) + "S" + std::to_string(i);
    t.quote = "USDT";
    t.trade_id = std::to_string(1000 + i);
    t.price = *mi::decimal::parse(std::to_string(1 + i % 97) + ".25");
    t.quantity = *mi::decimal::parse("0.5");
    t.taker_side = mi::side::buy;
    t.ts_ns = now_ns;
    t.recv_ns = now_ns;
    mi::gw::outgoing o{mi::raw_subject(t.exchange, t.symbol), mi::dedup_id(t), std::string(mi::trade_content_type),
                       mi::encode_trade_pb(t)};
    auto r = js.publish_async(o);
    if (!r)
      FAIL("publish: " << r.err().message);
  }
  auto f = js.flush(60s);
  if (!f)
    FAIL("flush: " << f.err().message);
}

} // namespace

TEST_CASE("kline scale: 3 x 10000 symbols each get their final, every window actor is passivated, RSS stays bounded") {
  kline_stage_process stage;
  mi::gw::jetstream::options o;
  o.url = stage.nats.url();
  auto js = mi::gw::jetstream::connect(o);
  if (!js)
    FAIL("connect: " << js.err().message);

  // Every final in MARKET_KLINE, by symbol (partials are ignored).
  std::mutex mu;
  std::set<std::string> finals;
  std::size_t duplicate_finals = 0;
  auto on_kline = [&](mi::gw::js_message&& m) {
    auto k = mi::decode_kline_pb(std::string(m.data()));
    if (!k || !k->is_final)
      return;
    std::lock_guard lock(mu);
    if (!finals.insert(k->symbol).second)
      ++duplicate_finals;
  };
  auto consumer = mi::gw::ordered_consumer::start(**js, "MARKET_KLINE", "market.kline.>", 1, on_kline);
  if (!consumer)
    FAIL("consume MARKET_KLINE: " << consumer.err().message);
  auto finals_of_round = [&](int round) {
    std::lock_guard lock(mu);
    std::size_t n = 0;
    for (int i = 0; i < symbols_per_round; ++i)
      n += finals.count(symbol_of(round, i));
    return n;
  };

  std::vector<long> rss;    // after each round's passivation, KiB
  std::vector<double> heap; // the least mi_process_heap_bytes of 12 samples 250 ms apart, right after
  for (int round = 1; round <= 3; ++round) {
    publish_round(**js, round);
    // Each symbol's 1s window closes by the wall clock (end + 500 ms grace): one final each.
    bool all = mi::test::eventually([&] { return finals_of_round(round) == symbols_per_round; }, 30s);
    CHECK_MESSAGE(all, "round " << round << ": finals for " << finals_of_round(round) << " of " << symbols_per_round
                                << " symbols");
    // idle_after 1s: every symbol_window actor gives its state back.
    double live = -1;
    bool passivated = mi::test::eventually(
      [&] {
        live = gauge(stage.metrics(), "mi_symbol_windows");
        return live == 0;
      },
      30s);
    CHECK_MESSAGE(passivated, "round " << round << ": mi_symbol_windows is " << live);
    rss.push_back(rss_kib(stage.proc->pid()));
    double least = -1;
    for (int i = 0; i < 12; ++i) {
      if (i > 0)
        std::this_thread::sleep_for(250ms);
      const double v = gauge(stage.metrics(), "mi_process_heap_bytes");
      least = least < 0 ? v : std::min(least, v);
    }
    heap.push_back(least);
    MESSAGE("round " << round << ": VmRSS " << rss.back() << " KiB, heap in use " << static_cast<long long>(heap.back())
                     << " bytes after passivating " << symbols_per_round << " symbols");
  }
  CHECK(duplicate_finals == 0);
  REQUIRE(rss.size() == 3);
  REQUIRE(rss[0] > 0);
  REQUIRE_MESSAGE(heap[0] > 0, "mi_process_heap_bytes is missing (built with MI_ALLOCATOR=mimalloc?)");
  CHECK_MESSAGE(heap[2] - heap[1] <= static_cast<double>(steady_heap_growth_bound),
                "heap in use grew by " << static_cast<long long>(heap[2] - heap[1])
                                       << " bytes from round 2 to round 3 (10000 more symbols; "
                                       << "bound " << steady_heap_growth_bound << ")");
  CHECK_MESSAGE(rss[2] - rss[0] <= total_growth_bound_kib,
                "VmRSS grew by " << rss[2] - rss[0] << " KiB from round 1 to round 3 (20000 more symbols; bound "
                                 << total_growth_bound_kib << " KiB)");
  consumer->reset();
  stage.proc->signal(SIGTERM);
  const int code = stage.proc->wait_for(60s);
  CHECK_MESSAGE(code == 0, "exit " << code << "; the log's end:\n" << stage.log_tail());
}
