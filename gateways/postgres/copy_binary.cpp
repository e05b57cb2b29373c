#include "gateways/postgres/copy_binary.hpp"

#include <array>
#include <limits>

#include "messages/util/floor_div.hpp"

namespace mi::gw {
namespace {

constexpr char header[] = "PGCOPY\n\377\r\n"; // 11 bytes with the terminating NUL, then flags and extension length
constexpr std::int64_t unix_to_pg_epoch_us = 946'684'800'000'000LL; // 2000-01-01 00:00 UTC in us since 1970
constexpr std::uint16_t numeric_pos = 0x0000;
constexpr std::uint16_t numeric_neg = 0x4000;

void put_be16(std::string& b, std::uint16_t v) {
  const char c[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  b.append(c, 2);
}

} // namespace

std::string numeric_binary(const mi::decimal& d) {
  using u128 = unsigned __int128;
  const auto m = d.mantissa();
  const bool neg = m < 0;
  u128 a = neg ? static_cast<u128>(0) - static_cast<u128>(m) : static_cast<u128>(m);
  const int scale = d.scale();
  // Decimal digits, least significant first: dig[i] has the exponent i - scale.
  std::array<std::uint8_t, 48> dig{};
  int n = 0;
  while (a > std::numeric_limits<std::uint64_t>::max()) {
    dig[static_cast<std::size_t>(n++)] = static_cast<std::uint8_t>(a % 10);
    a /= 10;
  }
  for (auto b = static_cast<std::uint64_t>(a); b != 0; b /= 10)
    dig[static_cast<std::size_t>(n++)] = static_cast<std::uint8_t>(b % 10);
  std::string out;
  if (n == 0) { // zero: no digits, weight 0, positive
    put_be16(out, 0);
    put_be16(out, 0);
    put_be16(out, numeric_pos);
    put_be16(out, static_cast<std::uint16_t>(scale));
    return out;
  }
  // Base-10000 group g holds the exponents 4g .. 4g+3; the highest group is never zero (dig[n-1] != 0).
  const auto group_of = [](int exponent) { return static_cast<int>(mi::util::floor_div(exponent, 4)); };
  const int g_hi = group_of(n - 1 - scale);
  int g_lo = group_of(-scale);
  const auto group = [&](int g) {
    int v = 0;
    for (int k = 3; k >= 0; --k) {
      const int i = 4 * g + k + scale;
      v = v * 10 + (i >= 0 && i < n ? dig[static_cast<std::size_t>(i)] : 0);
    }
    return v;
  };
  while (g_lo < g_hi && group(g_lo) == 0) // trailing zero groups are not stored
    ++g_lo;
  put_be16(out, static_cast<std::uint16_t>(g_hi - g_lo + 1));
  put_be16(out, static_cast<std::uint16_t>(static_cast<std::int16_t>(g_hi)));
  put_be16(out, neg ? numeric_neg : numeric_pos);
  put_be16(out, static_cast<std::uint16_t>(scale));
  for (int g = g_hi; g >= g_lo; --g)
    put_be16(out, static_cast<std::uint16_t>(group(g)));
  return out;
}

copy_binary::copy_binary() { clear(); }

void copy_binary::clear() {
  buf_.clear();
  buf_.append(header, sizeof header); // includes the NUL that ends the signature
  put32(0);                           // flags: no OIDs
  put32(0);                           // header extension length
  rows_ = 0;
  finished_ = false;
}

void copy_binary::put16(std::uint16_t v) { put_be16(buf_, v); }

void copy_binary::put32(std::uint32_t v) {
  const char c[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
  buf_.append(c, 4);
}

void copy_binary::put64(std::uint64_t v) {
  put32(static_cast<std::uint32_t>(v >> 32));
  put32(static_cast<std::uint32_t>(v));
}

void copy_binary::row(std::int16_t fields) {
  put16(static_cast<std::uint16_t>(fields));
  ++rows_;
}

void copy_binary::text(std::string_view s) {
  put32(static_cast<std::uint32_t>(s.size()));
  buf_.append(s.data(), s.size());
}

void copy_binary::int8(std::int64_t v) {
  put32(8);
  put64(static_cast<std::uint64_t>(v));
}

void copy_binary::numeric(const mi::decimal& d) {
  const auto bytes = numeric_binary(d);
  put32(static_cast<std::uint32_t>(bytes.size()));
  buf_ += bytes;
}

void copy_binary::timestamptz_ns(std::int64_t ns_since_epoch) {
  int8(mi::util::floor_div(ns_since_epoch, 1000) - unix_to_pg_epoch_us);
}

const std::string& copy_binary::finish() {
  if (!finished_) {
    put16(0xffff); // -1: end of data
    finished_ = true;
  }
  return buf_;
}

} // namespace mi::gw
