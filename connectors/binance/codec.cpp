#include "connectors/binance/codec.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <utility>

#include <simdjson.h>

#include "connectors/json_text.hpp"
#include "messages/decimal.hpp"

namespace mi::binance {
namespace {

namespace od = simdjson::ondemand;

/// The fields of one JSON object that this codec understands; unknown keys are skipped.
/// string_views point into the parser and live until the next iterate().
struct fields {
  std::optional<std::string_view> e, s, p, q, stream, msg;
  std::optional<std::int64_t> t, a, T, code;
  std::optional<bool> m;
  bool has_result = false;
  bool has_id = false;
  std::optional<std::int64_t> id; ///< set when the id is an integer
  bool has_data = false;          ///< "data" was an object (decoded into the nested fields)
  bool has_error = false;         ///< "error" was an object (decoded into the nested fields)
  /// Known keys whose value had another type. Kept, not fatal: other events reuse the same letters
  /// with other types (depthUpdate's "a"/"b" are arrays, 24hrTicker's "a" is a string).
  std::vector<std::pair<std::string_view, std::string>> problems;

  const std::string* problem(std::string_view key) const {
    for (const auto& [k, why] : problems)
      if (k == key)
        return &why;
    return nullptr;
  }
};

std::string field_error(std::string_view key, std::string_view what) {
  return "field '" + std::string(key) + "' " + std::string(what);
}

/// Reads one field value into `out` if the key is known. Returns an error text, empty on success.
std::string read_field(std::string_view key, od::value& v, fields& out, fields* data, fields* err);

/// Walks all fields of `obj`. `data`/`err`: where to decode a nested "data"/"error" object (nullptr: skip it).
std::string read_object(od::object& obj, fields& out, fields* data, fields* err) {
  for (auto field : obj) {
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key))
      return std::string("not JSON: ") + simdjson::error_message(ec);
    // Used in place: copying the value out (get(v)) costs a store-forwarding stall per field.
    auto value = field.value();
    if (auto ec = value.error())
      return std::string("not JSON: ") + simdjson::error_message(ec);
    std::string problem = read_field(key, value.value_unsafe(), out, data, err);
    if (!problem.empty())
      return problem;
  }
  return {};
}

// A wrong type is recorded in `f.problems` and reported only if the field is needed. simdjson leaves
// the value unconsumed after INCORRECT_TYPE, so iteration goes on.
// Inlined into read_field: one call per field instead of two (measured ~10 % of the decode).
[[gnu::always_inline]] inline std::string read_string(std::string_view key, od::value& v,
                                                      std::optional<std::string_view>& out, fields& f) {
  std::string_view s;
  if (v.get_string().get(s))
    f.problems.emplace_back(key, field_error(key, "must be a string"));
  else
    out = s;
  return {};
}

[[gnu::always_inline]] inline std::string read_int(std::string_view key, od::value& v, std::optional<std::int64_t>& out,
                                                   fields& f) {
  std::int64_t x = 0;
  if (v.get_int64().get(x))
    f.problems.emplace_back(key, field_error(key, "must be an integer"));
  else
    out = x;
  return {};
}

std::string read_field(std::string_view key, od::value& v, fields& out, fields* data, fields* err) {
  if (key.size() == 1) {
    switch (key[0]) {
    case 'e':
      return read_string(key, v, out.e, out);
    case 's':
      return read_string(key, v, out.s, out);
    case 'p':
      return read_string(key, v, out.p, out);
    case 'q':
      return read_string(key, v, out.q, out);
    case 't':
      return read_int(key, v, out.t, out);
    case 'T':
      return read_int(key, v, out.T, out);
    case 'a': {
      // "a" is the aggregate id of @aggTrade, but the seller order id in 2019 @trade frames: both integers.
      return read_int(key, v, out.a, out);
    }
    case 'm': {
      bool b = false;
      if (v.get_bool().get(b))
        out.problems.emplace_back(key, field_error(key, "must be true or false"));
      else
        out.m = b;
      return {};
    }
    default:
      return {};
    }
  }
  if (key == "stream")
    return read_string(key, v, out.stream, out);
  if (key == "msg")
    return read_string(key, v, out.msg, out);
  if (key == "code")
    return read_int(key, v, out.code, out);
  if (key == "result") {
    out.has_result = true;
    return {};
  }
  if (key == "id") {
    out.has_id = true;
    od::json_type type;
    if (v.type().get(type))
      return "not JSON";
    if (type == od::json_type::number)
      return read_int(key, v, out.id, out);
    return {}; // Binance also allows string and null ids
  }
  if ((key == "data" && data != nullptr) || (key == "error" && err != nullptr)) {
    od::json_type type;
    if (v.type().get(type))
      return "not JSON";
    if (type != od::json_type::object)
      return {}; // not a combined-stream payload: look no further
    od::object nested;
    if (auto ec = v.get_object().get(nested))
      return std::string("not JSON: ") + simdjson::error_message(ec);
    fields& target = key == "data" ? *data : *err;
    (key == "data" ? out.has_data : out.has_error) = true;
    return read_object(nested, target, nullptr, nullptr);
  }
  return {};
}

