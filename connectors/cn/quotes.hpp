#pragma once

// The A-share quote sources' answers (issue 13; field maps in ../shared/fixtures/equities/cn/FIELDS_tencent.md and
// FIELDS_sina.md, docs/protocols.md "A-shares"): Tencent `qt.gtimg.cn/q=sh600000,sz000001` (`v_sh600000="1~name~
// 600000~...";`, `~`-separated) and Sina `hq.sinajs.cn/list=sh600000` (`var hq_str_sh600000="name,open,...";`).
// One answer holds one statement per requested code. Pure: no I/O, no clock (the receive time is passed in).
// Units are normalized here, exactly (mi::decimal, never a float): volumes and level sizes in shares (Tencent sends
// lots of 100 except on the STAR Market; Sina sends shares), turnover in CNY (Tencent's exact CNY from field 35, or
// field 37's 万元 x 10,000 when 35 is missing; Sina sends CNY), source times from Asia/Shanghai local time to UTC
// through the tz database. Names are GBK on the wire: decoded to UTF-8 with iconv when `text_encoding::gbk`; the
// numeric fields are ASCII and never pass through the decoder.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/cn/symbols.hpp"
#include "messages/decimal.hpp"
#include "messages/result.hpp"

namespace mi::cn {

/// The polled quote sources, in failover order (primary first).
enum class quote_source : std::uint8_t { tencent, sina };
/// "tencent", "sina".
std::string_view to_string(quote_source s);
/// Every quote source, primary first.
inline constexpr quote_source all_quote_sources[] = {quote_source::tencent, quote_source::sina};

/// How the answer's non-ASCII bytes are encoded: the live services send GBK; the fixtures are stored as UTF-8.
enum class text_encoding : std::uint8_t { gbk, utf8 };

/// One price level: price and size in shares.
struct level {
  mi::decimal price;
  mi::decimal size;
  bool operator==(const level&) const = default;
};

/// One symbol's snapshot as a source reported it, in the platform's units.
struct snapshot {
  symbol sym;
  quote_source source = quote_source::tencent;
  std::string name;                                 ///< UTF-8 ("" when it could not be decoded)
  std::int64_t ts_ns = 0;                           ///< the source's quote time (UTC ns)
  std::int64_t recv_ns = 0;                         ///< local receive time
  std::string trading_day;                          ///< YYYY-MM-DD, Asia/Shanghai
  std::optional<mi::decimal> last, open, high, low; ///< nullopt before the day's first trade (0 on the wire)
  std::optional<mi::decimal> prev_close;
  std::vector<level> bids; ///< best first; levels with price 0 (none) left out
  std::vector<level> asks;
  mi::decimal volume;   ///< cumulative shares today
  mi::decimal turnover; ///< cumulative CNY today
  bool operator==(const snapshot&) const = default;
};

/// What one answer gave.
struct quote_answer {
  std::vector<snapshot> quotes;
  std::vector<std::string> empty;  ///< codes answered with no data (`=""`, unknown or delisted): "sz160923"
  std::vector<mi::error> rejected; ///< statements that did not parse (the others still count)
};

/// Parses a Tencent qt.gtimg.cn answer. A statement for a code that is not an A-share (`v_r_hk00700`, Tencent's
/// `v_pv_none_match="1"` for unknown codes) is listed in `empty`. Never throws.
quote_answer parse_tencent(std::string_view body, text_encoding enc, std::int64_t recv_ns);

/// Parses a Sina hq.sinajs.cn answer (fields beyond 32 ignored, as newer answers carry some). Never throws.
quote_answer parse_sina(std::string_view body, text_encoding enc, std::int64_t recv_ns);

/// Either, by source.
quote_answer parse_quotes(quote_source s, std::string_view body, text_encoding enc, std::int64_t recv_ns);

/// GBK bytes -> UTF-8 (glibc iconv); nullopt when they are not valid GBK.
std::optional<std::string> gbk_to_utf8(std::string_view gbk);
/// UTF-8 -> GBK (the simulator answers as the real services do); nullopt when a character has no GBK form.
std::optional<std::string> utf8_to_gbk(std::string_view utf8);

/// The request path and query of one batch (`/q=sh600000,sz000001` for Tencent, `/list=sh600000,sz000001` for
/// Sina) and the headers the source needs (Sina answers 403 without a Sina Referer).
std::string request_target(quote_source s, const std::vector<symbol>& batch);
std::vector<std::pair<std::string, std::string>> request_headers(quote_source s);

} // namespace mi::cn
