#include "connectors/coinbase/codec.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include <simdjson.h>

#include "connectors/json_text.hpp"
#include "connectors/time_text.hpp"
#include "messages/decimal.hpp"
#include "messages/util/civil_time.hpp"

namespace mi::coinbase {
namespace {

namespace od = simdjson::ondemand;

std::string json_error(simdjson::error_code ec) { return std::string("not JSON: ") + simdjson::error_message(ec); }

/// The fields of one trade object (Advanced Trade trades[i], or a legacy match at the top level).
/// string_views point into the parser and live until the next iterate().
struct raw_trade {
  std::optional<std::string_view> product_id, price, size, time, side;
  std::optional<std::string> trade_id;
  std::optional<std::uint64_t> trade_number; ///< the legacy feed's integer id (trade_id holds its text)
  std::string problem;                       ///< first known key with a wrong type; reported only if the trade is used
};

/// Top-level fields of a frame, for both feeds.
struct fields {
  std::optional<std::string_view> channel, type, message, reason;
  raw_trade top;                 ///< legacy match fields
  std::vector<raw_trade> trades; ///< Advanced Trade events[*].trades[*], in wire order
  std::string events_problem;    ///< "events"/"trades" of the wrong shape; reported for market_trades only
};

void note(std::string& problem, std::string_view key, std::string_view what) {
  if (problem.empty())
    problem = "field '" + std::string(key) + "' " + std::string(what);
}

/// Reads a string value; a wrong type is noted (simdjson leaves the value unconsumed, iteration goes on).
void read_string(std::string_view key, od::value& v, std::optional<std::string_view>& out, std::string& problem) {
  std::string_view s;
  if (v.get_string().get(s))
    note(problem, key, "must be a string");
  else
    out = s;
}

/// Reads one field into a raw trade if it is a trade key. Returns true if the key was a trade key.
bool read_trade_field(std::string_view key, od::value& v, raw_trade& t) {
  if (key == "product_id") {
    read_string(key, v, t.product_id, t.problem);
    return true;
  }
  if (key == "price") {
    read_string(key, v, t.price, t.problem);
    return true;
  }
  if (key == "size") {
    read_string(key, v, t.size, t.problem);
    return true;
  }
  if (key == "time") {
    read_string(key, v, t.time, t.problem);
    return true;
  }
  if (key == "side") {
    read_string(key, v, t.side, t.problem);
    return true;
  }
  if (key == "trade_id") {
    // Advanced Trade: a numeric string; legacy: an integer.
    od::json_type type;
    if (v.type().get(type)) {
      note(t.problem, key, "must be a string or an integer");
      return true;
    }
    if (type == od::json_type::string) {
      std::string_view s;
      if (v.get_string().get(s))
        note(t.problem, key, "must be a string or an integer");
      else {
        t.trade_id = std::string(s);
        t.trade_number.reset();
      }
    } else if (type == od::json_type::number) {
      std::uint64_t x = 0;
      if (v.get_uint64().get(x))
        note(t.problem, key, "must be a non-negative integer");
      else {
        t.trade_id = std::to_string(x);
        t.trade_number = x;
      }
    } else {
      note(t.problem, key, "must be a string or an integer");
    }
    return true;
  }
  return false;
}

std::string read_trade_object(od::value& v, raw_trade& t) {
  od::object obj;
  if (v.get_object().get(obj)) {
    t.problem = "must be an object";
    return {};
  }
  for (auto field : obj) {
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key))
      return json_error(ec);
    auto value_in = field.value(); // read in place: copying the value out stalls store forwarding
    if (auto ec = value_in.error())
      return json_error(ec);
    od::value& value = value_in.value_unsafe();
    read_trade_field(key, value, t);
  }
  return {};
}

/// events: [{"type":"snapshot"|"update","trades":[{...},...]}, ...]; other channels' events have no "trades".
std::string read_events(od::value& v, fields& f) {
  od::array events;
  if (v.get_array().get(events)) {
    f.events_problem = "field 'events' must be an array";
    return {};
  }
  for (auto element : events) {
    od::value event;
    if (auto ec = element.get(event))
      return json_error(ec);
    od::object obj;
    if (event.get_object().get(obj)) {
      if (f.events_problem.empty())
        f.events_problem = "each of 'events' must be an object";
      continue;
    }
    for (auto field : obj) {
      std::string_view key;
      if (auto ec = field.unescaped_key().get(key))
        return json_error(ec);
      if (key != "trades")
        continue;
      auto value_in = field.value(); // read in place: copying the value out stalls store forwarding
      if (auto ec = value_in.error())
        return json_error(ec);
      od::value& value = value_in.value_unsafe();
      od::array trades;
      if (value.get_array().get(trades)) {
        if (f.events_problem.empty())
          f.events_problem = "field 'trades' must be an array";
        continue;
      }
      for (auto trade : trades) {
        od::value tv;
        if (auto ec = trade.get(tv))
          return json_error(ec);
        raw_trade& t = f.trades.emplace_back();
        if (std::string e = read_trade_object(tv, t); !e.empty())
          return e;
      }
    }
  }
  return {};
}

