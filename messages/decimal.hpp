#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mi {

/// An exact decimal number: value = mantissa * 10^-scale, never a binary float.
///
/// Parsed from the exchange's text (plain or with an exponent), printed canonically (no
/// exponent, no trailing zeros, "0" for zero). The mantissa is 128-bit, so sums of real
/// daily volumes (10^13 units with 8 decimals) and price*quantity products do not
/// overflow; arithmetic that would overflow reports it instead of wrapping.
class decimal {
public:
  using mantissa_type = __int128;

  /// Zero.
  constexpr decimal() = default;

  /// Parses "123", "-0.001", "1.5e-3", "40.0". At most 38 significant digits, or 39 below 2^127
  /// (so the text of every value to_string prints parses back), at most 38 fraction digits.
  static std::optional<decimal> parse(std::string_view text);

  /// Builds from an integer mantissa and a scale (number of fraction digits).
  static std::optional<decimal> from_parts(mantissa_type mantissa, int scale);

  /// Canonical text: no exponent, no trailing zeros.
  std::string to_string() const;

  /// Checked arithmetic: nullopt on overflow.
  std::optional<decimal> checked_add(const decimal& other) const;
  std::optional<decimal> checked_mul(const decimal& other) const;
  /// Division to `digits` fraction digits, truncated toward zero; nullopt on /0 or overflow.
  std::optional<decimal> checked_div(const decimal& other, int digits) const;

  int signum() const { return m_ > 0 ? 1 : (m_ < 0 ? -1 : 0); }
  bool is_zero() const { return m_ == 0; }
  mantissa_type mantissa() const { return m_; }
  int scale() const { return scale_; }

  /// Values are normalized, so equal numbers have equal representations.
  friend bool operator==(const decimal&, const decimal&) = default;
  friend std::strong_ordering operator<=>(const decimal& a, const decimal& b) {
    if (a.scale_ == b.scale_) // the common case, inline: mantissas at the same scale compare directly
      return a.m_ <=> b.m_;
    return compare_scaled(a, b);
  }

private:
  constexpr decimal(mantissa_type m, int scale) : m_(m), scale_(scale) {}
  void normalize();
  /// Orders two values of different scales (aligns them, overflow-safe).
  static std::strong_ordering compare_scaled(const decimal& a, const decimal& b);

  mantissa_type m_ = 0;
  std::int32_t scale_ = 0; // >= 0; trailing zeros of m_ stripped while scale_ > 0
};

} // namespace mi
