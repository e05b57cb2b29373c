#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/kline.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi::actors {

/// What a saver stores.
enum class saver_kind : std::uint8_t { trades, klines };

/// "trades" | "klines": the dead-letter subject's last token and the saver's log prefix.
const char* kind_name(saver_kind k);
/// "market_trades" | "market_klines": the `table` label of the saver's metrics.
const char* table_of(saver_kind k);

/// A message of a batch that could not be stored, and why.
struct poison {
  std::size_t index; ///< in the batch
  std::string reason;
};

/// The database as a saver batch sees it: one transaction per call. A failed write's error code
/// tells whether the server rejected the rows (mi::errc::rejected: SQLSTATE class 22/23) rather than
/// failing for a transient reason (down, connection lost, shutting down: anything else).
struct batch_writer {
  std::function<mi::result<std::size_t>(const std::vector<mi::trade>&)> write_trades;
  std::function<mi::result<std::size_t>(const std::vector<mi::kline>&)> upsert_klines;
  /// When set, used instead of write_trades: also gets, for each row, the index in the batch of the message it came
  /// from (the saver maps it to that message's stream sequence, for the dedup by sequence).
  std::function<mi::result<std::size_t>(const std::vector<mi::trade>&, const std::vector<std::size_t>&)>
    write_trades_of{};
};

/// The messages a saver has in hand, decoded once, and what could not be stored. Plain class: the
/// saver actor fetches, calls store(), then acks, naks or dead-letters each message by
/// disposition_of().
class saver_batch {
public:
  /// Decodes every payload (protobuf Trade or Kline); one that does not decode is poison at once.
  saver_batch(saver_kind kind, const std::vector<std::string_view>& payloads);

  std::size_t size() const { return size_; }
  /// The messages that decoded, in order.
  std::vector<std::size_t> decoded() const;

  /// Stores the decoded messages in one transaction. When the server rejects their rows, bisects
  /// until each rejected message stands alone and adds it to bad(); the others are stored. Returns
  /// the rows written, or the error of a transient failure (then nothing may be acked or
  /// dead-lettered: the caller retries the whole batch).
  mi::result<std::size_t> store(const batch_writer& w);

  /// The messages that could not be stored: the undecodable ones first, then the rejected ones,
  /// each in batch order.
  const std::vector<poison>& bad() const { return bad_; }
  /// index -> in bad().
  std::vector<bool> bad_mask() const;

private:
  mi::result<std::size_t> write_subset(const batch_writer& w, const std::vector<std::size_t>& idx) const;
  mi::result<std::size_t> store_isolating(const batch_writer& w, const std::vector<std::size_t>& idx);

  saver_kind kind_;
  std::size_t size_ = 0;
  // The trades that decoded, in batch order, and for each the index of its message: the common first write
  // (every decoded message) hands these to the writer as they are; only a bisection copies subsets.
  std::vector<mi::trade> trade_rows_;
  std::vector<std::size_t> trade_messages_; ///< ascending: a message's row is found by binary search
  std::vector<std::optional<mi::kline>> klines_;
  std::vector<poison> bad_;
};

/// What becomes of a message of the batch after the transaction committed.
enum class disposition : std::uint8_t {
  ack,         ///< stored
  nak,         ///< could not be stored: redelivered (the delivery count is the attempt count)
  dead_letter, ///< could not be stored max_attempts times: to market.dlq.{kind}, then acked
};

/// A stored message is acked; a poison one is nak'ed until JetStream's delivery count `delivered`
/// reaches `max_attempts`, then dead-lettered.
disposition disposition_of(bool is_poison, std::uint64_t delivered, int max_attempts);

/// The finals of a kline batch, one per (exchange, symbol, interval, open time), highest
/// revision kept (one upsert statement cannot touch a row twice); partials dropped (MARKET_KLINE
/// carries none since they moved to core NATS market.partial.>, but a stream written by an older
/// version may still hold some). Pure.
std::vector<mi::kline> finals_to_store(std::vector<mi::kline> batch);

} // namespace mi::actors
