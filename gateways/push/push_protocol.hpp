#pragma once

// The push gateway's client protocol: JSON text frames over WebSocket. Pure functions, no I/O.
//
//   client -> server                                        server -> client
//   {"op":"subscribe","channels":["kline.binance.BTCUSDT.1m"]}   {"op":"subscribed","channels":[...]}
//   {"op":"subscribe","channels":["kline.binance.*.1m"]}         `*` stands for one token (not in trade channels)
//   {"op":"subscribe","channels":[...],"since":{"kline.binance.BTCUSDT.1m":12345}}
//                                                                stored messages after sequence 12345 first, then
//                                                                live ones ({"op":"gap",...} where more was asked
//                                                                than is kept)
//   {"op":"subscribe","channels":[...],"snapshot":true}          the current candle of each kline channel first
//   {"op":"unsubscribe","channels":[...]}                        {"op":"unsubscribed","channels":[...]}
//   {"op":"list"}                                                {"op":"list","channels":[...]}
//   {"op":"ping","id":"42"}                                      {"op":"pong","id":"42"}
//   anything wrong                                               {"op":"error","code":"bad_json","msg":"..."}
//   data                                                         {"channel":"kline.binance.BTCUSDT.1m","seq":12346,
//                                                                 "ts":1767225600123456789,"data":{...}}
//   "seq" is the message's JetStream stream sequence (absent on live partial candles and BBOs, which are not
//   stored), "ts" the time the platform published it (ns since the epoch).
//   book.{exchange}.{symbol}: a snapshot on subscribe (once the platform has one), then deltas in sequence; a client
//   that reads too slowly gets a fresh snapshot instead of the deltas it could not take (README "Push").

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messages/result.hpp"

