#include "connectors/binance/instruments.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <simdjson.h>

#include "connectors/json_text.hpp"

namespace mi::binance {
namespace {

namespace od = simdjson::ondemand;

// Quote assets of Binance spot markets, current and past. resolve() tries the longest match first,
// so "BTCFDUSD" splits as BTC/FDUSD and "BTCTUSD" as BTC/TUSD.
constexpr std::array<std::string_view, 36> builtin_quotes = {
  "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP", "AEUR", "EURI", "IDRT", "BIDR", "BKRW", "DOGE",
  "DAI",   "PAX",  "VAI",  "BTC",  "ETH",  "BNB",  "XRP",  "TRX",  "EUR",  "GBP",  "AUD",  "BRL",
  "TRY",   "RUB",  "UAH",  "NGN",  "ZAR",  "JPY",  "PLN",  "RON",  "ARS",  "MXN",  "COP",  "CZK"};

std::string error_text(simdjson::error_code ec) { return simdjson::error_message(ec); }

} // namespace

instruments::instruments() : symbol_table(builtin_quotes) {}

mi::result<instruments> instruments::from_exchange_info(std::string_view json) {
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  if (auto ec = parser.iterate(padded).get(doc))
    return mi::error{"exchangeInfo: not JSON: " + error_text(ec)};
  od::object root;
  if (auto ec = doc.get_object().get(root))
    return mi::error{"exchangeInfo: not a JSON object: " + error_text(ec)};
  od::array symbols;
  if (auto ec = root["symbols"].get_array().get(symbols)) {
    if (ec == simdjson::NO_SUCH_FIELD)
      return mi::error{"exchangeInfo: missing field 'symbols'"};
    return mi::error{"exchangeInfo: field 'symbols' must be an array: " + error_text(ec)};
  }
  instruments out;
  std::size_t index = 0;
  for (auto element : symbols) {
    const std::string where = "exchangeInfo: symbols[" + std::to_string(index) + "]: ";
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
      } else if (key == "baseAsset") {
        target = &i.base;
        has_base = true;
      } else if (key == "quoteAsset") {
        target = &i.quote;
        has_quote = true;
      } else if (key == "status") {
        std::string_view status;
        if (field.value().get_string().get(status))
          return mi::error{where + "field 'status' must be a string"};
        i.trading = status == "TRADING";
        continue;
      } else {
        continue; // filters, permissions, precisions, ...
      }
      std::string_view text;
      if (field.value().get_string().get(text))
        return mi::error{where + "field '" + std::string(key) + "' must be a string"};
      *target = std::string(text);
    }
    if (!has_symbol)
      return mi::error{where + "missing field 'symbol'"};
    if (!has_base)
      return mi::error{where + "missing field 'baseAsset'"};
    if (!has_quote)
      return mi::error{where + "missing field 'quoteAsset'"};
    if (!mi::connectors::is_asset(i.symbol) || !mi::connectors::is_asset(i.base) || !mi::connectors::is_asset(i.quote))
      return mi::error{where + "symbol and assets must be upper-case letters and digits: '" + i.symbol + "'"};
    out.add(std::move(i));
    ++index;
  }
  return out;
}

std::string encode_exchange_info(const std::vector<instrument>& xs) {
  std::string out = R"({"timezone":"UTC","serverTime":0,"rateLimits":[],"exchangeFilters":[],"symbols":[)";
  bool first = true;
  for (const instrument& i : xs) {
    if (!first)
      out += ',';
    first = false;
    out += R"({"symbol":)";
    mi::connectors::text::append_json_string(out, i.symbol);
    out += R"(,"status":)";
    out += i.trading ? R"("TRADING")" : R"("BREAK")";
    out += R"(,"baseAsset":)";
    mi::connectors::text::append_json_string(out, i.base);
    out += R"(,"baseAssetPrecision":8,"quoteAsset":)";
    mi::connectors::text::append_json_string(out, i.quote);
    out += R"(,"quotePrecision":8,"quoteAssetPrecision":8,"isSpotTradingAllowed":true,"filters":[]})";
  }
  out += "]}";
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

} // namespace mi::binance