std::string read_top(od::object& root, fields& f) {
  for (auto field : root) {
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key))
      return json_error(ec);
    auto v_in = field.value(); // read in place: copying the value out stalls store forwarding
    if (auto ec = v_in.error())
      return json_error(ec);
    od::value& v = v_in.value_unsafe();
    if (read_trade_field(key, v, f.top))
      continue;
    std::string ignored_problem; // a wrong type here only matters for the fields we then need
    if (key == "channel")
      read_string(key, v, f.channel, f.top.problem);
    else if (key == "type")
      read_string(key, v, f.type, f.top.problem);
    else if (key == "message")
      read_string(key, v, f.message, ignored_problem);
    else if (key == "reason")
      read_string(key, v, f.reason, ignored_problem);
    else if (key == "events")
      if (std::string e = read_events(v, f); !e.empty())
        return e;
  }
  return {};
}

bool looks_like_object(std::string_view frame) {
  const auto first = frame.find_first_not_of(" \t\r\n");
  const auto last = frame.find_last_not_of(" \t\r\n");
  return first != std::string_view::npos && frame[first] == '{' && frame[last] == '}';
}

/// Maker side text (both feeds, either case) -> taker side.
std::optional<mi::side> taker_from_maker(std::string_view s) {
  if (s == "BUY" || s == "buy")
    return mi::side::sell;
  if (s == "SELL" || s == "sell")
    return mi::side::buy;
  if (s == "UNKNOWN_ORDER_SIDE")
    return mi::side::unknown;
  return std::nullopt;
}

mi::result<mi::trade> make_trade(const raw_trade& r, std::int64_t recv_ns) {
  if (!r.problem.empty())
    return mi::error{r.problem, mi::errc::bad_field};
  for (auto [key, present] : {std::pair<std::string_view, bool>{"product_id", r.product_id.has_value()},
                              {"trade_id", r.trade_id.has_value()},
                              {"price", r.price.has_value()},
                              {"size", r.size.has_value()},
                              {"time", r.time.has_value()},
                              {"side", r.side.has_value()}})
    if (!present)
      return mi::error{"missing field '" + std::string(key) + "'", mi::errc::missing_field};

  mi::result<instrument> inst = from_product_id(*r.product_id);
  if (!inst)
    return mi::error{inst.err().message, mi::errc::unknown_symbol};
  if (r.trade_id->empty())
    return mi::error{"field 'trade_id' must not be empty", mi::errc::bad_field};

  std::optional<mi::decimal> price = mi::decimal::parse(*r.price);
  if (!price)
    return mi::error{"field 'price' is not a decimal: \"" + std::string(*r.price) + "\"", mi::errc::bad_number};
  if (price->signum() <= 0)
    return mi::error{"price must be > 0", mi::errc::bad_number};
  std::optional<mi::decimal> size = mi::decimal::parse(*r.size);
  if (!size)
    return mi::error{"field 'size' is not a decimal: \"" + std::string(*r.size) + "\"", mi::errc::bad_number};
  if (size->signum() <= 0)
    return mi::error{"size must be > 0", mi::errc::bad_number};
  std::optional<std::int64_t> ts = mi::connectors::text::parse_rfc3339_ns(*r.time);
  if (!ts)
    return mi::error{"field 'time' is not an RFC 3339 time: \"" + std::string(*r.time) + "\"", mi::errc::bad_timestamp};
  std::optional<mi::side> taker = taker_from_maker(*r.side);
  if (!taker)
    return mi::error{"field 'side' must be BUY or SELL: \"" + std::string(*r.side) + "\"", mi::errc::bad_field};

  mi::trade t;
  t.exchange = "coinbase";
  t.symbol = std::move(inst->symbol);
  t.base = std::move(inst->base);
  t.quote = std::move(inst->quote);
  if (r.trade_number)
    t.set_id(*r.trade_number);
  else
    t.set_id(*r.trade_id); // Advanced Trade: a numeric string, read as a number here once
  t.price = *price;
  t.quantity = *size;
  t.taker_side = *taker;
  t.ts_ns = *ts;
  t.recv_ns = recv_ns;
  return t;
}

} // namespace

struct codec::impl {
  od::parser parser;
  std::string buffer; ///< the frame plus SIMDJSON_PADDING bytes, reused

  mi::result<frame_events> decode(std::string_view frame, std::int64_t recv_ns);
};

