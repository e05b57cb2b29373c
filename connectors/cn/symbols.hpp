#pragma once

// A-share symbols (issue 13): the platform's form `600000.SH` / `000001.SZ` (DESIGN.md "venues"), the quote
// sources' codes (`sh600000` for Tencent and Sina, secid `1.600000` for Eastmoney), the market whose calendar a
// symbol trades on (XSHG for .SH, XSHE for .SZ), its NATS token (`600000_SH`: a `.` separates tokens) and its
// board's volume unit (STAR Market 688xxx/689xxx counts in shares where the main boards count in lots of 100).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "messages/result.hpp"

namespace mi::cn {

/// The two exchanges of the venue.
enum class exchange : std::uint8_t { sh, sz };

/// One A-share symbol.
struct symbol {
  std::string code; ///< six digits: "600000"
  exchange ex = exchange::sh;
  bool operator==(const symbol&) const = default;
};

/// "600000.SH" -> {600000, sh}; errors (bad_field) name what is wrong. Upper-case suffix only.
mi::result<symbol> parse_symbol(std::string_view s);
/// "sh600000" / "sz000001" (the Tencent and Sina code) -> symbol; nullopt for anything else ("r_hk00700").
std::optional<symbol> from_source_code(std::string_view code);
/// "600000.SH".
std::string to_string(const symbol& s);
/// "sh600000".
std::string source_code(const symbol& s);
/// Eastmoney's secid: "1.600000" (Shanghai) / "0.000001" (Shenzhen).
std::string eastmoney_secid(const symbol& s);
/// "600000_SH": the symbol as a NATS subject token.
std::string subject_token(const symbol& s);
/// "XSHG" / "XSHE": the calendar (deploy/calendars) of the symbol's exchange.
std::string_view market_of(const symbol& s);
/// True for STAR Market codes (688xxx, 689xxx): Tencent reports their volumes in shares, not lots.
bool volume_in_shares(const symbol& s);

/// The venue's name in the registry and on subjects.
inline constexpr std::string_view venue_name = "cn";
/// The markets' time zone.
inline constexpr std::string_view zone = "Asia/Shanghai";

} // namespace mi::cn
