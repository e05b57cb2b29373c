#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/result.hpp"

namespace mi::binance {

/// Exchange metadata for one symbol.
struct instrument {
  std::string symbol; ///< exchange symbol, upper case: BTCUSDT
  std::string base;   ///< BTC
  std::string quote;  ///< USDT
  bool trading = true; ///< exchangeInfo status == "TRADING"

  friend bool operator==(const instrument&, const instrument&) = default;
};

/// Symbol metadata, from REST GET /api/v3/exchangeInfo, with a quote-suffix fallback.
class instruments {
public:
  /// Parses the exchangeInfo JSON body
  /// ({"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT",...}]}).
  /// Unknown keys are ignored; a symbol entry without symbol/baseAsset/quoteAsset is an error.
  static mi::result<instruments> from_exchange_info(std::string_view json);

  /// Adds or replaces the entry for `i.symbol`; its quote becomes a known suffix for resolve().
  void add(instrument i);

  /// Exact lookup by exchange symbol (upper case); nullptr if unknown.
  const instrument* find(std::string_view symbol) const;

  /// find(), else split by the longest known quote suffix (USDT, USDC, FDUSD, BUSD, TUSD, BTC,
  /// ETH, BNB, EUR, TRY, ... plus every quote of an added instrument); nullopt if none, or if
  /// the symbol is not upper-case letters and digits.
  std::optional<instrument> resolve(std::string_view symbol) const;

  /// Number of instruments added.
  std::size_t size() const;

  /// All instruments, ordered by symbol.
  std::vector<instrument> all() const;

private:
  std::map<std::string, instrument, std::less<>> by_symbol_;
  std::vector<std::string> extra_quotes_; ///< quotes of added instruments not in the built-in list
};

/// Body of GET /api/v3/exchangeInfo listing these instruments (the simulator serves it).
std::string encode_exchange_info(const std::vector<instrument>& xs);

/// "BTC/USDT" (unified config form) -> instrument{BTCUSDT,BTC,USDT}; error on a malformed name.
/// Lower case letters are accepted and upper-cased ("btc/usdt").
mi::result<instrument> from_unified(std::string_view unified);

} // namespace mi::binance