/// Cheap pre-check: the ondemand API is lazy, so make sure the frame is one object.
bool looks_like_object(std::string_view frame) {
  const auto first = frame.find_first_not_of(" \t\r\n");
  const auto last = frame.find_last_not_of(" \t\r\n");
  return first != std::string_view::npos && frame[first] == '{' && frame[last] == '}';
}

const instruments& fallback_instruments() {
  static const instruments none;
  return none;
}

} // namespace

std::string stream_name(std::string_view symbol, stream_kind k) {
  std::string out;
  out.reserve(symbol.size() + 9);
  for (char c : symbol)
    out += mi::connectors::text::to_lower(c);
  out += k == stream_kind::trade ? "@trade" : "@aggTrade";
  return out;
}

struct codec::impl {
  const instruments* meta = nullptr;
  od::parser parser;
  std::string buffer; ///< the frame plus SIMDJSON_PADDING bytes, reused
  std::int64_t time_unit_ns = 1'000'000;
  /// The symbols resolved most recently, as sent ("btcusdt" or "BTCUSDT"): a combined stream of a few
  /// symbols resolves each once. Small and searched linearly; the oldest entry is replaced.
  static constexpr std::size_t recent_symbols = 8;
  std::vector<std::pair<std::string, instrument>> resolved;
  std::size_t next_resolved = 0;

  mi::result<frame_events> decode(std::string_view frame, std::int64_t recv_ns);
  /// Fills `t` (already in the output vector, so it is never moved); nullopt on success.
  std::optional<mi::error> make_trade(const fields& ev, stream_kind k, std::int64_t recv_ns, mi::trade& t);
  const instrument* resolve(std::string_view raw, std::string& error);
};

const instrument* codec::impl::resolve(std::string_view raw, std::string& error) {
  for (const auto& [text, inst] : resolved)
    if (text == raw)
      return &inst;
  std::string symbol;
  symbol.reserve(raw.size());
  for (char c : raw)
    symbol += mi::connectors::text::to_upper(c);
  const instruments& known = meta != nullptr ? *meta : fallback_instruments();
  std::optional<instrument> inst = known.resolve(symbol);
  if (!inst) {
    error = "unknown symbol '" + symbol + "' (no known quote asset)";
    return nullptr;
  }
  if (resolved.size() < recent_symbols) {
    resolved.emplace_back(std::string(raw), std::move(*inst));
    return &resolved.back().second;
  }
  auto& slot = resolved[next_resolved];
  next_resolved = (next_resolved + 1) % recent_symbols;
  slot = {std::string(raw), std::move(*inst)};
  return &slot.second;
}

