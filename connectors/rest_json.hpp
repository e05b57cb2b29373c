#pragma once

// Shared by the REST response parsers of the exchange folders (include it from .cpp files only: it
// pulls in simdjson): reading the fields of a simdjson DOM object into mi::result values whose
// errors name the element and the field, and the exact conversions every trade needs.

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "messages/decimal.hpp"
#include "messages/result.hpp"
#include "messages/util/text.hpp"

namespace mi::connectors::rest {

namespace dom = simdjson::dom;

/// Parses a whole response body (copied into the parser's padded buffer); "not JSON: <reason>".
inline mi::result<dom::element> parse_body(dom::parser& parser, std::string_view body) {
  dom::element doc;
  if (auto ec = parser.parse(body.data(), body.size()).get(doc))
    return mi::error{std::string("not JSON: ") + simdjson::error_message(ec), mi::errc::malformed_json};
  return doc;
}

/// "<where>: field 'k' must be <what>", of `code` (a parser code of messages/result.hpp).
inline mi::error field_error(std::string_view where, std::string_view key, std::string_view what,
                             mi::errc code = mi::errc::bad_field) {
  return mi::error{std::string(where) + ": field '" + std::string(key) + "' " + std::string(what), code};
}

/// A string field of `o`.
inline mi::result<std::string_view> string_field(dom::object o, std::string_view key, std::string_view where) {
  dom::element e;
  if (o.at_key(key).get(e))
    return mi::error{std::string(where) + ": missing field '" + std::string(key) + "'", mi::errc::missing_field};
  std::string_view s;
  if (e.get_string().get(s))
    return field_error(where, key, "must be a string");
  return s;
}

/// An integer field of `o` (a JSON number without fraction).
inline mi::result<std::int64_t> int_field(dom::object o, std::string_view key, std::string_view where) {
  dom::element e;
  if (o.at_key(key).get(e))
    return mi::error{std::string(where) + ": missing field '" + std::string(key) + "'", mi::errc::missing_field};
  std::int64_t v = 0;
  if (e.get_int64().get(v))
    return field_error(where, key, "must be an integer");
  return v;
}

/// A boolean field of `o`.
inline mi::result<bool> bool_field(dom::object o, std::string_view key, std::string_view where) {
  dom::element e;
  if (o.at_key(key).get(e))
    return mi::error{std::string(where) + ": missing field '" + std::string(key) + "'", mi::errc::missing_field};
  bool v = false;
  if (e.get_bool().get(v))
    return field_error(where, key, "must be true or false");
  return v;
}

/// Non-negative decimal digits as an integer (trade ids and millisecond times sent as text).
inline std::optional<std::int64_t> digits_to_int(std::string_view s) { return mi::util::parse_digits(s); }

/// Milliseconds since the epoch -> ns, or nullopt when negative or beyond int64 ns.
inline std::optional<std::int64_t> ms_to_ns(std::int64_t ms) {
  if (ms < 0 || ms > std::numeric_limits<std::int64_t>::max() / 1'000'000)
    return std::nullopt;
  return ms * 1'000'000;
}

/// A price or quantity text as an exact decimal that must be > 0: "<where>: price must be > 0, not \"0\"".
inline mi::result<mi::decimal> positive_decimal(std::string_view text, std::string_view what, std::string_view where) {
  std::optional<mi::decimal> d = mi::decimal::parse(text);
  if (!d)
    return mi::error{std::string(where) + ": " + std::string(what) + " is not a decimal: \"" + std::string(text) + "\"",
                     mi::errc::bad_number};
  if (d->signum() <= 0)
    return mi::error{std::string(where) + ": " + std::string(what) + " must be > 0, not \"" + std::string(text) + "\"",
                     mi::errc::bad_number};
  return *d;
}

/// "trade[3]".
inline std::string element_name(std::string_view array, std::size_t i) {
  return std::string(array) + "[" + std::to_string(i) + "]";
}

} // namespace mi::connectors::rest
