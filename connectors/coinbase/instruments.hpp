#pragma once

#include <string>
#include <string_view>

#include "messages/result.hpp"

namespace mi::coinbase {

/// One Coinbase product in the platform's terms.
struct instrument {
  std::string symbol;     ///< normalized BASEQUOTE, upper case: BTCUSD
  std::string base;       ///< BTC
  std::string quote;      ///< USD
  std::string product_id; ///< Coinbase's form: BTC-USD

  friend bool operator==(const instrument&, const instrument&) = default;
};

/// "BTC/USD" (unified config form, lower case accepted) -> {BTCUSD, BTC, USD, BTC-USD}; error on a malformed name.
mi::result<instrument> from_unified(std::string_view unified);

/// "BTC-USD" (Coinbase product id, lower case accepted) -> {BTCUSD, BTC, USD, BTC-USD}; error unless BASE-QUOTE
/// with letters and digits.
mi::result<instrument> from_product_id(std::string_view product_id);

/// "BTC/USD" -> "BTC-USD" (error as from_unified).
mi::result<std::string> to_product_id(std::string_view unified);

/// instrument -> "BTC/USD".
std::string to_unified(const instrument& i);

} // namespace mi::coinbase