std::optional<mi::error> codec::impl::make_trade(const fields& ev, stream_kind k, std::int64_t recv_ns, mi::trade& t) {
  const std::optional<std::int64_t>& id = k == stream_kind::trade ? ev.t : ev.a;
  const std::string_view id_key = k == stream_kind::trade ? "t" : "a";
  // The usual frame has every field with its type: one test instead of six lookups.
  if (!ev.problems.empty() || !ev.s || !id || !ev.p || !ev.q || !ev.T || !ev.m) {
    auto check = [&ev](std::string_view key, bool present) -> std::optional<mi::error> {
      if (const std::string* why = ev.problem(key))
        return mi::error{*why, mi::errc::bad_field};
      if (!present)
        return mi::error{"missing field '" + std::string(key) + "'", mi::errc::missing_field};
      return std::nullopt;
    };
    for (auto [key, present] : {std::pair<std::string_view, bool>{"s", ev.s.has_value()},
                                {id_key, id.has_value()},
                                {"p", ev.p.has_value()},
                                {"q", ev.q.has_value()},
                                {"T", ev.T.has_value()},
                                {"m", ev.m.has_value()}})
      if (auto e = check(key, present))
        return e;
  }

  t.exchange = "binance";
  std::string why;
  const instrument* inst = resolve(*ev.s, why);
  if (inst == nullptr)
    return mi::error{std::move(why), mi::errc::unknown_symbol};
  t.symbol = inst->symbol;
  t.base = inst->base;
  t.quote = inst->quote;

  if (*id < 0)
    return mi::error{"field '" + std::string(id_key) + "' must be >= 0", mi::errc::bad_number};
  t.set_id(*id);

  std::optional<mi::decimal> price = mi::decimal::parse(*ev.p);
  if (!price)
    return mi::error{"field 'p' is not a decimal: \"" + std::string(*ev.p) + "\"", mi::errc::bad_number};
  if (price->signum() <= 0)
    return mi::error{"price must be > 0", mi::errc::bad_number};
  std::optional<mi::decimal> quantity = mi::decimal::parse(*ev.q);
  if (!quantity)
    return mi::error{"field 'q' is not a decimal: \"" + std::string(*ev.q) + "\"", mi::errc::bad_number};
  if (quantity->signum() <= 0)
    return mi::error{"quantity must be > 0", mi::errc::bad_number};
  t.price = *price;
  t.quantity = *quantity;

  if (*ev.T < 0 || *ev.T > std::numeric_limits<std::int64_t>::max() / time_unit_ns)
    return mi::error{"field 'T' out of range", mi::errc::bad_timestamp};
  t.ts_ns = *ev.T * time_unit_ns;
  t.taker_side = *ev.m ? mi::side::sell : mi::side::buy; // m: the buyer is the maker
  t.recv_ns = recv_ns;
  return std::nullopt;
}

mi::result<frame_events> codec::impl::decode(std::string_view frame, std::int64_t recv_ns) {
  if (!looks_like_object(frame))
    return mi::error{"not JSON: expected one object", mi::errc::malformed_json};
  // A reusable padded copy: simdjson reads up to SIMDJSON_PADDING bytes past the end.
  buffer.assign(frame.data(), frame.size());
  buffer.append(simdjson::SIMDJSON_PADDING, '\0');
  od::document doc;
  if (auto ec = parser.iterate(buffer.data(), frame.size(), buffer.size()).get(doc))
    return mi::error{std::string("not JSON: ") + simdjson::error_message(ec), mi::errc::malformed_json};
  od::object root;
  if (auto ec = doc.get_object().get(root))
    return mi::error{std::string("not JSON: ") + simdjson::error_message(ec), mi::errc::malformed_json};

  fields top, data, err;
  if (std::string problem = read_object(root, top, &data, &err); !problem.empty())
    return mi::error{problem, mi::errc::malformed_json}; // read_object fails only on broken JSON

  const fields& ev = top.has_data ? data : top;
  frame_events out;
  if (ev.e) {
    if (*ev.e == "trade" || *ev.e == "aggTrade") {
      const stream_kind k = *ev.e == "trade" ? stream_kind::trade : stream_kind::agg_trade;
      // One trade per event: built in place, nothing to sort.
      if (auto e = make_trade(ev, k, recv_ns, out.trades.emplace_back()))
        return std::move(*e);
      out.what = frame_events::kind::trades;
      return out;
    }
    if (*ev.e == "serverShutdown") {
      out.what = frame_events::kind::server_shutdown;
      return out;
    }
    return out; // depth, kline, ticker, ...: not ours
  }
  if (top.code || top.has_error) {
    const fields& e = top.has_error ? err : top;
    out.what = frame_events::kind::error;
    out.error_message = "code " + (e.code ? std::to_string(*e.code) : std::string("?")) + ": " +
                        std::string(e.msg.value_or("(no message)"));
    return out;
  }
  if (top.has_result && top.has_id) {
    out.what = frame_events::kind::ack;
    out.ack_id = top.id;
    return out;
  }
  return out; // our own requests echoed in logs, unknown messages
}

codec::codec(const instruments* meta) : impl_(std::make_unique<impl>()) { impl_->meta = meta; }
codec::~codec() = default;
codec::codec(codec&&) noexcept = default;
codec& codec::operator=(codec&&) noexcept = default;

