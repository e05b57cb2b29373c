#include "gateways/postgres/postgres.hpp"
#include "gateways/postgres/copy_binary.hpp"
#include "gateways/postgres/history_reader.hpp"
#include "gateways/postgres/partitions.hpp"
#include "gateways/postgres/rows.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <tuple>

#include <libpq-fe.h>
#include <pqxx/largeobject>
#include <pqxx/pqxx>

#include "messages/util/civil_time.hpp"
#include "messages/util/floor_div.hpp"
#include "messages/util/text.hpp"

namespace mi::gw {
namespace {

// Serializes concurrent `migrate` runs (several processes starting at once). Any constant
// works as long as every version of this program uses the same one: "mi-migr" in ASCII.
constexpr long long migration_lock_key = 0x6d692d6d69677200LL;

mi::error make_error(const std::string& what, const std::exception& e, mi::errc code = mi::errc::unspecified) {
  return mi::error{what + ": " + std::string(mi::util::trim(e.what())), code};
}

// Column lists. The staging tables are `LIKE` the real ones, so the names match.
const std::vector<std::string> trade_columns{"exchange", "symbol", "base", "quote", "trade_id", "price",
                                             "quantity", "side",   "ts",   "ts_ns", "recv_ns"};
// `interval` is a keyword: quoted, because stream_to pastes names into COPY unquoted.
const std::vector<std::string> kline_columns{"exchange",
                                             "symbol",
                                             "\"interval\"",
                                             "open_time",
                                             "close_time",
                                             "open_time_ms",
                                             "open",
                                             "high",
                                             "low",
                                             "close",
                                             "volume",
                                             "quote_volume",
                                             "taker_buy_volume",
                                             "taker_buy_quote_volume",
                                             "vwap",
                                             "trade_count",
                                             "first_trade_id",
                                             "last_trade_id",
                                             "revision"};

std::string joined(const std::vector<std::string>& cols, const char* prefix = "") {
  std::string out;
  for (const auto& c : cols) {
    if (!out.empty())
      out += ", ";
    out += prefix + c;
  }
  return out;
}

// Inserts the staged trades and adds exactly the rows inserted to the per-symbol summary
// market_symbols (0005) in the same statement; answers the number of trades inserted. The
// summary rows are touched in key order so that concurrent savers lock them in the same order.
std::string insert_trades_sql() {
  auto cols = joined(trade_columns);
  return "WITH ins AS (INSERT INTO market_trades (" + cols + ") SELECT " + cols +
         " FROM mi_stage_trades ON CONFLICT DO NOTHING RETURNING exchange, symbol, ts_ns), "
         "agg AS (SELECT exchange, symbol, min(ts_ns) AS f, max(ts_ns) AS l, count(*) AS n FROM ins "
         "GROUP BY exchange, symbol), "
         "sym AS (INSERT INTO market_symbols (exchange, symbol, first_ts_ns, last_ts_ns, trade_count) "
         "SELECT exchange, symbol, f, l, n FROM agg ORDER BY exchange, symbol ON CONFLICT (exchange, symbol) DO UPDATE "
         "SET first_ts_ns = least(market_symbols.first_ts_ns, EXCLUDED.first_ts_ns), "
         "last_ts_ns = greatest(market_symbols.last_ts_ns, EXCLUDED.last_ts_ns), "
         "trade_count = market_symbols.trade_count + EXCLUDED.trade_count) "
         "SELECT coalesce(sum(n), 0)::bigint FROM agg";
}

std::string upsert_klines_sql() {
  auto cols = joined(kline_columns);
  const std::string key = "exchange, symbol, \"interval\", open_time";
  std::string set;
  for (std::size_t i = 4; i < kline_columns.size(); ++i) // every column after the key
    set += kline_columns[i] + " = EXCLUDED." + kline_columns[i] + ", ";
  set += "updated_at = now()";
  // DISTINCT ON: one row per window (the highest revision), since ON CONFLICT DO UPDATE
  // cannot touch the same row twice in one statement.
  return "INSERT INTO market_klines (" + cols + ") SELECT DISTINCT ON (" + key + ") " + cols +
         " FROM mi_stage_klines ORDER BY " + key + ", revision DESC ON CONFLICT (" + key + ") DO UPDATE SET " + set +
         " WHERE market_klines.revision <= EXCLUDED.revision";
}

// Amendments (0011, docs/architecture.md "Trade amendments"), after the batch's trades and in stream order: the
// trade they amend is found by its id (the primary key's index) or else by the id of the correction applied last (a
// correction of a correction: rare, no index); the range on `ts` (a week before the amendment up to an hour after it)
// prunes partitions. An amendment of a trade not stored changes nothing.
//
// The lookup by id locates the trade's `ts` in a subselect ordered by (trade_id, ts), LIMIT 1, with the id as the
// range `trade_id >= $3 AND trade_id <= $3` (equal to `=` under COLLATE "C"): only the primary key (exchange,
// symbol, trade_id, ts) returns rows in that order, the (exchange, symbol, ts) index would need a sort, so the planner
// probes the primary key even on a day partition never analysed (where, with `trade_id = $3`, both indexes were
// estimated at one row and it took the smaller one, reading the symbol's whole week; docs/performance.md "Alpaca end
// to end"). The UPDATE then touches that one (exchange, symbol, trade_id, ts); it keeps the range on `ts` too, so
// that it is planned for the week's partitions only, not for every partition (the located `ts` is known only when
// the statement runs).
void apply_amendments(pqxx::work& w, const std::vector<mi::trade>& batch) {
  constexpr std::int64_t week_ns = 7LL * 24 * 3600 * 1'000'000'000;
  constexpr std::int64_t hour_ns = 3600LL * 1'000'000'000;
  static const std::string by_id =
    " WHERE exchange = $1 AND symbol = $2 AND trade_id = $3 AND NOT canceled AND ts >= $4::timestamptz AND ts <= "
    "$5::timestamptz AND ts = "
    "(SELECT ts FROM market_trades WHERE exchange = $1 AND symbol = $2 AND trade_id >= $3 "
    "AND trade_id <= $3 AND ts >= $4::timestamptz AND ts <= $5::timestamptz AND NOT "
    "canceled ORDER BY trade_id, ts LIMIT 1)";
  static const std::string by_correction = " WHERE exchange = $1 AND symbol = $2 AND corrected_by = $3 AND ts >= "
                                           "$4::timestamptz AND ts <= $5::timestamptz AND NOT canceled";
  for (const auto& a : batch) {
    if (!a.is_amendment())
      continue;
    const auto from = timestamptz_text(a.ts_ns - week_ns);
    const auto to = timestamptz_text(a.ts_ns + hour_ns);
    for (const auto* where : {&by_id, &by_correction}) {
      const auto r =
        a.canceled
          ? w.exec_params("UPDATE market_trades SET canceled = true" + *where, a.exchange, a.symbol, a.amends, from, to)
          : w.exec_params(
              "UPDATE market_trades SET price = $6::numeric, quantity = $7::numeric, corrected_by = $8" + *where,
              a.exchange, a.symbol, a.amends, from, to, a.price.to_string(), a.quantity.to_string(), a.trade_id);
      if (r.affected_rows() > 0)
        break;
    }
  }
}

// libpqxx 6.4 keeps the connection's PGconn private and has no binary COPY; largeobject hands the PGconn of a
// transaction to its subclasses (an exported function of the library), which is all the binary COPY needs.
struct raw_connection_of : pqxx::largeobject {
  static PGconn* get(const pqxx::dbtransaction& t) { return pqxx::largeobject::raw_connection(t); }
};

// COPY `target` (`cols`) FROM STDIN (FORMAT binary) with `data` (copy_binary), inside the transaction `w`. A server
// error is thrown as pqxx::sql_error with its SQLSTATE (the writer classifies it as for every other statement), a
// lost connection as pqxx::broken_connection.
void copy_in_binary(pqxx::work& w, const std::string& target, const std::string& cols, const std::string& data) {
  PGconn* c = raw_connection_of::get(w);
  using result_ptr = std::unique_ptr<PGresult, decltype(&PQclear)>;
  const std::string q = "COPY " + target + " (" + cols + ") FROM STDIN (FORMAT binary)";
  std::string error, state;
  const auto take_error = [&](const PGresult* r) {
    if (error.empty()) {
      error = PQresultErrorMessage(r);
      const char* st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      state = st != nullptr ? st : "";
    }
  };
  bool copying = false;
  if (result_ptr r{PQexec(c, q.c_str()), &PQclear}; r) {
    copying = PQresultStatus(r.get()) == PGRES_COPY_IN;
    if (!copying)
      take_error(r.get());
  }
  if (copying) {
    if (PQputCopyData(c, data.data(), static_cast<int>(data.size())) != 1 || PQputCopyEnd(c, nullptr) != 1)
      throw pqxx::broken_connection(std::string("COPY ") + target + ": " + PQerrorMessage(c));
  }
  // The COPY's outcome (or what is left of a failed PQexec), until libpq has no more results.
  for (result_ptr r{PQgetResult(c), &PQclear}; r; r.reset(PQgetResult(c)))
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
      take_error(r.get());
  if (!copying && error.empty())
    error = PQerrorMessage(c);
  if (!error.empty()) {
    if (state.empty() || PQstatus(c) != CONNECTION_OK)
      throw pqxx::broken_connection(std::string("COPY ") + target + ": " + error);
    throw pqxx::sql_error(error, q, state.c_str());
  }
}

// The binary COPY rows of the trades `idx` of `batch` (trade_columns, in that order).
void encode_trades(copy_binary& out, const std::vector<mi::trade>& batch, const std::vector<std::size_t>& idx) {
  out.clear();
  for (auto i : idx) {
    const auto& t = batch[i];
    out.row(static_cast<std::int16_t>(trade_columns.size()));
    out.text(t.exchange);
    out.text(t.symbol);
    out.text(t.base);
    out.text(t.quote);
    out.text(t.trade_id);
    out.numeric(t.price);
    out.numeric(t.quantity);
    out.text(to_string(t.taker_side));
    out.timestamptz_ns(t.ts_ns);
    out.int8(t.ts_ns);
    out.int8(t.recv_ns);
  }
}

// "{[a,b],[c,d]}": the sequences (any order, duplicates allowed) as an int8multirange literal, runs merged.
std::string multirange_text(std::vector<std::uint64_t> seqs) {
  std::sort(seqs.begin(), seqs.end());
  std::string out = "{";
  for (std::size_t i = 0; i < seqs.size();) {
    std::size_t j = i;
    while (j + 1 < seqs.size() && seqs[j + 1] <= seqs[j] + 1)
      ++j;
    if (out.size() > 1)
      out += ',';
    out += '[' + std::to_string(seqs[i]) + ',' + std::to_string(seqs[j]) + ']';
    i = j + 1;
  }
  return out + '}';
}

template <class T>
std::string array_text(const std::vector<T>& v) {
  std::string out = "{";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i)
      out += ',';
    out += std::to_string(v[i]);
  }
  return out + '}';
}

} // namespace

