#pragma once

// Shared by the venues' book codecs (connectors/<venue>/book.cpp; include it from .cpp files only: it pulls in
// simdjson): a reusable padded buffer and parser, level arrays read as the exchange's exact text (JSON strings or the
// raw lexeme of JSON numbers, never through double), and applying the collected changes to a book.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "connectors/json_fields.hpp"
#include "messages/book/order_book.hpp"
#include "messages/result.hpp"

namespace mi::connectors::book_json {

namespace od = simdjson::ondemand;

/// One level change of a frame; the views point into the frame's buffer or the parser (valid until the next parse).
using change = mi::book::level_change;

/// What is wrong with a frame (a parser code of messages/result.hpp and the text after "malformed frame: "), or
/// nothing. book_codec::malformed() turns it into the resync.
using problem = std::optional<mi::error>;

/// {code, text}.
inline problem bad(mi::errc code, std::string text) { return mi::error{std::move(text), code}; }

/// Calls `f(key, value)` (returning a problem) for each field of `obj` in order, up to the first problem; a field
/// whose key or value cannot be read is {malformed_json, `unreadable`}.
template <class F>
problem each_field(od::object obj, F&& f, std::string_view unreadable = "malformed object") {
  for (auto field : obj) {
    std::string_view key;
    od::value v;
    if (field.unescaped_key().get(key) || field.value().get(v))
      return bad(mi::errc::malformed_json, std::string(unreadable));
    if (problem p = f(key, v))
      return p;
  }
  return std::nullopt;
}

/// A simdjson parser and the padded copy of the current frame, reused frame after frame.
class reader {
public:
  /// Parses `frame`; the document lives until the next call.
  simdjson::simdjson_result<od::document> iterate(std::string_view frame) {
    buffer_.assign(frame);
    buffer_.resize(frame.size() + simdjson::SIMDJSON_PADDING, '\0');
    return parser_.iterate(buffer_.data(), frame.size(), buffer_.size());
  }

private:
  od::parser parser_;
  std::string buffer_;
};

/// The string value of field `key`, or {bad_field, "field 'key' must be a string"}.
inline problem string_field(std::string_view key, od::value& v, std::string_view& out) {
  if (v.get_string().get(out))
    return bad(mi::errc::bad_field, "field '" + std::string(key) + "' must be a string");
  return std::nullopt;
}

/// True when the first and last non-blank characters are `open` and `close` (the ondemand API is lazy: a truncated
/// document would otherwise be read up to its damage).
inline bool wrapped_in(std::string_view frame, char open, char close) {
  const auto first = frame.find_first_not_of(" \t\r\n");
  const auto last = frame.find_last_not_of(" \t\r\n");
  return first != std::string_view::npos && frame[first] == open && frame[last] == close;
}

/// Reads `[[price, qty, ...], ...]` (strings or numbers; extra elements ignored) into `out` as side `s`.
inline bool read_pairs(od::value v, mi::book::side s, std::vector<change>& out) {
  od::array levels;
  if (v.get_array().get(levels))
    return false;
  for (auto item : levels) {
    od::array pair;
    if (item.get_array().get(pair))
      return false;
    change c{s, {}, {}};
    int i = 0;
    for (auto field : pair) {
      od::value fv;
      if (field.get(fv))
        return false;
      if (i < 2) {
        std::optional<std::string_view> text = mi::connectors::json::read_text(fv);
        if (!text)
          return false;
        (i == 0 ? c.price : c.qty) = *text;
      }
      ++i;
    }
    if (i < 2)
      return false;
    out.push_back(c);
  }
  return true;
}

/// Reads a JSON integer (or a string of digits, as OKX sends some) into `out`.
inline bool read_int(od::value v, std::int64_t& out);

/// The integer value of field `key` (read_int), or {bad_field, "field 'key' must be an integer"}.
inline problem int_field(std::string_view key, od::value& v, std::int64_t& out) {
  if (!read_int(v, out))
    return bad(mi::errc::bad_field, "field '" + std::string(key) + "' must be an integer");
  return std::nullopt;
}

/// Level pairs of field `key` as side `s` (read_pairs), or {bad_field, "field 'key' must be <shape>"} (the shape as
/// the venue writes it: "[[price, qty], ...]").
inline problem pairs_field(std::string_view key, od::value& v, mi::book::side s, std::vector<change>& out,
                           std::string_view shape);

/// Parses `frame` as one JSON object into `doc` and `root`: {malformed_json, "not a JSON object"} or
/// {malformed_json, "not JSON: <simdjson's reason>"} otherwise (checked whole first: the ondemand API is lazy).
inline problem open_object(reader& r, std::string_view frame, od::document& doc, od::object& root);

inline bool read_int(od::value v, std::int64_t& out) {
  od::json_type type;
  if (v.type().get(type))
    return false;
  if (type == od::json_type::number)
    return !v.get_int64().get(out);
  std::string_view s;
  if (type != od::json_type::string || v.get_string().get(s) || s.empty() || s.size() > 18)
    return false;
  bool negative = s.front() == '-';
  if (negative)
    s.remove_prefix(1);
  std::int64_t x = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9')
      return false;
    x = x * 10 + (ch - '0');
  }
  out = negative ? -x : x;
  return !s.empty();
}

inline problem pairs_field(std::string_view key, od::value& v, mi::book::side s, std::vector<change>& out,
                           std::string_view shape) {
  if (!read_pairs(v, s, out))
    return bad(mi::errc::bad_field, "field '" + std::string(key) + "' must be " + std::string(shape));
  return std::nullopt;
}

inline problem open_object(reader& r, std::string_view frame, od::document& doc, od::object& root) {
  if (!wrapped_in(frame, '{', '}'))
    return bad(mi::errc::malformed_json, "not a JSON object");
  if (auto ec = r.iterate(frame).get(doc); ec)
    return bad(mi::errc::malformed_json, mi::connectors::json::not_json(ec));
  if (doc.get_object().get(root))
    return bad(mi::errc::malformed_json, "not a JSON object");
  return std::nullopt;
}

/// Applies every change in order; false at the first text that is not a valid level (the book is then to be
/// resynced: part of the frame may have been applied).
inline bool apply(mi::book::order_book& book, const std::vector<change>& changes) { return book.apply(changes); }

/// Replaces the book by a snapshot's levels; false when one is invalid (the book is then empty).
inline bool assign(mi::book::order_book& book, const std::vector<change>& levels) { return book.assign(levels); }

} // namespace mi::connectors::book_json
