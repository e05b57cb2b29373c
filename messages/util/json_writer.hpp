#pragma once

// Writing JSON text by hand where a document tree would cost an allocation per value (the decode
// output, the REST and push replies, the simulator's frames). Header only, no dependencies.

#include <string>
#include <string_view>
#include <vector>

namespace mi::util {

/// Appends `s` as a JSON string literal: quotes included; `"` `\` and control characters escaped
/// (\n \r \t by name, the others as \u00XX); other bytes, UTF-8 included, as they are.
inline void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (const auto u = static_cast<unsigned char>(c); u < 0x20) {
        out += "\\u00";
        out += hex[u >> 4];
        out += hex[u & 0xf];
      } else {
        out += c;
      }
    }
  }
  out += '"';
}

/// `s` as a JSON string literal (append_json_string into a new string).
inline std::string json_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_json_string(out, s);
  return out;
}

/// Appends `xs` as a JSON array of strings.
inline void append_json_string_array(std::string& out, const std::vector<std::string>& xs) {
  out += '[';
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (i != 0)
      out += ',';
    append_json_string(out, xs[i]);
  }
  out += ']';
}

} // namespace mi::util
