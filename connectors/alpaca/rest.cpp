#include "connectors/alpaca/rest.hpp"

#include <algorithm>

#include "connectors/alpaca/objects.hpp"
#include "connectors/rest_json.hpp"
#include "messages/util/civil_time.hpp"

namespace mi::alpaca {
namespace {

namespace od = detail::od;
using detail::raw_object;

/// The body as a padded buffer for simdjson on demand.
struct padded {
  std::string buffer;
  explicit padded(std::string_view body) : buffer(body) { buffer.append(simdjson::SIMDJSON_PADDING, '\0'); }
};

/// Reads the page token field: a string, or null (last page).
std::string read_token(od::value& v, std::optional<std::string>& token) {
  bool is_null = false;
  if (auto ec = v.is_null().get(is_null))
    return detail::not_json(ec);
  if (is_null)
    return {};
  std::string_view s;
  if (v.get_string().get(s))
    return "field 'next_page_token' must be a string or null";
  if (!s.empty())
    token = std::string(s);
  return {};
}

/// Calls on_item(symbol, where, value) for each element of the data field `v`: an array (single-symbol shape,
/// symbol known later: passed as ""), null, or an object of arrays keyed by symbol (multi-symbol shape).
template <class F>
std::string for_each_item(od::value& v, std::string_view name, F&& on_item) {
  od::json_type type;
  if (auto ec = v.type().get(type))
    return detail::not_json(ec);
  if (type == od::json_type::null)
    return {};
  auto each = [&](od::array arr, std::string_view symbol, const std::string& prefix) -> std::string {
    std::size_t k = 0;
    for (auto el : arr) {
      od::value item;
      if (auto ec = el.get(item))
        return detail::not_json(ec);
      if (auto e = on_item(symbol, prefix + "[" + std::to_string(k) + "]", item); !e.empty())
        return e;
      ++k;
    }
    return {};
  };
  if (type == od::json_type::array) {
    od::array arr;
    if (auto ec = v.get_array().get(arr))
      return detail::not_json(ec);
    return each(arr, {}, std::string(name));
  }
  if (type != od::json_type::object)
    return "field '" + std::string(name) + "' must be an array, an object or null";
  od::object obj;
  if (auto ec = v.get_object().get(obj))
    return detail::not_json(ec);
  for (auto field : obj) {
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key))
      return detail::not_json(ec);
    od::value arr_v;
    if (auto ec = field.value().get(arr_v))
      return detail::not_json(ec);
    od::array arr;
    if (arr_v.get_array().get(arr))
      return std::string(name) + "." + std::string(key) + ": must be an array";
    // The key's string_view is only valid until the next field: keep a copy.
    const std::string symbol(key);
    if (auto e = each(arr, symbol, std::string(name) + "." + symbol); !e.empty())
      return e;
  }
  return {};
}

/// Walks a page: `data_key` ("trades", "bars") via on_item, "symbol" and "next_page_token" noted.
template <class F>
std::string walk_page(std::string_view body, std::string_view data_key, std::optional<std::string>& token,
                      std::string& single_symbol, F&& on_item) {
  padded p(body);
  od::parser parser;
  od::document doc;
  if (auto ec = parser.iterate(p.buffer.data(), body.size(), p.buffer.size()).get(doc))
    return detail::not_json(ec);
  od::object root;
  if (auto ec = doc.get_object().get(root))
    return ec == simdjson::INCORRECT_TYPE ? std::string("not a JSON object") : detail::not_json(ec);
  bool saw_data = false;
  for (auto field : root) {
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key))
      return detail::not_json(ec);
    od::value v;
    if (auto ec = field.value().get(v))
      return detail::not_json(ec);
    if (key == data_key) {
      saw_data = true;
      if (auto e = for_each_item(v, data_key, on_item); !e.empty())
        return e;
    } else if (key == "next_page_token") {
      if (auto e = read_token(v, token); !e.empty())
        return e;
    } else if (key == "symbol") {
      std::string_view s;
      if (v.get_string().get(s))
        return "field 'symbol' must be a string";
      single_symbol = std::string(s);
    } else if (key == "message" || key == "code") {
      // An error body ({"code":40010001,"message":"..."}) with a 2xx status: read on, refused below.
    }
  }
  if (!saw_data)
    return "missing field '" + std::string(data_key) + "'";
  return {};
}

} // namespace

