#pragma once

// Internal to connectors/alpaca (include from .cpp files only: it pulls in simdjson): one Alpaca object (a stream
// message element, a REST trade or bar) read field by field with simdjson on demand, numbers kept as their exact
// text, and the conversions to the platform's types. Shared by the stream codec and the REST parsers, which see the
// same single-letter fields.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "connectors/alpaca/codec.hpp"
#include "connectors/json_fields.hpp"
#include "connectors/time_text.hpp"
#include "messages/decimal.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi::alpaca::detail {

namespace od = simdjson::ondemand;

/// The fields of one object; string_views point into the parser until its next iterate().
struct raw_object {
  std::optional<std::string_view> T, S, x, t, z, bx, ax, a, sc, sm, rc, rm, msg, u;
  std::optional<std::string_view> p, s, bp, bs, ap, as, o, h, l, c_num, v, vw, op, os, cp, cs;
  std::optional<std::uint64_t> i, oi, ci;
  std::optional<std::int64_t> n, code;
  std::optional<std::vector<std::string_view>> c, oc, cc;
  std::vector<std::string_view> wrong; ///< keys that had an unexpected type (reported only when needed)
  bool is_wrong(std::string_view key) const {
    for (auto k : wrong)
      if (k == key)
        return true;
    return false;
  }
};

inline std::string not_json(simdjson::error_code ec) { return mi::connectors::json::not_json(ec); }

inline void read_str(std::string_view key, od::value& v, std::optional<std::string_view>& out, raw_object& r) {
  std::string_view s;
  if (v.get_string().get(s))
    r.wrong.push_back(key);
  else
    out = s;
}

inline void read_num(std::string_view key, od::value& v, std::optional<std::string_view>& out, raw_object& r) {
  od::json_type type;
  if (v.type().get(type) || type != od::json_type::number) {
    r.wrong.push_back(key);
    return;
  }
  out = mi::connectors::json::read_text(v);
}

inline void read_u64(std::string_view key, od::value& v, std::optional<std::uint64_t>& out, raw_object& r) {
  std::uint64_t n = 0;
  if (v.get_uint64().get(n))
    r.wrong.push_back(key);
  else
    out = n;
}

inline void read_i64(std::string_view key, od::value& v, std::optional<std::int64_t>& out, raw_object& r) {
  std::int64_t n = 0;
  if (v.get_int64().get(n))
    r.wrong.push_back(key);
  else
    out = n;
}

/// An array of strings; returns a JSON error text when the document itself is broken.
inline std::string read_strings(std::string_view key, od::value& v, std::optional<std::vector<std::string_view>>& out,
                                raw_object& r) {
  od::array arr;
  if (v.get_array().get(arr)) {
    r.wrong.push_back(key);
    return {};
  }
  std::vector<std::string_view> list;
  for (auto el : arr) {
    std::string_view s;
    if (auto ec = el.get_string().get(s)) {
      if (ec != simdjson::INCORRECT_TYPE)
        return not_json(ec);
      r.wrong.push_back(key);
      return {};
    }
    list.push_back(s);
  }
  out = std::move(list);
  return {};
}

