#pragma once

// The benchmarks' trade i (alternating BTCUSDT / ETHUSDT, 1 ms apart) and its MARKET_RAW message as the publisher
// sends it: one generator for mi_bench_publish and mi_bench_cluster.

#include <cstddef>
#include <cstdint>
#include <string>

#include "gateways/jetstream/jetstream.hpp"
#include "messages/codec.hpp"
#include "messages/trade.hpp"

namespace mi::bench {

inline mi::trade bench_trade(std::size_t i) {
  mi::trade t;
  t.exchange = "binance";
  const bool btc = (i % 2) == 0;
  t.symbol = btc ? "BTCUSDT" : "ETHUSDT";
  t.base = btc ? "BTC" : "ETH";
  t.quote = "USDT";
  t.set_id(std::to_string(1'000'000'000 + i));
  t.price = *mi::decimal::from_parts(
    static_cast<std::int64_t>(btc ? 5'800'103 : 210'042) + static_cast<std::int64_t>(i % 97), 2);
  t.quantity = *mi::decimal::from_parts(static_cast<std::int64_t>(i % 200'000) + 1, 5);
  t.taker_side = (i % 3) == 0 ? mi::side::sell : mi::side::buy;
  t.ts_ns = 1'617'566'591'000'000'000LL + static_cast<std::int64_t>(i) * 1'000'000;
  t.recv_ns = t.ts_ns + 3'000'000;
  return t;
}

/// With the trade's time beside it, as the publisher sends a trade (handed back in its outcome for the latency
/// metric: the gateway keeps it per message in flight).
inline mi::gw::outgoing bench_message(const mi::trade& t) {
  return mi::gw::outgoing{mi::raw_subject(t.exchange, t.symbol),
                          mi::dedup_id(t),
                          std::string(mi::trade_content_type),
                          mi::encode_trade_pb(t),
                          {},
                          t.ts_ns};
}

} // namespace mi::bench
