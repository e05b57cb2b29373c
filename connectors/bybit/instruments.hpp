#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/result.hpp"

namespace mi::bybit {

/// Exchange metadata for one spot symbol.
struct instrument {
  std::string symbol;  ///< exchange symbol, upper case: BTCUSDT (also the normalized symbol)
  std::string base;    ///< BTC
  std::string quote;   ///< USDT
  bool trading = true; ///< instruments-info status == "Trading"

  friend bool operator==(const instrument&, const instrument&) = default;
};

/// Symbol metadata, from REST GET /v5/market/instruments-info?category=spot, with a quote-suffix fallback.
class instruments {
public:
  /// Parses the instruments-info JSON body
  /// ({"retCode":0,"result":{"category":"spot","list":[{"symbol":"BTCUSDT","baseCoin":"BTC","quoteCoin":"USDT",
  /// "status":"Trading",...}]}}). Unknown keys are ignored; retCode != 0, or an entry without
  /// symbol/baseCoin/quoteCoin, is an error.
  static mi::result<instruments> from_instruments_info(std::string_view json);

  /// Adds or replaces the entry for `i.symbol`; its quote becomes a known suffix for resolve().
  void add(instrument i);

  /// Exact lookup by exchange symbol (upper case); nullptr if unknown.
  const instrument* find(std::string_view symbol) const;

  /// find(), else split by the longest known quote suffix (USDT, USDC, USDE, DAI, BTC, ETH, EUR, BRL, ...
  /// plus every quote of an added instrument); nullopt if none, or if the symbol is not upper-case letters and digits.
  std::optional<instrument> resolve(std::string_view symbol) const;

  /// Number of instruments added.
  std::size_t size() const;

  /// All instruments, ordered by symbol.
  std::vector<instrument> all() const;

private:
  std::map<std::string, instrument, std::less<>> by_symbol_;
  std::vector<std::string> extra_quotes_; ///< quotes of added instruments not in the built-in list
};

/// "BTC/USDT" (unified config form) -> instrument{BTCUSDT,BTC,USDT}; error on a malformed name.
/// Lower case letters are accepted and upper-cased ("btc/usdt").
mi::result<instrument> from_unified(std::string_view unified);

} // namespace mi::bybit