std::string timestamptz_text(std::int64_t ns_since_epoch) {
  return mi::util::timestamptz_literal_us(mi::util::floor_div(ns_since_epoch, 1000));
}

// ---------------------------------------------------------------------------------------------
// migrate

mi::result<std::vector<std::string>> migrate(const std::string& conninfo, std::vector<std::string>* warnings) {
  std::vector<std::string> applied;
  std::string current = "connect";
  try {
    pqxx::connection conn{conninfo};
    const std::string lock = "SELECT pg_advisory_xact_lock(" + std::to_string(migration_lock_key) + ")";
    {
      current = "create schema_migrations";
      pqxx::work w{conn};
      w.exec("SET LOCAL client_min_messages = warning"); // no NOTICE "already exists"
      w.exec(lock);
      w.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, "
             "applied_at timestamptz NOT NULL DEFAULT now())");
      w.commit();
    }
    for (const auto& m : embedded_migrations()) {
      current = std::string(m.name);
      pqxx::work w{conn};
      w.exec(lock); // held to commit: a concurrent migrate waits, then sees the row below
      auto version = w.quote(std::string(m.version));
      if (!w.exec("SELECT 1 FROM schema_migrations WHERE version = " + version).empty())
        continue; // the work's destructor rolls back the empty transaction
      bool done = false;
      if (m.version == "0002") {
        std::string why_not;
        const bool available = !w.exec("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").empty();
        const auto preload = w.exec("SELECT current_setting('shared_preload_libraries')")[0][0].as<std::string>();
        if (use_timescale(available, preload, why_not)) {
          // Hypertables instead of native partitions (untested here: Debian has no TimescaleDB).
          // In a savepoint, so a failure falls back to the native partitions in the same transaction.
          try {
            pqxx::subtransaction sub{w, "timescale"};
            sub.exec(std::string(timescale_0002_sql()));
            sub.commit();
            done = true;
          } catch (const std::exception& e) {
            why_not = std::string("TimescaleDB migration failed, using native partitions: ") + e.what();
          }
        }
        if (!why_not.empty() && warnings != nullptr)
          warnings->push_back(why_not);
      }
      if (!done)
        w.exec(std::string(m.sql));
      w.exec("INSERT INTO schema_migrations (version) VALUES (" + version + ")");
      w.commit();
      applied.emplace_back(m.version);
    }
  } catch (const std::exception& e) {
    return make_error("migrate (" + current + ")", e);
  }
  return applied;
}

