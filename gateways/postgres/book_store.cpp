#include "gateways/postgres/book_store.hpp"

#include <exception>

#include <pqxx/pqxx>

#include "gateways/postgres/db_error.hpp"
#include "messages/util/json_writer.hpp"

namespace mi::gw {

std::string levels_json(const std::vector<mi::book::wire_level>& levels) {
  std::string out = "[";
  for (const auto& l : levels) {
    if (out.size() > 1)
      out += ',';
    out += '[';
    mi::util::append_json_string(out, l.price); // a row read back may hold any text: always escaped
    out += ',';
    mi::util::append_json_string(out, l.qty);
    out += ']';
  }
  out += ']';
  return out;
}

struct book_sample_writer::impl {
  std::string conninfo;
  std::unique_ptr<pqxx::connection> conn;
};

book_sample_writer::book_sample_writer(std::string conninfo) : impl_(std::make_unique<impl>()) {
  impl_->conninfo = std::move(conninfo);
}

book_sample_writer::~book_sample_writer() = default;

mi::result<std::size_t> book_sample_writer::write(const std::vector<bbo_sample>& bbos,
                                                  const std::vector<book_sample>& books) {
  if (bbos.empty() && books.empty())
    return std::size_t{0};
  try {
    if (!impl_->conn || !impl_->conn->is_open())
      impl_->conn = std::make_unique<pqxx::connection>(impl_->conninfo);
    pqxx::work w{*impl_->conn};
    std::size_t inserted = 0;
    // The time as an exact timestamptz from ms: 'epoch' plus an interval, never through a double.
    for (const auto& b : bbos) {
      auto r = w.exec_params(
        "INSERT INTO market_bbo (exchange, symbol, ts, bid_price, bid_qty, ask_price, ask_qty, sequence) "
        "VALUES ($1, $2, 'epoch'::timestamptz + $3::bigint * interval '1 millisecond', $4::numeric, $5::numeric, "
        "$6::numeric, $7::numeric, $8) ON CONFLICT DO NOTHING",
        b.exchange, b.symbol, b.ts_ms, b.bid ? std::optional<std::string>(b.bid->price) : std::nullopt,
        b.bid ? std::optional<std::string>(b.bid->qty) : std::nullopt,
        b.ask ? std::optional<std::string>(b.ask->price) : std::nullopt,
        b.ask ? std::optional<std::string>(b.ask->qty) : std::nullopt, static_cast<std::int64_t>(b.sequence));
      inserted += static_cast<std::size_t>(r.affected_rows());
    }
    for (const auto& b : books) {
      auto r = w.exec_params(
        "INSERT INTO market_book_snapshots (exchange, symbol, ts, depth, bids, asks, sequence) "
        "VALUES ($1, $2, 'epoch'::timestamptz + $3::bigint * interval '1 millisecond', $4, $5::jsonb, $6::jsonb, $7) "
        "ON CONFLICT DO NOTHING",
        b.exchange, b.symbol, b.ts_ms, b.depth, levels_json(b.bids), levels_json(b.asks),
        static_cast<std::int64_t>(b.sequence));
      inserted += static_cast<std::size_t>(r.affected_rows());
    }
    w.commit();
    return inserted;
  } catch (const pqxx::sql_error& e) {
    return detail::db_error("book samples", e);
  } catch (const std::exception& e) {
    impl_->conn.reset(); // broken or unknown state: reconnect next time
    return detail::db_error("book samples", e);
  }
}

} // namespace mi::gw
