#pragma once

// Shared by the exchange codecs (header only): exchange time texts to exact integer nanoseconds
// (RFC 3339 with any fraction, "seconds.fraction"), never through floating point. Printing and the
// calendar: messages/util/civil_time.hpp.

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "messages/util/civil_time.hpp"

namespace mi::connectors::text {

/// "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)" -> ns since the epoch, exact integer arithmetic.
/// nullopt when malformed or out of range.
inline std::optional<std::int64_t> parse_rfc3339_ns(std::string_view s) {
  auto digits = [&s](std::size_t pos, std::size_t n) -> std::optional<unsigned> {
    if (pos + n > s.size())
      return std::nullopt;
    unsigned v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9')
        return std::nullopt;
      v = v * 10 + static_cast<unsigned>(s[i] - '0');
    }
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
      s[16] != ':')
    return std::nullopt;
  auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2), se = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !se)
    return std::nullopt;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 || *se > 60)
    return std::nullopt;
  std::size_t pos = 19;
  std::int64_t frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t n = 0;
    std::int64_t scale = 100'000'000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (++n > 9)
        return std::nullopt; // finer than a nanosecond: not representable exactly
      frac_ns += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (n == 0)
      return std::nullopt;
  }
  std::int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    auto oh = digits(pos + 1, 2), om = digits(pos + 4, 2);
    if (!oh || !om || pos + 3 >= s.size() || s[pos + 3] != ':' || *oh > 23 || *om > 59)
      return std::nullopt;
    offset_s = (s[pos] == '+' ? 1 : -1) * static_cast<std::int64_t>(*oh * 3600 + *om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size())
    return std::nullopt;
  const std::int64_t secs = mi::util::days_from_civil(*y, *mo, *d) * 86'400 + *h * 3600 + *mi * 60 + *se - offset_s;
  // Years 0000-9999 always fit: |secs| < 2.6e11, times 1e9 < 9.2e18.
  return secs * 1'000'000'000 + frac_ns;
}

/// Kraken v1 "seconds.fraction" (e.g. "1618678142.557535") -> ns since the epoch, exact; at most 9 fraction digits.
inline std::optional<std::int64_t> parse_epoch_seconds_ns(std::string_view s) {
  std::size_t pos = 0;
  std::int64_t secs = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (pos >= 12)
      return std::nullopt; // beyond year 33658: not a trade time
    secs = secs * 10 + (s[pos] - '0');
    ++pos;
  }
  if (pos == 0)
    return std::nullopt;
  std::int64_t frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t n = 0;
    std::int64_t scale = 100'000'000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (++n > 9)
        return std::nullopt;
      frac_ns += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (n == 0)
      return std::nullopt;
  }
  if (pos != s.size())
    return std::nullopt;
  return secs * 1'000'000'000 + frac_ns;
}

} // namespace mi::connectors::text
