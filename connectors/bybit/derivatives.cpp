#include "connectors/bybit/derivatives.hpp"

#include "connectors/derivatives_json.hpp"

namespace mi::bybit {

namespace dj = mi::connectors::deriv_json;
namespace dom = simdjson::dom;
using mi::deriv::channel;
using mi::deriv::derivative;

struct derivatives_codec::impl {
  dj::reader reader;
};

derivatives_codec::derivatives_codec() : impl_(std::make_unique<impl>()) {}
derivatives_codec::~derivatives_codec() = default;
derivatives_codec::derivatives_codec(derivatives_codec&&) noexcept = default;
derivatives_codec& derivatives_codec::operator=(derivatives_codec&&) noexcept = default;

namespace {

derivative make(std::string_view symbol, channel what, std::int64_t ts_ns, std::int64_t recv_ns) {
  derivative d;
  d.exchange = std::string(derivatives_venue);
  d.symbol = std::string(symbol);
  d.what = what;
  d.ts_ns = ts_ns;
  d.recv_ns = recv_ns;
  return d;
}

mi::result<std::vector<derivative>> tickers(const dom::object& data, std::string_view topic_symbol, std::int64_t ts_ns,
                                            std::int64_t recv_ns) {
  MI_DERIV_TRY(symbol, dj::string_of(data, "symbol"));
  const std::string_view s = *symbol ? **symbol : topic_symbol;
  if (!dj::symbol_token(s))
    return mi::error{"field 'symbol' is not a symbol", mi::errc::unknown_symbol};
  MI_DERIV_TRY(rate, dj::decimal_of(data, "fundingRate", true));
  MI_DERIV_TRY(next, dj::ms_of(data, "nextFundingTime"));
  MI_DERIV_TRY(mark, dj::decimal_of(data, "markPrice", false));
  MI_DERIV_TRY(index, dj::decimal_of(data, "indexPrice", false));
  MI_DERIV_TRY(oi, dj::decimal_of(data, "openInterest", false));
  MI_DERIV_TRY(oi_value, dj::decimal_of(data, "openInterestValue", false));
  std::vector<derivative> out;
  if (*rate) {
    auto d = make(s, channel::funding, ts_ns, recv_ns);
    d.rate = **rate;
    d.next_funding_ns = next->value_or(0);
    out.push_back(std::move(d));
  }
  if (*mark || *index) {
    auto d = make(s, channel::mark, ts_ns, recv_ns);
    d.mark_price = mark->value_or("");
    d.index_price = index->value_or("");
    out.push_back(std::move(d));
  }
  if (*oi) {
    auto d = make(s, channel::open_interest, ts_ns, recv_ns);
    d.open_interest = **oi;
    d.open_interest_value = oi_value->value_or("");
    out.push_back(std::move(d));
  }
  return out;
}

/// One liquidation: `side_key` holds the position side ("Buy": a long was liquidated).
mi::result<derivative> liquidation(const dom::object& o, const char* time_key, const char* symbol_key,
                                   const char* side_key, const char* size_key, const char* price_key,
                                   std::int64_t recv_ns) {
  MI_DERIV_TRY(ts, dj::ms_of(o, time_key));
  MI_DERIV_TRY(symbol, dj::string_of(o, symbol_key));
  MI_DERIV_TRY(side, dj::string_of(o, side_key));
  MI_DERIV_TRY(size, dj::decimal_of(o, size_key, false));
  MI_DERIV_TRY(price, dj::decimal_of(o, price_key, false));
  if (!*ts)
    return dj::missing(time_key);
  if (!*symbol || !dj::symbol_token(**symbol))
    return mi::error{std::string("field '") + symbol_key + "' is not a symbol", mi::errc::unknown_symbol};
  if (!*side || (**side != "Buy" && **side != "Sell"))
    return mi::error{std::string("field '") + side_key + "' must be Buy or Sell", mi::errc::bad_field};
  if (!*size || !*price || *size == "0" || *price == "0")
    return mi::error{"a liquidation needs a size and a price > 0", mi::errc::bad_number};
  auto d = make(**symbol, channel::liquidation, **ts, recv_ns);
  d.side = **side == "Buy" ? mi::side::sell : mi::side::buy; // a long is closed by selling
  d.price = **price;
  d.quantity = **size;
  return d;
}

} // namespace

mi::result<std::vector<derivative>> derivatives_codec::decode(std::string_view frame, std::int64_t recv_ns) {
  dom::object root;
  if (auto why = impl_->reader.open_object(frame, root))
    return *why;
  MI_DERIV_TRY(op, dj::string_of(root, "op"));
  if (*op) {
    dom::element ok;
    bool success = true;
    if (!root.at_key("success").get(ok) && ok.get_bool().get(success))
      success = false; // not a boolean: not an ack we understand
    if (!success) {
      MI_DERIV_TRY(msg, dj::string_of(root, "ret_msg"));
      return mi::error{"bybit refused: " + std::string(msg->value_or("")), mi::errc::unsupported_message};
    }
    return std::vector<derivative>{}; // subscribe acks, pongs
  }
  MI_DERIV_TRY(topic, dj::string_of(root, "topic"));
  if (!*topic)
    return std::vector<derivative>{};
  const std::string t(**topic);
  const auto dot = t.find('.');
  const std::string kind = t.substr(0, dot);
  const std::string topic_symbol = dot == std::string::npos ? std::string{} : t.substr(dot + 1);
  if (kind == "tickers") {
    MI_DERIV_TRY(ts, dj::ms_of(root, "ts"));
    if (!*ts)
      return dj::missing("ts");
    dom::object data;
    if (root.at_key("data").get_object().get(data))
      return mi::error{"field 'data' must be an object", mi::errc::missing_field};
    return tickers(data, topic_symbol, **ts, recv_ns);
  }
  if (kind == "allLiquidation") {
    dom::array data;
    if (root.at_key("data").get_array().get(data))
      return mi::error{"field 'data' must be an array", mi::errc::missing_field};
    std::vector<derivative> out;
    for (auto v : data) {
      dom::object o;
      if (v.get_object().get(o))
        return mi::error{"a data item must be an object", mi::errc::bad_field};
      MI_DERIV_TRY(d, liquidation(o, "T", "s", "S", "v", "p", recv_ns));
      out.push_back(std::move(*d));
    }
    return out;
  }
  if (kind == "liquidation") {
    dom::object data;
    if (root.at_key("data").get_object().get(data))
      return mi::error{"field 'data' must be an object", mi::errc::missing_field};
    MI_DERIV_TRY(d, liquidation(data, "updatedTime", "symbol", "side", "size", "price", recv_ns));
    return std::vector<derivative>{std::move(*d)};
  }
  return std::vector<derivative>{};
}

std::string derivatives_subscribe_request(const std::vector<std::string>& symbols) {
  std::string out = R"({"op":"subscribe","args":[)";
  bool first = true;
  for (const auto& s : symbols)
    for (const char* topic : {"tickers.", "allLiquidation."}) {
      out += first ? "\"" : ",\"";
      first = false;
      out += topic + s + "\"";
    }
  out += "]}";
  return out;
}

} // namespace mi::bybit
