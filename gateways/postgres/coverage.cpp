#include "gateways/postgres/coverage.hpp"

#include <exception>
#include <pqxx/pqxx>

#include "gateways/postgres/postgres.hpp"
#include "messages/util/floor_div.hpp"
#include "messages/util/text.hpp"

namespace mi::gw {

std::int64_t gap_record::hour_ms() const {
  // The missing trades lie between the last trade before the gap and the first after it: the middle is the best
  // single estimate when the two are in different hours (a gap across an hour boundary).
  const std::int64_t ns = after_ts_ns > 0 && before_ts_ns > 0 ? after_ts_ns + (before_ts_ns - after_ts_ns) / 2
                          : after_ts_ns > 0                   ? after_ts_ns
                                                              : before_ts_ns;
  return mi::util::floor_div(ns, std::int64_t{3'600'000'000'000}) * 3'600'000;
}

mi::result<std::size_t> write_gaps(const std::string& conninfo, const std::vector<gap_record>& gaps) {
  if (gaps.empty())
    return std::size_t{0};
  try {
    pqxx::connection conn{conninfo};
    pqxx::work w{conn};
    std::size_t inserted = 0;
    for (const auto& g : gaps) {
      auto r = w.exec_params(
        "INSERT INTO market_gaps (id, exchange, symbol, hour, outcome, first_id, last_id, trades, after_ts_ns, "
        "before_ts_ns, reason) VALUES ($1, $2, $3, 'epoch'::timestamptz + $4::bigint * interval '1 millisecond', $5, "
        "$6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING",
        g.id, g.exchange, g.symbol, g.hour_ms(), g.outcome, g.first_id, g.last_id, g.trades, g.after_ts_ns,
        g.before_ts_ns, g.reason);
      inserted += static_cast<std::size_t>(r.affected_rows());
    }
    w.commit();
    return inserted;
  } catch (const std::exception& e) {
    return mi::error{"coverage: write gaps: " + std::string(mi::util::trim(e.what()))};
  }
}

mi::result<std::size_t> record_audit(const std::string& conninfo, const std::vector<audit_cell>& cells) {
  if (cells.empty())
    return std::size_t{0};
  try {
    pqxx::connection conn{conninfo};
    pqxx::work w{conn};
    for (const auto& c : cells)
      w.exec_params("INSERT INTO market_audits (exchange, symbol, hour, stream_trades, stored_trades) VALUES ($1, $2, "
                    "'epoch'::timestamptz + $3::bigint * interval '1 millisecond', $4, $5) ON CONFLICT (exchange, "
                    "symbol, hour) DO UPDATE SET stream_trades = EXCLUDED.stream_trades, stored_trades = "
                    "EXCLUDED.stored_trades, audited_at = now()",
                    c.exchange, c.symbol, c.hour_ms, static_cast<long long>(c.stream_trades),
                    static_cast<long long>(c.stored_trades));
    w.commit();
    return cells.size();
  } catch (const std::exception& e) {
    return mi::error{"coverage: record audit: " + std::string(mi::util::trim(e.what()))};
  }
}

} // namespace mi::gw
