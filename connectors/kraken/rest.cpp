#include "connectors/kraken/rest.hpp"

#include <string>

#include "connectors/json_fields.hpp"
#include "connectors/rest_json.hpp"
#include "connectors/time_text.hpp"

namespace mi::kraken {
namespace {

namespace rest = mi::connectors::rest;
namespace dom = simdjson::dom;
namespace od = simdjson::ondemand;

using mi::connectors::json::not_json;
using mi::connectors::json::read_text;

/// Kraken's "error" array: its messages joined by "; " ("" when empty).
mi::result<std::string> read_errors(od::value v) {
  od::array arr;
  if (v.get_array().get(arr))
    return mi::error{"field 'error' must be an array", mi::errc::bad_field};
  std::string out;
  for (auto item : arr) {
    std::string_view s;
    if (item.get_string().get(s))
      return mi::error{"field 'error' must hold strings", mi::errc::bad_field};
    out += (out.empty() ? "" : "; ") + std::string(s);
  }
  return out;
}

/// One trade array [price, volume, time, side, ordertype, misc, trade_id].
mi::result<mi::trade> read_trade(od::value v, const instrument& inst, const std::string& where) {
  od::array arr;
  if (v.get_array().get(arr))
    return mi::error{where + ": not an array", mi::errc::malformed_json};
  std::optional<std::string_view> price_text, volume_text, time_text, side;
  std::optional<std::int64_t> id;
  std::size_t i = 0;
  for (auto item : arr) {
    od::value e;
    if (auto ec = item.get(e))
      return mi::error{where + ": " + not_json(ec), mi::errc::malformed_json};
    switch (i++) {
    case 0:
      price_text = read_text(e);
      break;
    case 1:
      volume_text = read_text(e);
      break;
    case 2:
      time_text = read_text(e);
      break;
    case 3: {
      std::string_view s;
      if (!e.get_string().get(s))
        side = s;
      break;
    }
    case 6: {
      std::int64_t x = 0;
      if (!e.get_int64().get(x))
        id = x;
      break;
    }
    default:
      break; // ordertype, misc
    }
  }
  if (!price_text)
    return mi::error{where + ": element 0 (price) must be a decimal string", mi::errc::bad_field};
  if (!volume_text)
    return mi::error{where + ": element 1 (volume) must be a decimal string", mi::errc::bad_field};
  if (!time_text)
    return mi::error{where + ": element 2 (time) must be a number of seconds", mi::errc::bad_field};
  if (!side)
    return mi::error{where + ": element 3 (side) must be \"b\" or \"s\"", mi::errc::bad_field};
  if (!id || *id < 0)
    return mi::error{where + ": element 6 (trade id) must be an integer >= 0", mi::errc::bad_number};
  const std::string named = where + " (id " + std::to_string(*id) + ")";
  auto price = rest::positive_decimal(*price_text, "price", named);
  if (!price)
    return price.err();
  auto volume = rest::positive_decimal(*volume_text, "volume", named);
  if (!volume)
    return volume.err();
  mi::trade t;
  if (*side == "b")
    t.taker_side = mi::side::buy;
  else if (*side == "s")
    t.taker_side = mi::side::sell;
  else
    return mi::error{where + ": element 3 (side) must be \"b\" or \"s\", not \"" + std::string(*side) + "\"",
                     mi::errc::bad_field};
  std::optional<std::int64_t> ts = mi::connectors::text::parse_epoch_seconds_ns(*time_text);
  if (!ts)
    return mi::error{where + ": element 2 (time) must be seconds with at most 9 decimals, not " +
                       std::string(*time_text),
                     mi::errc::bad_timestamp};
  t.exchange = "kraken";
  t.symbol = inst.symbol;
  t.base = inst.base;
  t.quote = inst.quote;
  t.set_id(*id);
  t.price = *price;
  t.quantity = *volume;
  t.ts_ns = *ts;
  return t;
}

} // namespace

mi::result<std::vector<asset_pair>> parse_asset_pairs(std::string_view body) {
  dom::parser parser;
  auto doc = rest::parse_body(parser, body);
  if (!doc)
    return doc.err();
  dom::object root;
  if (doc->get_object().get(root))
    return mi::error{"expected a JSON object", mi::errc::malformed_json};
  dom::array errors;
  if (!root["error"].get_array().get(errors) && errors.size() != 0) {
    std::string joined;
    for (dom::element e : errors) {
      std::string_view s;
      if (!e.get_string().get(s))
        joined += (joined.empty() ? "" : "; ") + std::string(s);
    }
    return mi::error{joined};
  }
  dom::object result;
  if (root["result"].get_object().get(result))
    return mi::error{"response: field 'result' must be an object", mi::errc::bad_field};
  std::vector<asset_pair> out;
  for (auto [key, value] : result) {
    const std::string where = "result." + std::string(key);
    dom::object o;
    if (value.get_object().get(o))
      return mi::error{where + ": not an object", mi::errc::malformed_json};
    std::string_view wsname, status;
    if (o["wsname"].get_string().get(wsname))
      continue; // dark pools (".d") have no WebSocket name
    if (!o["status"].get_string().get(status) && status != "online")
      continue; // cancel_only, delisted, ...
    auto altname = rest::string_field(o, "altname", where);
    if (!altname)
      return altname.err();
    auto inst = from_wire(wsname);
    if (!inst)
      return mi::error{where + ": " + inst.err().message, mi::errc::unknown_symbol};
    out.push_back(asset_pair{std::move(*inst), std::string(*altname)});
  }
  return out;
}

mi::result<trades_page> parse_trades(std::string_view body, const instrument& inst) {
  simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  if (auto ec = parser.iterate(padded).get(doc))
    return mi::error{not_json(ec), mi::errc::malformed_json};
  od::object root;
  if (auto ec = doc.get_object().get(root))
    return mi::error{"expected a JSON object: " + std::string(simdjson::error_message(ec)), mi::errc::malformed_json};
  trades_page out;
  bool has_result = false;
  for (auto field : root) {
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key))
      return mi::error{not_json(ec), mi::errc::malformed_json};
    od::value v;
    if (auto ec = field.value().get(v))
      return mi::error{not_json(ec), mi::errc::malformed_json};
    if (key == "error") {
      auto errors = read_errors(v);
      if (!errors)
        return errors.err();
      if (!errors->empty())
        return mi::error{*errors};
      continue;
    }
    if (key != "result")
      continue;
    od::object result;
    if (v.get_object().get(result))
      return mi::error{"response: field 'result' must be an object", mi::errc::bad_field};
    has_result = true;
    for (auto rf : result) {
      std::string_view rkey;
      if (auto ec = rf.unescaped_key().get(rkey))
        return mi::error{not_json(ec), mi::errc::malformed_json};
      od::value rv;
      if (auto ec = rf.value().get(rv))
        return mi::error{not_json(ec), mi::errc::malformed_json};
      if (rkey == "last") {
        std::optional<std::string_view> last = read_text(rv);
        if (!last || !rest::digits_to_int(*last))
          return mi::error{"result: field 'last' must be ns as digits", mi::errc::bad_field};
        out.last = std::string(*last);
        continue;
      }
      od::array trades;
      if (rv.get_array().get(trades))
        return mi::error{"result." + std::string(rkey) + ": must be an array of trades", mi::errc::bad_field};
      std::size_t i = 0;
      for (auto item : trades) {
        od::value tv;
        if (auto ec = item.get(tv))
          return mi::error{not_json(ec), mi::errc::malformed_json};
        auto t = read_trade(tv, inst, rest::element_name("trade", i++));
        if (!t)
          return t.err();
        out.trades.push_back(std::move(*t));
      }
    }
  }
  if (!has_result)
    return mi::error{"response: missing field 'result'", mi::errc::missing_field};
  mi::sort_oldest_first(out.trades);
  return out;
}

} // namespace mi::kraken
