#include "connectors/kraken/instruments.hpp"

#include <algorithm>

namespace mi::kraken {
namespace {

char to_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool is_asset(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

} // namespace

std::string_view normalize_asset(std::string_view asset) {
  if (asset == "XBT")
    return "BTC";
  if (asset == "XDG")
    return "DOGE";
  return asset;
}

std::string_view v1_asset(std::string_view asset) {
  if (asset == "BTC")
    return "XBT";
  if (asset == "DOGE")
    return "XDG";
  return asset;
}

mi::result<instrument> from_wire(std::string_view pair) {
  const auto slash = pair.find('/');
  if (slash == std::string_view::npos || pair.find('/', slash + 1) != std::string_view::npos)
    return mi::error{"pair '" + std::string(pair) + "' must be BASE/QUOTE, e.g. BTC/USD"};
  std::string base, quote;
  for (char c : pair.substr(0, slash))
    base += to_upper(c);
  for (char c : pair.substr(slash + 1))
    quote += to_upper(c);
  if (!is_asset(base) || !is_asset(quote))
    return mi::error{"pair '" + std::string(pair) + "': base and quote must be non-empty letters and digits"};
  instrument i;
  i.base = std::string(normalize_asset(base));
  i.quote = std::string(normalize_asset(quote));
  i.symbol = i.base + i.quote;
  i.pair = i.base + "/" + i.quote;
  i.v1_pair = std::string(v1_asset(i.base)) + "/" + std::string(v1_asset(i.quote));
  return i;
}

mi::result<instrument> from_unified(std::string_view unified) {
  mi::result<instrument> i = from_wire(unified);
  if (!i)
    return mi::error{"symbol '" + std::string(unified) + "' must be BASE/QUOTE with letters and digits, e.g. BTC/USD"};
  return i;
}

} // namespace mi::kraken
