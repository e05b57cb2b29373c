// mi_bench_e2e: sustained end-to-end throughput of `market-ingestor run`, real processes.
//
//   mi_bench_e2e [--count N] [--rates 20000,50000,80000] [--pg-set name=value]...
//                (defaults shown; N = 200000; --pg-set: a PostgreSQL setting, ALTER SYSTEM SET before the start)
//
// For every rate, in the same run:
//   1. simulator alone: `market-ingestor simulate --rate R --count N --record F` against a
//      WebSocket client that only counts trade frames (the simulator's own ceiling);
//   2. the platform: fresh nats-server -js (file store) and PostgreSQL 15 (defaults, fsync on,
//      as user postgres, track_commit_timestamp on), `market-ingestor run` (intervals [1m],
//      saver batch_size 5000), then the simulator at rate R for N trades. Measures
//        t0      = time of the first trade sent (its ts_ns in the --record file, ms resolution),
//        t_raw   = server timestamp of the N-th message stored in MARKET_RAW,
//        t_pg    = commit time of the last market_trades transaction,
//      (progress read from market_symbols.trade_count over one open connection, never count(*) while
//      measuring), checks MARKET_RAW holds exactly N and market_trades exactly N rows (zero loss, no
//      duplicates) and prints trades/s per stage, and the CPU microseconds per trade of each
//      process (platform, nats-server, PostgreSQL with its backends, simulator) from /proc, up to the
//      moment the platform and nats-server are idle after the last row (work that outlasts the rows, such
//      as a kline stage catching up, counts; "idle N s later" says how long that took), and the saver's backlog
//      (MARKET_RAW's messages minus the rows stored) sampled about once a second: its largest value and a line of
//      samples ~5 s apart. A pipeline that sustains the rate keeps that backlog within a batch or two throughout.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>
#include <unistd.h>

#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "messages/codec.hpp"
#include "tests/harness/nats_server.hpp"
#include "tests/harness/pg_server.hpp"
#include "tests/harness/process.hpp"

namespace {

using namespace std::chrono_literals;
namespace t = mi::test;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tail_of(const std::string& s, std::size_t n = 3000) { return s.size() <= n ? s : s.substr(s.size() - n); }

std::vector<std::string> simulator_argv(int port, double rate, std::uint64_t count, const std::string& record) {
  return {MI_BINARY,   "simulate",
          "--port",    std::to_string(port),
          "--symbols", "BTCUSDT,ETHUSDT",
          "--rate",    std::to_string(static_cast<long long>(rate)),
          "--count",   std::to_string(count),
          "--record",  record};
}

// First and last ts_ns of the --record file, and its line count.
struct record_span {
  std::int64_t first_ns = 0;
  std::int64_t last_ns = 0;
  std::uint64_t lines = 0;
};

record_span read_record(const std::string& path) {
  record_span s;
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    if (s.lines++ == 0) {
      auto tr = mi::trade_from_json(line);
      if (!tr)
        throw std::runtime_error("bad record line: " + tr.err().message);
      s.first_ns = tr->ts_ns;
    }
    last = line;
  }
  if (s.lines > 0) {
    auto tr = mi::trade_from_json(last);
    if (!tr)
      throw std::runtime_error("bad record line: " + tr.err().message);
    s.last_ns = tr->ts_ns;
  }
  return s;
}

