#include "gateways/postgres/audit_queries.hpp"

#include <exception>

#include <pqxx/pqxx>

#include "messages/util/text.hpp"

#include "gateways/postgres/postgres.hpp"

namespace mi::gw {
namespace {

/// The timestamptz literal of a time in ms (exact, UTC).
std::string ts_literal(pqxx::transaction_base& w, std::int64_t ms) {
  return w.quote(timestamptz_text(ms * 1'000'000)) + "::timestamptz";
}

} // namespace

mi::result<std::vector<hour_count>> trade_counts_by_hour(const std::string& conninfo, std::int64_t from_ms,
                                                         std::int64_t to_ms) {
  try {
    pqxx::connection conn{conninfo};
    pqxx::read_transaction w{conn};
    // The range on `ts` prunes partitions; the hour from ts_ns is exact integer arithmetic.
    auto rows =
      w.exec("SELECT exchange, symbol, (ts_ns / 3600000000000) * 3600000 AS hour_ms, count(*) "
             "FROM market_trades WHERE ts >= " +
             ts_literal(w, from_ms) + " AND ts < " + ts_literal(w, to_ms) + " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3");
    std::vector<hour_count> out;
    out.reserve(rows.size());
    for (const auto& r : rows)
      out.push_back(
        {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::int64_t>(), r[3].as<std::uint64_t>()});
    return out;
  } catch (const std::exception& e) {
    return mi::error{"audit: count trades: " + std::string(mi::util::trim(e.what()))};
  }
}

mi::result<kline_check> kline_trade_counts(const std::string& conninfo, std::int64_t from_ms, std::int64_t to_ms) {
  try {
    pqxx::connection conn{conninfo};
    pqxx::read_transaction w{conn};
    // close_time = next open - 1 ms, so the window is [open_time, close_time + 1 ms).
    auto rows =
      w.exec("SELECT k.exchange, k.symbol, k.\"interval\", k.open_time_ms, k.trade_count, "
             "(SELECT count(*) FROM market_trades t WHERE t.exchange = k.exchange AND t.symbol = k.symbol "
             "AND t.ts >= k.open_time AND t.ts < k.close_time + interval '1 millisecond' AND NOT t.canceled) AS stored "
             "FROM market_klines k WHERE k.open_time >= " +
             ts_literal(w, from_ms) + " AND k.open_time < " + ts_literal(w, to_ms) + " ORDER BY 1, 2, 3, 4");
    kline_check out;
    out.checked = rows.size();
    for (const auto& r : rows) {
      auto count = r[4].as<std::uint64_t>();
      auto stored = r[5].as<std::uint64_t>();
      if (count != stored)
        out.mismatches.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                                  r[3].as<std::int64_t>(), count, stored});
    }
    return out;
  } catch (const std::exception& e) {
    return mi::error{"audit: check klines: " + std::string(mi::util::trim(e.what()))};
  }
}

} // namespace mi::gw
