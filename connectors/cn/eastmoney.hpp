#pragma once

// Eastmoney's kline answer (issue 13; field map in ../shared/fixtures/equities/cn/FIELDS_eastmoney.md):
// `push2his.eastmoney.com/api/qt/stock/kline/get?secid=1.600000&klt=101&fqt=1&...` -> daily bars. `fqt` (0 none,
// 1 forward, 2 backward) is not echoed in the answer: the caller passes the adjustment it asked for. Units
// normalized as the field map documents: volume in lots of 100 for Shanghai/Shenzhen (secid market 1 and 0) ->
// shares, shares as sent for other markets (US 105/106/107); amount in CNY as sent (not adjusted by fqt). A JSONP
// wrapper (`jQuery..._1758630789935({...});`) is stripped. `"data":null` or an empty `klines` (the source's
// rate-limited or empty answer) is no bars, not an error. Pure.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/cn/symbols.hpp"
#include "messages/decimal.hpp"
#include "messages/result.hpp"

namespace mi::cn {

/// Eastmoney's fqt values and the adjustment each means (market.v1.Adjustment NONE / FORWARD / BACKWARD).
enum class fq : std::uint8_t { none = 0, forward = 1, backward = 2 };
/// "none", "forward", "backward" (market_daily_bars.adjustment).
std::string_view to_string(fq a);

/// One daily bar from Eastmoney.
struct daily_bar {
  std::string symbol;      ///< "601872.SH" (secid market 1 -> .SH, 0 -> .SZ); other markets: the code ("APP")
  std::string market;      ///< the calendar: "XSHG", "XSHE"; "" for other markets
  std::string trading_day; ///< YYYY-MM-DD (Asia/Shanghai)
  fq adjustment = fq::none;
  mi::decimal open, close, high, low;
  mi::decimal volume;   ///< shares
  mi::decimal turnover; ///< CNY (the currency of the market)
  bool operator==(const daily_bar&) const = default;
};

/// The bars of one answer; an error (nothing returned) when the body is not Eastmoney's kline JSON or a bar does
/// not parse (the error names the bar).
mi::result<std::vector<daily_bar>> parse_eastmoney_klines(std::string_view body, fq adjustment);

/// The request target of a symbol's daily bars from `beg` to `end` (YYYYMMDD), adjusted as `adjustment`:
/// `/api/qt/stock/kline/get?fields1=f1,f2,f3,f4,f5,f6&fields2=f51,...,f61&ut=...&klt=101&fqt=N&secid=1.600000&beg=&end=`.
std::string eastmoney_target(const symbol& s, fq adjustment, std::string_view beg, std::string_view end);

} // namespace mi::cn
