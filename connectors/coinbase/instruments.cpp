#include "connectors/coinbase/instruments.hpp"

#include <algorithm>

namespace mi::coinbase {
namespace {

char to_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool is_asset(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

/// Splits "BASE<sep>QUOTE" (exactly one separator), upper-cases both parts.
mi::result<instrument> split(std::string_view text, char sep, std::string_view what, std::string_view example) {
  const auto at = text.find(sep);
  if (at == std::string_view::npos || text.find(sep, at + 1) != std::string_view::npos)
    return mi::error{std::string(what) + " '" + std::string(text) + "' must be BASE" + sep + "QUOTE, e.g. " +
                     std::string(example)};
  instrument i;
  for (char c : text.substr(0, at))
    i.base += to_upper(c);
  for (char c : text.substr(at + 1))
    i.quote += to_upper(c);
  if (!is_asset(i.base) || !is_asset(i.quote))
    return mi::error{std::string(what) + " '" + std::string(text) +
                     "': base and quote must be non-empty letters and digits, e.g. " + std::string(example)};
  i.symbol = i.base + i.quote;
  i.product_id = i.base + "-" + i.quote;
  return i;
}

} // namespace

mi::result<instrument> from_unified(std::string_view unified) { return split(unified, '/', "symbol", "BTC/USD"); }

mi::result<instrument> from_product_id(std::string_view product_id) {
  return split(product_id, '-', "product id", "BTC-USD");
}

mi::result<std::string> to_product_id(std::string_view unified) {
  mi::result<instrument> i = from_unified(unified);
  if (!i)
    return i.err();
  return i->product_id;
}

std::string to_unified(const instrument& i) { return i.base + "/" + i.quote; }

} // namespace mi::coinbase
