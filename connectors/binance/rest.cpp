#include "connectors/binance/rest.hpp"

#include <string>

#include "connectors/rest_json.hpp"

namespace mi::binance {
namespace {

namespace rest = mi::connectors::rest;

/// Names of the fields of one REST trade object.
struct keys {
  std::string_view id, price, qty, time, buyer_maker;
};

mi::result<std::vector<mi::trade>> parse_trades(std::string_view body, const instrument& inst, const keys& k) {
  simdjson::dom::parser parser;
  auto doc = rest::parse_body(parser, body);
  if (!doc)
    return doc.err();
  simdjson::dom::object err_obj;
  if (!doc->get_object().get(err_obj)) {
    auto code = rest::int_field(err_obj, "code", "error body");
    auto msg = rest::string_field(err_obj, "msg", "error body");
    return mi::error{"code " + (code ? std::to_string(*code) : std::string("?")) + ": " +
                     (msg ? std::string(*msg) : std::string("(no message)"))};
  }
  simdjson::dom::array arr;
  if (doc->get_array().get(arr))
    return mi::error{"expected an array of trades", mi::errc::malformed_json};
  std::vector<mi::trade> out;
  out.reserve(arr.size());
  std::size_t i = 0;
  for (simdjson::dom::element e : arr) {
    const std::string where = rest::element_name("trade", i++);
    simdjson::dom::object o;
    if (e.get_object().get(o))
      return mi::error{where + ": not an object", mi::errc::malformed_json};
    auto id = rest::int_field(o, k.id, where);
    if (!id)
      return id.err();
    if (*id < 0)
      return rest::field_error(where, k.id, "must be >= 0", mi::errc::bad_number);
    auto price_text = rest::string_field(o, k.price, where);
    if (!price_text)
      return price_text.err();
    auto qty_text = rest::string_field(o, k.qty, where);
    if (!qty_text)
      return qty_text.err();
    auto ms = rest::int_field(o, k.time, where);
    if (!ms)
      return ms.err();
    auto buyer_maker = rest::bool_field(o, k.buyer_maker, where);
    if (!buyer_maker)
      return buyer_maker.err();
    const std::string named = where + " (id " + std::to_string(*id) + ")";
    auto price = rest::positive_decimal(*price_text, "price", named);
    if (!price)
      return price.err();
    auto qty = rest::positive_decimal(*qty_text, "quantity", named);
    if (!qty)
      return qty.err();
    std::optional<std::int64_t> ts = rest::ms_to_ns(*ms);
    if (!ts)
      return rest::field_error(where, k.time, "out of range", mi::errc::bad_timestamp);
    mi::trade t;
    t.exchange = "binance";
    t.symbol = inst.symbol;
    t.base = inst.base;
    t.quote = inst.quote;
    t.set_id(*id);
    t.price = *price;
    t.quantity = *qty;
    t.taker_side = *buyer_maker ? mi::side::sell : mi::side::buy; // the buyer is the maker: the taker sold
    t.ts_ns = *ts;
    out.push_back(std::move(t));
  }
  mi::sort_oldest_first(out);
  return out;
}

} // namespace

mi::result<std::vector<mi::trade>> parse_historical_trades(std::string_view body, const instrument& inst) {
  return parse_trades(body, inst, {"id", "price", "qty", "time", "isBuyerMaker"});
}

mi::result<std::vector<mi::trade>> parse_agg_trades(std::string_view body, const instrument& inst) {
  return parse_trades(body, inst, {"a", "p", "q", "T", "m"});
}

} // namespace mi::binance
