#include "gateways/postgres/quality_store.hpp"

#include <exception>

#include <pqxx/pqxx>

#include "gateways/postgres/db_error.hpp"
#include "gateways/postgres/rows.hpp"

namespace mi::gw {

struct quality_store::impl {
  std::string conninfo;
  std::unique_ptr<pqxx::connection> conn;
  pqxx::connection& connection() {
    if (!conn || !conn->is_open())
      conn = std::make_unique<pqxx::connection>(conninfo);
    return *conn;
  }
};

quality_store::quality_store(std::string conninfo) : impl_(std::make_unique<impl>()) {
  impl_->conninfo = std::move(conninfo);
}

quality_store::~quality_store() = default;

mi::result<std::vector<mi::kline>> quality_store::daily_klines(const std::string& exchange,
                                                               const std::vector<std::string>& symbols,
                                                               std::int64_t open_time_ms) {
  std::vector<mi::kline> out;
  if (symbols.empty())
    return out;
  std::string joined; // symbols carry no ',' (NATS tokens)
  for (const auto& s : symbols)
    joined += (joined.empty() ? "" : ",") + s;
  try {
    pqxx::read_transaction w{impl_->connection()};
    // open_time (the partition key) as an exact timestamptz so only the day's partition is read.
    auto rows = w.exec_params(
      std::string("SELECT ") + detail::kline_select +
        " FROM market_klines WHERE exchange = $1 AND \"interval\" = '1d' AND symbol = ANY(string_to_array($2, ',')) "
        "AND open_time = 'epoch'::timestamptz + $3::bigint * interval '1 millisecond' "
        "ORDER BY symbol",
      exchange, joined, open_time_ms);
    for (const auto& r : rows) {
      auto k = detail::kline_row(r);
      if (!k)
        return k.err();
      out.push_back(std::move(*k));
    }
    return out;
  } catch (const pqxx::sql_error& e) {
    return detail::db_error("daily quality", e);
  } catch (const std::exception& e) {
    impl_->conn.reset();
    return detail::db_error("daily quality", e);
  }
}

mi::result<std::size_t> quality_store::write(const std::vector<quality_row>& rows) {
  if (rows.empty())
    return std::size_t{0};
  try {
    pqxx::work w{impl_->connection()};
    std::size_t written = 0;
    for (const auto& q : rows) {
      auto r = w.exec_params(
        "INSERT INTO market_daily_quality (venue, symbol, market, trading_day, source, mismatches, differences, "
        "checked_at) VALUES ($1, $2, $3, $4::date, $5, $6, $7::jsonb, "
        "'epoch'::timestamptz + ($8::bigint / 1000) * interval '1 microsecond') "
        "ON CONFLICT (venue, symbol, trading_day, source) DO UPDATE SET market = EXCLUDED.market, "
        "mismatches = EXCLUDED.mismatches, differences = EXCLUDED.differences, checked_at = EXCLUDED.checked_at",
        q.venue, q.symbol, q.market, q.trading_day, q.source, q.mismatches, q.differences_json, q.checked_at_ns);
      written += static_cast<std::size_t>(r.affected_rows());
    }
    w.commit();
    return written;
  } catch (const pqxx::sql_error& e) {
    return detail::db_error("daily quality", e);
  } catch (const std::exception& e) {
    impl_->conn.reset();
    return detail::db_error("daily quality", e);
  }
}

} // namespace mi::gw
