#include "gateways/postgres/partitions.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <exception>
#include <optional>

#include <pqxx/pqxx>

#include "messages/util/civil_time.hpp"
#include "messages/util/text.hpp"

namespace mi::gw {
namespace {

// Serializes maintenance runs of several processes: "mi-part" in ASCII.
constexpr long long partition_lock_key = 0x6d692d7061727400LL;

constexpr std::string_view trade_prefix = "market_trades_p";

using mi::util::civil_from_days;
using mi::util::days_from_civil;

std::string day_text(std::int64_t day) { return mi::util::date_text(civil_from_days(day)) + " 00:00:00+00"; }

std::string month_text(std::int64_t month) {
  return mi::util::date_text(mi::util::month_start(month)) + " 00:00:00+00";
}

/// Parses `digits` exactly (all of it) into a non-negative number.
bool parse_digits(std::string_view digits, std::int64_t& out) {
  if (digits.empty())
    return false;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return ec == std::errc{} && p == digits.data() + digits.size();
}

/// Day index of "market_trades_pYYYYMMDD" that round-trips (so "p20261341" is not ours).
std::optional<std::int64_t> parse_trade_name(std::string_view name) {
  if (name.substr(0, trade_prefix.size()) != trade_prefix || name.size() != trade_prefix.size() + 8)
    return std::nullopt;
  auto digits = name.substr(trade_prefix.size());
  std::int64_t y = 0, m = 0, d = 0;
  if (!parse_digits(digits.substr(0, 4), y) || !parse_digits(digits.substr(4, 2), m) ||
      !parse_digits(digits.substr(6, 2), d) || m < 1 || m > 12 || d < 1 || d > 31)
    return std::nullopt;
  auto day = days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  if (trade_partition(day).name != name)
    return std::nullopt;
  return day;
}

/// Month index of "{table}_pYYYYMM" (a monthly table's partition by our naming).
std::optional<std::int64_t> parse_monthly_name(std::string_view table, std::string_view name) {
  const std::size_t prefix = table.size() + 2;
  if (name.substr(0, table.size()) != table || name.substr(table.size(), 2) != "_p" || name.size() != prefix + 6)
    return std::nullopt;
  auto digits = name.substr(prefix);
  std::int64_t y = 0, m = 0;
  if (!parse_digits(digits.substr(0, 4), y) || !parse_digits(digits.substr(4, 2), m) || m < 1 || m > 12)
    return std::nullopt;
  return (y - 1970) * 12 + (m - 1);
}

std::optional<std::int64_t> parse_kline_name(std::string_view name) {
  return parse_monthly_name("market_klines", name);
}

/// The table of one of our partitions ("market_bbo_p202612" -> "market_bbo").
std::string parent_of(const std::string& name) { return name.substr(0, name.rfind("_p")); }

/// The column a table is partitioned by.
const char* partition_column(std::string_view table) { return table == "market_klines" ? "open_time" : "ts"; }

bool is_hypertable(pqxx::work& w, const char* table) {
  // timescaledb_information exists only with the extension installed.
  if (w.exec("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").empty())
    return false;
  return !w.exec(std::string("SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = '") + table +
                 "'")
            .empty();
}

} // namespace

std::int64_t day_of(std::int64_t ns) { return mi::util::day_of_ns(ns); }

std::int64_t month_of(std::int64_t ns) { return mi::util::month_of_ns(ns); }

partition_range trade_partition(std::int64_t day) {
  auto c = civil_from_days(day);
  char name[48];
  std::snprintf(name, sizeof name, "market_trades_p%04lld%02u%02u", static_cast<long long>(c.year), c.month, c.day);
  return {name, day_text(day), day_text(day + 1), day};
}

partition_range monthly_partition(std::string_view table, std::int64_t month) {
  auto c = mi::util::month_start(month);
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "_p%04lld%02u", static_cast<long long>(c.year), c.month);
  return {std::string(table) + suffix, month_text(month), month_text(month + 1), month};
}

partition_range kline_partition(std::int64_t month) { return monthly_partition("market_klines", month); }

