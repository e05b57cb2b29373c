#pragma once

// Integer division rounding toward negative infinity: the bucket of a time before 1970 is the
// one below zero, not the one toward it (C++'s `/` truncates toward zero).

#include <cstdint>

namespace mi::util {

/// a / b rounded down (toward negative infinity); b != 0.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/// a - floor_div(a, b) * b: in [0, b) for b > 0.
constexpr std::int64_t floor_mod(std::int64_t a, std::int64_t b) { return a - floor_div(a, b) * b; }

} // namespace mi::util
