#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/alpaca/codec.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

/// Alpaca's REST bodies: historical trades and bars (https://data.alpaca.markets/v2/stocks/...), single-symbol
/// (`{"trades":[...]|null,"symbol":"AAPL","next_page_token":...}`) and multi-symbol (`{"trades":{"AAPL":[...]},...}`)
/// shapes, paged by `next_page_token` (opaque: never parsed); the assets list of the trading API (/v2/assets). Pure.
namespace mi::alpaca {

/// Trades of a page whose REST `u` says they no longer stand are not history: "canceled" and "incorrect" are left
/// out (counted in trades_page::voided); "corrected" (the corrected print) is kept.
struct trades_page {
  std::vector<mi::trade> trades;              ///< every symbol of the page, oldest first per symbol
  std::optional<std::string> next_page_token; ///< nullopt: the last page
  std::size_t voided = 0;                     ///< trades left out for their `u`
};

/// Parses a trades page. The symbol comes from "symbol" (single) or each key (multi). recv_ns is stamped on every
/// trade. Error naming the element on a malformed trade ("trades[1]: field 'p' must be a positive decimal").
mi::result<trades_page> parse_trades_page(std::string_view body, std::int64_t recv_ns);

/// One page of bars (timeframe as requested; `what` is bar::kind::minute for intraday, daily for 1Day).
struct bars_page {
  std::vector<bar> bars;
  std::optional<std::string> next_page_token;
};

/// Parses a bars page of either shape; `daily`: the bars are 1Day bars (their `t` is midnight New York).
mi::result<bars_page> parse_bars_page(std::string_view body, bool daily);

/// One asset of GET /v2/assets.
struct asset {
  std::string symbol;   ///< Alpaca's ticker ("BRK.B")
  std::string exchange; ///< "NASDAQ", "NYSE", "ARCA", "OTC", ...
  std::string asset_class;
  std::string status; ///< "active" | "inactive"
  bool tradable = false;
  bool operator==(const asset&) const = default;
};

/// The assets list (an array), or one asset object (GET /v2/assets/{symbol}) as a list of one.
mi::result<std::vector<asset>> parse_assets(std::string_view body);

/// GET /v2/stocks/{ticker}/trades?start=<RFC 3339>&end=<RFC 3339>&limit=<limit>[&page_token=<token>]: the trades of
/// [start_ns, end_ns] (both inclusive, Alpaca's rule), oldest first.
std::string trades_target(std::string_view ticker, std::int64_t start_ns, std::int64_t end_ns, std::size_t limit,
                          std::string_view page_token = {});

/// The most trades one REST page may carry (Alpaca: limit 1..10000).
inline constexpr std::size_t max_page_limit = 10000;

} // namespace mi::alpaca
