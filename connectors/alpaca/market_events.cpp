#include "connectors/alpaca/market_events.hpp"

#include "market.pb.h"

namespace mi::alpaca {

std::string quote_subject(std::string_view symbol) { return "market.quote.alpaca." + std::string(symbol); }

std::string status_subject(std::string_view symbol) { return "market.status.alpaca." + std::string(symbol); }

std::string quote_pb(const quote& q, std::int64_t recv_ns) {
  market::v1::Quote m;
  m.set_venue("alpaca");
  m.set_symbol(q.symbol);
  m.set_source("alpaca");
  m.set_ts_ns(q.ts_ns);
  m.set_recv_ns(recv_ns);
  if (q.bid_price.signum() > 0) {
    auto* b = m.add_bids();
    b->set_price(q.bid_price.to_string());
    b->set_size(q.bid_size.to_string());
    b->set_exchange(q.bid_exchange);
  }
  if (q.ask_price.signum() > 0) {
    auto* a = m.add_asks();
    a->set_price(q.ask_price.to_string());
    a->set_size(q.ask_size.to_string());
    a->set_exchange(q.ask_exchange);
  }
  for (const auto& c : q.conditions)
    m.add_conditions(c);
  m.set_tape(q.tape);
  m.set_currency("USD");
  return m.SerializeAsString();
}

std::string quote_msg_id(const quote& q) {
  return "alpaca:" + q.symbol + ":q:" + std::to_string(q.ts_ns) + ":" + q.bid_exchange + ":" + q.bid_price.to_string() +
         ":" + q.bid_size.to_string() + ":" + q.ask_exchange + ":" + q.ask_price.to_string() + ":" +
         q.ask_size.to_string();
}

std::string status_pb(const status& s, std::int64_t recv_ns) {
  market::v1::MarketStatus m;
  m.set_venue("alpaca");
  m.set_symbol(s.symbol);
  m.set_status_code(s.status_code);
  m.set_status_message(s.status_message);
  m.set_reason_code(s.reason_code);
  m.set_reason_message(s.reason_message);
  m.set_halted(s.halted());
  m.set_tape(s.tape);
  m.set_ts_ns(s.ts_ns);
  m.set_recv_ns(recv_ns);
  return m.SerializeAsString();
}

std::string status_msg_id(const status& s) {
  return "alpaca:" + s.symbol + ":s:" + std::to_string(s.ts_ns) + ":" + s.status_code + ":" + s.reason_code;
}

} // namespace mi::alpaca
