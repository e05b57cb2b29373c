#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/decimal.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

/// Alpaca market data v2 stream (wss://stream.data.alpaca.markets/v2/{iex|sip}): every server message is a JSON
/// array of objects tagged by "T". Pure: no I/O, no clock (the receive time is passed in). docs/protocols.md "Alpaca".
namespace mi::alpaca {

/// The platform's symbol for an Alpaca ticker: "AAPL" -> "AAPL", "BRK.B" -> "BRK_B" (a '.' cannot be part of a NATS
/// token); nullopt unless it is 1 to 16 of A-Z, 0-9 and '.'.
std::optional<std::string> normalize_symbol(std::string_view ticker);
/// The inverse: "BRK_B" -> "BRK.B".
std::string ticker_of(std::string_view symbol);

/// trade_id of an Alpaca trade: Alpaca's ids are unique per exchange (market center) only, so the platform's id is
/// "<i>-<x>" ("96921-D"), and (id, exchange code) is the dedup key: `alpaca:AAPL:96921-D`.
std::string trade_id(std::uint64_t id, std::string_view exchange_code);

/// A quote (T "q"): the exchange-best bid and ask of one market center.
struct quote {
  std::string symbol; ///< normalized
  std::string bid_exchange, ask_exchange;
  mi::decimal bid_price, bid_size, ask_price, ask_size;
  std::int64_t ts_ns = 0;
  std::vector<std::string> conditions;
  std::string tape;
  bool operator==(const quote&) const = default;
};

/// A bar: minute (T "b"), updated minute (T "u", a late trade changed an earlier minute) or daily (T "d").
struct bar {
  enum class kind : std::uint8_t { minute, updated, daily } what = kind::minute;
  std::string symbol;
  mi::decimal open, high, low, close, volume;
  std::int64_t trade_count = -1;   ///< "n"; -1 when absent (older frames)
  std::optional<mi::decimal> vwap; ///< "vw"
  std::int64_t ts_ns = 0;          ///< the bar's start
  bool operator==(const bar&) const = default;
};

/// A trade correction (T "c"): the trade (original id, exchange) now reads as the corrected values.
struct correction {
  std::string symbol;
  std::string exchange_code;
  std::string original_trade_id; ///< trade_id(oi, x)
  mi::decimal original_price, original_size;
  std::vector<std::string> original_conditions;
  std::string corrected_trade_id; ///< trade_id(ci, x)
  mi::decimal corrected_price, corrected_size;
  std::vector<std::string> corrected_conditions;
  std::string tape;
  std::int64_t ts_ns = 0;
  bool operator==(const correction&) const = default;
};

/// A trade cancel or error (T "x"): the trade (id, exchange) is void. action "C" cancel, "E" error.
struct cancel {
  std::string symbol;
  std::string trade_id; ///< trade_id(i, x)
  std::string exchange_code;
  mi::decimal price, size;
  std::string action;
  std::string tape;
  std::int64_t ts_ns = 0;
  bool operator==(const cancel&) const = default;
};

/// A trading status (T "s"): halts ("H" Trading Halt), resumptions ("T"), quotation states.
struct status {
  std::string symbol;
  std::string status_code, status_message, reason_code, reason_message;
  std::string tape;
  std::int64_t ts_ns = 0;
  /// True when the status code says trading is halted or paused ("H" halt, "P" volatility pause, "2" halt,
  /// "5" pause, "6" halt in NASDAQ terms, ... as Alpaca's table lists them).
  bool halted() const;
  bool operator==(const status&) const = default;
};

/// The amendment a correction publishes on market.raw.alpaca.{symbol} (docs/protocols.md "Alpaca", "Corrections and
/// cancels"): trade_id = the corrected id, amends = the original id ("<oi>-<x>"), price/quantity/conditions the
/// corrected values, ts_ns the correction's `t`; the original's Nats-Msg-Id differs, so JetStream keeps both.
mi::trade amendment_of(const correction& c, std::int64_t recv_ns);
/// The amendment a cancel or error publishes: amends = the trade's id, canceled, trade_id "<i>-<x>:cancel" (action
/// "C") or "<i>-<x>:error" ("E"), price/quantity the voided trade's as Alpaca repeats them, ts_ns the message's `t`.
mi::trade amendment_of(const cancel& c, std::int64_t recv_ns);

/// The control messages: T "success" (connected, authenticated), "subscription", "error".
struct control {
  enum class kind : std::uint8_t {
    connected,
    authenticated,
    subscription,
    error,
    other_success
  } what = kind::connected;
  int code = 0;        ///< error: 400..410, 500
  std::string message; ///< success/error: "msg"
  bool operator==(const control&) const = default;
};

/// Everything one frame held, in frame order per kind.
struct frame_events {
  std::vector<mi::trade> trades; ///< oldest first (by ts_ns, then trade id)
  std::vector<quote> quotes;
  std::vector<bar> bars;
  std::vector<correction> corrections;
  std::vector<cancel> cancels;
  std::vector<status> statuses;
  std::vector<control> controls;
  std::size_t ignored = 0; ///< objects of other kinds (LULD "l", imbalance "i", unknown "T")
};

/// Error codes of Alpaca's stream (control "error" frames).
namespace error_code {
inline constexpr int invalid_syntax = 400;
inline constexpr int not_authenticated = 401;
inline constexpr int auth_failed = 402;
inline constexpr int already_authenticated = 403;
inline constexpr int auth_timeout = 404;
inline constexpr int symbol_limit_exceeded = 405;
inline constexpr int connection_limit_exceeded = 406;
inline constexpr int slow_client = 407;
inline constexpr int v2_not_enabled = 408;
inline constexpr int insufficient_subscription = 409;
inline constexpr int invalid_subscribe_action = 410;
inline constexpr int internal_error = 500;
} // namespace error_code

/// True for errors that mean the credentials (or the account's plan) are refused: 401, 402, 404, 406, 408, 409. The
/// connection is closed by Alpaca after them; reconnecting at once would be refused again, so the caller backs off.
bool is_auth_error(int code);

/// Decodes Alpaca stream frames. One simdjson parser reused (one codec per thread). Never throws. A frame that is not
/// a JSON array of objects, or an object of a known data kind with a missing or malformed field (a price that is
/// not a positive decimal, a time that is not RFC 3339) -> error naming the element and the field
/// ("[1]: field 'p' must be a positive decimal").
class codec {
public:
  codec();
  ~codec();
  codec(codec&&) noexcept;
  codec& operator=(codec&&) noexcept;
  codec(const codec&) = delete;
  codec& operator=(const codec&) = delete;

