#include "messages/codec.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "market.pb.h"
#include "messages/util/json_writer.hpp"

namespace mi {
namespace {

using mi::util::append_json_string;

void key(std::string& out, std::string_view k, bool first = false) {
  if (!first)
    out.push_back(',');
  append_json_string(out, k);
  out.push_back(':');
}

void kv(std::string& out, std::string_view k, std::string_view v, bool first = false) {
  key(out, k, first);
  append_json_string(out, v);
}

template <class Int>
void kv_int(std::string& out, std::string_view k, Int v) {
  key(out, k);
  out += std::to_string(v);
}

side side_from_text(std::string_view s, bool& ok) {
  ok = true;
  if (s == "buy")
    return side::buy;
  if (s == "sell")
    return side::sell;
  if (s == "unknown")
    return side::unknown;
  ok = false;
  return side::unknown;
}

// Typed field access on a Boost.JSON object with readable errors.
struct fields {
  const boost::json::object& o;
  std::string problem;

  const boost::json::value* get(std::string_view k) {
    auto it = o.find(k);
    if (it == o.end()) {
      if (problem.empty())
        problem = "missing field '" + std::string(k) + "'";
      return nullptr;
    }
    return &it->value();
  }
  std::string str(std::string_view k) {
    auto* v = get(k);
    if (v == nullptr)
      return {};
    if (!v->is_string()) {
      if (problem.empty())
        problem = "field '" + std::string(k) + "' must be a string";
      return {};
    }
    return std::string(v->get_string());
  }
  decimal dec(std::string_view k) {
    auto s = str(k);
    if (!problem.empty())
      return {};
    auto d = decimal::parse(s);
    if (!d) {
      problem = "field '" + std::string(k) + "' is not a decimal: \"" + s + "\"";
      return {};
    }
    return *d;
  }
  std::int64_t int64(std::string_view k) {
    auto* v = get(k);
    if (v == nullptr)
      return 0;
    if (v->is_int64())
      return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
      return static_cast<std::int64_t>(v->get_uint64());
    if (problem.empty())
      problem = "field '" + std::string(k) + "' must be an integer";
    return 0;
  }
  // Trade ids are strings in our formats; accept integers too (tools).
  std::string id(std::string_view k) {
    auto* v = get(k);
    if (v == nullptr)
      return {};
    if (v->is_string())
      return std::string(v->get_string());
    if (v->is_int64())
      return std::to_string(v->get_int64());
    if (v->is_uint64())
      return std::to_string(v->get_uint64());
    if (problem.empty())
      problem = "field '" + std::string(k) + "' must be a string or an integer";
    return {};
  }
};

result<boost::json::object> parse_object(std::string_view line) {
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec);
  if (ec)
    return error{"not JSON: " + ec.message()};
  if (!v.is_object())
    return error{"not a JSON object"};
  return std::move(v.get_object());
}

} // namespace

std::string encode_trade_pb(const trade& t) {
  market::v1::Trade m;
  m.set_exchange(t.exchange);
  m.set_symbol(t.symbol);
  m.set_base(t.base);
  m.set_quote(t.quote);
  m.set_trade_id(t.trade_id);
  m.set_price(t.price.to_string());
  m.set_quantity(t.quantity.to_string());
  m.set_side(static_cast<market::v1::Side>(t.taker_side));
  m.set_ts_ns(t.ts_ns);
  m.set_recv_ns(t.recv_ns);
  m.set_exchange_code(t.exchange_code);
  for (const auto& c : t.conditions)
    m.add_conditions(c);
  m.set_tape(t.tape);
  if (t.is_amendment()) {
    m.set_amends(t.amends);
    m.set_canceled(t.canceled);
  }
  return m.SerializeAsString();
}

result<trade> decode_trade_pb(std::string_view bytes) {
  market::v1::Trade m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return error{"not a market.v1.Trade"};
  trade t;
  t.exchange = m.exchange();
  t.symbol = m.symbol();
  t.base = m.base();
  t.quote = m.quote();
  t.set_id(m.trade_id());
  auto p = decimal::parse(m.price());
  auto q = decimal::parse(m.quantity());
  if (!p || !q)
    return error{"market.v1.Trade with a malformed price or quantity"};
  t.price = *p;
  t.quantity = *q;
  if (m.side() < 0 || m.side() > 2)
    return error{"market.v1.Trade with an unknown side"};
  t.taker_side = static_cast<side>(m.side());
  t.ts_ns = m.ts_ns();
  t.recv_ns = m.recv_ns();
  t.exchange_code = m.exchange_code();
  t.conditions.assign(m.conditions().begin(), m.conditions().end());
  t.tape = m.tape();
  t.amends = m.amends();
  t.canceled = m.canceled();
  return t;
}

