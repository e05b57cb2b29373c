#include "gateways/postgres/history_reader.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <exception>

#include <pqxx/pqxx>

#include "gateways/postgres/db_error.hpp"
#include "gateways/postgres/document_search.hpp"
#include "gateways/postgres/rows.hpp"
#include "gateways/postgres/statement.hpp"
#include "messages/util/floor_div.hpp"
#include "messages/util/text.hpp"

namespace mi::gw {

namespace detail {

mi::error db_error(const std::string& what, const std::exception& e) {
  const std::string text(mi::util::trim(e.what()));
  // SQLSTATE 57014 (query_canceled): our statement_timeout fired. Marked so the API can say so.
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e); sql && sql->sqlstate() == "57014")
    return mi::error{std::string(timeout_marker) + what + ": " + text};
  return mi::error{what + ": " + text};
}

} // namespace detail

namespace {

using detail::db_error;
using mi::util::floor_div;

using detail::kline_row;
using detail::statement;
using detail::trade_row;
constexpr const char* kline_columns = detail::kline_select;
constexpr const char* trade_columns = detail::trade_select;

std::string hex(std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

} // namespace

std::string with_connect_timeout(const std::string& conninfo, std::chrono::seconds timeout) {
  if (conninfo.find("connect_timeout") != std::string::npos)
    return conninfo;
  const std::string value = "connect_timeout=" + std::to_string(std::max<std::int64_t>(1, timeout.count()));
  if (conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0)
    return conninfo + (conninfo.find('?') == std::string::npos ? "?" : "&") + value;
  return conninfo + (conninfo.empty() ? "" : " ") + value;
}

bool is_statement_timeout(const mi::error& e) { return e.message.rfind(detail::timeout_marker, 0) == 0; }

std::string encode_cursor(const trade_cursor& c) { return std::to_string(c.ts_ns) + "_" + hex(c.trade_id); }

mi::result<trade_cursor> decode_cursor(std::string_view token) {
  const mi::error bad{"cursor: malformed token '" + std::string(token.substr(0, 80)) +
                      "' (use the 'next' value of the previous page)"};
  auto us = token.find('_');
  if (us == std::string_view::npos || us == 0)
    return bad;
  trade_cursor c;
  auto [end, ec] = std::from_chars(token.data(), token.data() + us, c.ts_ns);
  if (ec != std::errc{} || end != token.data() + us)
    return bad;
  std::string_view h = token.substr(us + 1);
  if (h.empty() || h.size() % 2 != 0)
    return bad;
  for (std::size_t i = 0; i < h.size(); i += 2) {
    int a = hex_digit(h[i]);
    int b = hex_digit(h[i + 1]);
    if (a < 0 || b < 0)
      return bad;
    c.trade_id += static_cast<char>(a * 16 + b);
  }
  return c;
}

struct history_db::impl {
  std::string conninfo;
  history_options opts;
  std::unique_ptr<pqxx::connection> conn;

  pqxx::connection& connection() {
    if (!conn || !conn->is_open()) {
      auto c = std::make_unique<pqxx::connection>(with_connect_timeout(conninfo, opts.connect_timeout));
      // Every statement of the session, including the wait for a lock, is bounded.
      pqxx::nontransaction n{*c};
      n.exec("SET statement_timeout = " + std::to_string(opts.statement_timeout.count()));
      conn = std::move(c);
    }
    return *conn;
  }

