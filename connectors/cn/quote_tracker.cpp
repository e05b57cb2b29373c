#include "connectors/cn/quote_tracker.hpp"

#include "market.pb.h"

namespace mi::cn {
namespace {

bool same_market(const snapshot& a, const snapshot& b) {
  return a.last == b.last && a.open == b.open && a.high == b.high && a.low == b.low && a.prev_close == b.prev_close &&
         a.bids == b.bids && a.asks == b.asks && a.volume == b.volume && a.turnover == b.turnover;
}

std::string text(const std::optional<mi::decimal>& d) { return d ? d->to_string() : std::string(); }

void levels(google::protobuf::RepeatedPtrField<market::v1::QuoteLevel>* out, const std::vector<level>& ls) {
  for (const auto& l : ls) {
    auto* q = out->Add();
    q->set_price(l.price.to_string());
    q->set_size(l.size.to_string());
  }
}

} // namespace

std::string quote_subject(const symbol& s) {
  return "market.quote." + std::string(venue_name) + "." + subject_token(s);
}

std::string quote_dedup_id(const snapshot& s) {
  return std::string(venue_name) + ":" + to_string(s.sym) + ":" + std::to_string(s.ts_ns);
}

std::string quote_payload(const snapshot& s) {
  market::v1::Quote q;
  q.set_venue(std::string(venue_name));
  q.set_symbol(to_string(s.sym));
  q.set_source(std::string(to_string(s.source)));
  q.set_ts_ns(s.ts_ns);
  q.set_recv_ns(s.recv_ns);
  q.set_trading_day(s.trading_day);
  q.set_last(text(s.last));
  levels(q.mutable_bids(), s.bids);
  levels(q.mutable_asks(), s.asks);
  q.set_volume(s.volume.to_string());
  q.set_turnover(s.turnover.to_string());
  q.set_open(text(s.open));
  q.set_high(text(s.high));
  q.set_low(text(s.low));
  q.set_prev_close(text(s.prev_close));
  q.set_currency("CNY");
  return q.SerializeAsString();
}

bool quote_tracker::admit(const snapshot& s) {
  auto [it, fresh] = last_.try_emplace(source_code(s.sym), s);
  if (fresh)
    return true;
  if (s.ts_ns <= it->second.ts_ns || same_market(s, it->second))
    return false;
  it->second = s;
  return true;
}

std::int64_t quote_tracker::last_ts_ns(const symbol& sym) const {
  auto it = last_.find(source_code(sym));
  return it == last_.end() ? 0 : it->second.ts_ns;
}

} // namespace mi::cn
