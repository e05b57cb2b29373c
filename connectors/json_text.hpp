#pragma once

// Shared by the exchange codecs (header only, no dependencies): writing JSON text and ASCII case.

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace mi::connectors::text {

/// Appends `s` as a JSON string literal (quotes included, control characters escaped).
inline void append_json_string(std::string& out, std::string_view s) {
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
      if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
        out += buf;
      } else {
        out += c;
      }
    }
  }
  out += '"';
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

/// True for 'A'..'Z' and '0'..'9'.
inline bool is_upper_alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

/// ASCII upper-case.
inline char to_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

/// ASCII lower-case.
inline char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

} // namespace mi::connectors::text