  template <class T, class Body>
  mi::result<T> run(const char* what, Body body) {
    try {
      pqxx::read_transaction w{connection()};
      return body(w);
    } catch (const pqxx::sql_error& e) {
      return db_error(what, e);
    } catch (const std::exception& e) {
      conn.reset(); // broken or unknown state: start over next time
      return db_error(what, e);
    }
  }
};

history_db::history_db(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
history_db::~history_db() = default;

mi::result<std::unique_ptr<history_db>> history_db::connect(const std::string& conninfo, history_options o) {
  auto p = std::make_unique<impl>();
  p->conninfo = conninfo;
  p->opts = o;
  try {
    p->connection();
  } catch (const std::exception& e) {
    return db_error("postgres connect", e);
  }
  return std::unique_ptr<history_db>(new history_db(std::move(p)));
}

mi::result<std::vector<mi::kline>> history_db::klines(const kline_query& q) {
  return impl_->run<std::vector<mi::kline>>(
    "klines", [&](pqxx::read_transaction& w) -> mi::result<std::vector<mi::kline>> {
      statement st;
      st.sql = std::string("SELECT ") + kline_columns + " FROM market_klines WHERE exchange = " + st.arg(q.exchange) +
               " AND symbol = " + st.arg(q.symbol) + " AND \"interval\" = " + st.arg(q.interval);
      if (q.start_ms)
        st.sql += " AND open_time >= " + st.time_arg(*q.start_ms, "millisecond");
      if (q.end_ms)
        st.sql += " AND open_time <= " + st.time_arg(*q.end_ms, "millisecond");
      // With a start: the first `limit` from there; without: the latest `limit` (Binance's rule).
      st.sql += q.start_ms ? " ORDER BY open_time ASC" : " ORDER BY open_time DESC";
      st.sql += " LIMIT " + st.arg(std::to_string(q.limit)) + "::bigint";
      auto rows = st.run(w);
      std::vector<mi::kline> out;
      out.reserve(rows.size());
      for (const auto& r : rows) {
        auto k = kline_row(r);
        if (!k)
          return k.err();
        out.push_back(std::move(*k));
      }
      if (!q.start_ms)
        std::reverse(out.begin(), out.end());
      return out;
    });
}

mi::result<std::vector<coverage_row>> history_db::coverage(const coverage_query& q) {
  return impl_->run<std::vector<coverage_row>>(
    "coverage", [&](pqxx::read_transaction& w) -> mi::result<std::vector<coverage_row>> {
      statement st;
      const auto from = st.time_arg(q.from_ms, "millisecond");
      const auto to = st.time_arg(q.to_ms, "millisecond");
      std::string filter;
      if (q.exchange)
        filter += " AND exchange = " + st.arg(*q.exchange);
      if (q.symbol)
        filter += " AND symbol = " + st.arg(*q.symbol);
      // Trades by the hour of ts_ns (exact integer arithmetic, as the audit counts them); the range on `ts` prunes
      // partitions. FULL JOIN ... USING merges the key columns of the three sides.
      st.sql = "WITH t AS (SELECT exchange, symbol, (ts_ns / 3600000000000) * 3600000 AS hour_ms, count(*) AS trades "
               "FROM market_trades WHERE ts >= " +
               from + " AND ts < " + to + filter +
               " GROUP BY 1, 2, 3), "
               "g AS (SELECT exchange, symbol, (extract(epoch FROM hour) * 1000)::bigint AS hour_ms, "
               "count(*) FILTER (WHERE outcome = 'detected') AS detected, "
               "count(*) FILTER (WHERE outcome = 'filled') AS filled, "
               "count(*) FILTER (WHERE outcome = 'unfillable') AS unfillable, "
               "coalesce(sum(trades) FILTER (WHERE outcome = 'filled'), 0) AS recovered, "
               "coalesce(sum(trades) FILTER (WHERE outcome = 'unfillable'), 0) AS missing "
               "FROM market_gaps WHERE hour >= " +
               from + " AND hour < " + to + filter +
               " GROUP BY 1, 2, 3), "
               "a AS (SELECT exchange, symbol, (extract(epoch FROM hour) * 1000)::bigint AS hour_ms, stream_trades, "
               "stored_trades FROM market_audits WHERE hour >= " +
               from + " AND hour < " + to + filter +
               ") "
               "SELECT exchange, symbol, hour_ms, coalesce(t.trades, 0), coalesce(g.detected, 0), "
               "coalesce(g.filled, 0), coalesce(g.unfillable, 0), coalesce(g.recovered, 0), coalesce(g.missing, 0), "
               "a.stream_trades, a.stored_trades "
               "FROM t FULL JOIN g USING (exchange, symbol, hour_ms) FULL JOIN a USING (exchange, symbol, hour_ms) "
               "ORDER BY 1, 2, 3 LIMIT 100000";
      auto rows = st.run(w);
      std::vector<coverage_row> out;
      out.reserve(rows.size());
      for (const auto& r : rows) {
        coverage_row c{r[0].as<std::string>(),
                       r[1].as<std::string>(),
                       r[2].as<std::int64_t>(),
                       r[3].as<std::int64_t>(),
                       r[4].as<std::int64_t>(),
                       r[5].as<std::int64_t>(),
                       r[6].as<std::int64_t>(),
                       r[7].as<std::int64_t>(),
                       r[8].as<std::int64_t>(),
                       std::nullopt,
                       std::nullopt};
        if (!r[9].is_null())
          c.audit_stream_trades = r[9].as<std::int64_t>();
        if (!r[10].is_null())
          c.audit_stored_trades = r[10].as<std::int64_t>();
        out.push_back(std::move(c));
      }
      return out;
    });
}

mi::result<std::vector<partition_row>> history_db::partitions() {
  return impl_->run<std::vector<partition_row>>(
    "partitions", [&](pqxx::read_transaction& w) -> mi::result<std::vector<partition_row>> {
      auto rows = w.exec("SELECT p.relname, c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                         "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
                         "WHERE p.relname IN ('market_trades', 'market_klines') ORDER BY 1, 2");
      std::vector<partition_row> out;
      for (const auto& r : rows)
        out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].is_null() ? "" : r[2].as<std::string>()});
      return out;
    });
}