// ---------------------------------------------------------------------------------------------
// pg_writer

struct pg_writer::impl {
  std::string conninfo;
  std::unique_ptr<pqxx::connection> conn;
  /// Backend pid whose session holds our temp staging tables. libpqxx 6 may silently
  /// reconnect a broken connection, and temp tables do not survive that: a changed pid
  /// means "create them again".
  int staged_pid = 0;
  bool synchronous_commit = true;
  trade_stats stats;
  /// SQLSTATE of the last failed write ("" for none or a non-SQL failure): 23505 sends write_trades to staging.
  std::string last_sqlstate;
  /// Day -> the COPY target of its trades on this connection: the day's partition when it exists, else the parent
  /// (no such partition yet, TimescaleDB). Emptied with the connection and after any failure.
  std::map<std::int64_t, std::string> copy_targets;
  copy_binary rows; // reused: one buffer per writer

  const std::string& copy_target(pqxx::work& w, std::int64_t day) {
    auto it = copy_targets.find(day);
    if (it == copy_targets.end()) {
      const auto part = trade_partition(day).name;
      const bool exists = w.exec_params1("SELECT to_regclass($1) IS NOT NULL", part)[0].as<bool>();
      it = copy_targets.emplace(day, exists ? part : std::string("market_trades")).first;
    }
    return it->second;
  }