// 1. The simulator against a client that only counts trade frames.
double simulator_alone(double rate, std::uint64_t count) {
  t::temp_dir dir("mi-bench-sim");
  const int port = t::free_port();
  t::child_process sim(simulator_argv(port, rate, count, dir.path() + "/recorded.jsonl"), dir.path() + "/sim.log");
  if (!t::wait_for_port(port, 10s))
    throw std::runtime_error("simulator did not listen:\n" + slurp(dir.path() + "/sim.log"));
  auto u = mi::net::parse_url("ws://127.0.0.1:" + std::to_string(port) + "/stream?streams=btcusdt@trade/ethusdt@trade");
  if (!u)
    throw std::runtime_error(u.err().message);
  std::atomic<std::uint64_t> frames{0};
  std::atomic<std::int64_t> first_ns{0}, last_ns{0};
  std::atomic<bool> closed{false};
  mi::net::io_thread io;
  mi::net::ws_handlers h;
  h.on_text = [&](std::string&& text, std::int64_t recv_ns) {
    if (text.find("\"data\"") == std::string::npos)
      return;
    if (frames.fetch_add(1) == 0)
      first_ns = recv_ns;
    last_ns = recv_ns;
  };
  h.on_close = [&](std::string) { closed = true; };
  auto ws = mi::net::ws_client::create(io.context(), *u, {}, std::move(h));
  ws->start();
  bool done = t::eventually([&] { return frames.load() >= count || closed.load(); }, 600s);
  ws->close();
  t::eventually([&] { return closed.load(); }, 5s);
  io.stop();
  if (!done || frames.load() != count)
    throw std::runtime_error("counting client got " + std::to_string(frames.load()) + " of " + std::to_string(count) +
                             " frames");
  double secs = static_cast<double>(last_ns.load() - first_ns.load()) / 1e9;
  return static_cast<double>(count - 1) / secs;
}

// CPU seconds a process has used, from /proc/<pid>/stat: utime + stime, plus cutime + cstime (its
// children that exited and were reaped: PostgreSQL's finished backends), plus, with `children`, the
// live children's own utime + stime (PostgreSQL's running backends and auxiliary processes).
double cpu_seconds(int pid, bool children = false) {
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  // Fields after the command name (which may hold spaces, so parse from the last ')').
  auto fields = [](int p) {
    std::string stat = slurp("/proc/" + std::to_string(p) + "/stat");
    std::vector<std::string> f;
    auto close = stat.rfind(')');
    if (close == std::string::npos)
      return f;
    std::stringstream ss(stat.substr(close + 2));
    for (std::string w; ss >> w;)
      f.push_back(w);
    return f; // f[0] = state (field 3), f[1] = ppid, f[11..14] = utime stime cutime cstime
  };
  if (pid <= 0)
    return 0;
  auto own = fields(pid);
  if (own.size() < 15)
    return 0;
  double t = std::stod(own[11]) + std::stod(own[12]) + std::stod(own[13]) + std::stod(own[14]);
  if (children) {
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const auto name = entry.path().filename().string();
      if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
        continue;
      auto f = fields(std::stoi(name));
      if (f.size() >= 15 && f[1] == std::to_string(pid))
        t += std::stod(f[11]) + std::stod(f[12]);
    }
  }
  return t / ticks;
}

// The CPU each process of the pipeline spent during a run.
struct cpu_use {
  double platform = 0, nats = 0, postgres = 0, simulator = 0;
  double total() const { return platform + nats + postgres + simulator; }
};

// One sample of the saver's backlog, about every second of a run: MARKET_RAW's messages and the rows stored.
struct backlog_sample {
  double s = 0; // since the platform was ready
  std::uint64_t raw = 0, stored = 0;
  std::int64_t behind() const { return static_cast<std::int64_t>(raw) - static_cast<std::int64_t>(stored); }
};

struct platform_result {
  double sim_rate = 0; // trades/s the simulator generated (record file span)
  double tail_s = 0;   // from the last trade generated to the last row's commit
  std::vector<backlog_sample> timeline;
  double ingest_rate = 0; // N / (t_raw - t0)
  double e2e_rate = 0;    // N / (t_pg - t0)
  double ingest_s = 0, e2e_s = 0;
  std::uint64_t raw_msgs = 0, rows = 0;
  cpu_use cpu;         // seconds, from the platform's start until it was idle after the last row stored
  double settle_s = 0; // from the last row stored until the platform and nats-server were idle
};

std::uint64_t pg_count(const t::pg_server& pg) {
  try {
    return std::stoull(pg.psql("SELECT count(*) FROM market_trades"));
  } catch (const std::exception&) {
    return 0; // table not there yet
  }
}

// Trades stored so far, as the saver counts them in the transaction that stores them (market_symbols.trade_count),
// over one connection kept open: the progress poll must not cost PostgreSQL a scan of market_trades (count(*) every
// 50 ms, each through a new psql backend, cost more CPU than the saver's own backend while it caught up: §29).
std::uint64_t pg_stored(pqxx::connection& c) {
  try {
    pqxx::nontransaction q(c);
    return q.exec1("SELECT coalesce(sum(trade_count), 0)::bigint FROM market_symbols")[0].as<std::uint64_t>();
  } catch (const pqxx::sql_error&) {
    return 0; // table not there yet
  }
}

