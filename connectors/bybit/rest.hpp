#pragma once

#include <string_view>
#include <vector>

#include "connectors/bybit/instruments.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi::bybit {

/// Parses GET /v5/market/recent-trade?category=spot&symbol=BTCUSDT ({"retCode":0,"retMsg":"OK","result":{"category":
/// "spot","list":[{"execId":"2100000000007764263","symbol":"BTCUSDT","price":"16618.49","size":"0.00012","side":"Buy",
/// "time":"1672052955758","isBlockTrade":false}]},...}, newest first) into trades of `inst`, exactly as the
/// publicTrade stream decodes them (trade_id = execId, side = taker side, time ms); recv_ns = 0. Oldest first.
/// Error on retCode != 0 ("retCode 10001: <retMsg>"), a malformed trade, price or size <= 0.
mi::result<std::vector<mi::trade>> parse_recent_trades(std::string_view body, const instrument& inst);

} // namespace mi::bybit