  void ensure_connected() {
    if (!conn) {
      conn = std::make_unique<pqxx::connection>(conninfo);
      staged_pid = 0;
      if (!synchronous_commit)
        conn->set_variable("synchronous_commit", "off"); // libpqxx re-applies it after a reconnect
    }
  }

  /// Inside the write's transaction, so a rollback leaves staged_pid unchanged.
  int ensure_staging(pqxx::work& w) {
    int pid = conn->backendpid();
    if (pid != staged_pid) {
      w.exec("SET LOCAL client_min_messages = warning");
      w.exec("CREATE TEMP TABLE IF NOT EXISTS mi_stage_trades (LIKE market_trades INCLUDING DEFAULTS) "
             "ON COMMIT DELETE ROWS");
      w.exec("CREATE TEMP TABLE IF NOT EXISTS mi_stage_klines (LIKE market_klines INCLUDING DEFAULTS) "
             "ON COMMIT DELETE ROWS");
    }
    return pid;
  }

  /// After a failure: keep the connection only if it is certainly still good (the server
  /// rejected the statement and the transaction was rolled back).
  void on_failure(bool statement_error) {
    copy_targets.clear();
    if (conn && (!statement_error || !conn->is_open())) {
      conn.reset();
      staged_pid = 0;
    }
  }

