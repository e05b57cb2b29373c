#include "connectors/okx/rest.hpp"

#include <string>

#include "connectors/rest_json.hpp"

namespace mi::okx {
namespace {

namespace rest = mi::connectors::rest;
namespace dom = simdjson::dom;

/// The "data" array of an OKX response, or the error the response carries.
mi::result<dom::array> data_of(dom::parser& parser, std::string_view body) {
  auto doc = rest::parse_body(parser, body);
  if (!doc)
    return doc.err();
  dom::object root;
  if (doc->get_object().get(root))
    return mi::error{"expected a JSON object", mi::errc::malformed_json};
  auto code = rest::string_field(root, "code", "response");
  if (!code)
    return code.err();
  if (*code != "0") {
    auto msg = rest::string_field(root, "msg", "response");
    return mi::error{"code " + std::string(*code) + ": " + (msg ? std::string(*msg) : std::string("(no message)"))};
  }
  dom::array data;
  if (root["data"].get_array().get(data))
    return mi::error{"response: field 'data' must be an array", mi::errc::bad_field};
  return data;
}

} // namespace

mi::result<std::vector<instrument>> parse_instruments(std::string_view body) {
  dom::parser parser;
  auto data = data_of(parser, body);
  if (!data)
    return data.err();
  std::vector<instrument> out;
  std::size_t i = 0;
  for (dom::element e : *data) {
    const std::string where = rest::element_name("data", i++);
    dom::object o;
    if (e.get_object().get(o))
      return mi::error{where + ": not an object", mi::errc::malformed_json};
    auto inst_id = rest::string_field(o, "instId", where);
    if (!inst_id)
      return inst_id.err();
    std::string_view type, state;
    if (!o["instType"].get_string().get(type) && type != "SPOT")
      continue;
    if (!o["state"].get_string().get(state) && state != "live")
      continue; // suspend, preopen, test
    auto inst = from_inst_id(*inst_id);
    if (!inst)
      return mi::error{where + ": " + inst.err().message, mi::errc::unknown_symbol};
    out.push_back(std::move(*inst));
  }
  return out;
}

mi::result<std::vector<mi::trade>> parse_trades(std::string_view body) {
  dom::parser parser;
  auto data = data_of(parser, body);
  if (!data)
    return data.err();
  std::vector<mi::trade> out;
  out.reserve(data->size());
  std::size_t i = 0;
  for (dom::element e : *data) {
    const std::string where = rest::element_name("data", i++);
    dom::object o;
    if (e.get_object().get(o))
      return mi::error{where + ": not an object", mi::errc::malformed_json};
    auto inst_id = rest::string_field(o, "instId", where);
    if (!inst_id)
      return inst_id.err();
    auto id = rest::string_field(o, "tradeId", where);
    if (!id)
      return id.err();
    if (id->empty())
      return rest::field_error(where, "tradeId", "is empty");
    auto px = rest::string_field(o, "px", where);
    if (!px)
      return px.err();
    auto sz = rest::string_field(o, "sz", where);
    if (!sz)
      return sz.err();
    auto side = rest::string_field(o, "side", where);
    if (!side)
      return side.err();
    auto ts = rest::string_field(o, "ts", where);
    if (!ts)
      return ts.err();
    auto inst = from_inst_id(*inst_id);
    if (!inst)
      return mi::error{where + ": " + inst.err().message, mi::errc::unknown_symbol};
    const std::string named = where + " (tradeId " + std::string(*id) + ")";
    auto price = rest::positive_decimal(*px, "price", named);
    if (!price)
      return price.err();
    auto size = rest::positive_decimal(*sz, "size", named);
    if (!size)
      return size.err();
    mi::trade t;
    if (*side == "buy")
      t.taker_side = mi::side::buy; // OKX's side is the taker's
    else if (*side == "sell")
      t.taker_side = mi::side::sell;
    else
      return rest::field_error(where, "side", "must be \"buy\" or \"sell\", not \"" + std::string(*side) + "\"");
    std::optional<std::int64_t> ms = rest::digits_to_int(*ts);
    std::optional<std::int64_t> ns = ms ? rest::ms_to_ns(*ms) : std::nullopt;
    if (!ns)
      return rest::field_error(where, "ts", "must be milliseconds (digits), not \"" + std::string(*ts) + "\"",
                               mi::errc::bad_timestamp);
    t.exchange = "okx";
    t.symbol = std::move(inst->symbol);
    t.base = std::move(inst->base);
    t.quote = std::move(inst->quote);
    t.set_id(std::string(*id));
    t.price = *price;
    t.quantity = *size;
    t.ts_ns = *ns;
    out.push_back(std::move(t));
  }
  mi::sort_oldest_first(out);
  return out;
}

} // namespace mi::okx