std::vector<partition_range> wanted_partitions(const partition_policy& p, std::int64_t now_ns, bool trades_and_klines) {
  std::vector<partition_range> out;
  const auto today = day_of(now_ns);
  const auto month = month_of(now_ns);
  std::vector<std::string_view> monthly;
  for (const auto& t : monthly_tables)
    monthly.push_back(t.name);
  if (trades_and_klines) {
    for (std::int64_t d = today; d <= today + std::max(0, p.ahead_days); ++d)
      out.push_back(trade_partition(d));
    monthly.insert(monthly.begin(), "market_klines");
  }
  for (auto table : monthly)
    for (std::int64_t m = month; m <= month + std::max(0, p.ahead_months); ++m)
      out.push_back(monthly_partition(table, m));
  return out;
}

std::vector<std::string> partitions_past_retention(const std::vector<std::string>& existing, const partition_policy& p,
                                                   std::int64_t now_ns) {
  std::vector<std::string> out;
  const auto today = day_of(now_ns);
  const auto month = month_of(now_ns);
  for (const auto& name : existing) {
    if (auto d = parse_trade_name(name); d && p.retention_days_trades > 0 && *d + 1 <= today - p.retention_days_trades)
      out.push_back(name);
    else if (auto m = parse_kline_name(name);
             m && p.retention_months_klines > 0 && *m + 1 <= month - p.retention_months_klines)
      out.push_back(name);
    else
      for (const auto& t : monthly_tables)
        if (auto b = parse_monthly_name(t.name, name);
            b && p.*t.retention_months > 0 && *b + 1 <= month - p.*t.retention_months)
          out.push_back(name);
  }
  return out;
}