  template <class Body>
  mi::result<std::size_t> write(const char* what, Body body) {
    last_sqlstate.clear();
    try {
      ensure_connected();
      pqxx::work w{*conn};
      int pid = ensure_staging(w);
      std::size_t n = body(w);
      w.commit();
      staged_pid = pid;
      return n;
    } catch (const pqxx::sql_error& e) {
      // Class 22 (data exception: numeric out of range, bad encoding...) and 23 (integrity:
      // check violation...) are about the rows; anything else (08 connection, 57 shutdown, 53
      // resources, 40 serialization, 42 missing table before migrate...) may pass on a retry.
      const std::string state = e.sqlstate();
      const bool data = state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0;
      last_sqlstate = state;
      on_failure(true);
      return make_error(std::string(what) + (state.empty() ? "" : " [SQLSTATE " + state + "]"), e,
                        data ? mi::errc::rejected : mi::errc::unavailable);
    } catch (const std::exception& e) {
      // broken_connection, in_doubt_error (commit outcome unknown: retrying is safe because
      // writes are idempotent), or anything else: start over on a fresh connection.
      // libpqxx's own text for a dead server can be cryptic ("Could not obtain client
      // encoding"), so say what happened first.
      bool lost = !conn || !conn->is_open() || dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr;
      on_failure(false);
      return make_error(std::string(what) + (lost ? ": connection to the server lost" : ""), e, mi::errc::unavailable);
    }
  }
};

pg_writer::pg_writer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
pg_writer::~pg_writer() = default;

mi::result<std::unique_ptr<pg_writer>> pg_writer::connect(const std::string& conninfo, bool synchronous_commit) {
  auto p = std::make_unique<impl>();
  p->conninfo = conninfo;
  p->synchronous_commit = synchronous_commit;
  try {
    p->ensure_connected();
  } catch (const std::exception& e) {
    return make_error("postgres connect", e, mi::errc::unavailable);
  }
  return std::unique_ptr<pg_writer>(new pg_writer(std::move(p)));
}

bool pg_writer::healthy() const { return impl_->conn && impl_->conn->is_open(); }

namespace {

// The messages of the batch whose sequences market_raw_stored holds (same stream, same sequence, JetStream timestamp
// within the stored set's): one indexed probe for the batch's [min, max] and, only when a stored set overlaps it, a
// check of each sequence.
std::vector<bool> already_stored(pqxx::work& w, const pg_writer::raw_origin& o) {
  std::vector<bool> out(o.seqs.size(), false);
  if (o.seqs.empty())
    return out;
  const auto [lo, hi] = std::minmax_element(o.seqs.begin(), o.seqs.end());
  if (w.exec_params("SELECT 1 FROM market_raw_stored WHERE stream = $1 AND last_seq >= $2 AND first_seq <= $3 LIMIT 1",
                    o.stream, static_cast<long long>(*lo), static_cast<long long>(*hi))
        .empty())
    return out;
  const auto r = w.exec_params(
    "SELECT m.i FROM unnest($2::int8[], $3::int8[]) WITH ORDINALITY AS m(s, t, i) WHERE EXISTS (SELECT 1 FROM "
    "market_raw_stored r WHERE r.stream = $1 AND r.last_seq >= m.s AND r.first_seq <= m.s AND r.seqs @> m.s AND "
    "r.first_ts_ns <= m.t AND m.t <= r.last_ts_ns)",
    o.stream, array_text(o.seqs), array_text(o.ts_ns));
  for (const auto& row : r)
    out[static_cast<std::size_t>(row[0].as<long long>() - 1)] = true;
  return out;
}

// Records the sequences of the messages `idx` as stored (in the batch's transaction).
void record_stored(pqxx::work& w, const pg_writer::raw_origin& o, const std::vector<std::size_t>& idx) {
  if (idx.empty())
    return;
  std::vector<std::uint64_t> seqs;
  seqs.reserve(idx.size());
  std::int64_t t_lo = o.ts_ns[idx[0]], t_hi = t_lo;
  for (auto i : idx) {
    seqs.push_back(o.seqs[i]);
    t_lo = std::min(t_lo, o.ts_ns[i]);
    t_hi = std::max(t_hi, o.ts_ns[i]);
  }
  const auto [lo, hi] = std::minmax_element(seqs.begin(), seqs.end());
  w.exec_params("INSERT INTO market_raw_stored (stream, first_seq, last_seq, seqs, first_ts_ns, last_ts_ns) VALUES "
                "($1, $2, $3, $4::int8multirange, $5, $6)",
                o.stream, static_cast<long long>(*lo), static_cast<long long>(*hi), multirange_text(seqs), t_lo, t_hi);
}

// Adds the trades `idx` (all inserted) to market_symbols, rows touched in key order (as insert_trades_sql).
void add_to_symbols(pqxx::work& w, const std::vector<mi::trade>& batch, const std::vector<std::size_t>& idx) {
  struct agg {
    std::int64_t first, last;
    long long n;
  };
  std::map<std::pair<std::string_view, std::string_view>, agg> by_symbol;
  for (auto i : idx) {
    const auto& t = batch[i];
    auto [it, fresh] = by_symbol.try_emplace({t.exchange, t.symbol}, agg{t.ts_ns, t.ts_ns, 0});
    it->second.first = std::min(it->second.first, t.ts_ns);
    it->second.last = std::max(it->second.last, t.ts_ns);
    ++it->second.n;
  }
  if (by_symbol.empty())
    return;
  std::string values;
  for (const auto& [key, a] : by_symbol) {
    if (!values.empty())
      values += ", ";
    values += "(" + w.quote(std::string(key.first)) + ", " + w.quote(std::string(key.second)) + ", " +
              std::to_string(a.first) + "::bigint, " + std::to_string(a.last) + "::bigint, " + std::to_string(a.n) +
              "::bigint)";
  }
  w.exec(
    "INSERT INTO market_symbols AS s (exchange, symbol, first_ts_ns, last_ts_ns, trade_count) VALUES " + values +
    " ON CONFLICT (exchange, symbol) DO UPDATE SET first_ts_ns = least(s.first_ts_ns, EXCLUDED.first_ts_ns), "
    "last_ts_ns = greatest(s.last_ts_ns, EXCLUDED.last_ts_ns), trade_count = s.trade_count + EXCLUDED.trade_count");
}

} // namespace

