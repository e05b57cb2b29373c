#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "messages/decimal.hpp"

namespace mi::gw {

/// PostgreSQL's binary COPY format (COPY ... FROM STDIN (FORMAT binary)), written into one buffer: the server
/// then parses no text per row (numeric and timestamptz arrive in their wire form). Pure: no connection.
/// Format: https://www.postgresql.org/docs/15/sql-copy.html "Binary Format"; numeric and timestamptz as
/// numeric_send / timestamptz_send produce them (the unit test compares with the server's own *_send).
class copy_binary {
public:
  /// Starts with the 19-byte header.
  copy_binary();

  /// A new row of `fields` columns.
  void row(std::int16_t fields);
  void text(std::string_view s);
  void int8(std::int64_t v);
  /// numeric: base-10000 digits, weight, sign, display scale = d.scale() (what the text form's parse gives).
  void numeric(const mi::decimal& d);
  /// timestamptz: microseconds since 2000-01-01 00:00 UTC, the time in ns floored to the microsecond (as
  /// timestamptz_text does).
  void timestamptz_ns(std::int64_t ns_since_epoch);

  /// Appends the trailer (once) and returns the whole COPY data.
  const std::string& finish();
  /// Back to the header only, keeping the buffer's capacity.
  void clear();
  std::size_t rows() const { return rows_; }

private:
  void put16(std::uint16_t v);
  void put32(std::uint32_t v);
  void put64(std::uint64_t v);
  std::string buf_;
  std::size_t rows_ = 0;
  bool finished_ = false;
};

/// numeric_send's bytes for `d` (the field's value without the length word). For tests and copy_binary.
std::string numeric_binary(const mi::decimal& d);

} // namespace mi::gw
