#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "connectors/kraken/instruments.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi::kraken {

/// One tradable Kraken pair: the platform's instrument (through its wsname, so XBT -> BTC, XDG -> DOGE) and
/// the REST name of the pair (altname, e.g. XBTUSD).
struct asset_pair {
  instrument inst;
  std::string altname;

  friend bool operator==(const asset_pair&, const asset_pair&) = default;
};

/// Parses GET /0/public/AssetPairs ({"error":[],"result":{"XXBTZUSD":{"altname":"XBTUSD","wsname":"XBT/USD",
/// "base":"XXBT","quote":"ZUSD","status":"online"},...}}): the pairs with a wsname whose status is "online" (or
/// absent), in the body's order. Error on a malformed body or a non-empty "error" ("EQuery:Unknown asset pair").
mi::result<std::vector<asset_pair>> parse_asset_pairs(std::string_view body);

/// One page of GET /0/public/Trades: the trades (oldest first) and the `last` cursor (ns, as text) for the next page.
struct trades_page {
  std::vector<mi::trade> trades;
  std::string last;
};

/// Parses GET /0/public/Trades?pair=XBTUSD&since=..
/// ({"error":[],"result":{"XXBTZUSD":[["30243.40000","0.34507674",1688669597.827736,"b","m","",61044952]],
/// "last":"1688669597827736000"}}) into trades of `inst`, exactly as the WS v2 trade channel decodes them:
/// price and volume parsed from their text, the time from the TEXT of its JSON number (exact, no binary floating
/// point), "b"/"s" = taker buy/sell, trade_id = the 7th element; recv_ns = 0. Error on a non-empty "error"
/// ("EQuery:Unknown asset pair"), a malformed trade, price or volume <= 0.
mi::result<trades_page> parse_trades(std::string_view body, const instrument& inst);

} // namespace mi::kraken
