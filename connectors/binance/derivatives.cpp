#include "connectors/binance/derivatives.hpp"

#include "connectors/derivatives_json.hpp"

namespace mi::binance {

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

mi::result<std::vector<derivative>> mark_price(const dom::object& ev, std::int64_t recv_ns) {
  std::vector<derivative> out;
  MI_DERIV_TRY(symbol, dj::string_of(ev, "s"));
  MI_DERIV_TRY(ts, dj::ms_of(ev, "E"));
  MI_DERIV_TRY(mark, dj::decimal_of(ev, "p", false));
  MI_DERIV_TRY(index, dj::decimal_of(ev, "i", false));
  MI_DERIV_TRY(rate, dj::decimal_of(ev, "r", true));
  MI_DERIV_TRY(next, dj::ms_of(ev, "T"));
  if (!*symbol)
    return dj::missing("s");
  if (!dj::symbol_token(**symbol))
    return mi::error{"field 's' is not a symbol", mi::errc::unknown_symbol};
  if (!*ts)
    return dj::missing("E");
  if (!*mark)
    return dj::missing("p");
  derivative d;
  d.exchange = std::string(derivatives_venue);
  d.symbol = std::string(**symbol);
  d.ts_ns = **ts;
  d.recv_ns = recv_ns;
  d.what = channel::mark;
  d.mark_price = **mark;
  d.index_price = index->value_or("");
  out.push_back(d);
  if (*rate) { // "" for a delivery contract: no funding
    derivative f = d;
    f.what = channel::funding;
    f.mark_price.clear();
    f.index_price.clear();
    f.rate = **rate;
    f.next_funding_ns = next->value_or(0);
    out.push_back(std::move(f));
  }
  return out;
}

mi::result<std::vector<derivative>> force_order(const dom::object& ev, std::int64_t recv_ns) {
  dom::object o;
  if (ev.at_key("o").get_object().get(o))
    return mi::error{"field 'o' must be an object", mi::errc::missing_field};
  MI_DERIV_TRY(symbol, dj::string_of(o, "s"));
  MI_DERIV_TRY(side, dj::string_of(o, "S"));
  MI_DERIV_TRY(price, dj::decimal_of(o, "p", false));
  MI_DERIV_TRY(avg, dj::decimal_of(o, "ap", false));
  MI_DERIV_TRY(qty, dj::decimal_of(o, "q", false));
  MI_DERIV_TRY(filled, dj::decimal_of(o, "z", false));
  MI_DERIV_TRY(ts, dj::ms_of(o, "T"));
  if (!*symbol)
    return dj::missing("o.s");
  if (!dj::symbol_token(**symbol))
    return mi::error{"field 'o.s' is not a symbol", mi::errc::unknown_symbol};
  if (!*side || (**side != "BUY" && **side != "SELL"))
    return mi::error{"field 'o.S' must be BUY or SELL", mi::errc::bad_field};
  if (!*ts)
    return dj::missing("o.T");
  derivative d;
  d.exchange = std::string(derivatives_venue);
  d.symbol = std::string(**symbol);
  d.what = channel::liquidation;
  d.ts_ns = **ts;
  d.recv_ns = recv_ns;
  d.side = **side == "BUY" ? mi::side::buy : mi::side::sell;
  d.price = *avg && **avg != "0" ? **avg : price->value_or("");
  d.quantity = *filled && **filled != "0" ? **filled : qty->value_or("");
  if (d.price.empty() || d.price == "0" || d.quantity.empty() || d.quantity == "0")
    return mi::error{"a liquidation needs a price and a quantity > 0", mi::errc::bad_number};
  return std::vector<derivative>{std::move(d)};
}

} // namespace

mi::result<std::vector<derivative>> derivatives_codec::decode(std::string_view frame, std::int64_t recv_ns) {
  dom::object root;
  if (auto why = impl_->reader.open_object(frame, root))
    return *why;
  dom::object ev = root;
  dom::object data;
  if (!root.at_key("data").get_object().get(data))
    ev = data; // the combined-stream wrapper
  auto e = dj::string_of(ev, "e");
  if (!e)
    return e.err();
  if (!*e)
    return std::vector<derivative>{}; // {"result":null,"id":1} and other non-events
  if (**e == "markPriceUpdate")
    return mark_price(ev, recv_ns);
  if (**e == "forceOrder")
    return force_order(ev, recv_ns);
  return std::vector<derivative>{};
}

mi::result<derivative> derivatives_codec::parse_open_interest(std::string_view body, std::int64_t recv_ns) {
  dom::object root;
  if (auto why = impl_->reader.open_object(body, root))
    return *why;
  MI_DERIV_TRY(symbol, dj::string_of(root, "symbol"));
  MI_DERIV_TRY(oi, dj::decimal_of(root, "openInterest", false));
  MI_DERIV_TRY(ts, dj::ms_of(root, "time"));
  if (!*symbol || !dj::symbol_token(**symbol))
    return mi::error{"field 'symbol' must be a symbol", mi::errc::missing_field};
  if (!*oi)
    return dj::missing("openInterest");
  if (!*ts)
    return dj::missing("time");
  derivative d;
  d.exchange = std::string(derivatives_venue);
  d.symbol = std::string(**symbol);
  d.what = channel::open_interest;
  d.ts_ns = **ts;
  d.recv_ns = recv_ns;
  d.open_interest = **oi;
  return d;
}

std::string derivatives_subscribe_request(const std::vector<std::string>& symbols, int id) {
  std::string out = R"({"method":"SUBSCRIBE","params":[)";
  bool first = true;
  for (const auto& s : symbols) {
    std::string lower = s;
    for (char& c : lower)
      c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    for (const char* stream : {"@markPrice@1s", "@forceOrder"}) {
      out += first ? "\"" : ",\"";
      first = false;
      out += lower + stream + "\"";
    }
  }
  out += "],\"id\":" + std::to_string(id) + "}";
  return out;
}

std::string open_interest_target(std::string_view symbol) {
  return "/fapi/v1/openInterest?symbol=" + std::string(symbol);
}

} // namespace mi::binance
