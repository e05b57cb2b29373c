#pragma once

// Shared by the venues' derivatives codecs (connectors/<venue>/derivatives.cpp; include it from .cpp files only: it
// pulls in simdjson): optional fields found in any order, decimals kept exact (mi::deriv::canonical), millisecond
// times to ns, and the errors each codec reports the same way. The DOM API, not On-Demand: these messages are read by
// key in any order, and On-Demand's out-of-order lookups assume a well-formed document (fuzzing found the crash).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "messages/deriv/derivative.hpp"
#include "messages/result.hpp"

/// `auto var = expr;` and return its error when it has one (expr is an mi::result).
#define MI_DERIV_TRY(var, expr)                                                                                        \
  auto var = (expr);                                                                                                   \
  if (!var)                                                                                                            \
    return var.err();

namespace mi::connectors::deriv_json {

namespace dom = simdjson::dom;

/// A reused DOM parser (one per codec).
class reader {
public:
  /// Parses `frame` as one JSON object into `root` (valid until the next parse), or says why not.
  std::optional<mi::error> open_object(std::string_view frame, dom::object& root) {
    dom::element doc;
    if (auto ec = parser_.parse(frame.data(), frame.size(), true).get(doc))
      return mi::error{std::string("not JSON: ") + simdjson::error_message(ec), mi::errc::malformed_json};
    if (doc.get_object().get(root))
      return mi::error{"not a JSON object", mi::errc::malformed_json};
    return std::nullopt;
  }

private:
  dom::parser parser_;
};

/// Reads a JSON integer or a string of decimal digits (OKX sends times as strings).
inline bool read_int(dom::element v, std::int64_t& out) {
  if (v.is_int64())
    return !v.get_int64().get(out);
  std::string_view s;
  if (v.get_string().get(s) || s.empty() || s.size() > 18)
    return false;
  std::int64_t x = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9')
      return false;
    x = x * 10 + (ch - '0');
  }
  out = x;
  return true;
}

/// The string value of field `key` of `o`: nullopt when absent; {bad_field} when not a string.
inline mi::result<std::optional<std::string_view>> string_of(const dom::object& o, std::string_view key) {
  dom::element v;
  auto ec = o.at_key(key).get(v);
  if (ec == simdjson::NO_SUCH_FIELD)
    return std::optional<std::string_view>{};
  std::string_view s;
  if (ec || v.get_string().get(s))
    return mi::error{"field '" + std::string(key) + "' must be a string", mi::errc::bad_field};
  return std::optional<std::string_view>{s};
}

/// A decimal field (a JSON string, as the three exchanges send them) in canonical text: nullopt when absent or "";
/// an error when it is not a decimal (or negative when !signed_ok).
inline mi::result<std::optional<std::string>> decimal_of(const dom::object& o, std::string_view key, bool signed_ok) {
  auto s = string_of(o, key);
  if (!s)
    return s.err();
  if (!*s || (*s)->empty())
    return std::optional<std::string>{};
  auto c = mi::deriv::canonical(**s, signed_ok);
  if (!c)
    return mi::error{"field '" + std::string(key) + "' is not a " + (signed_ok ? "decimal" : "decimal >= 0"),
                     mi::errc::bad_number};
  return std::optional<std::string>{std::move(*c)};
}

/// A time in ms (a JSON integer or a string of digits) as ns; nullopt when absent; an error when not a time.
inline mi::result<std::optional<std::int64_t>> ms_of(const dom::object& o, std::string_view key) {
  dom::element v;
  auto ec = o.at_key(key).get(v);
  if (ec == simdjson::NO_SUCH_FIELD)
    return std::optional<std::int64_t>{};
  std::int64_t ms = 0;
  if (ec || !read_int(v, ms) || ms < 0 || ms > 100'000'000'000'000)
    return mi::error{"field '" + std::string(key) + "' must be a time in ms", mi::errc::bad_timestamp};
  return std::optional<std::int64_t>{ms * 1'000'000};
}

/// {missing_field, "missing field 'key'"}.
inline mi::error missing(std::string_view key) {
  return mi::error{"missing field '" + std::string(key) + "'", mi::errc::missing_field};
}

/// True when `s` is a non-empty run of upper-case letters and digits (a symbol that is a legal NATS token).
inline bool symbol_token(std::string_view s) {
  if (s.empty() || s.size() > 40)
    return false;
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
      return false;
  return true;
}

} // namespace mi::connectors::deriv_json