mi::result<trade_page> history_db::trades(const trade_query& q) {
  return impl_->run<trade_page>("trades", [&](pqxx::read_transaction& w) -> mi::result<trade_page> {
    trade_page page;
    std::optional<trade_cursor> from = q.after;
    bool inclusive = false;
    if (q.from_id) {
      auto r = w.exec_params("SELECT ts_ns FROM market_trades WHERE exchange = $1 AND symbol = $2 AND trade_id = $3 "
                             "ORDER BY ts LIMIT 1",
                             q.exchange, q.symbol, *q.from_id);
      if (r.empty()) {
        page.from_id_unknown = true;
        return page;
      }
      from = trade_cursor{r[0][0].as<std::int64_t>(), *q.from_id};
      inclusive = true;
    }
    statement st;
    st.sql = std::string("SELECT ") + trade_columns + " FROM market_trades WHERE exchange = " + st.arg(q.exchange) +
             " AND symbol = " + st.arg(q.symbol) + " AND NOT canceled"; // 0011: canceled trades are not history
    // The bound on `ts` (the partition key, µs) lets PostgreSQL prune partitions and use the
    // (exchange, symbol, ts) index; the row comparison on (ts_ns, trade_id) is the exact cursor.
    if (from) {
      st.sql += " AND ts >= " + st.time_arg(floor_div(from->ts_ns, 1000), "microsecond");
      st.sql += std::string(" AND (ts_ns, trade_id) ") + (inclusive ? ">=" : ">") + " (" +
                st.arg(std::to_string(from->ts_ns)) + "::bigint, " + st.arg(from->trade_id) + "::text)";
    }
    if (q.start_ms)
      st.sql += " AND ts >= " + st.time_arg(*q.start_ms, "millisecond");
    if (q.end_ms)
      st.sql += " AND ts < " + st.time_arg(*q.end_ms + 1, "millisecond");
    st.sql += " ORDER BY ts, ts_ns, trade_id LIMIT " + st.arg(std::to_string(q.limit + 1)) + "::bigint";
    auto rows = st.run(w);
    for (const auto& r : rows) {
      if (page.trades.size() == static_cast<std::size_t>(q.limit)) {
        const auto& last = page.trades.back();
        page.next = trade_cursor{last.ts_ns, last.trade_id};
        break;
      }
      auto t = trade_row(r);
      if (!t)
        return t.err();
      page.trades.push_back(std::move(*t));
    }
    return page;
  });
}

mi::result<std::vector<symbol_summary>> history_db::symbols() {
  return impl_->run<std::vector<symbol_summary>>(
    "symbols", [&](pqxx::read_transaction& w) -> mi::result<std::vector<symbol_summary>> {
      auto rows = w.exec("SELECT exchange, symbol, first_ts_ns, last_ts_ns, trade_count FROM market_symbols "
                         "ORDER BY exchange, symbol");
      std::vector<symbol_summary> out;
      for (const auto& r : rows)
        out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::int64_t>(), r[3].as<std::int64_t>(),
                       r[4].as<std::int64_t>()});
      return out;
    });
}