/// Reads every field of object `v` into `r`; a non-empty return is a broken document ("not JSON: ...").
/// `wrong_object` is set when `v` is not an object at all.
inline std::string read_object(od::value& v, raw_object& r, bool& wrong_object) {
  od::object obj;
  wrong_object = false;
  if (v.get_object().get(obj)) {
    wrong_object = true;
    return {};
  }
  for (auto field : obj) {
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key))
      return not_json(ec);
    auto value_in = field.value();
    if (auto ec = value_in.error())
      return not_json(ec);
    od::value& val = value_in.value_unsafe();
    if (key.size() == 1) {
      switch (key[0]) {
      case 'T':
        read_str(key, val, r.T, r);
        break;
      case 'S':
        read_str(key, val, r.S, r);
        break;
      case 'x':
        read_str(key, val, r.x, r);
        break;
      case 't':
        read_str(key, val, r.t, r);
        break;
      case 'z':
        read_str(key, val, r.z, r);
        break;
      case 'a':
        read_str(key, val, r.a, r);
        break;
      case 'u':
        read_str(key, val, r.u, r);
        break;
      case 'p':
        read_num(key, val, r.p, r);
        break;
      case 's':
        read_num(key, val, r.s, r);
        break;
      case 'o':
        read_num(key, val, r.o, r);
        break;
      case 'h':
        read_num(key, val, r.h, r);
        break;
      case 'l':
        read_num(key, val, r.l, r);
        break;
      case 'v':
        read_num(key, val, r.v, r);
        break;
      case 'n':
        read_i64(key, val, r.n, r);
        break;
      case 'i': {
        od::json_type type;
        if (val.type().get(type))
          return not_json(simdjson::TAPE_ERROR);
        if (type == od::json_type::number)
          read_u64(key, val, r.i, r);
        else
          r.wrong.push_back(key); // LULD's indicator "i":"B" is a string
        break;
      }
      case 'c': {
        // Conditions (trades, quotes) are an array; a bar's close is a number.
        od::json_type type;
        if (val.type().get(type))
          return not_json(simdjson::TAPE_ERROR);
        if (type == od::json_type::array) {
          if (auto e = read_strings(key, val, r.c, r); !e.empty())
            return e;
        } else {
          read_num(key, val, r.c_num, r);
        }
        break;
      }
      default:
        break;
      }
      continue;
    }
    if (key == "bx")
      read_str(key, val, r.bx, r);
    else if (key == "ax")
      read_str(key, val, r.ax, r);
    else if (key == "bp")
      read_num(key, val, r.bp, r);
    else if (key == "bs")
      read_num(key, val, r.bs, r);
    else if (key == "ap")
      read_num(key, val, r.ap, r);
    else if (key == "as")
      read_num(key, val, r.as, r);
    else if (key == "vw")
      read_num(key, val, r.vw, r);
    else if (key == "op")
      read_num(key, val, r.op, r);
    else if (key == "os")
      read_num(key, val, r.os, r);
    else if (key == "cp")
      read_num(key, val, r.cp, r);
    else if (key == "cs")
      read_num(key, val, r.cs, r);
    else if (key == "oi")
      read_u64(key, val, r.oi, r);
    else if (key == "ci")
      read_u64(key, val, r.ci, r);
    else if (key == "sc")
      read_str(key, val, r.sc, r);
    else if (key == "sm")
      read_str(key, val, r.sm, r);
    else if (key == "rc")
      read_str(key, val, r.rc, r);
    else if (key == "rm")
      read_str(key, val, r.rm, r);
    else if (key == "msg")
      read_str(key, val, r.msg, r);
    else if (key == "code")
      read_i64(key, val, r.code, r);
    else if (key == "oc") {
      if (auto e = read_strings(key, val, r.oc, r); !e.empty())
        return e;
    } else if (key == "cc") {
      if (auto e = read_strings(key, val, r.cc, r); !e.empty())
        return e;
    }
  }
  return {};
}

/// Builds the errors that name the element: "<where>: missing field 'k'", "<where>: field 'k' must be <what>".
class field_reader {
public:
  field_reader(const raw_object& r, std::string where) : r_(r), where_(std::move(where)) {}

  const std::string& problem() const { return problem_; }
  bool ok() const { return problem_.empty(); }