mi::result<std::vector<std::string>> list_partitions(const std::string& conninfo, const std::string& table) {
  try {
    pqxx::connection conn{conninfo};
    pqxx::read_transaction w{conn};
    std::vector<std::string> out;
    for (const auto& r : w.exec("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                "WHERE i.inhparent = to_regclass(" +
                                w.quote(table) + ") ORDER BY 1"))
      out.push_back(r[0].as<std::string>());
    return out;
  } catch (const std::exception& e) {
    return mi::error{"list partitions of " + table + ": " + std::string(mi::util::trim(e.what()))};
  }
}

mi::result<partition_report> maintain_partitions(const std::string& conninfo, const partition_policy& p,
                                                 std::int64_t now_ns) {
  partition_report report;
  std::string current = "connect";
  try {
    pqxx::connection conn{conninfo};
    const std::string lock = "SELECT pg_advisory_xact_lock(" + std::to_string(partition_lock_key) + ")";
    {
      current = "inspect";
      pqxx::work w{conn};
      report.timescale = is_hypertable(w, "market_trades");
      if (report.timescale) {
        // Chunks are TimescaleDB's own partitions: it creates them on insert; only retention is ours.
        if (p.retention_days_trades > 0) {
          current = "drop_chunks market_trades";
          w.exec("SELECT drop_chunks('market_trades', older_than => now() - interval '" +
                 std::to_string(p.retention_days_trades) + " days')");
        }
        if (p.retention_days_trades > 0) {
          // Chunks give no per-chunk counts back: rebuild the /symbols summary (one scan).
          current = "rebuild market_symbols";
          w.exec("DELETE FROM market_symbols");
          w.exec("INSERT INTO market_symbols SELECT exchange, symbol, min(ts_ns), max(ts_ns), count(*) "
                 "FROM market_trades GROUP BY exchange, symbol");
        }
        if (p.retention_months_klines > 0) {
          current = "drop_chunks market_klines";
          w.exec("SELECT drop_chunks('market_klines', older_than => now() - interval '" +
                 std::to_string(p.retention_months_klines) + " months')");
        }
        w.commit();
      }
    }
    for (const auto& part : wanted_partitions(p, now_ns, !report.timescale)) {
      current = "create " + part.name;
      const std::string parent = parent_of(part.name);
      const char* column = partition_column(parent);
      pqxx::work w{conn};
      w.exec("SET LOCAL client_min_messages = warning");
      w.exec(lock);
      if (!w.exec1("SELECT to_regclass(" + w.quote(part.name) + ") IS NULL")[0].as<bool>())
        continue; // exists; the work's destructor rolls back
      // A DEFAULT partition holding rows of this range would make the creation fail: take them
      // out first, put them back through the parent (they land in the new partition).
      const std::string range =
        std::string(column) + " >= " + w.quote(part.from) + " AND " + column + " < " + w.quote(part.to);
      w.exec("CREATE TEMP TABLE mi_moved ON COMMIT DROP AS WITH d AS (DELETE FROM " + parent + "_default WHERE " +
             range + " RETURNING *) SELECT * FROM d");
      w.exec("CREATE TABLE " + w.quote_name(part.name) + " PARTITION OF " + parent + " FOR VALUES FROM (" +
             w.quote(part.from) + ") TO (" + w.quote(part.to) + ")");
      auto reinserted = w.exec("INSERT INTO " + parent + " SELECT * FROM mi_moved");
      w.commit();
      report.created.push_back(part.name);
      report.moved_from_default += static_cast<std::uint64_t>(reinserted.affected_rows());
    }
    // With TimescaleDB, trades and klines are chunks (handled above); the book tables are partitioned either way.
    std::vector<std::string> existing;
    std::vector<std::string_view> tables;
    for (const auto& t : monthly_tables)
      tables.push_back(t.name);
    if (!report.timescale)
      tables.insert(tables.begin(), {"market_trades", "market_klines"});
    for (auto table : tables) {
      current = "list partitions of " + std::string(table);
      pqxx::read_transaction r{conn};
      for (const auto& row : r.exec("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = "
                                    "i.inhrelid WHERE i.inhparent = '" +
                                    std::string(table) + "'::regclass ORDER BY 1"))
        existing.push_back(row[0].as<std::string>());
    }
    for (const auto& name : partitions_past_retention(existing, p, now_ns)) {
      current = "drop " + name;
      pqxx::work w{conn};
      w.exec(lock);
      const bool trades = name.rfind("market_trades_", 0) == 0;
      if (trades && !w.exec1("SELECT to_regclass(" + w.quote(name) + ") IS NULL")[0].as<bool>()) {
        // The /symbols summary (market_symbols, 0005) loses this partition's rows: subtract
        // them, and move each symbol's first trade to the oldest one left (index on
        // exchange, symbol, ts); a symbol with none left goes.
        w.exec("CREATE TEMP TABLE mi_gone ON COMMIT DROP AS SELECT exchange, symbol, count(*) AS n FROM " +
               w.quote_name(name) + " GROUP BY exchange, symbol");
        w.exec("DROP TABLE " + w.quote_name(name));
        w.exec("UPDATE market_symbols s SET trade_count = s.trade_count - g.n, first_ts_ns = coalesce((SELECT t.ts_ns "
               "FROM market_trades t WHERE t.exchange = s.exchange AND t.symbol = s.symbol ORDER BY t.ts, t.ts_ns "
               "LIMIT 1), s.first_ts_ns) FROM mi_gone g WHERE s.exchange = g.exchange AND s.symbol = g.symbol");
        w.exec("DELETE FROM market_symbols WHERE trade_count <= 0");
      } else {
        w.exec("DROP TABLE IF EXISTS " + w.quote_name(name));
      }
      w.commit();
      report.dropped.push_back(name);
    }
    if (!report.timescale) {
      current = "count default rows";
      pqxx::read_transaction r{conn};
      report.default_rows_trades = r.exec1("SELECT count(*) FROM market_trades_default")[0].as<std::uint64_t>();
      report.default_rows_klines = r.exec1("SELECT count(*) FROM market_klines_default")[0].as<std::uint64_t>();
    }
  } catch (const std::exception& e) {
    return mi::error{"partition maintenance (" + current + "): " + std::string(mi::util::trim(e.what()))};
  }
  return report;
}

} // namespace mi::gw