// 2. The whole platform.
platform_result platform_run(double rate, std::uint64_t count, const std::vector<std::string>& pg_settings) {
  t::temp_dir dir("mi-bench-e2e");
  t::nats_server nats;
  t::pg_server pg;
  pg.psql("ALTER SYSTEM SET track_commit_timestamp = on");
  for (const auto& s : pg_settings) {
    const auto eq = s.find('=');
    pg.psql("ALTER SYSTEM SET " + s.substr(0, eq) + " = '" + s.substr(eq + 1) + "'");
  }
  pg.stop_immediate();
  pg.start();
  const int sim_port = t::free_port();
  const std::string cfg_path = dir.path() + "/config.yaml";
  {
    std::ofstream cfg(cfg_path);
    cfg << "nats:\n  url: " << nats.url() << "\n"
        << "postgres:\n  dsn: " << pg.conninfo() << "\n"
        << "exchanges:\n  binance:\n    enabled: true\n"
        << "    ws_url: ws://127.0.0.1:" << sim_port << "/stream\n"
        << "    rest_url: http://127.0.0.1:" << sim_port << "\n"
        << "    symbols: [BTC/USDT, ETH/USDT]\n"
        << "    reconnect:\n      initial: 100ms\n      max: 1s\n"
        << "klines:\n  intervals: [1m]\n  grace: 2s\n"
        << "saver:\n  batch_size: 5000\n  batch_timeout: 200ms\n"
        << "push:\n  listen: 127.0.0.1:" << t::free_port() << "\n"
        << "api:\n  listen: 127.0.0.1:" << t::free_port() << "\n  auth: off\n" // no client here
        << "metrics:\n  listen: 127.0.0.1:" << t::free_port() << "\n";
  }
  const std::string plog = dir.path() + "/platform.log";
  const std::string record = dir.path() + "/recorded.jsonl";
  // The simulator first, so the platform's first connect succeeds (it only generates while a
  // client is subscribed, so nothing is sent before the platform is up).
  t::child_process sim(simulator_argv(sim_port, rate, count, record), dir.path() + "/sim.log");
  if (!t::wait_for_port(sim_port, 10s))
    throw std::runtime_error("simulator did not listen:\n" + slurp(dir.path() + "/sim.log"));
  // BENCH_PLATFORM_PREFIX (not MI_*: the platform reads MI_* as config): words put before the platform's argv, e.g.
  // "gdb -batch -ex run -ex bt --args" to get a backtrace of a crash into platform.log.
  std::vector<std::string> argv;
  if (const char* prefix = std::getenv("BENCH_PLATFORM_PREFIX")) {
    std::stringstream ss(prefix);
    for (std::string w; ss >> w;)
      argv.push_back(w);
  }
  argv.insert(argv.end(), {MI_BINARY, "run", "--config", cfg_path});
  pqxx::connection poll(pg.conninfo());
  // CPU before the platform starts (the platform's own count starts at zero with its process).
  cpu_use before{0, cpu_seconds(nats.pid()), cpu_seconds(pg.postmaster_pid(), true), cpu_seconds(sim.pid())};
  t::child_process platform(argv, plog);
  if (!t::eventually([&] { return slurp(plog).find("ready\n") != std::string::npos; }, 60s))
    throw std::runtime_error("platform not ready:\n" + tail_of(slurp(plog)));

  mi::gw::jetstream::options o;
  o.url = nats.url();
  o.name = "mi-bench-e2e";
  auto js = mi::gw::jetstream::connect(o);
  if (!js)
    throw std::runtime_error(js.err().message);
  auto raw_count = [&]() -> std::uint64_t {
    auto st = (*js)->state("MARKET_RAW");
    return st ? st->messages : 0;
  };
  // The backlog about once a second: a sum over market_symbols' rows on the open connection, cheap for PostgreSQL.
  std::vector<backlog_sample> timeline;
  const auto ready = std::chrono::steady_clock::now();
  auto sampled = ready - 1s;
  // `stored()` is asked only when a sample is due.
  auto sample = [&](std::uint64_t raw, auto stored) {
    const auto now = std::chrono::steady_clock::now();
    if (now - sampled < 1s)
      return;
    sampled = now;
    timeline.push_back({std::chrono::duration<double>(now - ready).count(), raw, stored()});
  };
  // Waits until `get() >= count`, failing if there is no progress for 30 s; `on_value(n)` sees every value read
  // (for the backlog samples). Returns the last value.
  auto wait_progress = [&](auto get, const char* what, auto on_value) {
    std::uint64_t last = 0;
    auto last_change = std::chrono::steady_clock::now();
    for (;;) {
      auto n = get();
      on_value(n);
      if (n >= count)
        return n;
      if (n != last) {
        last = n;
        last_change = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - last_change > 30s) {
        throw std::runtime_error(std::string(what) + " stalled at " + std::to_string(n) + " of " +
                                 std::to_string(count) + "\nplatform log:\n" + tail_of(slurp(plog), 12000));
      }
      std::this_thread::sleep_for(50ms); // polling interval of an observer, not a race fix
    }
  };
  wait_progress(raw_count, "MARKET_RAW", [&](std::uint64_t n) { sample(n, [&] { return pg_stored(poll); }); });
  auto st = (*js)->state("MARKET_RAW");
  if (!st)
    throw std::runtime_error(st.err().message);
  auto last_msg = (*js)->get_message("MARKET_RAW", st->last_seq);
  if (!last_msg || !*last_msg)
    throw std::runtime_error("cannot read the last MARKET_RAW message");
  const std::int64_t t_raw = (*last_msg)->timestamp_ns();
  const std::uint64_t stored = wait_progress([&] { return pg_stored(poll); }, "market_trades",
                                             [&](std::uint64_t n) { sample(count, [n] { return n; }); });
  timeline.push_back({std::chrono::duration<double>(std::chrono::steady_clock::now() - ready).count(), count, stored});

  // CPU up to the moment the platform and nats-server are idle after the last row stored: work that outlasts the
  // rows (a kline stage catching up on MARKET_RAW, the kline saver) is part of the cost per trade; the platform's
  // shutdown is not. Idle: both together used less than 5 % of a core over the last second.
  auto busy_cpu = [&] { return cpu_seconds(platform.pid()) + cpu_seconds(nats.pid()); };
  const auto rows_done = std::chrono::steady_clock::now();
  for (double prev = busy_cpu();;) {
    std::this_thread::sleep_for(1s); // sampling interval of the idle check
    const double now_cpu = busy_cpu();
    if (now_cpu - prev < 0.05 || std::chrono::steady_clock::now() - rows_done > 300s)
      break;
    prev = now_cpu;
  }
  const double settle_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - rows_done).count();
  cpu_use after{cpu_seconds(platform.pid()), cpu_seconds(nats.pid()), cpu_seconds(pg.postmaster_pid(), true),
                cpu_seconds(sim.pid())};
  // The commit time of the last row: a scan of every row, after the CPU is counted.
  const std::int64_t t_pg = std::stoll(pg.psql(
    "SELECT (extract(epoch FROM max(pg_xact_commit_timestamp(xmin))) * 1000000000)::bigint FROM market_trades"));
  // Let anything in flight land (the simulator lingers ~1 s after its last trade), then check
  // nothing beyond N arrived.
  t::eventually([&] { return !sim.running(); }, 30s);
  platform.signal(SIGTERM);
  platform.wait_for(60s);
  platform_result r;
  r.raw_msgs = raw_count();
  r.rows = pg_count(pg);
  auto span = read_record(record);
  if (span.lines != count)
    throw std::runtime_error("simulator recorded " + std::to_string(span.lines) + " trades, expected " +
                             std::to_string(count));
  r.sim_rate = static_cast<double>(count - 1) / (static_cast<double>(span.last_ns - span.first_ns) / 1e9);
  r.ingest_s = static_cast<double>(t_raw - span.first_ns) / 1e9;
  r.e2e_s = static_cast<double>(t_pg - span.first_ns) / 1e9;
  r.settle_s = settle_s;
  r.tail_s = static_cast<double>(t_pg - span.last_ns) / 1e9;
  r.timeline = std::move(timeline);
  r.ingest_rate = static_cast<double>(count) / r.ingest_s;
  r.e2e_rate = static_cast<double>(count) / r.e2e_s;
  r.cpu = {after.platform - before.platform, after.nats - before.nats, after.postgres - before.postgres,
           after.simulator - before.simulator};
  return r;
}

