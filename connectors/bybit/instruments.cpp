#include "connectors/bybit/instruments.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <simdjson.h>

#include "connectors/json_text.hpp"

namespace mi::bybit {
namespace {

namespace od = simdjson::ondemand;

// Quote coins of Bybit spot markets. resolve() tries the longest match first (a 4-letter quote before
// a 3-letter one), and instruments-info metadata, when loaded, overrides the guess.
constexpr std::array<std::string_view, 14> builtin_quotes = {"USDT", "USDC", "USDE", "USD1", "USDR", "DAI", "BTC",
                                                             "ETH",  "MNT",  "EUR",  "BRL",  "TRY",  "PLN", "BRZ"};

std::string error_text(simdjson::error_code ec) { return simdjson::error_message(ec); }

} // namespace

instruments::instruments() : symbol_table(builtin_quotes) {}

mi::result<instruments> instruments::from_instruments_info(std::string_view json) {
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  if (auto ec = parser.iterate(padded).get(doc))
    return mi::error{"instruments-info: not JSON: " + error_text(ec)};
  od::object root;
  if (auto ec = doc.get_object().get(root))
    return mi::error{"instruments-info: not a JSON object: " + error_text(ec)};
  instruments out;
  bool has_list = false;
  for (auto top : root) {
    std::string_view top_key;
    if (auto ec = top.unescaped_key().get(top_key))
      return mi::error{"instruments-info: " + error_text(ec)};
    if (top_key == "retCode") {
      std::int64_t code = 0;
      if (top.value().get_int64().get(code))
        return mi::error{"instruments-info: field 'retCode' must be an integer"};
      if (code != 0)
        return mi::error{"instruments-info: retCode " + std::to_string(code)};
      continue;
    }
    if (top_key != "result")
      continue;
    od::object result;
    if (auto ec = top.value().get_object().get(result))
      return mi::error{"instruments-info: field 'result' must be an object: " + error_text(ec)};
    for (auto rf : result) {
      std::string_view rkey;
      if (auto ec = rf.unescaped_key().get(rkey))
        return mi::error{"instruments-info: " + error_text(ec)};
      if (rkey != "list")
        continue;
      od::array list;
      if (auto ec = rf.value().get_array().get(list))
        return mi::error{"instruments-info: field 'result.list' must be an array: " + error_text(ec)};
      has_list = true;
      std::size_t index = 0;
      for (auto element : list) {
        const std::string where = "instruments-info: list[" + std::to_string(index) + "]: ";
        od::object entry;
        if (auto ec = element.get_object().get(entry))
          return mi::error{where + "not an object: " + error_text(ec)};
        instrument i;
        bool has_symbol = false, has_base = false, has_quote = false;
        for (auto field : entry) {
          std::string_view key;
          if (auto ec = field.unescaped_key().get(key))
            return mi::error{where + error_text(ec)};
          std::string* target = nullptr;
          if (key == "symbol") {
            target = &i.symbol;
            has_symbol = true;
          } else if (key == "baseCoin") {
            target = &i.base;
            has_base = true;
          } else if (key == "quoteCoin") {
            target = &i.quote;
            has_quote = true;
          } else if (key == "status") {
            std::string_view status;
            if (field.value().get_string().get(status))
              return mi::error{where + "field 'status' must be a string"};
            i.trading = status == "Trading";
            continue;
          } else {
            continue; // lotSizeFilter, priceFilter, innovation, ...
          }
          std::string_view text;
          if (field.value().get_string().get(text))
            return mi::error{where + "field '" + std::string(key) + "' must be a string"};
          *target = std::string(text);
        }
        if (!has_symbol)
          return mi::error{where + "missing field 'symbol'"};
        if (!has_base)
          return mi::error{where + "missing field 'baseCoin'"};
        if (!has_quote)
          return mi::error{where + "missing field 'quoteCoin'"};
        if (!mi::connectors::is_asset(i.symbol) || !mi::connectors::is_asset(i.base) ||
            !mi::connectors::is_asset(i.quote))
          return mi::error{where + "symbol and coins must be upper-case letters and digits: '" + i.symbol + "'"};
        out.add(std::move(i));
        ++index;
      }
    }
  }
  if (!has_list)
    return mi::error{"instruments-info: missing field 'result.list'"};
  return out;
}

mi::result<instrument> from_unified(std::string_view unified) {
  const auto slash = unified.find('/');
  if (slash == std::string_view::npos || unified.find('/', slash + 1) != std::string_view::npos)
    return mi::error{"symbol '" + std::string(unified) + "' must be BASE/QUOTE, e.g. BTC/USDT"};
  std::string base, quote;
  for (char c : unified.substr(0, slash))
    base += mi::connectors::text::to_upper(c);
  for (char c : unified.substr(slash + 1))
    quote += mi::connectors::text::to_upper(c);
  if (!mi::connectors::is_asset(base) || !mi::connectors::is_asset(quote))
    return mi::error{"symbol '" + std::string(unified) +
                     "': base and quote must be non-empty letters and digits, e.g. BTC/USDT"};
  return instrument{base + quote, base, quote, true};
}

} // namespace mi::bybit