mi::result<std::vector<mi::deriv::derivative>> history_db::derivatives(const derivatives_query& q) {
  return impl_->run<std::vector<mi::deriv::derivative>>(
    "derivatives", [&](pqxx::read_transaction& w) -> mi::result<std::vector<mi::deriv::derivative>> {
      statement st;
      st.sql = "SELECT exchange, symbol, channel, ts_ns, recv_ns, coalesce(rate::text, ''), coalesce((extract(epoch "
               "FROM next_funding) * 1000000)::bigint, 0), coalesce(mark_price::text, ''), coalesce(index_price::text, "
               "''), coalesce(open_interest::text, ''), coalesce(open_interest_value::text, ''), coalesce(side, ''), "
               "coalesce(price::text, ''), coalesce(quantity::text, '') FROM market_derivatives WHERE exchange = " +
               st.arg(q.exchange) + " AND symbol = " + st.arg(q.symbol);
      if (q.channel)
        st.sql += " AND channel = " + st.arg(std::string(mi::deriv::to_string(*q.channel)));
      if (q.start_ms)
        st.sql += " AND ts >= " + st.time_arg(*q.start_ms, "millisecond");
      if (q.end_ms)
        st.sql += " AND ts <= " + st.time_arg(*q.end_ms, "millisecond");
      st.sql += q.start_ms ? " ORDER BY ts ASC, channel, dedup_id" : " ORDER BY ts DESC, channel DESC, dedup_id DESC";
      st.sql += " LIMIT " + st.arg(std::to_string(q.limit)) + "::bigint";
      std::vector<mi::deriv::derivative> out;
      for (const auto& r : st.run(w)) {
        mi::deriv::derivative d;
        d.exchange = r[0].as<std::string>();
        d.symbol = r[1].as<std::string>();
        d.what = mi::deriv::parse_channel(r[2].as<std::string>()).value_or(mi::deriv::channel::mark);
        d.ts_ns = r[3].as<std::int64_t>();
        d.recv_ns = r[4].as<std::int64_t>();
        d.rate = r[5].as<std::string>();
        d.next_funding_ns = r[6].as<std::int64_t>() * 1000;
        d.mark_price = r[7].as<std::string>();
        d.index_price = r[8].as<std::string>();
        d.open_interest = r[9].as<std::string>();
        d.open_interest_value = r[10].as<std::string>();
        const auto side = r[11].as<std::string>();
        d.side = side == "buy" ? mi::side::buy : side == "sell" ? mi::side::sell : mi::side::unknown;
        d.price = r[12].as<std::string>();
        d.quantity = r[13].as<std::string>();
        out.push_back(std::move(d));
      }
      if (!q.start_ms)
        std::reverse(out.begin(), out.end());
      return out;
    });
}

mi::result<std::vector<bbo_sample>> history_db::bbo(const bbo_query& q) {
  return impl_->run<std::vector<bbo_sample>>(
    "bbo", [&](pqxx::read_transaction& w) -> mi::result<std::vector<bbo_sample>> {
      statement st;
      st.sql = "SELECT exchange, symbol, (extract(epoch FROM ts) * 1000)::bigint, bid_price::text, bid_qty::text, "
               "ask_price::text, ask_qty::text, sequence FROM market_bbo WHERE exchange = " +
               st.arg(q.exchange) + " AND symbol = " + st.arg(q.symbol);
      if (q.start_ms)
        st.sql += " AND ts >= " + st.time_arg(*q.start_ms, "millisecond");
      if (q.end_ms)
        st.sql += " AND ts <= " + st.time_arg(*q.end_ms, "millisecond");
      st.sql += q.start_ms ? " ORDER BY ts ASC" : " ORDER BY ts DESC";
      st.sql += " LIMIT " + st.arg(std::to_string(q.limit)) + "::bigint";
      std::vector<bbo_sample> out;
      for (const auto& r : st.run(w)) {
        bbo_sample b{r[0].as<std::string>(),  r[1].as<std::string>(), r[2].as<std::int64_t>(), {}, {},
                     r[7].as<std::uint64_t>()};
        if (!r[3].is_null())
          b.bid = mi::book::wire_level{r[3].as<std::string>(), r[4].as<std::string>()};
        if (!r[5].is_null())
          b.ask = mi::book::wire_level{r[5].as<std::string>(), r[6].as<std::string>()};
        out.push_back(std::move(b));
      }
      if (!q.start_ms)
        std::reverse(out.begin(), out.end());
      return out;
    });
}

