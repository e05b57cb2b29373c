#pragma once

// Reading stored trades and klines back from rows (internal to gateways/postgres): the select lists
// and the row decoders shared by the tests' read_trades/read_klines and the REST API's history_db.

#include <pqxx/pqxx>

#include "messages/kline.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi::gw::detail {

/// The select list trade_row reads (decimals as exact text).
inline constexpr const char* trade_select =
  "exchange, symbol, base, quote, trade_id, price::text, quantity::text, side, ts_ns, recv_ns";
/// The select list kline_row reads; extract(epoch ...) is numeric since PostgreSQL 14: exact ms.
inline constexpr const char* kline_select =
  "exchange, symbol, \"interval\", open_time_ms, (extract(epoch FROM close_time) * 1000)::bigint, open::text, "
  "high::text, low::text, close::text, volume::text, quote_volume::text, trade_count, taker_buy_volume::text, "
  "taker_buy_quote_volume::text, vwap::text, first_trade_id, last_trade_id, revision";

/// An exact decimal from a numeric column's text; error naming the column.
mi::result<mi::decimal> numeric(const pqxx::field& f);
/// A trade from a row of `trade_select`.
mi::result<mi::trade> trade_row(const pqxx::row& r);
/// A (final) kline from a row of `kline_select`.
mi::result<mi::kline> kline_row(const pqxx::row& r);

} // namespace mi::gw::detail