namespace mi::gw {

/// Error codes sent to clients in `{"op":"error","code":...}` (a stable, documented set).
namespace push_error {
inline constexpr std::string_view bad_json = "bad_json";                   ///< not JSON, or a field has the wrong shape
inline constexpr std::string_view bad_op = "bad_op";                       ///< "op" missing or unknown
inline constexpr std::string_view bad_channel = "bad_channel";             ///< a channel name is not valid
inline constexpr std::string_view too_many_channels = "too_many_channels"; ///< over the per-client channel limit
inline constexpr std::string_view message_too_large = "message_too_large"; ///< frame over the size limit
inline constexpr std::string_view bad_since = "bad_since"; ///< "since" names a channel it may not resume
inline constexpr std::string_view resume_failed =
  "resume_failed"; ///< the stored range could not be read (live follows)
} // namespace push_error

/// The kinds of channel, named once: parsing, validation, the hub's routing and the slow-client policies
/// iterate this.
enum class channel_kind : std::uint8_t { kline, trade, book, bbo, doc, quote, status };
/// Every channel kind with its first token and its number of tokens after it.
struct channel_kind_info {
  channel_kind kind;
  std::string_view name; ///< "kline": the channel's first token
  std::size_t tokens;    ///< tokens after the name: kline.{exchange}.{symbol}.{interval} has 3; 0: doc's own rule
  bool wildcard;         ///< `*` allowed for a token (the hub sees every message of the kind)
  bool resumable;        ///< stored in a stream: "since" replays it
};
inline constexpr channel_kind_info channel_kinds[] = {
  {channel_kind::kline, "kline", 3, true, true},
  {channel_kind::trade, "trade", 2, false, true},
  {channel_kind::book, "book", 2, true, false},
  {channel_kind::bbo, "bbo", 2, true, false},
  // doc.{source} and doc.symbol.{symbol}, where a symbol may hold dots (doc.symbol.600000.SH)
  {channel_kind::doc, "doc", 0, false, false},
  // quote.{venue}.{symbol}: equity quote snapshots (MARKET_QUOTE), the symbol as its subject token (600000_SH)
  {channel_kind::quote, "quote", 2, false, false},
  // status.{venue}.{symbol}: trading status events (halts, resumptions) from MARKET_STATUS
  {channel_kind::status, "status", 2, false, false},
};
/// The kind of a channel or pattern by its first token; nullopt for an unknown kind.
std::optional<channel_kind> kind_of(std::string_view channel);

/// Core NATS subject on which `apikey revoke` announces a revoked key id (payload: the key id); the push
/// gateway closes the sessions opened with it.
inline constexpr std::string_view apikey_revoked_subject = "market.control.apikey.revoked";

/// Default maximum number of channels one client may hold (and name in one request).
inline constexpr std::size_t default_max_channels = 100;
/// Default maximum size of one client frame in bytes; the server closes bigger frames with 1009.
inline constexpr std::size_t default_max_message_bytes = 65536;
/// Maximum length of a ping "id" that is echoed back.
inline constexpr std::size_t max_ping_id_length = 128;
/// Maximum length of one channel name.
inline constexpr std::size_t max_channel_length = 200;

/// One parsed client request.
struct client_request {
  /// What the client asks for.
  enum class op { subscribe, unsubscribe, ping, list } what = op::ping;
  /// Channels named by subscribe/unsubscribe: valid channels or patterns (`*` tokens), duplicates removed,
  /// first-seen order kept.
  std::vector<std::string> channels;
  /// subscribe: resume points, channel -> the last stream sequence the client holds. Each channel is one of
  /// `channels`, concrete (no `*`) and of a resumable kind.
  std::vector<std::pair<std::string, std::uint64_t>> since;
  /// subscribe: send the current (partial) candle of each kline channel first.
  bool snapshot = false;
  /// The ping's optional "id" (a JSON string), echoed in the pong.
  std::optional<std::string> id;
};

/// Parses one client text frame. Never throws. On failure the error's message is
/// "<code>: <human text>" with <code> one of `push_error`; split it with `split_push_error`.
/// Unknown extra fields are ignored (forward compatibility). `max_channels` bounds the channels of ONE
/// request; the per-client total is the caller's to enforce (it knows the current subscriptions).
mi::result<client_request> parse_client_message(std::string_view text, std::size_t max_channels = default_max_channels,
                                                std::size_t max_message_bytes = default_max_message_bytes);

/// A protocol error split into its code and human text.
struct push_error_parts {
  std::string code; ///< one of `push_error`
  std::string msg;  ///< human text
};

/// Splits an error made by `parse_client_message` ("code: msg"); an error without a code gets "bad_json".
push_error_parts split_push_error(const mi::error& e);

/// `{"op":"subscribed","channels":[...]}`
std::string reply_subscribed(const std::vector<std::string>& channels);
/// `{"op":"unsubscribed","channels":[...]}`
std::string reply_unsubscribed(const std::vector<std::string>& channels);
/// `{"op":"list","channels":[...]}`: what the client holds (patterns as it named them).
std::string reply_list(const std::vector<std::string>& channels);
/// `{"op":"gap","channel":"...","from":F,"to":T}`: the stream sequences F..T of `channel` (inclusive) are not
/// replayed (no longer kept, or more than the server replays); the client continues after T.
std::string reply_gap(std::string_view channel, std::uint64_t from, std::uint64_t to);
/// `{"op":"pong"}`, or `{"op":"pong","id":"..."}` when the ping carried an id.
std::string reply_pong(const std::optional<std::string>& id = std::nullopt);
/// `{"op":"error","code":"...","msg":"..."}` (both strings JSON-escaped).
std::string reply_error(std::string_view code, std::string_view msg);
/// The error reply for an error from `parse_client_message`.
std::string reply_error(const mi::error& e);

/// True for `kline.{exchange}.{symbol}.{interval}`, `trade.{exchange}.{symbol}`, `book.{exchange}.{symbol}` and
/// `bbo.{exchange}.{symbol}`: every token
/// [A-Za-z0-9_-]+, the exchange lower case, at most `max_channel_length` characters.
bool is_valid_channel(std::string_view channel);
/// True for a valid channel or a valid pattern: a channel of a kind that allows wildcards with `*` for one or more
/// of the tokens after the kind ("kline.binance.*.1m", "book.*.BTCUSDT").
bool is_valid_channel_or_pattern(std::string_view channel);
/// True when `channel` contains a `*` token.
bool is_pattern(std::string_view channel);
/// True when the concrete `channel` matches `pattern` (token by token, `*` matches any one token); a concrete
/// pattern matches only itself.
bool channel_matches(std::string_view pattern, std::string_view channel);

/// "market.kline.binance.BTCUSDT.1m" (a final, MARKET_KLINE) and "market.partial.binance.BTCUSDT.1m" (a live
/// partial, core NATS) -> "kline.binance.BTCUSDT.1m"; "" when `subject` is neither kind of kline subject.
std::string channel_for_kline_subject(std::string_view subject);
/// "market.raw.binance.BTCUSDT" -> "trade.binance.BTCUSDT"; "" when `subject` is not a valid trade subject.
std::string channel_for_trade_subject(std::string_view subject);

/// "market.book.okx.BTCUSDT" -> "book.okx.BTCUSDT", "market.bbo.okx.BTCUSDT" -> "bbo.okx.BTCUSDT"; "" otherwise.
std::string channel_for_book_subject(std::string_view subject);

/// "market.quote.cn.600000_SH" -> "quote.cn.600000_SH"; "" otherwise.
std::string channel_for_quote_subject(std::string_view subject);
/// "market.status.alpaca.AAPL" -> "status.alpaca.AAPL"; "" otherwise.
std::string channel_for_status_subject(std::string_view subject);

/// The channels a document goes to: "doc.{source}" and "doc.symbol.{symbol}" for each of its symbols (valid ones).
std::vector<std::string> channels_for_document(std::string_view source, const std::vector<std::string>& symbols);
/// "trade.binance.BTCUSDT" -> "market.raw.binance.BTCUSDT"; "" when `channel` is not a valid trade channel.
std::string trade_subject_for_channel(std::string_view channel);

/// The API key id of a push upgrade's request target: the percent-decoded value of its `key` query
/// parameter ("/?key=mik_1&ts=.." -> "mik_1"); "" when there is none or it is malformed. The token itself
/// is verified before the upgrade (api_service::check_push_token); this only names the session's key.
std::string push_token_key(std::string_view target);

/// `{"channel":"<channel>","seq":<seq>,"ts":<ts_ns>,"data":<data_json>}`; `data_json` is inserted verbatim
/// (already JSON). `seq` 0 leaves "seq" out (a message that is not stored); `ts_ns` 0 leaves "ts" out.
std::string data_frame(std::string_view channel, std::string_view data_json, std::uint64_t seq = 0,
                       std::int64_t ts_ns = 0);

} // namespace mi::gw