const pg_writer::trade_stats& pg_writer::stats() const { return impl_->stats; }

mi::result<std::size_t> pg_writer::write_trades(const std::vector<mi::trade>& batch, const raw_origin* origin) {
  if (batch.empty())
    return std::size_t{0};
  if (origin != nullptr && (origin->seqs.size() != batch.size() || origin->ts_ns.size() != batch.size()))
    return mi::error{"write_trades: the origin's sequences do not match the batch", mi::errc::unspecified};
  // fast: binary COPY straight into the day partitions, every row must be new (else unique_violation);
  // !fast: staging + INSERT ... ON CONFLICT DO NOTHING (the rows already stored are left out).
  const auto attempt = [&](bool fast) {
    return impl_->write("write_trades", [&](pqxx::work& w) {
      std::vector<std::size_t> todo, trades;
      todo.reserve(batch.size());
      trades.reserve(batch.size());
      const auto skip = origin != nullptr ? already_stored(w, *origin) : std::vector<bool>(batch.size(), false);
      std::vector<mi::trade> amendments;
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (skip[i])
          continue;
        todo.push_back(i);
        if (batch[i].is_amendment())
          amendments.push_back(batch[i]);
        else
          trades.push_back(i);
      }
      const std::size_t skipped = batch.size() - todo.size();
      std::size_t inserted = 0;
      if (!trades.empty() && fast) {
        // One COPY per UTC day (a batch spans two days around midnight at most, in practice).
        std::map<std::int64_t, std::vector<std::size_t>> by_day;
        for (auto i : trades)
          by_day[day_of(batch[i].ts_ns)].push_back(i);
        static const std::string cols = joined(trade_columns);
        for (const auto& [day, idx] : by_day) {
          encode_trades(impl_->rows, batch, idx);
          copy_in_binary(w, impl_->copy_target(w, day), cols, impl_->rows.finish());
        }
        add_to_symbols(w, batch, trades);
        inserted = trades.size();
      } else if (!trades.empty()) {
        {
          pqxx::stream_to s{w, "mi_stage_trades", trade_columns};
          for (auto i : trades) {
            const auto& t = batch[i];
            s << std::make_tuple(t.exchange, t.symbol, t.base, t.quote, t.trade_id, t.price.to_string(),
                                 t.quantity.to_string(), std::string(to_string(t.taker_side)),
                                 timestamptz_text(t.ts_ns), t.ts_ns, t.recv_ns);
          }
          s.complete();
        }
        static const std::string sql = insert_trades_sql();
        inserted = static_cast<std::size_t>(w.exec1(sql)[0].as<long long>());
      }
      if (!amendments.empty())
        apply_amendments(w, amendments);
      if (origin != nullptr)
        record_stored(w, *origin, todo);
      impl_->stats.redelivered_skipped += skipped; // taken back below when the transaction does not commit
      return inserted;
    });
  };
  const auto skipped_before = impl_->stats.redelivered_skipped;
  auto r = attempt(true);
  if (!r && impl_->last_sqlstate == "23505") { // a trade already stored under another sequence (or no origin)
    impl_->stats.redelivered_skipped = skipped_before;
    ++impl_->stats.key_fallbacks;
    r = attempt(false);
  }
  if (!r)
    impl_->stats.redelivered_skipped = skipped_before;
  return r;
}

