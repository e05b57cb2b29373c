#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/symbol_table.hpp"
#include "messages/result.hpp"

namespace mi::binance {

/// Exchange metadata for one symbol (shared with the other codecs).
using instrument = mi::connectors::instrument;

/// Symbol metadata, from REST GET /api/v3/exchangeInfo, with a quote-suffix fallback.
class instruments : public mi::connectors::symbol_table {
public:
  /// Empty: resolve() uses the built-in quote list only.
  instruments();

  /// Parses the exchangeInfo JSON body
  /// ({"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT",...}]}).
  /// Unknown keys are ignored; a symbol entry without symbol/baseAsset/quoteAsset is an error.
  static mi::result<instruments> from_exchange_info(std::string_view json);
};

/// Body of GET /api/v3/exchangeInfo listing these instruments (the simulator serves it).
std::string encode_exchange_info(const std::vector<instrument>& xs);

/// "BTC/USDT" (unified config form) -> instrument{BTCUSDT,BTC,USDT}; error on a malformed name.
/// Lower case letters are accepted and upper-cased ("btc/usdt").
mi::result<instrument> from_unified(std::string_view unified);

} // namespace mi::binance
