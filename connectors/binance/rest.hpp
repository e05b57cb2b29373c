#pragma once

#include <string_view>
#include <vector>

#include "connectors/binance/instruments.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi::binance {

/// Parses GET /api/v3/historicalTrades
/// ([{"id":28457,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012","time":1499865549590,
/// "isBuyerMaker":true,"isBestMatch":true}]) into trades of `inst`, exactly as the @trade stream decodes them
/// (trade_id = id, ts_ns = time ms, taker side sell when isBuyerMaker); recv_ns = 0 (the caller stamps it).
/// Oldest first. Error on a body that is not such an array, on an error body ({"code":-1121,"msg":"Invalid
/// symbol."} -> "code -1121: Invalid symbol.") and on a trade with price or quantity <= 0.
mi::result<std::vector<mi::trade>> parse_historical_trades(std::string_view body, const instrument& inst);

/// Parses GET /api/v3/aggTrades ([{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,
/// "T":1498793709153,"m":true,"M":true}]) like the @aggTrade stream (trade_id = a). Errors as above.
mi::result<std::vector<mi::trade>> parse_agg_trades(std::string_view body, const instrument& inst);

} // namespace mi::binance