std::string encode_kline_pb(const kline& k) {
  market::v1::Kline m;
  m.set_exchange(k.exchange);
  m.set_symbol(k.symbol);
  m.set_interval(k.interval);
  m.set_open_time_ms(k.open_time_ms);
  m.set_close_time_ms(k.close_time_ms);
  m.set_open(k.open.to_string());
  m.set_high(k.high.to_string());
  m.set_low(k.low.to_string());
  m.set_close(k.close.to_string());
  m.set_volume(k.volume.to_string());
  m.set_quote_volume(k.quote_volume.to_string());
  m.set_trade_count(k.trade_count);
  m.set_taker_buy_volume(k.taker_buy_volume.to_string());
  m.set_taker_buy_quote_volume(k.taker_buy_quote_volume.to_string());
  m.set_vwap(k.vwap.to_string());
  m.set_first_trade_id(k.first_trade_id);
  m.set_last_trade_id(k.last_trade_id);
  m.set_is_final(k.is_final);
  m.set_revision(k.revision);
  return m.SerializeAsString();
}

result<kline> decode_kline_pb(std::string_view bytes) {
  market::v1::Kline m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return error{"not a market.v1.Kline"};
  kline k;
  k.exchange = m.exchange();
  k.symbol = m.symbol();
  k.interval = m.interval();
  k.open_time_ms = m.open_time_ms();
  k.close_time_ms = m.close_time_ms();
  const std::string* texts[] = {&m.open(),
                                &m.high(),
                                &m.low(),
                                &m.close(),
                                &m.volume(),
                                &m.quote_volume(),
                                &m.taker_buy_volume(),
                                &m.taker_buy_quote_volume(),
                                &m.vwap()};
  decimal* dst[] = {
    &k.open, &k.high, &k.low, &k.close, &k.volume, &k.quote_volume, &k.taker_buy_volume, &k.taker_buy_quote_volume,
    &k.vwap};
  for (std::size_t i = 0; i < std::size(texts); ++i) {
    auto d = decimal::parse(*texts[i]);
    if (!d)
      return error{"market.v1.Kline with a malformed decimal: \"" + *texts[i] + "\""};
    *dst[i] = *d;
  }
  k.trade_count = m.trade_count();
  k.first_trade_id = m.first_trade_id();
  k.last_trade_id = m.last_trade_id();
  k.is_final = m.is_final();
  k.revision = m.revision();
  return k;
}

std::string trade_to_json(const trade& t) {
  std::string out;
  out.reserve(256);
  out.push_back('{');
  kv(out, "exchange", t.exchange, true);
  kv(out, "symbol", t.symbol);
  kv(out, "base", t.base);
  kv(out, "quote", t.quote);
  kv(out, "trade_id", t.trade_id);
  kv(out, "price", t.price.to_string());
  kv(out, "quantity", t.quantity.to_string());
  kv(out, "side", to_string(t.taker_side));
  kv_int(out, "ts_ns", t.ts_ns);
  // Equities only: absent for crypto, so their lines are unchanged.
  if (!t.exchange_code.empty())
    kv(out, "exchange_code", t.exchange_code);
  if (!t.conditions.empty()) {
    out += ",\"conditions\":[";
    for (std::size_t i = 0; i < t.conditions.size(); ++i) {
      if (i != 0)
        out.push_back(',');
      mi::util::append_json_string(out, t.conditions[i]);
    }
    out.push_back(']');
  }
  if (!t.tape.empty())
    kv(out, "tape", t.tape);
  if (t.is_amendment()) { // an amendment of the trade `amends` (market.v1.Trade fields 14-15)
    kv(out, "amends", t.amends);
    out += t.canceled ? ",\"canceled\":true" : ",\"canceled\":false";
  }
  out.push_back('}');
  return out;
}