mi::result<std::vector<quote_row>> history_db::quotes(const quote_query& q) {
  return impl_->run<std::vector<quote_row>>(
    "quotes", [&](pqxx::read_transaction& w) -> mi::result<std::vector<quote_row>> {
      statement st;
      st.sql =
        "SELECT venue, symbol, source, (extract(epoch FROM ts) * 1000000)::bigint, coalesce(trading_day::text, ''), "
        "coalesce(last::text, ''), bids::text, asks::text, coalesce(volume::text, ''), coalesce(turnover::text, ''), "
        "coalesce(open::text, ''), coalesce(high::text, ''), coalesce(low::text, ''), "
        "coalesce(prev_close::text, ''), coalesce(currency, '') FROM market_quotes WHERE venue = " +
        st.arg(q.venue) + " AND symbol = " + st.arg(q.symbol);
      if (q.start_ms)
        st.sql += " AND ts >= " + st.time_arg(*q.start_ms, "millisecond");
      if (q.end_ms)
        st.sql += " AND ts <= " + st.time_arg(*q.end_ms, "millisecond");
      st.sql += q.start_ms ? " ORDER BY ts ASC, source ASC" : " ORDER BY ts DESC, source DESC";
      st.sql += " LIMIT " + st.arg(std::to_string(q.limit)) + "::bigint";
      std::vector<quote_row> out;
      for (const auto& r : st.run(w)) {
        quote_row x;
        x.venue = r[0].as<std::string>();
        x.symbol = r[1].as<std::string>();
        x.source = r[2].as<std::string>();
        x.ts_us = r[3].as<std::int64_t>();
        std::string* text[] = {&x.trading_day, &x.last, &x.bids_json, &x.asks_json,  &x.volume,  &x.turnover,
                               &x.open,        &x.high, &x.low,       &x.prev_close, &x.currency};
        for (int i = 0; i < 11; ++i)
          *text[i] = r[4 + i].as<std::string>();
        out.push_back(std::move(x));
      }
      if (!q.start_ms)
        std::reverse(out.begin(), out.end());
      return out;
    });
}

mi::result<std::vector<daily_bar_row>> history_db::daily_bars(const daily_bar_query& q) {
  return impl_->run<std::vector<daily_bar_row>>(
    "daily_bars", [&](pqxx::read_transaction& w) -> mi::result<std::vector<daily_bar_row>> {
      statement st;
      st.sql =
        "SELECT venue, symbol, market, trading_day::text, source, adjustment, open::text, high::text, low::text, "
        "close::text, volume::text, coalesce(turnover::text, ''), coalesce(vwap::text, ''), "
        "coalesce(trade_count, -1), (extract(epoch FROM fetched_at) * 1000000)::bigint FROM market_daily_bars "
        "WHERE venue = " +
        st.arg(q.venue) + " AND symbol = " + st.arg(q.symbol);
      if (q.source)
        st.sql += " AND source = " + st.arg(*q.source);
      if (q.adjustment)
        st.sql += " AND adjustment = " + st.arg(*q.adjustment);
      if (q.start_day)
        st.sql += " AND trading_day >= " + st.arg(*q.start_day) + "::date";
      if (q.end_day)
        st.sql += " AND trading_day <= " + st.arg(*q.end_day) + "::date";
      st.sql += " ORDER BY trading_day, source, adjustment LIMIT " + st.arg(std::to_string(q.limit)) + "::bigint";
      std::vector<daily_bar_row> out;
      for (const auto& r : st.run(w)) {
        daily_bar_row x;
        std::string* text[] = {&x.venue, &x.symbol, &x.market, &x.trading_day, &x.source,   &x.adjustment, &x.open,
                               &x.high,  &x.low,    &x.close,  &x.volume,      &x.turnover, &x.vwap};
        for (int i = 0; i < 13; ++i)
          *text[i] = r[i].as<std::string>();
        x.trade_count = r[13].as<std::int64_t>();
        x.fetched_at_us = r[14].as<std::int64_t>();
        out.push_back(std::move(x));
      }
      return out;
    });
}

