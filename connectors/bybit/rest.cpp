#include "connectors/bybit/rest.hpp"

#include <string>

#include "connectors/rest_json.hpp"

namespace mi::bybit {
namespace {

namespace rest = mi::connectors::rest;
namespace dom = simdjson::dom;

} // namespace

mi::result<std::vector<mi::trade>> parse_recent_trades(std::string_view body, const instrument& inst) {
  dom::parser parser;
  auto doc = rest::parse_body(parser, body);
  if (!doc)
    return doc.err();
  dom::object root;
  if (doc->get_object().get(root))
    return mi::error{"expected a JSON object", mi::errc::malformed_json};
  auto code = rest::int_field(root, "retCode", "response");
  if (!code)
    return code.err();
  if (*code != 0) {
    auto msg = rest::string_field(root, "retMsg", "response");
    return mi::error{"retCode " + std::to_string(*code) + ": " +
                     (msg ? std::string(*msg) : std::string("(no message)"))};
  }
  dom::array list;
  if (root["result"]["list"].get_array().get(list))
    return mi::error{"response: field 'result.list' must be an array", mi::errc::bad_field};
  std::vector<mi::trade> out;
  out.reserve(list.size());
  std::size_t i = 0;
  for (dom::element e : list) {
    const std::string where = rest::element_name("list", i++);
    dom::object o;
    if (e.get_object().get(o))
      return mi::error{where + ": not an object", mi::errc::malformed_json};
    auto id = rest::string_field(o, "execId", where);
    if (!id)
      return id.err();
    if (id->empty())
      return rest::field_error(where, "execId", "is empty");
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
    const std::string named = where + " (execId " + std::string(*id) + ")";
    auto price = rest::positive_decimal(*price_text, "price", named);
    if (!price)
      return price.err();
    auto size = rest::positive_decimal(*size_text, "size", named);
    if (!size)
      return size.err();
    mi::trade t;
    if (*side == "Buy")
      t.taker_side = mi::side::buy; // Bybit's side is the taker's
    else if (*side == "Sell")
      t.taker_side = mi::side::sell;
    else
      return rest::field_error(where, "side", "must be \"Buy\" or \"Sell\", not \"" + std::string(*side) + "\"");
    std::optional<std::int64_t> ms = rest::digits_to_int(*time);
    std::optional<std::int64_t> ns = ms ? rest::ms_to_ns(*ms) : std::nullopt;
    if (!ns)
      return rest::field_error(where, "time", "must be milliseconds (digits), not \"" + std::string(*time) + "\"",
                               mi::errc::bad_timestamp);
    t.exchange = "bybit";
    t.symbol = inst.symbol;
    t.base = inst.base;
    t.quote = inst.quote;
    t.set_id(std::string(*id));
    t.price = *price;
    t.quantity = *size;
    t.ts_ns = *ns;
    out.push_back(std::move(t));
  }
  mi::sort_oldest_first(out);
  return out;
}

} // namespace mi::bybit
