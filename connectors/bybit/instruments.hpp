#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/symbol_table.hpp"
#include "messages/result.hpp"

namespace mi::bybit {

/// Exchange metadata for one symbol (shared with the other codecs).
using instrument = mi::connectors::instrument;

/// Symbol metadata, from REST GET /v5/market/instruments-info?category=spot, with a quote-suffix fallback.
class instruments : public mi::connectors::symbol_table {
public:
  /// Empty: resolve() uses the built-in quote list only.
  instruments();

  /// Parses the instruments-info JSON body
  /// ({"retCode":0,"result":{"category":"spot","list":[{"symbol":"BTCUSDT","baseCoin":"BTC","quoteCoin":"USDT",
  /// "status":"Trading",...}]}}). Unknown keys are ignored; retCode != 0, or an entry without
  /// symbol/baseCoin/quoteCoin, is an error.
  static mi::result<instruments> from_instruments_info(std::string_view json);
};

/// "BTC/USDT" (unified config form) -> instrument{BTCUSDT,BTC,USDT}; error on a malformed name.
/// Lower case letters are accepted and upper-cased ("btc/usdt").
mi::result<instrument> from_unified(std::string_view unified);

} // namespace mi::bybit