// The saver's backlog over the run: its largest value, and a line of samples ~5 s apart (thousands of messages
// in MARKET_RAW / behind it). A saver that sustains the rate stays within a batch or two of the stream throughout.
void print_backlog(const platform_result& r) {
  if (r.timeline.empty())
    return;
  const auto worst = std::max_element(r.timeline.begin(), r.timeline.end(),
                                      [](const auto& a, const auto& b) { return a.behind() < b.behind(); });
  std::printf("%9s   saver backlog: max %lld messages at %.0f s; last row %.2f s after the last trade\n", "",
              static_cast<long long>(worst->behind()), worst->s, r.tail_s);
  std::printf("%9s   s: raw/behind (thousands):", "");
  double next = 0;
  for (const auto& x : r.timeline)
    if (x.s >= next || &x == &r.timeline.back()) {
      std::printf(" %.0f:%llu/%lld", x.s, static_cast<unsigned long long>(x.raw / 1000),
                  static_cast<long long>(x.behind() / 1000));
      next = x.s + 5;
    }
  std::printf("\n");
}

} // namespace

int main(int argc, char** argv) {
  std::uint64_t count = 200'000;
  std::vector<double> rates{20'000, 50'000, 80'000};
  std::vector<std::string> pg_settings;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--count") {
      count = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (a == "--rates") {
      rates.clear();
      std::stringstream ss(argv[i + 1]);
      for (std::string x; std::getline(ss, x, ',');)
        rates.push_back(std::stod(x));
    } else if (a == "--pg-set" && std::string(argv[i + 1]).find('=') != std::string::npos) {
      pg_settings.emplace_back(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: %s [--count N] [--rates R1,R2,...] [--pg-set name=value]...\n", argv[0]);
      return 2;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);
  std::printf("mi_bench_e2e: %llu trades per run, binary %s\n", static_cast<unsigned long long>(count), MI_BINARY);
  for (const auto& s : pg_settings)
    std::printf("PostgreSQL: %s\n", s.c_str());
  std::printf("%9s | %14s | %14s | %14s | %14s | %9s | %9s\n", "rate", "sim alone /s", "sim in run /s", "MARKET_RAW /s",
              "PostgreSQL /s", "raw msgs", "pg rows");
  int failures = 0;
  for (double rate : rates) {
    try {
      double alone = simulator_alone(rate, count);
      std::printf("%9.0f | %14.0f | (platform run follows)\n", rate, alone);
      std::fflush(stdout);
      auto r = platform_run(rate, count, pg_settings);
      bool ok = r.raw_msgs == count && r.rows == count;
      failures += ok ? 0 : 1;
      std::printf("%9.0f | %14.0f | %14.0f | %14.0f | %14.0f | %9llu | %9llu%s   (raw %.2f s, pg %.2f s, idle %.0f s "
                  "later)\n",
                  rate, alone, r.sim_rate, r.ingest_rate, r.e2e_rate, static_cast<unsigned long long>(r.raw_msgs),
                  static_cast<unsigned long long>(r.rows), ok ? "" : "  LOSS/DUPLICATES", r.ingest_s, r.e2e_s,
                  r.settle_s);
      const double us = 1e6 / static_cast<double>(count);
      std::printf("%9s   CPU us/trade: platform %.1f | nats-server %.1f | PostgreSQL+backends %.1f | "
                  "pipeline %.1f | simulator %.1f\n",
                  "", r.cpu.platform * us, r.cpu.nats * us, r.cpu.postgres * us,
                  (r.cpu.platform + r.cpu.nats + r.cpu.postgres) * us, r.cpu.simulator * us);
      print_backlog(r);
    } catch (const std::exception& e) {
      ++failures;
      std::printf("%9.0f | failed: %s\n", rate, e.what());
    }
    std::fflush(stdout);
  }
  return failures == 0 ? 0 : 1;
}
