#include "messages/deriv/derivative.hpp"

#include "market.pb.h"
#include "messages/decimal.hpp"
#include "messages/util/json_writer.hpp"

namespace mi::deriv {
namespace {

constexpr std::array<std::string_view, channel_count> names{"funding", "mark", "oi", "liquidation"};

bool canonical_or_empty(const std::string& s, bool signed_ok) {
  if (s.empty())
    return true;
  auto c = canonical(s, signed_ok);
  return c && *c == s;
}

market::v1::Side to_pb(mi::side s) {
  return s == mi::side::buy    ? market::v1::SIDE_BUY
         : s == mi::side::sell ? market::v1::SIDE_SELL
                               : market::v1::SIDE_UNKNOWN;
}

} // namespace

std::string_view to_string(channel c) { return names.at(static_cast<std::size_t>(c)); }

std::optional<channel> parse_channel(std::string_view s) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == s)
      return static_cast<channel>(i);
  return std::nullopt;
}

std::optional<std::string> canonical(std::string_view text, bool signed_ok) {
  auto d = mi::decimal::parse(text);
  if (!d || (!signed_ok && d->signum() < 0))
    return std::nullopt;
  return d->to_string();
}

std::string subject(const derivative& d) {
  return "market." + std::string(to_string(d.what)) + "." + d.exchange + "." + d.symbol;
}

std::string dedup_id(const derivative& d) {
  std::string out = d.exchange + ":" + d.symbol + ":" + std::string(to_string(d.what)) + ":" + std::to_string(d.ts_ns);
  // The values too: two events of one channel in the same millisecond with other values are both kept; the same
  // event received twice (a reconnect's repeat) is stored once.
  switch (d.what) {
  case channel::funding:
    out += ":" + d.rate + ":" + std::to_string(d.next_funding_ns);
    break;
  case channel::mark:
    out += ":" + d.mark_price + ":" + d.index_price;
    break;
  case channel::open_interest:
    out += ":" + d.open_interest + ":" + d.open_interest_value;
    break;
  case channel::liquidation:
    out += ":" + std::string(mi::to_string(d.side)) + ":" + d.price + ":" + d.quantity;
    break;
  }
  return out;
}

std::string encode_pb(const derivative& d) {
  market::v1::Derivative m;
  m.set_exchange(d.exchange);
  m.set_symbol(d.symbol);
  m.set_ts_ns(d.ts_ns);
  m.set_recv_ns(d.recv_ns);
  switch (d.what) {
  case channel::funding: {
    auto* f = m.mutable_funding();
    f->set_rate(d.rate);
    f->set_next_funding_ns(d.next_funding_ns);
    break;
  }
  case channel::mark: {
    auto* k = m.mutable_mark();
    k->set_mark_price(d.mark_price);
    k->set_index_price(d.index_price);
    break;
  }
  case channel::open_interest: {
    auto* o = m.mutable_open_interest();
    o->set_open_interest(d.open_interest);
    o->set_open_interest_value(d.open_interest_value);
    break;
  }
  case channel::liquidation: {
    auto* l = m.mutable_liquidation();
    l->set_side(to_pb(d.side));
    l->set_price(d.price);
    l->set_quantity(d.quantity);
    break;
  }
  }
  return m.SerializeAsString();
}

mi::result<derivative> decode_pb(std::string_view bytes) {
  market::v1::Derivative m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return mi::error{"not a market.v1.Derivative"};
  derivative d;
  d.exchange = m.exchange();
  d.symbol = m.symbol();
  d.ts_ns = m.ts_ns();
  d.recv_ns = m.recv_ns();
  switch (m.kind_case()) {
  case market::v1::Derivative::kFunding:
    d.what = channel::funding;
    d.rate = m.funding().rate();
    d.next_funding_ns = m.funding().next_funding_ns();
    break;
  case market::v1::Derivative::kMark:
    d.what = channel::mark;
    d.mark_price = m.mark().mark_price();
    d.index_price = m.mark().index_price();
    break;
  case market::v1::Derivative::kOpenInterest:
    d.what = channel::open_interest;
    d.open_interest = m.open_interest().open_interest();
    d.open_interest_value = m.open_interest().open_interest_value();
    break;
  case market::v1::Derivative::kLiquidation:
    d.what = channel::liquidation;
    d.side = m.liquidation().side() == market::v1::SIDE_BUY    ? mi::side::buy
             : m.liquidation().side() == market::v1::SIDE_SELL ? mi::side::sell
                                                               : mi::side::unknown;
    d.price = m.liquidation().price();
    d.quantity = m.liquidation().quantity();
    break;
  default:
    return mi::error{"market.v1.Derivative without funding, mark, open_interest or liquidation"};
  }
  if (!canonical_or_empty(d.rate, true) || !canonical_or_empty(d.mark_price, false) ||
      !canonical_or_empty(d.index_price, false) || !canonical_or_empty(d.open_interest, false) ||
      !canonical_or_empty(d.open_interest_value, false) || !canonical_or_empty(d.price, false) ||
      !canonical_or_empty(d.quantity, false))
    return mi::error{"market.v1.Derivative with a value that is not a canonical decimal"};
  return d;
}

std::string to_json(const derivative& d) {
  std::string out = "{\"exchange\":";
  mi::util::append_json_string(out, d.exchange);
  out += ",\"symbol\":";
  mi::util::append_json_string(out, d.symbol);
  out += ",\"channel\":\"" + std::string(to_string(d.what)) + "\",\"ts_ns\":" + std::to_string(d.ts_ns) +
         ",\"recv_ns\":" + std::to_string(d.recv_ns);
  auto text = [&](const char* k, const std::string& v) {
    out += ",\"";
    out += k;
    out += "\":";
    if (v.empty())
      out += "null";
    else
      mi::util::append_json_string(out, v);
  };
  switch (d.what) {
  case channel::funding:
    text("rate", d.rate);
    out += ",\"next_funding_ns\":" + std::to_string(d.next_funding_ns);
    break;
  case channel::mark:
    text("mark_price", d.mark_price);
    text("index_price", d.index_price);
    break;
  case channel::open_interest:
    text("open_interest", d.open_interest);
    text("open_interest_value", d.open_interest_value);
    break;
  case channel::liquidation:
    text("side", std::string(mi::to_string(d.side)));
    text("price", d.price);
    text("quantity", d.quantity);
    break;
  }
  out += '}';
  return out;
}

} // namespace mi::deriv
