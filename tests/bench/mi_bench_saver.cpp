// mi_bench_saver: trades into PostgreSQL, plain libpqxx vs our writer, in the same run.
//
//   mi_bench_saver [--rounds R] [--count N] [--batch B]...   (defaults: 5 rounds of 200000 trades,
//                                                             batch sizes 1000 and 5000)
//
// Starts its own PostgreSQL 15 (via mi_test_harness, default settings: fsync on) and applies the
// migrations. Generates N trades up front (2 symbols, 8-decimal prices and quantities, sequential
// ids, ms timestamps), then for each batch size B, each round runs
//   (a) baseline: plain libpqxx 6.4 on one connection, per batch of B rows one transaction:
//       CREATE TEMP TABLE IF NOT EXISTS stage (LIKE market_trades INCLUDING DEFAULTS) ON COMMIT
//       DELETE ROWS, pqxx::stream_to into it (same columns and text values as our writer),
//       INSERT INTO market_trades SELECT * FROM stage ON CONFLICT DO NOTHING, commit;
//   (b) ours: mi::gw::pg_writer::write_trades of the same batches, each with its messages' stream sequences as
//       the saver passes them (since issue 17: binary COPY into the day partition, dedup by sequence);
// each into an empty market_trades (TRUNCATE + CHECKPOINT before every run, not timed),
// alternating which of the two goes first. Both start from the same std::vector<mi::trade> and
// format the text values inside the timed loop. After every run it checks that market_trades
// holds exactly N rows, and that both runs of a round stored identical rows (md5 of the table).
// Prints per-round rows/s, the medians and ours/baseline, plus the CPU time per row of the bench
// process (client: formatting + libpq) and of the PostgreSQL backend serving it (server, from
// /proc/<pid>/stat), which vary much less than rows/s when the machine is shared.
//
// The schema is the partitioned one (migration 0002): before the runs, maintain_partitions creates
// the daily partition of the generated trades' day, so the rows land in a real day partition (not
// DEFAULT). With --variants, each round also runs two cheap-win variants of ours (same checks):
//   (c) ours with synchronous_commit=off on the writer's session (saver.synchronous_commit: off);
//   (d) ours on 2 connections in 2 threads, the trades split by symbol (one saver per subject
//       partition), each connection writing batches of B rows of its own symbol.
// --no-ts-index drops the (exchange, symbol, ts DESC) index first: what that index costs per row (the history
// API needs it; measurement only).

#include <pqxx/pqxx>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "gateways/postgres/partitions.hpp"
#include "gateways/postgres/postgres.hpp"
#include "messages/decimal.hpp"
#include "messages/trade.hpp"
#include "tests/bench/bench_trades.hpp"
#include "tests/bench/proc_cpu.hpp"
#include "tests/harness/pg_server.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// The same column list as gateways/postgres/postgres.cpp (trade_columns).
const std::vector<std::string> trade_columns{"exchange", "symbol", "base", "quote", "trade_id", "price",
                                             "quantity", "side",   "ts",   "ts_ns", "recv_ns"};

/// CPU seconds of this process (user + system; the postmaster child is not included).
double self_cpu() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct run_result {
  double rows_per_s = 0;
  double client_us_per_row = 0;
  double server_us_per_row = 0;
};