mi::result<std::vector<quality_result_row>> history_db::quality(const quality_query& q) {
  return impl_->run<std::vector<quality_result_row>>(
    "quality", [&](pqxx::read_transaction& w) -> mi::result<std::vector<quality_result_row>> {
      statement st;
      st.sql = "SELECT venue, symbol, market, trading_day::text, source, mismatches, differences::text, "
               "(extract(epoch FROM checked_at) * 1000000)::bigint FROM market_daily_quality WHERE venue = " +
               st.arg(q.venue);
      if (q.symbol)
        st.sql += " AND symbol = " + st.arg(*q.symbol);
      if (q.start_day)
        st.sql += " AND trading_day >= " + st.arg(*q.start_day) + "::date";
      if (q.end_day)
        st.sql += " AND trading_day <= " + st.arg(*q.end_day) + "::date";
      if (q.mismatched_only)
        st.sql += " AND mismatches > 0";
      st.sql += " ORDER BY trading_day, symbol, source LIMIT " + st.arg(std::to_string(q.limit)) + "::bigint";
      std::vector<quality_result_row> out;
      for (const auto& r : st.run(w)) {
        quality_result_row x;
        x.venue = r[0].as<std::string>();
        x.symbol = r[1].as<std::string>();
        x.market = r[2].as<std::string>();
        x.trading_day = r[3].as<std::string>();
        x.source = r[4].as<std::string>();
        x.mismatches = r[5].as<int>();
        x.differences_json = r[6].as<std::string>();
        x.checked_at_us = r[7].as<std::int64_t>();
        out.push_back(std::move(x));
      }
      return out;
    });
}

mi::result<std::optional<book_sample>> history_db::book(const std::string& exchange, const std::string& symbol,
                                                        std::optional<std::int64_t> at_ms) {
  using out_t = std::optional<book_sample>;
  return impl_->run<out_t>("book", [&](pqxx::read_transaction& w) -> mi::result<out_t> {
    statement st;
    // Levels come back as rows of (side, ordinal, price, qty): jsonb arrays keep their order.
    st.sql = "WITH s AS (SELECT exchange, symbol, ts, depth, bids, asks, sequence FROM market_book_snapshots WHERE "
             "exchange = " +
             st.arg(exchange) + " AND symbol = " + st.arg(symbol);
    if (at_ms)
      st.sql += " AND ts <= " + st.time_arg(*at_ms, "millisecond");
    st.sql += " ORDER BY ts DESC LIMIT 1) "
              "SELECT s.exchange, s.symbol, (extract(epoch FROM s.ts) * 1000)::bigint, s.depth, s.sequence, l.side, "
              "l.level->>0, l.level->>1 FROM s LEFT JOIN LATERAL (SELECT 'b' AS side, e.level, e.n FROM "
              "jsonb_array_elements(s.bids) WITH ORDINALITY AS e(level, n) UNION ALL SELECT 'a', e.level, e.n FROM "
              "jsonb_array_elements(s.asks) WITH ORDINALITY AS e(level, n)) l ON true ORDER BY l.side DESC, l.n";
    auto rows = st.run(w);
    if (rows.empty())
      return out_t{};
    book_sample b{rows[0][0].as<std::string>(),
                  rows[0][1].as<std::string>(),
                  rows[0][2].as<std::int64_t>(),
                  rows[0][3].as<int>(),
                  {},
                  {},
                  rows[0][4].as<std::uint64_t>()};
    for (const auto& r : rows) {
      if (r[5].is_null())
        continue; // a snapshot with both sides empty
      (r[5].as<std::string>() == "b" ? b.bids : b.asks).push_back({r[6].as<std::string>(), r[7].as<std::string>()});
    }
    return out_t{std::move(b)};
  });
}

mi::result<document_page> history_db::documents(const document_query& q) {
  return impl_->run<document_page>("documents",
                                   [&](pqxx::read_transaction& w) { return detail::search_documents(w, q); });
}

mi::result<std::optional<api_key_row>> history_db::find_key(const std::string& key_id) {
  using out_t = std::optional<api_key_row>;
  return impl_->run<out_t>("api key lookup", [&](pqxx::read_transaction& w) -> mi::result<out_t> {
    auto rows = w.exec_params("SELECT key_id, coalesce(signing_key, ''), revoked_at IS NOT NULL, "
                              "coalesce(quota_per_minute, 0), coalesce(signing_key_enc, '') "
                              "FROM api_keys WHERE key_id = $1",
                              key_id);
    if (rows.empty())
      return out_t{};
    api_key_row k;
    k.key_id = rows[0][0].as<std::string>();
    k.signing_key = rows[0][1].as<std::string>();
    k.revoked = rows[0][2].as<bool>();
    k.quota_per_minute = rows[0][3].as<std::int64_t>();
    k.sealed_signing_key = rows[0][4].as<std::string>();
    return out_t{std::move(k)};
  });
}

bool history_db::ping() {
  auto r = impl_->run<int>(
    "ping", [](pqxx::read_transaction& w) -> mi::result<int> { return w.exec("SELECT 1")[0][0].as<int>(); });
  return r.has_value();
}

} // namespace mi::gw