mi::result<frame_events> codec::impl::decode(std::string_view frame, std::int64_t recv_ns) {
  if (!looks_like_object(frame))
    return mi::error{"not JSON: expected one object", mi::errc::malformed_json};
  buffer.assign(frame.data(), frame.size());
  buffer.append(simdjson::SIMDJSON_PADDING, '\0');
  od::document doc;
  if (auto ec = parser.iterate(buffer.data(), frame.size(), buffer.size()).get(doc))
    return mi::error{json_error(ec), mi::errc::malformed_json};
  od::object root;
  if (auto ec = doc.get_object().get(root))
    return mi::error{json_error(ec), mi::errc::malformed_json};
  fields f;
  if (std::string e = read_top(root, f); !e.empty())
    return mi::error{e, mi::errc::malformed_json};

  frame_events out;
  // Our own requests ({"type":"subscribe",...,"channel":"market_trades"}), as echoed in logs and recordings.
  if (f.type && (*f.type == "subscribe" || *f.type == "unsubscribe"))
    return out;
  if (f.channel) { // Advanced Trade
    if (*f.channel == "market_trades") {
      if (!f.events_problem.empty())
        return mi::error{f.events_problem, mi::errc::bad_field};
      out.what = frame_events::kind::trades;
      out.trades.reserve(f.trades.size());
      for (std::size_t i = 0; i < f.trades.size(); ++i) {
        mi::result<mi::trade> t = make_trade(f.trades[i], recv_ns);
        if (!t)
          return mi::error{"trades[" + std::to_string(i) + "]: " + t.err().message, t.err().code};
        out.trades.push_back(std::move(*t));
      }
      mi::sort_oldest_first(out.trades);
    } else if (*f.channel == "subscriptions") {
      out.what = frame_events::kind::ack;
    } else if (*f.channel == "heartbeats") {
      out.what = frame_events::kind::heartbeat;
    }
    return out; // ticker, level2, candles, status, user: not ours
  }
  if (!f.type)
    return out;
  // Legacy Exchange feed (and Advanced Trade's error frame, which has the same shape).
  if (*f.type == "match" || *f.type == "last_match") {
    mi::result<mi::trade> t = make_trade(f.top, recv_ns);
    if (!t)
      return t.err();
    out.what = frame_events::kind::trades;
    out.trades.push_back(std::move(*t));
  } else if (*f.type == "error") {
    out.what = frame_events::kind::error;
    out.error_message = std::string(f.message.value_or("(no message)"));
    if (f.reason && !f.reason->empty())
      out.error_message += ": " + std::string(*f.reason);
  } else if (*f.type == "subscriptions") {
    out.what = frame_events::kind::ack;
  } else if (*f.type == "heartbeat") {
    out.what = frame_events::kind::heartbeat;
  }
  return out; // subscribe (our request), received, open, done, ticker, l2update, ...
}

codec::codec() : impl_(std::make_unique<impl>()) {}
codec::~codec() = default;
codec::codec(codec&&) noexcept = default;
codec& codec::operator=(codec&&) noexcept = default;

mi::result<frame_events> codec::decode(std::string_view frame, std::int64_t recv_ns) {
  return impl_->decode(frame, recv_ns);
}

namespace {

std::string channel_request(std::string_view type, const std::vector<std::string>& product_ids,
                            std::string_view channel) {
  std::string out = R"({"type":")" + std::string(type) + R"(","product_ids":)";
  mi::connectors::text::append_json_string_array(out, product_ids);
  out += R"(,"channel":)";
  mi::connectors::text::append_json_string(out, channel);
  out += '}';
  return out;
}

} // namespace

std::string subscribe_request(const std::vector<std::string>& product_ids, std::string_view channel) {
  return channel_request("subscribe", product_ids, channel);
}

std::string unsubscribe_request(const std::vector<std::string>& product_ids, std::string_view channel) {
  return channel_request("unsubscribe", product_ids, channel);
}

std::vector<std::string> subscribe_requests(const std::vector<std::string>& product_ids) {
  return {subscribe_request(product_ids, "market_trades"), subscribe_request(product_ids, "heartbeats")};
}

std::string legacy_subscribe_request(const std::vector<std::string>& product_ids) {
  std::string out = R"({"type":"subscribe","product_ids":)";
  mi::connectors::text::append_json_string_array(out, product_ids);
  out += R"(,"channels":["matches","heartbeat"]})";
  return out;
}

std::string encode_trade_frame(const mi::trade& t, std::int64_t sequence_num) {
  const std::string time = mi::util::rfc3339(t.ts_ns);
  std::string out;
  out.reserve(320);
  out += R"({"channel":"market_trades","client_id":"","timestamp":)";
  mi::connectors::text::append_json_string(out, time);
  out += R"(,"sequence_num":)";
  out += std::to_string(sequence_num);
  out += R"(,"events":[{"type":"update","trades":[{"trade_id":)";
  mi::connectors::text::append_json_string(out, t.trade_id);
  out += R"(,"product_id":)";
  mi::connectors::text::append_json_string(out, t.base + "-" + t.quote);
  out += R"(,"price":)";
  mi::connectors::text::append_json_string(out, t.price.to_string());
  out += R"(,"size":)";
  mi::connectors::text::append_json_string(out, t.quantity.to_string());
  out += R"(,"side":)";
  // The maker's side, as Coinbase sends it.
  out += t.taker_side == mi::side::buy    ? R"("SELL")"
         : t.taker_side == mi::side::sell ? R"("BUY")"
                                          : R"("UNKNOWN_ORDER_SIDE")";
  out += R"(,"time":)";
  mi::connectors::text::append_json_string(out, time);
  out += "}]}]}";
  return out;
}

} // namespace mi::coinbase