std::vector<mi::trade> make_trades(std::size_t n) {
  std::vector<mi::trade> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto t = mi::bench::bench_trade(i); // 1 ms apart, BTCUSDT / ETHUSDT
    const bool btc = (i % 2) == 0;
    // 58001.03xxxxxx / 2100.42xxxxxx with 8 decimals; quantities 0.00000001 .. 0.99999999.
    const auto jitter = static_cast<std::int64_t>((i * 7919) % 1'000'000);
    t.price = *mi::decimal::from_parts((btc ? 5'800'103'000'000LL : 210'042'000'000LL) + jitter, 8);
    t.quantity = *mi::decimal::from_parts(static_cast<std::int64_t>((i * 104'729) % 99'999'999) + 1, 8);
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<std::vector<mi::trade>> make_batches(const std::vector<mi::trade>& all, std::size_t b) {
  std::vector<std::vector<mi::trade>> out;
  for (std::size_t i = 0; i < all.size(); i += b)
    out.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(i),
                     all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), i + b)));
  return out;
}

// Empties market_trades and flushes dirty buffers, so no run pays for the previous one's
// checkpoint. Not timed.
void fresh_table(const std::string& conninfo) {
  pqxx::connection c{conninfo};
  pqxx::nontransaction w{c};
  w.exec("TRUNCATE market_trades, market_raw_stored, market_symbols");
  w.exec("CHECKPOINT");
}

struct table_state {
  long long rows = 0;
  std::string digest;
};

table_state inspect(const std::string& conninfo) {
  pqxx::connection c{conninfo};
  pqxx::read_transaction w{c};
  auto r = w.exec1("SELECT count(*), md5(string_agg(t::text, E'\\n' ORDER BY exchange, symbol, trade_id)) "
                   "FROM market_trades t");
  return {r[0].as<long long>(), r[1].is_null() ? std::string() : r[1].as<std::string>()};
}

table_state check_rows(const std::string& conninfo, std::size_t n, const char* who) {
  auto st = inspect(conninfo);
  if (st.rows != static_cast<long long>(n))
    throw std::runtime_error(std::string(who) + ": market_trades holds " + std::to_string(st.rows) +
                             " rows, expected " + std::to_string(n));
  return st;
}

/// The pid of the most recently started other client backend.
int newest_backend(const std::string& conninfo) {
  pqxx::connection c{conninfo};
  pqxx::read_transaction w{c};
  auto r = w.exec("SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> "
                  "pg_backend_pid() ORDER BY backend_start DESC LIMIT 1");
  if (r.empty())
    throw std::runtime_error("ours: cannot find the writer's backend");
  return r[0][0].as<int>();
}

// (a) plain libpqxx 6.4.
run_result run_baseline(const std::string& conninfo, const std::vector<std::vector<mi::trade>>& batches, std::size_t n,
                        table_state& st) {
  fresh_table(conninfo);
  pqxx::connection c{conninfo};
  {
    pqxx::nontransaction w{c};
    w.exec("SET client_min_messages = warning"); // no NOTICE "already exists" per batch
  }
  const int backend = c.backendpid();
  std::size_t inserted = 0;
  const double c0 = self_cpu(), s0 = mi::bench::proc_cpu(backend);
  auto t0 = clock_type::now();
  for (const auto& batch : batches) {
    pqxx::work w{c};
    w.exec("CREATE TEMP TABLE IF NOT EXISTS stage (LIKE market_trades INCLUDING DEFAULTS) ON COMMIT DELETE ROWS");
    {
      pqxx::stream_to s{w, "stage", trade_columns};
      for (const auto& t : batch)
        s << std::make_tuple(t.exchange, t.symbol, t.base, t.quote, t.trade_id, t.price.to_string(),
                             t.quantity.to_string(), std::string(to_string(t.taker_side)),
                             mi::gw::timestamptz_text(t.ts_ns), t.ts_ns, t.recv_ns);
      s.complete();
    }
    inserted += static_cast<std::size_t>(
      w.exec("INSERT INTO market_trades SELECT * FROM stage ON CONFLICT DO NOTHING").affected_rows());
    w.commit();
  }
  double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  const double c1 = self_cpu(), s1 = mi::bench::proc_cpu(backend);
  if (inserted != n)
    throw std::runtime_error("baseline: inserted " + std::to_string(inserted) + ", expected " + std::to_string(n));
  st = check_rows(conninfo, n, "baseline");
  const auto dn = static_cast<double>(n);
  return {dn / secs, (c1 - c0) * 1e6 / dn, (s1 - s0) * 1e6 / dn};
}

// (d) mi::gw::pg_writer on one connection per symbol group, in parallel threads.
run_result run_parallel(const std::string& conninfo, const std::vector<mi::trade>& all, std::size_t b, std::size_t n,
                        table_state& st) {
  fresh_table(conninfo);
  std::vector<std::vector<mi::trade>> by_symbol(2);
  for (const auto& t : all)
    by_symbol[t.symbol == "BTCUSDT" ? 0 : 1].push_back(t);
  std::vector<std::unique_ptr<mi::gw::pg_writer>> writers;
  for (std::size_t i = 0; i < by_symbol.size(); ++i) {
    auto w = mi::gw::pg_writer::connect(conninfo);
    if (!w)
      throw std::runtime_error(w.err().message);
    writers.push_back(std::move(*w));
  }
  std::vector<std::size_t> inserted(by_symbol.size(), 0);
  std::vector<std::string> errors(by_symbol.size());
  const double c0 = self_cpu();
  auto t0 = clock_type::now();
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < by_symbol.size(); ++i)
    threads.emplace_back([&, i] {
      for (const auto& batch : make_batches(by_symbol[i], b)) {
        auto r = writers[i]->write_trades(batch);
        if (!r) {
          errors[i] = r.err().message;
          return;
        }
        inserted[i] += *r;
      }
    });
  for (auto& t : threads)
    t.join();
  double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  const double c1 = self_cpu();
  for (const auto& e : errors)
    if (!e.empty())
      throw std::runtime_error("parallel: " + e);
  if (inserted[0] + inserted[1] != n)
    throw std::runtime_error("parallel: inserted " + std::to_string(inserted[0] + inserted[1]));
  st = check_rows(conninfo, n, "parallel");
  const auto dn = static_cast<double>(n);
  return {dn / secs, (c1 - c0) * 1e6 / dn, 0};
}

// (b) mi::gw::pg_writer (c: with synchronous_commit=off).
run_result run_ours(const std::string& conninfo, const std::vector<std::vector<mi::trade>>& batches, std::size_t n,
                    table_state& st, bool synchronous_commit = true) {
  fresh_table(conninfo);
  auto writer = mi::gw::pg_writer::connect(conninfo, synchronous_commit);
  if (!writer)
    throw std::runtime_error(writer.err().message);
  const int backend = newest_backend(conninfo); // the writer's (connected last)
  // Each batch as the saver writes it: with its messages' stream sequences (1, 2, ... across the run) and JetStream
  // timestamps, which the writer checks against market_raw_stored and records there in the same transaction.
  std::vector<mi::gw::pg_writer::raw_origin> origins;
  std::uint64_t seq = 1;
  for (const auto& batch : batches) {
    auto& o = origins.emplace_back();
    o.stream = "MARKET_RAW";
    for (const auto& t : batch) {
      o.seqs.push_back(seq++);
      o.ts_ns.push_back(t.recv_ns);
    }
  }
  std::size_t inserted = 0;
  const double c0 = self_cpu(), s0 = mi::bench::proc_cpu(backend);
  auto t0 = clock_type::now();
  for (std::size_t i = 0; i < batches.size(); ++i) {
    const auto& batch = batches[i];
    auto r = (*writer)->write_trades(batch, &origins[i]);
    if (!r)
      throw std::runtime_error(r.err().message);
    inserted += *r;
  }
  double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  const double c1 = self_cpu(), s1 = mi::bench::proc_cpu(backend);
  if (inserted != n)
    throw std::runtime_error("ours: inserted " + std::to_string(inserted) + ", expected " + std::to_string(n));
  st = check_rows(conninfo, n, "ours");
  const auto dn = static_cast<double>(n);
  return {dn / secs, (c1 - c0) * 1e6 / dn, (s1 - s0) * 1e6 / dn};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

} // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  std::size_t count = 200'000;
  std::vector<std::size_t> batch_sizes;
  bool variants = false;
  bool no_ts_index = false;
  for (bool more = true; more && argc > 1;) { // trailing flags, any order
    const std::string last = argv[argc - 1];
    more = last == "--variants" || last == "--no-ts-index";
    if (more) {
      (last == "--variants" ? variants : no_ts_index) = true;
      --argc;
    }
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--rounds")
      rounds = std::atoi(argv[i + 1]);
    else if (a == "--count")
      count = static_cast<std::size_t>(std::atoll(argv[i + 1]));
    else if (a == "--batch")
      batch_sizes.push_back(static_cast<std::size_t>(std::atoll(argv[i + 1])));
    else {
      std::fprintf(stderr, "usage: %s [--rounds R] [--count N] [--batch B]... [--variants] [--no-ts-index]\n", argv[0]);
      return 2;
    }
  }
  if (argc % 2 == 0 || rounds < 1 || count < 1 ||
      std::any_of(batch_sizes.begin(), batch_sizes.end(), [](std::size_t b) { return b == 0; })) {
    std::fprintf(stderr, "usage: %s [--rounds R] [--count N] [--batch B]... [--variants] [--no-ts-index]\n", argv[0]);
    return 2;
  }
  if (batch_sizes.empty())
    batch_sizes = {1000, 5000};
  try {
    mi::test::pg_server server; // defaults: fsync, synchronous_commit, full_page_writes on
    const auto conninfo = server.conninfo();
    if (auto m = mi::gw::migrate(conninfo); !m)
      throw std::runtime_error(m.err().message);
    if (no_ts_index) // what the (exchange, symbol, ts DESC) index costs: for measurement only, the API needs it
      server.psql("DROP INDEX market_trades_exchange_symbol_ts_idx");
    const auto trades = make_trades(count);
    mi::gw::partition_policy policy;
    policy.ahead_days = 1;
    auto parts = mi::gw::maintain_partitions(conninfo, policy, trades.front().ts_ns);
    if (!parts)
      throw std::runtime_error(parts.err().message);
    if (mi::gw::day_of(trades.back().ts_ns) != mi::gw::day_of(trades.front().ts_ns))
      throw std::runtime_error("the generated trades span two days: raise the partition policy");
    std::printf("partitioned schema: rows go to %s\n",
                mi::gw::trade_partition(mi::gw::day_of(trades.front().ts_ns)).name.c_str());
    std::printf("mi_bench_saver: %d rounds x %zu trades (2 symbols, 8-decimal price/quantity), PostgreSQL %s, "
                "fsync on, TRUNCATE + CHECKPOINT before every run\n",
                rounds, count, server.psql("SHOW server_version").c_str());
    std::vector<std::string> summary;
    for (std::size_t b : batch_sizes) {
      const auto batches = make_batches(trades, b);
      std::printf("batch %zu rows (%zu transactions per run)\n", b, batches.size());
      std::vector<double> base, ours, ratio, base_cc, base_sc, ours_cc, ours_sc, async_v, par_v;
      for (int r = 0; r < rounds; ++r) {
        run_result bres, ores;
        table_state bs, os;
        if (r % 2 == 0) {
          bres = run_baseline(conninfo, batches, count, bs);
          ores = run_ours(conninfo, batches, count, os);
        } else {
          ores = run_ours(conninfo, batches, count, os);
          bres = run_baseline(conninfo, batches, count, bs);
        }
        const double bv = bres.rows_per_s, ov = ores.rows_per_s;
        base_cc.push_back(bres.client_us_per_row);
        base_sc.push_back(bres.server_us_per_row);
        ours_cc.push_back(ores.client_us_per_row);
        ours_sc.push_back(ores.server_us_per_row);
        if (bs.digest != os.digest)
          throw std::runtime_error("baseline and ours stored different rows (md5 " + bs.digest + " vs " + os.digest +
                                   ")");
        base.push_back(bv);
        ours.push_back(ov);
        ratio.push_back(ov / bv);
        std::printf("  round %d (%s first): baseline %7.0f rows/s   ours %7.0f rows/s   ratio %.2f   cpu us/row "
                    "client+server: baseline %.2f+%.2f ours %.2f+%.2f   (%lld rows each, identical)\n",
                    r + 1, r % 2 == 0 ? "baseline" : "ours", bv, ov, ov / bv, bres.client_us_per_row,
                    bres.server_us_per_row, ores.client_us_per_row, ores.server_us_per_row, bs.rows);
        if (variants) {
          table_state as, ps;
          auto ares = run_ours(conninfo, batches, count, as, false);
          auto pres = run_parallel(conninfo, trades, b, count, ps);
          if (as.digest != bs.digest || ps.digest != bs.digest)
            throw std::runtime_error("a variant stored different rows");
          async_v.push_back(ares.rows_per_s);
          par_v.push_back(pres.rows_per_s);
          std::printf("    variants: synchronous_commit=off %7.0f rows/s (cpu server %.2f us/row)   2 connections by "
                      "symbol %7.0f rows/s\n",
                      ares.rows_per_s, ares.server_us_per_row, pres.rows_per_s);
        }
        std::fflush(stdout);
      }
      if (variants)
        std::printf("  B=%zu variants: median synchronous_commit=off %.0f rows/s, 2 connections %.0f rows/s\n", b,
                    median(async_v), median(par_v));
      char line[512];
      std::snprintf(line, sizeof line,
                    "B=%zu: median baseline %.0f rows/s, ours %.0f rows/s, ours/baseline %.2f (median of per-round "
                    "ratios %.2f); median cpu us/row client+server: baseline %.2f+%.2f, ours %.2f+%.2f",
                    b, median(base), median(ours), median(ours) / median(base), median(ratio), median(base_cc),
                    median(base_sc), median(ours_cc), median(ours_sc));
      std::printf("  %s\n", line);
      summary.emplace_back(line);
    }
    std::printf("summary:\n");
    for (const auto& s : summary)
      std::printf("  %s\n", s.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mi_bench_saver: %s\n", e.what());
    return 1;
  }
  return 0;
}
