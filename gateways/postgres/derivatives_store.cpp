#include "gateways/postgres/derivatives_store.hpp"

#include <pqxx/pqxx>

#include "messages/util/text.hpp"

namespace mi::gw {

mi::result<std::size_t> write_derivatives(const std::string& conninfo, const std::vector<mi::deriv::derivative>& rows) {
  if (rows.empty())
    return std::size_t{0};
  try {
    pqxx::connection conn{conninfo};
    pqxx::work w{conn};
    std::size_t inserted = 0;
    for (const auto& d : rows) {
      // "" (not sent) is NULL; times: µs for the timestamptz, the exact ns beside it.
      auto r = w.exec_params(
        "INSERT INTO market_derivatives (exchange, symbol, channel, ts, ts_ns, recv_ns, rate, next_funding, "
        "mark_price, index_price, open_interest, open_interest_value, side, price, quantity, dedup_id) VALUES ($1, "
        "$2, $3, 'epoch'::timestamptz + ($4::bigint / 1000) * interval '1 microsecond', $4, $5, "
        "NULLIF($6, '')::numeric, CASE WHEN $7::bigint = 0 THEN NULL ELSE 'epoch'::timestamptz + ($7::bigint / 1000) "
        "* interval '1 microsecond' END, NULLIF($8, '')::numeric, NULLIF($9, '')::numeric, NULLIF($10, '')::numeric, "
        "NULLIF($11, '')::numeric, NULLIF($12, ''), NULLIF($13, '')::numeric, NULLIF($14, '')::numeric, $15) "
        "ON CONFLICT DO NOTHING",
        d.exchange, d.symbol, std::string(mi::deriv::to_string(d.what)), static_cast<long long>(d.ts_ns),
        static_cast<long long>(d.recv_ns), d.rate, static_cast<long long>(d.next_funding_ns), d.mark_price,
        d.index_price, d.open_interest, d.open_interest_value,
        d.what == mi::deriv::channel::liquidation ? std::string(mi::to_string(d.side)) : std::string(), d.price,
        d.quantity, mi::deriv::dedup_id(d));
      inserted += static_cast<std::size_t>(r.affected_rows());
    }
    w.commit();
    return inserted;
  } catch (const std::exception& e) {
    return mi::error{"derivatives: write: " + std::string(mi::util::trim(e.what()))};
  }
}

} // namespace mi::gw
