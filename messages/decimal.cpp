#include "messages/decimal.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace mi {
namespace {

using i128 = decimal::mantissa_type;
constexpr int max_digits = 38; // every 38-digit number fits in a signed 128-bit integer

// 10^0 .. 10^38 (the largest power of ten a signed 128-bit integer holds).
constexpr auto pow10 = [] {
  std::array<i128, max_digits + 1> p{};
  p[0] = 1;
  for (int i = 1; i <= max_digits; ++i)
    p[i] = p[i - 1] * 10;
  return p;
}();

// Multiplies by 10^n with overflow detection. One multiplication: m * 10^n overflows exactly
// when some step of multiplying by 10 n times would.
bool scale_up(i128& m, int n) {
  if (n <= 0 || m == 0)
    return true;
  if (n <= max_digits)
    return !__builtin_mul_overflow(m, pow10[n], &m);
  for (int i = 0; i < n; ++i)
    if (__builtin_mul_overflow(m, static_cast<i128>(10), &m))
      return false;
  return true;
}

} // namespace

void decimal::normalize() {
  if (m_ == 0) {
    scale_ = 0;
    return;
  }
  // Almost every real amount fits 64 bits, where division by 10 is a multiply; 128-bit
  // division is a library call (this is the hot path of the kline engine).
  if (m_ >= INT64_MIN && m_ <= INT64_MAX) {
    auto m = static_cast<std::int64_t>(m_);
    while (scale_ > 0 && m % 10 == 0) {
      m /= 10;
      --scale_;
    }
    m_ = m;
    return;
  }
  while (scale_ > 0 && m_ % 10 == 0) {
    m_ /= 10;
    --scale_;
  }
}

std::optional<decimal> decimal::from_parts(mantissa_type mantissa, int scale) {
  if (scale < 0) {
    if (!scale_up(mantissa, -scale))
      return std::nullopt;
    scale = 0;
  }
  decimal d{mantissa, scale};
  d.normalize();
  return d;
}

std::optional<decimal> decimal::parse(std::string_view s) {
  // Fast path, the form exchanges send: digits with at most one point, no sign, no exponent, at
  // most 18 digits in all (so 64 bits hold them, leading zeros included).
  if (!s.empty() && s.size() <= 19) {
    std::uint64_t v = 0;
    int n_digits = 0;
    int point_at = -1; // digits before the point
    bool plain = true;
    for (char c : s) {
      if (c >= '0' && c <= '9') {
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
        ++n_digits;
      } else if (c == '.' && point_at < 0) {
        point_at = n_digits;
      } else {
        plain = false;
        break;
      }
    }
    if (plain && n_digits > 0 && n_digits <= 18) {
      int scale = point_at < 0 ? 0 : n_digits - point_at;
      if (v == 0)
        return decimal{};
      while (scale > 0 && v % 10 == 0) {
        v /= 10;
        --scale;
      }
      return decimal{static_cast<i128>(v), scale};
    }
  }
  std::size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
    neg = s[i] == '-';
    ++i;
  }
  // Up to 18 significant digits (every real price and quantity) accumulate in 64 bits; the
  // 128-bit multiply-add starts only at the 19th.
  std::uint64_t small = 0;
  i128 m = 0;
  int digits = 0;   // significant digits accumulated (leading zeros skipped)
  int frac = 0;     // digits after the point
  bool any = false; // saw at least one digit
  bool point = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      any = true;
      if (digits == 0 && c == '0') {
        if (point)
          ++frac;
        continue;
      }
      ++digits;
      if (digits <= 18) {
        small = small * 10 + static_cast<std::uint64_t>(c - '0');
      } else {
        // 39 digits fit when the value stays below 2^127 (what to_string prints for any mantissa).
        if (digits > max_digits + 1)
          return std::nullopt;
        if (digits == 19)
          m = static_cast<i128>(small);
        if (__builtin_mul_overflow(m, static_cast<i128>(10), &m) || __builtin_add_overflow(m, c - '0', &m))
          return std::nullopt;
      }
      if (point)
        ++frac;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (!any)
    return std::nullopt;
  int exp = 0;
  if (i < s.size()) {
    if (s[i] != 'e' && s[i] != 'E')
      return std::nullopt;
    ++i;
    bool eneg = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
      eneg = s[i] == '-';
      ++i;
    }
    if (i == s.size())
      return std::nullopt;
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9' || exp > 1000)
        return std::nullopt;
      exp = exp * 10 + (s[i] - '0');
    }
    if (eneg)
      exp = -exp;
  }
  int scale = frac - exp;
  if (scale > 1000 || scale < -max_digits)
    return std::nullopt;
  if (digits <= 18) {
    // Strip trailing zeros in 64 bits (a 128-bit remainder is a library call).
    while (scale > 0 && small != 0 && small % 10 == 0) {
      small /= 10;
      --scale;
    }
    m = static_cast<i128>(small);
  }
  if (neg)
    m = -m;
  // Strip trailing zeros before rejecting a huge scale ("1.000...0" is fine).
  while (scale > 0 && m != 0 && m % 10 == 0) {
    m /= 10;
    --scale;
  }
  if (m == 0)
    return decimal{};
  if (scale > max_digits)
    return std::nullopt; // more precision than 128 bits can hold exactly
  return from_parts(m, scale);
}

