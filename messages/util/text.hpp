#pragma once

// Small text helpers shared by every layer (header only).

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mi::util {

/// The characters std::isspace accepts in the "C" locale.
inline constexpr std::string_view whitespace = " \t\n\v\f\r";
/// JSON's white space (RFC 8259): what may surround a frame or a raw token.
inline constexpr std::string_view json_whitespace = " \t\r\n";

/// `s` without the leading and trailing characters of `chars` (default: white space).
constexpr std::string_view trim(std::string_view s, std::string_view chars = whitespace) {
  const auto first = s.find_first_not_of(chars);
  if (first == std::string_view::npos)
    return {};
  return s.substr(first, s.find_last_not_of(chars) - first + 1);
}

/// Plain decimal digits as an int64 ("12345" -> 12345, "007" -> 7); nullopt for anything else ("", "-1", "1e3",
/// " 1", beyond int64). Trade ids (mi::trade_id_number) and the digit strings of REST bodies.
inline std::optional<std::int64_t> parse_digits(std::string_view s) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size())
    return std::nullopt;
  return v;
}

/// The value of a hexadecimal digit (0-9, a-f, A-F), or -1.
constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// An ASCII control character: below 0x20, or DEL (0x7f). What cannot stand in one line of text (a NATS header
/// value, a log line).
constexpr bool is_ascii_control(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c < 0x20 || c == 0x7f;
}

/// The upper-case hexadecimal digit of 0..15.
constexpr char hex_digit(unsigned v) { return "0123456789ABCDEF"[v & 15]; }

/// `s` with every ASCII control character written as %XX (upper case), the rest as it is: one line of text.
inline std::string escape_controls(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    if (!is_ascii_control(ch)) {
      out.push_back(ch);
      continue;
    }
    const auto c = static_cast<unsigned char>(ch);
    out.append(1, '%').append(1, hex_digit(c >> 4)).append(1, hex_digit(c));
  }
  return out;
}

} // namespace mi::util