  /// A required string.
  std::string_view str(std::string_view key, const std::optional<std::string_view>& f) {
    if (!f)
      fail(key, "a string");
    return f ? *f : std::string_view{};
  }
  /// A required number that must be a decimal > 0 (`allow_zero`: >= 0).
  mi::decimal dec(std::string_view key, const std::optional<std::string_view>& f, bool allow_zero = false) {
    if (!f) {
      fail(key, "a number");
      return {};
    }
    auto d = mi::decimal::parse(*f);
    if (!d || d->signum() < 0 || (!allow_zero && d->signum() == 0)) {
      if (problem_.empty())
        problem_ = where_ + ": field '" + std::string(key) + "' must be a " +
                   (allow_zero ? "non-negative" : "positive") + " decimal, not " + std::string(*f);
      return {};
    }
    return *d;
  }
  /// A required unsigned integer.
  std::uint64_t u64(std::string_view key, const std::optional<std::uint64_t>& f) {
    if (!f)
      fail(key, "a non-negative integer");
    return f ? *f : 0;
  }
  /// A required RFC 3339 time.
  std::int64_t time(std::string_view key, const std::optional<std::string_view>& f) {
    if (!f) {
      fail(key, "an RFC 3339 time");
      return 0;
    }
    auto ns = mi::connectors::text::parse_rfc3339_ns(*f);
    if (!ns) {
      if (problem_.empty())
        problem_ =
          where_ + ": field '" + std::string(key) + "' must be an RFC 3339 time, not \"" + std::string(*f) + "\"";
      return 0;
    }
    return *ns;
  }
  /// An optional list of strings (absent: empty; present with another type: a problem).
  std::vector<std::string> list(std::string_view key, const std::optional<std::vector<std::string_view>>& f) {
    if (!f) {
      if (r_.is_wrong(key))
        fail(key, "an array of strings");
      return {};
    }
    return {f->begin(), f->end()};
  }
  /// An optional string: absent is "", another type a problem.
  std::string opt_str(std::string_view key, const std::optional<std::string_view>& f) {
    if (!f) {
      if (r_.is_wrong(key))
        fail(key, "a string");
      return {};
    }
    return std::string(*f);
  }

private:
  void fail(std::string_view key, std::string_view what) {
    if (!problem_.empty())
      return;
    problem_ = r_.is_wrong(key) ? where_ + ": field '" + std::string(key) + "' must be " + std::string(what)
                                : where_ + ": missing field '" + std::string(key) + "'";
  }

  const raw_object& r_;
  std::string where_;
  std::string problem_;
};

/// The trade of a trade object (stream T "t" or a REST trade) of `symbol` (normalized).
inline mi::result<mi::trade> to_trade(const raw_object& r, const std::string& symbol, std::string where,
                                      std::int64_t recv_ns) {
  field_reader f(r, where);
  mi::trade t;
  const auto id = f.u64("i", r.i);
  const auto x = f.str("x", r.x);
  t.price = f.dec("p", r.p);
  t.quantity = f.dec("s", r.s);
  t.ts_ns = f.time("t", r.t);
  t.conditions = f.list("c", r.c);
  t.tape = f.opt_str("z", r.z);
  if (f.ok() && x.empty())
    return mi::error{where + ": field 'x' must not be empty"};
  if (!f.ok())
    return mi::error{f.problem()};
  t.exchange = "alpaca";
  t.symbol = symbol;
  t.base = symbol;
  t.quote = "USD";
  t.trade_id = trade_id(id, x);
  t.taker_side = mi::side::unknown;
  t.recv_ns = recv_ns;
  t.exchange_code = std::string(x);
  return t;
}

/// The bar of a bar object (stream T "b"/"u"/"d" or a REST bars entry) of `symbol`; problems go to `f`.
inline bar to_bar(field_reader& f, const raw_object& r, bar::kind what, std::string symbol) {
  bar b;
  b.what = what;
  b.symbol = std::move(symbol);
  b.open = f.dec("o", r.o);
  b.high = f.dec("h", r.h);
  b.low = f.dec("l", r.l);
  b.close = f.dec("c", r.c_num);
  b.volume = f.dec("v", r.v, true);
  b.ts_ns = f.time("t", r.t);
  if (r.n)
    b.trade_count = *r.n;
  if (r.vw)
    b.vwap = f.dec("vw", r.vw, true);
  return b;
}

} // namespace mi::alpaca::detail