std::string decimal::to_string() const {
  if (m_ == 0)
    return "0";
  bool neg = m_ < 0;
  // Work on the magnitude as unsigned to cover the minimum value.
  unsigned __int128 u = neg ? static_cast<unsigned __int128>(-(m_ + 1)) + 1 : static_cast<unsigned __int128>(m_);
  std::string digits;
  while (u != 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  while (static_cast<int>(digits.size()) <= scale_)
    digits.push_back('0');
  std::reverse(digits.begin(), digits.end());
  if (scale_ > 0)
    digits.insert(digits.end() - scale_, '.');
  if (neg)
    digits.insert(digits.begin(), '-');
  return digits;
}

std::optional<decimal> decimal::checked_add(const decimal& o) const {
  if (scale_ == o.scale_) {
    i128 r;
    if (__builtin_add_overflow(m_, o.m_, &r))
      return std::nullopt;
    decimal d{r, scale_};
    d.normalize();
    return d;
  }
  i128 a = m_;
  i128 b = o.m_;
  int s = std::max(scale_, o.scale_);
  if (!scale_up(a, s - scale_) || !scale_up(b, s - o.scale_))
    return std::nullopt;
  i128 r;
  if (__builtin_add_overflow(a, b, &r))
    return std::nullopt;
  decimal d{r, s};
  d.normalize();
  return d;
}

std::optional<decimal> decimal::checked_mul(const decimal& o) const {
  if (m_ >= INT64_MIN && m_ <= INT64_MAX && o.m_ >= INT64_MIN && o.m_ <= INT64_MAX) {
    std::int64_t r64;
    if (!__builtin_mul_overflow(static_cast<std::int64_t>(m_), static_cast<std::int64_t>(o.m_), &r64)) {
      decimal d{r64, scale_ + o.scale_};
      d.normalize();
      return d;
    }
  }
  i128 r;
  if (__builtin_mul_overflow(m_, o.m_, &r))
    return std::nullopt;
  decimal d{r, scale_ + o.scale_};
  d.normalize();
  return d;
}

std::optional<decimal> decimal::checked_div(const decimal& o, int digits) const {
  if (o.m_ == 0 || digits < 0 || digits > max_digits)
    return std::nullopt;
  // (a / 10^sa) / (b / 10^sb) = a * 10^(sb + digits - sa) / b, scaled by 10^-digits.
  i128 a = m_;
  i128 b = o.m_;
  int shift = o.scale_ + digits - scale_;
  if (shift >= 0) {
    if (!scale_up(a, shift))
      return std::nullopt;
  } else {
    if (!scale_up(b, -shift))
      return std::nullopt;
  }
  decimal d{a / b, digits};
  d.normalize();
  return d;
}

std::strong_ordering decimal::compare_scaled(const decimal& x, const decimal& y) {
  if (x.signum() != y.signum())
    return x.signum() <=> y.signum();
  // Both within 64 bits and at most 18 digits apart: aligning cannot overflow 128 bits.
  if (x.m_ >= INT64_MIN && x.m_ <= INT64_MAX && y.m_ >= INT64_MIN && y.m_ <= INT64_MAX) {
    const int d = x.scale_ - y.scale_;
    if (d > 0 && d <= 18)
      return x.m_ <=> y.m_ * pow10[d];
    if (d < 0 && d >= -18)
      return x.m_ * pow10[-d] <=> y.m_;
  }
  decimal::mantissa_type a = x.m_;
  decimal::mantissa_type b = y.m_;
  int s = std::max(x.scale_, y.scale_);
  bool ok_a = scale_up(a, s - x.scale_);
  bool ok_b = scale_up(b, s - y.scale_);
  if (ok_a && ok_b)
    return a <=> b;
  // One side overflowed when aligned: it has the larger magnitude.
  int sign = x.signum();
  if (!ok_a)
    return sign > 0 ? std::strong_ordering::greater : std::strong_ordering::less;
  return sign > 0 ? std::strong_ordering::less : std::strong_ordering::greater;
}

} // namespace mi
