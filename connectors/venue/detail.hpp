#pragma once

// Internal to connectors/venue: the factories of the five venues and the paging helpers they share.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/venue/venue.hpp"

namespace mi::venue::detail {

std::unique_ptr<venue> make_binance(const venue_options& o);
std::unique_ptr<venue> make_okx(const venue_options& o);
std::unique_ptr<venue> make_bybit(const venue_options& o);
std::unique_ptr<venue> make_coinbase(const venue_options& o);
std::unique_ptr<venue> make_kraken(const venue_options& o);

/// A trade id of decimal digits as an integer; nullopt otherwise.
using mi::venue::numeric_id;

/// What one page of REST trades held, before and after keeping only the gap's trades.
struct page_filter {
  std::vector<mi::trade> kept;        ///< trades with first_id <= id <= last_id, oldest first
  std::size_t returned = 0;           ///< trades in the page
  std::optional<std::int64_t> min_id; ///< smallest numeric id in the page
  std::optional<std::int64_t> max_id; ///< largest numeric id in the page
};

/// Keeps the trades of `page` (oldest first) that fall inside `g`, and notes the page's id range.
page_filter filter_to_gap(std::vector<mi::trade> page, const gap& g);

/// A venue's memory of the gaps it is filling: per gap, the edge of the ids already handed out and the
/// last cursor asked for. Pages that overlap (Kraken's inclusive `since`) then hand each trade out once,
/// and a server that ignores the cursor (the same page again and again) ends the backfill instead of
/// looping. history_request() starts a gap afresh; a gap ends when its last page has been parsed.
class page_memory {
public:
  /// forward: pages of rising ids (Binance, Kraken); backward: falling ids (OKX, Coinbase).
  enum class direction : std::uint8_t { forward, backward };

  explicit page_memory(direction d) : direction_(d) {}

  /// A new backfill of (symbol, g) starts with its first request's cursor: forgets what an earlier,
  /// abandoned one handed out.
  void start(const std::string& symbol, const gap& g, std::int64_t first_cursor);

  /// One parsed page of (symbol, g): `kept` (inside the gap, oldest first) loses the trades handed out
  /// before; `next_cursor` is the cursor of the next request (fromId, after, since), nullopt when the
  /// paging rule says the gap is done. Returns the fresh trades and whether the next request should go
  /// (false too when the cursor did not move past the previous one).
  std::pair<std::vector<mi::trade>, bool> on_page(const std::string& symbol, const gap& g, std::vector<mi::trade> kept,
                                                  std::optional<std::int64_t> next_cursor);

private:
  struct state {
    std::optional<std::int64_t> edge;   ///< highest (forward) / lowest (backward) id handed out
    std::optional<std::int64_t> cursor; ///< the last next-cursor handed out
  };
  static std::string key(const std::string& symbol, const gap& g);

  direction direction_;
  std::map<std::string, state> by_gap_;
};

/// "<exchange> <what>: <reason>" for a REST parse error.
mi::error rest_error(std::string_view exchange, std::string_view what, const mi::error& e);

/// "BTC/USDT: not listed by okx" (or "... listed by okx but not trading").
mi::error not_listed(std::string_view unified, std::string_view exchange, bool listed_but_halted = false);

/// The common case of a REST-side symbol: {unified, symbol, base, quote} of a venue's own instrument type.
template <class Instrument>
subscription make_subscription(std::string_view unified, const Instrument& i, std::string wire, std::string rest) {
  return subscription{std::string(unified), i.symbol, i.base, i.quote, std::move(wire), std::move(rest)};
}

} // namespace mi::venue::detail
