#pragma once

// The polled venues of the venue registry (their table is in messages/venue_registry.cpp, beside the streamed and
// the perpetual-swap venues: every venue is named there once).

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "messages/venue_registry.hpp"

namespace mi {

/// A polled venue (issue 13): its sources are polled over HTTP by a role of its own, so it is configured under
/// `config_section` and has no WebSocket adapter (it is not in venues(), which config's `exchanges.*`, make_venue,
/// `simulate --exchange` and fuzz_venue iterate). Its symbols carry an exchange suffix that names their market.
struct polled_venue_info {
  std::string_view name;           ///< "cn": the {venue} of market.quote.{venue}.{token} and of the API's `venue`
  venue_kind kind;                 ///< equities_feed
  std::string_view config_section; ///< "equities.cn"
  std::string_view symbols;        ///< symbol form by example, space-separated: "600000.SH 000001.SZ"
  /// Symbol suffix -> market, space-separated "SH=XSHG SZ=XSHE": `600000.SH` trades on XSHG (deploy/calendars).
  std::string_view markets;
};

/// Every polled venue: cn (China A-shares).
std::span<const polled_venue_info> polled_venues();
/// The polled venue called `name`; nullptr when there is none.
const polled_venue_info* find_polled_venue(std::string_view name);
/// The market of a polled venue's symbol (`600000.SH` -> "XSHG"): its suffix after the last '.' in `markets`;
/// nullopt when the symbol has no listed suffix.
std::optional<std::string_view> market_of_symbol(const polled_venue_info& v, std::string_view symbol);
/// A symbol as a NATS subject token: every '.' becomes '_' (`600000.SH` -> `600000_SH`, `BRK.B` -> `BRK_B`).
std::string subject_token(std::string_view symbol);
/// Every market-data venue, streamed (venues()) then polled (polled_venues()), in the registry's order: what the
/// API's `venue` parameter accepts.
std::vector<std::string> data_venue_names();
/// data_venue_names() joined with `separator`: "binance, okx, bybit, coinbase, kraken, alpaca, cn".
std::string data_venue_names_joined(std::string_view separator = ", ");
/// True when `name` is a streamed or a polled venue.
bool is_data_venue(std::string_view name);

} // namespace mi