mi::result<std::size_t> pg_writer::prune_stored(const std::string& stream, std::uint64_t below_seq) {
  return impl_->write("prune_stored", [&](pqxx::work& w) {
    return static_cast<std::size_t>(w.exec_params("DELETE FROM market_raw_stored WHERE stream = $1 AND last_seq < $2",
                                                  stream, static_cast<long long>(below_seq))
                                      .affected_rows());
  });
}

mi::result<std::size_t> pg_writer::upsert_klines(const std::vector<mi::kline>& batch) {
  if (batch.empty())
    return std::size_t{0};
  return impl_->write("upsert_klines", [&](pqxx::work& w) {
    {
      pqxx::stream_to s{w, "mi_stage_klines", kline_columns};
      for (const auto& k : batch) {
        s << std::make_tuple(
          k.exchange, k.symbol, k.interval, mi::util::timestamptz_literal_us(k.open_time_ms * 1000),
          mi::util::timestamptz_literal_us(k.close_time_ms * 1000), k.open_time_ms, k.open.to_string(),
          k.high.to_string(), k.low.to_string(), k.close.to_string(), k.volume.to_string(), k.quote_volume.to_string(),
          k.taker_buy_volume.to_string(), k.taker_buy_quote_volume.to_string(), k.vwap.to_string(),
          static_cast<long long>(k.trade_count), k.first_trade_id, k.last_trade_id, static_cast<long long>(k.revision));
      }
      s.complete();
    }
    static const std::string sql = upsert_klines_sql();
    return static_cast<std::size_t>(w.exec(sql).affected_rows());
  });
}

// ---------------------------------------------------------------------------------------------
// reads

mi::result<bool> ping(const std::string& conninfo, std::chrono::seconds timeout) {
  try {
    pqxx::connection conn{with_connect_timeout(conninfo, timeout)};
    pqxx::nontransaction w{conn};
    w.exec("SET statement_timeout = " + std::to_string(std::max<std::int64_t>(1, timeout.count()) * 1000));
    w.exec1("SELECT 1");
  } catch (const std::exception& e) {
    return make_error("database", e, mi::errc::unavailable);
  }
  return true;
}

mi::result<std::vector<mi::trade>> read_trades(const std::string& conninfo) {
  std::vector<mi::trade> out;
  try {
    pqxx::connection conn{conninfo};
    pqxx::read_transaction w{conn};
    // COLLATE "C": byte order, the same on every server whatever its locale.
    auto rows = w.exec(std::string("SELECT ") + detail::trade_select +
                       " FROM market_trades ORDER BY exchange COLLATE \"C\", symbol COLLATE \"C\", ts, "
                       "ts_ns, trade_id COLLATE \"C\"");
    out.reserve(rows.size());
    for (const auto& r : rows) {
      auto t = detail::trade_row(r);
      if (!t)
        return t.err();
      out.push_back(std::move(*t));
    }
  } catch (const std::exception& e) {
    return make_error("read_trades", e);
  }
  return out;
}

mi::result<std::vector<mi::kline>> read_klines(const std::string& conninfo) {
  std::vector<mi::kline> out;
  try {
    pqxx::connection conn{conninfo};
    pqxx::read_transaction w{conn};
    auto rows = w.exec(std::string("SELECT ") + detail::kline_select +
                       " FROM market_klines ORDER BY exchange COLLATE \"C\", symbol COLLATE \"C\", "
                       "\"interval\" COLLATE \"C\", open_time");
    out.reserve(rows.size());
    for (const auto& r : rows) {
      auto k = detail::kline_row(r);
      if (!k)
        return k.err();
      out.push_back(std::move(*k));
    }
  } catch (const std::exception& e) {
    return make_error("read_klines", e);
  }
  return out;
}

} // namespace mi::gw
