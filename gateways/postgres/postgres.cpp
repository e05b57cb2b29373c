#include "gateways/postgres/postgres.hpp"
#include "gateways/postgres/history_reader.hpp"
#include "gateways/postgres/partitions.hpp"
#include "gateways/postgres/rows.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <tuple>

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
void apply_amendments(pqxx::work& w, const std::vector<mi::trade>& batch) {
  constexpr std::int64_t week_ns = 7LL * 24 * 3600 * 1'000'000'000;
  constexpr std::int64_t hour_ns = 3600LL * 1'000'000'000;
  for (const auto& a : batch) {
    if (!a.is_amendment())
      continue;
    const auto from = timestamptz_text(a.ts_ns - week_ns);
    const auto to = timestamptz_text(a.ts_ns + hour_ns);
    for (const char* key : {"trade_id", "corrected_by"}) {
      const std::string where = std::string(" WHERE exchange = $1 AND symbol = $2 AND ") + key +
                                " = $3 AND ts >= $4::timestamptz AND ts <= $5::timestamptz AND NOT canceled";
      const auto r =
        a.canceled
          ? w.exec_params("UPDATE market_trades SET canceled = true" + where, a.exchange, a.symbol, a.amends, from, to)
          : w.exec_params(
              "UPDATE market_trades SET price = $6::numeric, quantity = $7::numeric, corrected_by = $8" + where,
              a.exchange, a.symbol, a.amends, from, to, a.price.to_string(), a.quantity.to_string(), a.trade_id);
      if (r.affected_rows() > 0)
        break;
    }
  }
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
    if (conn && (!statement_error || !conn->is_open())) {
      conn.reset();
      staged_pid = 0;
    }
  }

  template <class Body>
  mi::result<std::size_t> write(const char* what, Body body) {
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

mi::result<std::size_t> pg_writer::write_trades(const std::vector<mi::trade>& batch) {
  if (batch.empty())
    return std::size_t{0};
  const bool any_amendment =
    std::any_of(batch.begin(), batch.end(), [](const mi::trade& t) { return t.is_amendment(); });
  return impl_->write("write_trades", [&](pqxx::work& w) {
    std::size_t inserted = 0;
    {
      pqxx::stream_to s{w, "mi_stage_trades", trade_columns};
      for (const auto& t : batch) {
        if (t.is_amendment())
          continue;
        s << std::make_tuple(t.exchange, t.symbol, t.base, t.quote, t.trade_id, t.price.to_string(),
                             t.quantity.to_string(), std::string(to_string(t.taker_side)), timestamptz_text(t.ts_ns),
                             t.ts_ns, t.recv_ns);
      }
      s.complete();
    }
    static const std::string sql = insert_trades_sql();
    inserted = static_cast<std::size_t>(w.exec1(sql)[0].as<long long>());
    if (any_amendment)
      apply_amendments(w, batch);
    return inserted;
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
