#include "gateways/postgres/equity_store.hpp"

#include <exception>
#include <optional>

#include <pqxx/pqxx>

#include "gateways/postgres/db_error.hpp"
#include "messages/util/json_writer.hpp"

namespace mi::gw {

namespace {

/// NULL for "" (a field the source does not carry), else the decimal text (cast to numeric by the statement).
std::optional<std::string> or_null(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

} // namespace

std::string_view adjustment_text(market::v1::Adjustment a) {
  switch (a) {
  case market::v1::ADJUSTMENT_NONE:
    return "none";
  case market::v1::ADJUSTMENT_FORWARD:
    return "forward";
  case market::v1::ADJUSTMENT_BACKWARD:
    return "backward";
  case market::v1::ADJUSTMENT_ALL:
    return "all";
  default:
    return "";
  }
}

std::string quote_levels_json(const google::protobuf::RepeatedPtrField<market::v1::QuoteLevel>& levels) {
  std::string out = "[";
  for (const auto& l : levels) {
    if (out.size() > 1)
      out += ',';
    out += '[';
    mi::util::append_json_string(out, l.price());
    out += ',';
    mi::util::append_json_string(out, l.size());
    out += ']';
  }
  out += ']';
  return out;
}

struct equity_writer::impl {
  std::string conninfo;
  std::unique_ptr<pqxx::connection> conn;
};

equity_writer::equity_writer(std::string conninfo) : impl_(std::make_unique<impl>()) {
  impl_->conninfo = std::move(conninfo);
}

equity_writer::~equity_writer() = default;

mi::result<std::size_t> equity_writer::write(const std::vector<market::v1::Quote>& quotes,
                                             const std::vector<market::v1::DailyBar>& bars) {
  if (quotes.empty() && bars.empty())
    return std::size_t{0};
  for (const auto& b : bars) {
    if (adjustment_text(b.adjustment()).empty() || b.trading_day().empty())
      return mi::error{"daily bar " + b.venue() + " " + b.symbol() + " " + b.trading_day() +
                       ": no adjustment or trading day"};
  }
  try {
    if (!impl_->conn || !impl_->conn->is_open())
      impl_->conn = std::make_unique<pqxx::connection>(impl_->conninfo);
    pqxx::work w{*impl_->conn};
    std::size_t written = 0;
    // Times as exact timestamptz: 'epoch' plus whole microseconds (the column's precision), never a double.
    for (const auto& q : quotes) {
      auto r = w.exec_params(
        "INSERT INTO market_quotes (venue, symbol, source, ts, trading_day, last, bids, asks, volume, turnover, "
        "open, high, low, prev_close, currency) VALUES ($1, $2, $3, "
        "'epoch'::timestamptz + ($4::bigint / 1000) * interval '1 microsecond', $5::date, $6::numeric, $7::jsonb, "
        "$8::jsonb, $9::numeric, $10::numeric, $11::numeric, $12::numeric, $13::numeric, $14::numeric, $15) "
        "ON CONFLICT DO NOTHING",
        q.venue(), q.symbol(), q.source(), q.ts_ns(), or_null(q.trading_day()), or_null(q.last()),
        quote_levels_json(q.bids()), quote_levels_json(q.asks()), or_null(q.volume()), or_null(q.turnover()),
        or_null(q.open()), or_null(q.high()), or_null(q.low()), or_null(q.prev_close()), or_null(q.currency()));
      written += static_cast<std::size_t>(r.affected_rows());
    }
    for (const auto& b : bars) {
      auto r = w.exec_params(
        "INSERT INTO market_daily_bars AS d (venue, symbol, market, trading_day, source, adjustment, open, high, "
        "low, close, volume, turnover, vwap, trade_count, fetched_at) VALUES ($1, $2, $3, $4::date, $5, $6, "
        "$7::numeric, $8::numeric, $9::numeric, $10::numeric, $11::numeric, $12::numeric, $13::numeric, $14, "
        "'epoch'::timestamptz + ($15::bigint / 1000) * interval '1 microsecond') "
        "ON CONFLICT (venue, symbol, trading_day, source, adjustment) DO UPDATE SET market = EXCLUDED.market, "
        "open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, "
        "volume = EXCLUDED.volume, turnover = EXCLUDED.turnover, vwap = EXCLUDED.vwap, "
        "trade_count = EXCLUDED.trade_count, fetched_at = EXCLUDED.fetched_at "
        "WHERE EXCLUDED.fetched_at > d.fetched_at AND (d.open, d.high, d.low, d.close, d.volume, d.turnover, d.vwap, "
        "d.trade_count) IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, "
        "EXCLUDED.volume, EXCLUDED.turnover, EXCLUDED.vwap, EXCLUDED.trade_count)",
        b.venue(), b.symbol(), b.market(), b.trading_day(), b.source(), std::string(adjustment_text(b.adjustment())),
        b.open(), b.high(), b.low(), b.close(), b.volume(), or_null(b.turnover()), or_null(b.vwap()),
        b.trade_count() < 0 ? std::nullopt : std::optional<std::int64_t>(b.trade_count()), b.fetched_at_ns());
      written += static_cast<std::size_t>(r.affected_rows());
    }
    w.commit();
    return written;
  } catch (const pqxx::sql_error& e) {
    return detail::db_error("equities", e);
  } catch (const std::exception& e) {
    impl_->conn.reset(); // broken or unknown state: reconnect next time
    return detail::db_error("equities", e);
  }
}

} // namespace mi::gw
