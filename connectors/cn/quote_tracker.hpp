#pragma once

// From polled snapshots to published quotes (issue 13): which snapshot is new, its subject, its dedup id and its
// market.v1.Quote payload. A snapshot is published when it is later (by the source's quote time) than the last one
// published for the symbol and differs from it in a market field (last, open, high, low, previous close, levels,
// volume, turnover): a poll that saw nothing change publishes nothing. The dedup id `cn:{symbol}:{ts_ns}` does not
// name the source, so the same snapshot read from both sources around a failover is one message (JetStream's
// duplicate window), and the local check above drops a failover source's older snapshot. Pure.

#include <map>
#include <string>

#include "connectors/cn/quotes.hpp"

namespace mi::cn {

/// `market.quote.cn.600000_SH`.
std::string quote_subject(const symbol& s);
/// `cn:600000.SH:1789373678000000000`: the symbol and the source's quote time.
std::string quote_dedup_id(const snapshot& s);
/// The market.v1.Quote of a snapshot, serialized (venue "cn", currency "CNY", canonical decimals, "" for no trade).
std::string quote_payload(const snapshot& s);
/// `application/x-protobuf; proto=market.v1.Quote`.
inline constexpr std::string_view quote_content_type = "application/x-protobuf; proto=market.v1.Quote";

/// Which snapshots are new, per symbol.
class quote_tracker {
public:
  /// True when `s` is to be published (and it becomes the symbol's last): later than the last and changed.
  bool admit(const snapshot& s);
  /// The last admitted snapshot's quote time of `sym`, 0 when none.
  std::int64_t last_ts_ns(const symbol& sym) const;

private:
  std::map<std::string, snapshot> last_; ///< by source code
};

} // namespace mi::cn
