#pragma once

#include <string_view>
#include <vector>

#include "connectors/coinbase/instruments.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi::coinbase {

/// Parses Exchange REST GET /products ([{"id":"BTC-USD","base_currency":"BTC","quote_currency":"USD",
/// "status":"online"}]): the products whose status is "online" (others are skipped), named like from_product_id.
/// Error on a malformed body, an entry without id, or an error body ({"message":"..."} -> its message).
mi::result<std::vector<instrument>> parse_products(std::string_view body);

/// Parses Exchange REST GET /products/<id>/trades ([{"time":"2026-11-22T07:00:00.123456Z","trade_id":74,
/// "price":"10.00000000","size":"0.01000000","side":"sell"}], newest first) into trades of `inst`, exactly as the
/// WS market_trades channel decodes them: `side` is the MAKER's, the taker side is its opposite; time exact to the
/// ns; trade_id printed as decimal digits; recv_ns = 0. Oldest first. Error on an error body ({"message":"NotFound"}
/// -> "NotFound"), a malformed trade, price or size <= 0.
mi::result<std::vector<mi::trade>> parse_trades(std::string_view body, const instrument& inst);

} // namespace mi::coinbase
