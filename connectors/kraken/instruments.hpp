#pragma once

#include <string>
#include <string_view>

#include "messages/result.hpp"

namespace mi::kraken {

/// One Kraken pair in the platform's terms.
struct instrument {
  std::string symbol;  ///< normalized BASEQUOTE, upper case, aliases resolved: BTCUSD
  std::string base;    ///< BTC (never XBT)
  std::string quote;   ///< USD
  std::string pair;    ///< WS v2 form: BTC/USD
  std::string v1_pair; ///< WS v1 form: XBT/USD

  friend bool operator==(const instrument&, const instrument&) = default;
};

/// Kraken asset alias -> common code: XBT -> BTC, XDG -> DOGE; anything else unchanged.
std::string_view normalize_asset(std::string_view asset);

/// Common code -> Kraken WS v1 asset: BTC -> XBT, DOGE -> XDG; anything else unchanged.
std::string_view v1_asset(std::string_view asset);

/// "BTC/USD" (unified config form, lower case accepted) -> {BTCUSD, BTC, USD, BTC/USD, XBT/USD};
/// error on a malformed name. "XBT/USD" is accepted too and normalized.
mi::result<instrument> from_unified(std::string_view unified);

/// A pair as the exchange sends it, v2 ("BTC/USD") or v1 ("XBT/USD", "XDG/USD") -> the same instrument.
/// Error unless BASE/QUOTE with letters and digits.
mi::result<instrument> from_wire(std::string_view pair);

} // namespace mi::kraken