  mi::result<frame_events> decode(std::string_view frame, std::int64_t recv_ns);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The channels a subscribe request names for each symbol.
struct channels {
  bool trades = true, quotes = false, bars = false, updated_bars = false, daily_bars = false, statuses = false;
};

/// {"action":"auth","key":"...","secret":"..."} (the only message that carries the secret: never log it).
std::string auth_request(std::string_view key_id, std::string_view secret_key);
/// {"action":"subscribe","trades":["AAPL",...],...} with the tickers (Alpaca's names, "BRK.B") in every channel
/// `ch` selects; "unsubscribe" with `unsubscribe`.
std::string subscribe_request(const std::vector<std::string>& tickers, const channels& ch, bool unsubscribe = false);

/// Simulator side: one trade as an Alpaca trade object inside an array:
/// {"T":"t","S":"AAPL","i":<id>,"x":"V","p":<price>,"s":<size>,"c":["@"],"z":"C","t":"<RFC 3339>"} (no brackets:
/// the caller batches objects into one array). `numeric_id` is Alpaca's id (the platform's trade_id is "<id>-<x>");
/// prices and sizes printed exactly as decimal::to_string().
std::string encode_trade_object(const mi::trade& t, std::uint64_t numeric_id, std::string_view exchange_code);

} // namespace mi::alpaca
