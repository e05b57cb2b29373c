#pragma once

#include <string_view>
#include <vector>

#include "connectors/okx/instruments.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi::okx {

/// Parses GET /api/v5/public/instruments?instType=SPOT
/// ({"code":"0","msg":"","data":[{"instType":"SPOT","instId":"BTC-USDT","baseCcy":"BTC","quoteCcy":"USDT",
/// "state":"live"}]}): the SPOT instruments whose state is "live" (others are skipped), named like from_inst_id.
/// Error on a malformed body, an entry without instId, or code != "0" ("code 51001: <msg>").
mi::result<std::vector<instrument>> parse_instruments(std::string_view body);

/// Parses GET /api/v5/market/history-trades (and /market/trades): {"code":"0","msg":"","data":[{"instId":"BTC-USDT",
/// "side":"buy","sz":"0.1","px":"100","source":"0","tradeId":"130639474","ts":"1630048897897"}]} (newest first)
/// into trades exactly as the WS `trades` channel decodes them (side = taker side, ts ms); recv_ns = 0.
/// Oldest first. Error on code != "0" ("code 51001: <msg>"), a malformed trade, price or size <= 0.
mi::result<std::vector<mi::trade>> parse_trades(std::string_view body);

} // namespace mi::okx