mi::result<trades_page> parse_trades_page(std::string_view body, std::int64_t recv_ns) {
  trades_page out;
  std::string single;
  std::vector<std::size_t> unnamed; // trades of the single-symbol shape: their symbol is "symbol", seen anywhere
  auto on_item = [&](std::string_view symbol, const std::string& where, od::value& item) -> std::string {
    raw_object r;
    bool wrong = false;
    if (auto e = detail::read_object(item, r, wrong); !e.empty())
      return e;
    if (wrong)
      return where + ": must be an object";
    auto t = detail::to_trade(r, std::string(symbol), where, recv_ns);
    if (!t)
      return t.err().message;
    if (r.u && (*r.u == "canceled" || *r.u == "incorrect")) {
      ++out.voided;
      return {};
    }
    if (symbol.empty())
      unnamed.push_back(out.trades.size());
    out.trades.push_back(std::move(*t));
    return {};
  };
  if (auto e = walk_page(body, "trades", out.next_page_token, single, on_item); !e.empty())
    return mi::error{"trades page: " + e};
  if (!unnamed.empty()) {
    auto sym = normalize_symbol(single);
    if (!sym)
      return mi::error{"trades page: field 'symbol' is missing or not a ticker: \"" + single + "\""};
    for (auto i : unnamed) {
      out.trades[i].symbol = *sym;
      out.trades[i].base = *sym;
    }
  }
  for (auto& t : out.trades) {
    if (!unnamed.empty())
      continue;
    auto sym = normalize_symbol(t.symbol);
    if (!sym)
      return mi::error{"trades page: key \"" + t.symbol + "\" is not a ticker"};
    t.symbol = t.base = *sym;
  }
  std::stable_sort(out.trades.begin(), out.trades.end(), [](const mi::trade& a, const mi::trade& b) {
    return a.symbol != b.symbol ? a.symbol < b.symbol : a.ts_ns < b.ts_ns;
  });
  return out;
}

mi::result<bars_page> parse_bars_page(std::string_view body, bool daily) {
  bars_page out;
  std::string single;
  std::vector<std::size_t> unnamed;
  auto on_item = [&](std::string_view symbol, const std::string& where, od::value& item) -> std::string {
    raw_object r;
    bool wrong = false;
    if (auto e = detail::read_object(item, r, wrong); !e.empty())
      return e;
    if (wrong)
      return where + ": must be an object";
    detail::field_reader f(r, where);
    auto b = detail::to_bar(f, r, daily ? bar::kind::daily : bar::kind::minute, std::string(symbol));
    if (!f.ok())
      return f.problem();
    if (symbol.empty())
      unnamed.push_back(out.bars.size());
    out.bars.push_back(std::move(b));
    return {};
  };
  if (auto e = walk_page(body, "bars", out.next_page_token, single, on_item); !e.empty())
    return mi::error{"bars page: " + e};
  for (std::size_t i = 0; i < out.bars.size(); ++i) {
    auto& b = out.bars[i];
    const bool from_single = std::find(unnamed.begin(), unnamed.end(), i) != unnamed.end();
    auto sym = normalize_symbol(from_single ? single : b.symbol);
    if (!sym)
      return mi::error{"bars page: \"" + (from_single ? single : b.symbol) + "\" is not a ticker"};
    b.symbol = *sym;
  }
  return out;
}

mi::result<std::vector<asset>> parse_assets(std::string_view body) {
  namespace rest = mi::connectors::rest;
  simdjson::dom::parser parser;
  auto doc = rest::parse_body(parser, body);
  if (!doc)
    return mi::error{"assets: " + doc.err().message};
  std::vector<asset> out;
  auto one = [&](simdjson::dom::element e, const std::string& where) -> std::optional<mi::error> {
    simdjson::dom::object o;
    if (e.get_object().get(o))
      return mi::error{where + ": must be an object"};
    auto symbol = rest::string_field(o, "symbol", where);
    if (!symbol)
      return symbol.err();
    asset a;
    a.symbol = std::string(*symbol);
    if (auto x = rest::string_field(o, "exchange", where))
      a.exchange = std::string(*x);
    if (auto c = rest::string_field(o, "class", where))
      a.asset_class = std::string(*c);
    if (auto s = rest::string_field(o, "status", where))
      a.status = std::string(*s);
    if (auto t = rest::bool_field(o, "tradable", where))
      a.tradable = *t;
    out.push_back(std::move(a));
    return std::nullopt;
  };
  simdjson::dom::array arr;
  if (doc->get_array().get(arr) == simdjson::SUCCESS) {
    std::size_t k = 0;
    for (auto e : arr)
      if (auto err = one(e, "assets[" + std::to_string(k++) + "]"))
        return *err;
    return out;
  }
  if (auto err = one(*doc, "asset"))
    return *err;
  return out;
}

std::string trades_target(std::string_view ticker, std::int64_t start_ns, std::int64_t end_ns, std::size_t limit,
                          std::string_view page_token) {
  std::string out = "/v2/stocks/" + std::string(ticker) + "/trades?start=" + mi::util::rfc3339(start_ns) +
                    "&end=" + mi::util::rfc3339(end_ns) +
                    "&limit=" + std::to_string(std::clamp<std::size_t>(limit, 1, max_page_limit));
  if (!page_token.empty()) {
    out += "&page_token=";
    static constexpr char hex[] = "0123456789ABCDEF";
    for (unsigned char ch : page_token) {
      if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
          ch == '.' || ch == '~') {
        out.push_back(static_cast<char>(ch));
      } else {
        out.push_back('%');
        out.push_back(hex[ch >> 4]);
        out.push_back(hex[ch & 15]);
      }
    }
  }
  return out;
}

} // namespace mi::alpaca
