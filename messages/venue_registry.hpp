#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

/// The venue registry: every venue (exchange, equities feed, document source) named once, with what the layers
/// below the venue's own code need to know about it (config defaults, API and CLI choices, fuzzers). A venue's code
/// (codec, venue adapter, REST history, simulator protocol) lives in its folder, connectors/<name>/, and is
/// registered by `mi_add_venue(<name> ...)` in that folder's CMakeLists.txt (docs/architecture.md "Adding a venue").
namespace mi {

/// What a venue is: crypto exchanges, one equities feed (alpaca) so far; document sources are planned.
enum class venue_kind : std::uint8_t {
  crypto_exchange, ///< WebSocket trades, REST history: binance, okx, ...
  equities_feed,   ///< equity quotes and trades (alpaca, A-share sources)
  document_source  ///< filings, announcements
};

/// "crypto_exchange", "equities_feed", "document_source".
std::string_view to_string(venue_kind k);
/// The inverse of to_string; nullopt for anything else.
std::optional<venue_kind> parse_venue_kind(std::string_view s);

/// One registry line.
struct venue_info {
  std::string_view name;     ///< lower case, a legal NATS token: the {exchange} of `market.raw.{exchange}.{symbol}`
  venue_kind kind;           ///< what it is
  bool enabled_by_default;   ///< config defaults(): exchanges.<name>.enabled
  std::string_view ws_url;   ///< config defaults(): exchanges.<name>.ws_url (the real endpoint)
  std::string_view rest_url; ///< config defaults(): exchanges.<name>.rest_url (the real endpoint)
  std::string_view symbols;  ///< config defaults(): exchanges.<name>.symbols, space-separated BASE/QUOTE; the first
                             ///< is the venue's example symbol (fuzzers, tests)
  /// The market whose calendar the venue's symbols aggregate on (deploy/calendars/, messages/calendar): "CRYPTO"
  /// (always open, UTC windows) for crypto exchanges; an equities feed names its exchange's market, e.g. "XNYS" for
  /// alpaca, "XSHG" for Shanghai A-shares. Last, with a default, so a line without it is a crypto venue.
  std::string_view market = "CRYPTO";
};

/// Every venue, in the registry's order (stable: config output, error messages and docs follow it).
std::span<const venue_info> venues();
/// The venue called `name`; nullptr when there is none.
const venue_info* find_venue(std::string_view name);
/// The names of venues(), in order.
std::vector<std::string> venue_names();
/// The names joined with `separator`: "binance, okx, bybit, coinbase, kraken".
std::string venue_names_joined(std::string_view separator = ", ");
/// The venue's default symbols, split ("BTC/USDT", "ETH/USDT").
std::vector<std::string> default_symbols(const venue_info& v);

/// A perpetual-swap venue (issue 15, derivatives channels): named once here, beside the spot registry. Its codec lives
/// in its spot venue's folder (connectors/<spot>/derivatives.*).
struct derivatives_venue_info {
  std::string_view name;     ///< the {exchange} of market.{funding,mark,oi,liquidation}.{exchange}.{symbol}
  std::string_view spot;     ///< the spot venue whose folder holds its codec: "binance", "okx", "bybit"
  std::string_view ws_url;   ///< config defaults(): derivatives.<name>.ws_url (the real endpoint)
  std::string_view rest_url; ///< config defaults(): derivatives.<name>.rest_url (the real endpoint)
  std::string_view symbols;  ///< config defaults(): space-separated BASE/QUOTE
};

/// Every derivatives venue: binance-usdm, okx-swap, bybit-linear.
std::span<const derivatives_venue_info> derivatives_venues();
/// The derivatives venue called `name`; nullptr when there is none.
const derivatives_venue_info* find_derivatives_venue(std::string_view name);

} // namespace mi