mi::result<frame_events> codec::decode(std::string_view frame, std::int64_t recv_ns) {
  return impl_->decode(frame, recv_ns);
}

void codec::set_time_unit_microseconds(bool on) { impl_->time_unit_ns = on ? 1'000 : 1'000'000; }

namespace {

std::vector<std::string> control_requests(std::string_view method, const std::vector<std::string>& streams,
                                          std::int64_t first_id, std::size_t per_message) {
  per_message = std::max<std::size_t>(per_message, 1);
  std::vector<std::string> out;
  std::int64_t id = first_id;
  for (std::size_t begin = 0; begin < streams.size(); begin += per_message) {
    const std::size_t end = std::min(streams.size(), begin + per_message);
    std::string msg = R"({"method":")" + std::string(method) + R"(","params":[)";
    for (std::size_t i = begin; i < end; ++i) {
      if (i != begin)
        msg += ',';
      mi::connectors::text::append_json_string(msg, streams[i]);
    }
    msg += R"(],"id":)";
    msg += std::to_string(id++);
    msg += '}';
    out.push_back(std::move(msg));
  }
  return out;
}

} // namespace

std::vector<std::string> subscribe_requests(const std::vector<std::string>& streams, std::int64_t first_id,
                                            std::size_t per_message) {
  return control_requests("SUBSCRIBE", streams, first_id, per_message);
}

std::vector<std::string> unsubscribe_requests(const std::vector<std::string>& streams, std::int64_t first_id,
                                              std::size_t per_message) {
  return control_requests("UNSUBSCRIBE", streams, first_id, per_message);
}

std::vector<std::vector<std::string>> plan_connections(const std::vector<std::string>& streams,
                                                       std::size_t max_per_connection) {
  max_per_connection = std::max<std::size_t>(max_per_connection, 1);
  std::vector<std::vector<std::string>> out;
  for (std::size_t begin = 0; begin < streams.size(); begin += max_per_connection) {
    const std::size_t end = std::min(streams.size(), begin + max_per_connection);
    out.emplace_back(streams.begin() + static_cast<std::ptrdiff_t>(begin),
                     streams.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return out;
}

send_pacer::send_pacer(int per_second) : per_second_(per_second > 0 ? static_cast<std::size_t>(per_second) : 1) {}

std::int64_t send_pacer::try_send(std::int64_t now_ns) {
  constexpr std::int64_t window_ns = 1'000'000'000;
  while (!sent_ns_.empty() && sent_ns_.front() + window_ns <= now_ns)
    sent_ns_.pop_front();
  if (sent_ns_.size() < per_second_) {
    sent_ns_.push_back(now_ns);
    return 0;
  }
  return sent_ns_.front() + window_ns - now_ns;
}

std::string encode_trade_frame(const mi::trade& t, stream_kind k, bool combined) {
  const bool numeric_id = !t.trade_id.empty() && std::all_of(t.trade_id.begin(), t.trade_id.end(),
                                                             [](char c) { return c >= '0' && c <= '9'; });
  const std::string id = numeric_id ? t.trade_id : std::string("0");
  const std::string ms = std::to_string(t.ts_ns >= 0 ? t.ts_ns / 1'000'000 : (t.ts_ns - 999'999) / 1'000'000);
  std::string out;
  out.reserve(256);
  if (combined) {
    out += R"({"stream":)";
    mi::connectors::text::append_json_string(out, stream_name(t.symbol, k));
    out += R"(,"data":)";
  }
  out += k == stream_kind::trade ? R"({"e":"trade","E":)" : R"({"e":"aggTrade","E":)";
  out += ms;
  out += R"(,"s":)";
  mi::connectors::text::append_json_string(out, t.symbol);
  out += k == stream_kind::trade ? R"(,"t":)" : R"(,"a":)";
  out += id;
  out += R"(,"p":)";
  mi::connectors::text::append_json_string(out, t.price.to_string());
  out += R"(,"q":)";
  mi::connectors::text::append_json_string(out, t.quantity.to_string());
  if (k == stream_kind::agg_trade) {
    out += R"(,"f":)";
    out += id;
    out += R"(,"l":)";
    out += id;
  }
  out += R"(,"T":)";
  out += ms;
  out += R"(,"m":)";
  out += t.taker_side == mi::side::sell ? "true" : "false";
  out += R"(,"M":true})";
  if (combined)
    out += '}';
  return out;
}

} // namespace mi::binance
