#include "connectors/coinbase/rest.hpp"

#include <string>

#include "connectors/rest_json.hpp"
#include "connectors/time_text.hpp"

namespace mi::coinbase {
namespace {

namespace rest = mi::connectors::rest;
namespace dom = simdjson::dom;

/// The top-level array of a Coinbase response, or the error its {"message":...} body carries.
mi::result<dom::array> array_of(dom::parser& parser, std::string_view body) {
  auto doc = rest::parse_body(parser, body);
  if (!doc)
    return doc.err();
  dom::object err_obj;
  if (!doc->get_object().get(err_obj)) {
    std::string_view message;
    if (err_obj["message"].get_string().get(message))
      return mi::error{"expected an array", mi::errc::malformed_json};
    return mi::error{std::string(message)};
  }
  dom::array arr;
  if (doc->get_array().get(arr))
    return mi::error{"expected an array", mi::errc::malformed_json};
  return arr;
}

} // namespace

mi::result<std::vector<instrument>> parse_products(std::string_view body) {
  dom::parser parser;
  auto arr = array_of(parser, body);
  if (!arr)
    return arr.err();
  std::vector<instrument> out;
  std::size_t i = 0;
  for (dom::element e : *arr) {
    const std::string where = rest::element_name("product", i++);
    dom::object o;
    if (e.get_object().get(o))
      return mi::error{where + ": not an object", mi::errc::malformed_json};
    auto id = rest::string_field(o, "id", where);
    if (!id)
      return id.err();
    std::string_view status;
    if (!o["status"].get_string().get(status) && status != "online")
      continue; // delisted, offline
    auto inst = from_product_id(*id);
    if (!inst)
      return mi::error{where + ": " + inst.err().message, mi::errc::unknown_symbol};
    out.push_back(std::move(*inst));
  }
  return out;
}

mi::result<std::vector<mi::trade>> parse_trades(std::string_view body, const instrument& inst) {
  dom::parser parser;
  auto arr = array_of(parser, body);
  if (!arr)
    return arr.err();
  std::vector<mi::trade> out;
  out.reserve(arr->size());
  std::size_t i = 0;
  for (dom::element e : *arr) {
    const std::string where = rest::element_name("trade", i++);
    dom::object o;
    if (e.get_object().get(o))
      return mi::error{where + ": not an object", mi::errc::malformed_json};
    auto id = rest::int_field(o, "trade_id", where);
    if (!id)
      return id.err();
    if (*id < 0)
      return rest::field_error(where, "trade_id", "must be >= 0", mi::errc::bad_number);
    auto price_text = rest::string_field(o, "price", where);
    if (!price_text)
      return price_text.err();
    auto size_text = rest::string_field(o, "size", where);
    if (!size_text)
      return size_text.err();
    auto side = rest::string_field(o, "side", where);
    if (!side)
      return side.err();
    auto time = rest::string_field(o, "time", where);
    if (!time)
      return time.err();
    const std::string named = where + " (trade_id " + std::to_string(*id) + ")";
    auto price = rest::positive_decimal(*price_text, "price", named);
    if (!price)
      return price.err();
    auto size = rest::positive_decimal(*size_text, "size", named);
    if (!size)
      return size.err();
    mi::trade t;
    // `side` is the maker's order side: a maker sell means the taker bought.
    if (*side == "sell" || *side == "SELL")
      t.taker_side = mi::side::buy;
    else if (*side == "buy" || *side == "BUY")
      t.taker_side = mi::side::sell;
    else
      return rest::field_error(where, "side", "must be \"buy\" or \"sell\", not \"" + std::string(*side) + "\"");
    std::optional<std::int64_t> ts = mi::connectors::text::parse_rfc3339_ns(*time);
    if (!ts)
      return rest::field_error(where, "time", "must be an RFC 3339 time, not \"" + std::string(*time) + "\"",
                               mi::errc::bad_timestamp);
    t.exchange = "coinbase";
    t.symbol = inst.symbol;
    t.base = inst.base;
    t.quote = inst.quote;
    t.set_id(*id);
    t.price = *price;
    t.quantity = *size;
    t.ts_ns = *ts;
    out.push_back(std::move(t));
  }
  mi::sort_oldest_first(out);
  return out;
}

} // namespace mi::coinbase
