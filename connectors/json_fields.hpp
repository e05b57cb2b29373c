#pragma once

// Shared by the simdjson-based codecs (include it from .cpp files only: it pulls in simdjson):
// reading string fields of an ondemand object while collecting, not failing on, wrong types.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

namespace mi::connectors::json {

/// (key, why) of fields that had another type than expected. Kept, not fatal: other channels
/// or topics reuse the same keys with other types; reported only when the field is needed.
using problem_list = std::vector<std::pair<std::string_view, std::string>>;

/// The recorded problem of `key`, or nullptr.
inline const std::string* find_problem(const problem_list& problems, std::string_view key) {
  for (const auto& [k, why] : problems)
    if (k == key)
      return &why;
  return nullptr;
}

/// "not JSON: <simdjson's reason>".
inline std::string not_json(simdjson::error_code ec) { return std::string("not JSON: ") + simdjson::error_message(ec); }

/// A string's content, or a number's exact lexeme ("40.0", "1688669597.827736": never converted to
/// binary floating point, so decimals stay exact); nullopt for any other type.
inline std::optional<std::string_view> read_text(simdjson::ondemand::value& v) {
  simdjson::ondemand::json_type type;
  if (v.type().get(type))
    return std::nullopt;
  std::string_view s;
  if (type == simdjson::ondemand::json_type::string)
    return v.get_string().get(s) ? std::nullopt : std::optional(s);
  if (type != simdjson::ondemand::json_type::number)
    return std::nullopt;
  s = v.raw_json_token(); // the token plus any whitespace up to the next one
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

/// Reads a string field into `out`, or records "field 'k' must be a string".
inline void read_string(std::string_view key, simdjson::ondemand::value& v, std::optional<std::string_view>& out,
                        problem_list& problems) {
  std::string_view s;
  if (v.get_string().get(s))
    problems.emplace_back(key, "field '" + std::string(key) + "' must be a string");
  else
    out = s;
}

} // namespace mi::connectors::json