result<trade> trade_from_json(std::string_view line) {
  auto obj = parse_object(line);
  if (!obj)
    return obj.err();
  fields f{*obj, {}};
  trade t;
  t.exchange = f.str("exchange");
  t.symbol = f.str("symbol");
  t.base = f.str("base");
  t.quote = f.str("quote");
  t.set_id(f.id("trade_id"));
  t.price = f.dec("price");
  t.quantity = f.dec("quantity");
  auto s = f.str("side");
  t.ts_ns = f.int64("ts_ns");
  if (!f.problem.empty())
    return error{f.problem};
  bool ok = false;
  t.taker_side = side_from_text(s, ok);
  if (!ok)
    return error{"field 'side' must be buy, sell or unknown, got \"" + s + "\""};
  if (!is_subject_token(t.exchange) || !is_subject_token(t.symbol))
    return error{"exchange and symbol must be non-empty NATS tokens"};
  if (t.price.signum() <= 0 || t.quantity.signum() <= 0)
    return error{"price and quantity must be > 0"};
  // recv_ns is not part of the format; the receive time of a recorded trade is unknown.
  if (auto* v = obj->if_contains("recv_ns"); v != nullptr && v->is_int64())
    t.recv_ns = v->get_int64();
  // Equities' optional fields.
  if (auto* v = obj->if_contains("exchange_code"); v != nullptr && v->is_string())
    t.exchange_code = std::string(v->get_string());
  if (auto* v = obj->if_contains("conditions"); v != nullptr && v->is_array())
    for (const auto& c : v->get_array())
      if (c.is_string())
        t.conditions.emplace_back(c.get_string());
  if (auto* v = obj->if_contains("tape"); v != nullptr && v->is_string())
    t.tape = std::string(v->get_string());
  if (auto* v = obj->if_contains("amends"); v != nullptr && v->is_string())
    t.amends = std::string(v->get_string());
  if (auto* v = obj->if_contains("canceled"); v != nullptr && v->is_bool())
    t.canceled = v->get_bool();
  return t;
}

std::string kline_to_json(const kline& k) {
  std::string out;
  out.reserve(512);
  out.push_back('{');
  kv(out, "exchange", k.exchange, true);
  kv(out, "symbol", k.symbol);
  kv(out, "interval", k.interval);
  kv_int(out, "open_time_ms", k.open_time_ms);
  kv_int(out, "close_time_ms", k.close_time_ms);
  kv(out, "open", k.open.to_string());
  kv(out, "high", k.high.to_string());
  kv(out, "low", k.low.to_string());
  kv(out, "close", k.close.to_string());
  kv(out, "volume", k.volume.to_string());
  kv(out, "quote_volume", k.quote_volume.to_string());
  kv_int(out, "trade_count", k.trade_count);
  kv(out, "taker_buy_volume", k.taker_buy_volume.to_string());
  kv(out, "taker_buy_quote_volume", k.taker_buy_quote_volume.to_string());
  kv(out, "first_trade_id", k.first_trade_id);
  kv(out, "last_trade_id", k.last_trade_id);
  kv(out, "vwap", k.vwap.to_string());
  key(out, "is_final");
  out += k.is_final ? "true" : "false";
  kv_int(out, "revision", k.revision);
  out.push_back('}');
  return out;
}

result<kline> kline_from_json(std::string_view line) {
  auto obj = parse_object(line);
  if (!obj)
    return obj.err();
  fields f{*obj, {}};
  kline k;
  k.exchange = f.str("exchange");
  k.symbol = f.str("symbol");
  k.interval = f.str("interval");
  k.open_time_ms = f.int64("open_time_ms");
  k.close_time_ms = f.int64("close_time_ms");
  k.open = f.dec("open");
  k.high = f.dec("high");
  k.low = f.dec("low");
  k.close = f.dec("close");
  k.volume = f.dec("volume");
  k.quote_volume = f.dec("quote_volume");
  k.trade_count = static_cast<std::uint64_t>(f.int64("trade_count"));
  k.taker_buy_volume = f.dec("taker_buy_volume");
  k.taker_buy_quote_volume = f.dec("taker_buy_quote_volume");
  k.first_trade_id = f.id("first_trade_id");
  k.last_trade_id = f.id("last_trade_id");
  if (!f.problem.empty())
    return error{f.problem};
  if (auto* v = obj->if_contains("vwap"); v != nullptr && v->is_string()) {
    auto d = decimal::parse(v->get_string());
    if (!d)
      return error{"field 'vwap' is not a decimal"};
    k.vwap = *d;
  }
  if (auto* v = obj->if_contains("is_final"); v != nullptr && v->is_bool())
    k.is_final = v->get_bool();
  else
    k.is_final = true; // the aggregate format lists finals only
  if (auto* v = obj->if_contains("revision"); v != nullptr && v->is_int64())
    k.revision = static_cast<std::uint32_t>(v->get_int64());
  return k;
}

} // namespace mi
