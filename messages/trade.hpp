#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/decimal.hpp"

namespace mi {

/// The taker's side of a trade.
enum class side : std::uint8_t { unknown = 0, buy = 1, sell = 2 };

std::string_view to_string(side s);

/// One normalized trade: the platform's unit of data (public contract in DESIGN.md).
struct trade {
  std::string exchange; ///< lower case: binance, okx, bybit, coinbase, kraken
  std::string symbol;   ///< BASEQUOTE upper case, a legal NATS token
  std::string base;
  std::string quote;
  std::string trade_id; ///< the exchange's id, unique per (exchange, symbol); set with set_id()
  /// trade_id's value when it is plain decimal digits that fit int64 ("12345" -> 12345); nullopt otherwise
  /// (Bybit's UUIDs, Kraken v1's synthesized ids). Set by set_id() where the id is read: the codec or REST
  /// parser of the exchange (from the JSON number where the exchange sends one), and the decoders of our
  /// wire forms (protobuf, JSON) and database rows, from the text. Everything after reads it (gap tracking,
  /// backfill, the restart seed, the kline engine's dedup) and never parses the text again. Not on the wire:
  /// it is the text's value, so operator== does not compare it.
  std::optional<std::int64_t> id_number;
  decimal price;
  decimal quantity;
  side taker_side = side::unknown;
  std::int64_t ts_ns = 0;   ///< exchange trade time, ns since the epoch, UTC
  std::int64_t recv_ns = 0; ///< local receive time, ns since the epoch, UTC
  // Equities only (empty for crypto; optional fields 11-13 of market.v1.Trade):
  std::string exchange_code{}; ///< the market center that printed it (Alpaca `x`: "V" IEX, "D" FINRA ADF, ...)
  std::vector<std::string> conditions{}; ///< the trade's condition codes as sent (Alpaca `c`: "@", "F", "I", ...)
  std::string tape{}; ///< the consolidated tape (Alpaca `z`: "A" NYSE, "B" Arca/regional, "C" Nasdaq)
  /// Not empty: this is an amendment, not a trade (market.v1.Trade fields 14-15, Alpaca `c` / `x`): the trade with id
  /// `amends` (same exchange and symbol) is corrected to this price, quantity and conditions (canceled = false) or is
  /// void (canceled = true). Counting readers skip amendments (is_amendment()).
  std::string amends{};
  bool canceled = false;
  bool is_amendment() const { return !amends.empty(); }

  /// Sets trade_id to the decimal text of `id` and id_number to `id` (the exchange sent a JSON number).
  void set_id(std::int64_t id);
  void set_id(std::uint64_t id);
  /// Sets trade_id to `id`, and id_number to its value when it is one (trade_id_number).
  void set_id(std::string id);

  /// Field-wise equality of everything but id_number (derived from trade_id).
  friend bool operator==(const trade& a, const trade& b);
};

/// The one text -> number conversion of a trade id: plain decimal digits that fit int64 ("12345" -> 12345,
/// "007" -> 7); nullopt otherwise ("", "-1", "1e3", a UUID, beyond int64).
std::optional<std::int64_t> trade_id_number(std::string_view id);

/// `Nats-Msg-Id` of a trade: `{exchange}:{symbol}:{trade_id}`.
std::string dedup_id(const trade& t);

/// `market.raw.{exchange}.{symbol}`.
std::string raw_subject(std::string_view exchange, std::string_view symbol);

/// True when `s` can be one token of a NATS subject (non-empty, no '.', '*', '>', space).
bool is_subject_token(std::string_view s);

/// Orders trade ids: numerically when both are decimal digits, else as text.
int compare_trade_ids(std::string_view a, std::string_view b);

/// Orders the trades of one frame oldest first: by time, then trade id (DESIGN.md, `decode`).
void sort_oldest_first(std::vector<trade>& trades);

} // namespace mi
