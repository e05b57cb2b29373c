#include "connectors/bybit/codec.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include <simdjson.h>

#include "connectors/json_fields.hpp"
#include "connectors/json_text.hpp"
#include "messages/decimal.hpp"
#include "messages/util/text.hpp"

namespace mi::bybit {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view trade_topic_prefix = "publicTrade.";

using mi::connectors::json::find_problem;
using mi::connectors::json::not_json;
using mi::connectors::json::problem_list;
using mi::connectors::json::read_string;

/// The fields of one element of "data" that a trade needs. string_views point into the parser.
struct trade_fields {
  std::optional<std::string_view> i, p, v, S, s;
  std::optional<std::int64_t> T;
  bool is_object = true;
  problem_list problems;
};

/// The top-level fields this codec understands; unknown keys are skipped.
struct top_fields {
  std::optional<std::string_view> topic, ret_msg, op;
  std::optional<bool> success;
  std::string req_id;
  bool has_data = false; ///< "data" was an array (its elements are in impl::data)
};

std::string read_trade(od::value& v, trade_fields& out) {
  od::json_type type;
  if (auto ec = v.type().get(type))
    return not_json(ec);
  if (type != od::json_type::object) {
    out.is_object = false;
    return {};
  }
  od::object obj;
  if (auto ec = v.get_object().get(obj))
    return not_json(ec);
  for (auto field : obj) {
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key))
      return not_json(ec);
    auto fv_in = field.value(); // read in place: copying the value out stalls store forwarding
    if (auto ec = fv_in.error())
      return not_json(ec);
    od::value& fv = fv_in.value_unsafe();
    if (key.size() != 1)
      continue; // seq, BT, RPI: not needed
    switch (key[0]) {
    case 'i':
      read_string(key, fv, out.i, out.problems);
      break;
    case 'p':
      read_string(key, fv, out.p, out.problems);
      break;
    case 'v':
      read_string(key, fv, out.v, out.problems);
      break;
    case 'S':
      read_string(key, fv, out.S, out.problems);
      break;
    case 's':
      read_string(key, fv, out.s, out.problems);
      break;
    case 'T': {
      std::int64_t x = 0;
      if (fv.get_int64().get(x))
        out.problems.emplace_back(key, "field 'T' must be an integer");
      else
        out.T = x;
      break;
    }
    default:
      break; // L (linear tick direction), ...
    }
  }
  return {};
}

/// Cheap pre-check: the ondemand API is lazy, so make sure the frame is one object.
bool looks_like_object(std::string_view frame) {
  const std::string_view t = mi::util::trim(frame, mi::util::json_whitespace);
  return !t.empty() && t.front() == '{' && t.back() == '}';
}

const instruments& fallback_instruments() {
  static const instruments none;
  return none;
}

} // namespace

std::string topic_name(std::string_view symbol) {
  std::string out(trade_topic_prefix);
  for (char c : symbol)
    out += mi::connectors::text::to_upper(c);
  return out;
}

struct codec::impl {
  const instruments* meta = nullptr;
  od::parser parser;
  std::string buffer;             ///< the frame plus SIMDJSON_PADDING bytes, reused
  std::vector<trade_fields> data; ///< elements of "data", reused

  mi::result<frame_events> decode(std::string_view frame, std::int64_t recv_ns);
  mi::result<mi::trade> make_trade(const trade_fields& f, std::int64_t recv_ns) const;
};

mi::result<mi::trade> codec::impl::make_trade(const trade_fields& f, std::int64_t recv_ns) const {
  if (!f.is_object)
    return mi::error{"not an object", mi::errc::malformed_json};
  for (auto [key, present] : {std::pair<std::string_view, bool>{"s", f.s.has_value()},
                              {"i", f.i.has_value()},
                              {"p", f.p.has_value()},
                              {"v", f.v.has_value()},
                              {"S", f.S.has_value()},
                              {"T", f.T.has_value()}}) {
    if (const std::string* why = find_problem(f.problems, key))
      return mi::error{*why, mi::errc::bad_field};
    if (!present)
      return mi::error{"missing field '" + std::string(key) + "'", mi::errc::missing_field};
  }
  mi::trade t;
  t.exchange = "bybit";
  const instruments& known = meta != nullptr ? *meta : fallback_instruments();
  std::optional<instrument> inst = known.resolve(*f.s);
  if (!inst)
    return mi::error{"unknown symbol '" + std::string(*f.s) + "' (no known quote coin)", mi::errc::unknown_symbol};
  t.symbol = std::move(inst->symbol);
  t.base = std::move(inst->base);
  t.quote = std::move(inst->quote);
  if (f.i->empty())
    return mi::error{"field 'i' is empty", mi::errc::bad_field};
  t.set_id(std::string(*f.i)); // no number for UUIDs (spot ids are digits, but not consecutive)

  std::optional<mi::decimal> price = mi::decimal::parse(*f.p);
  if (!price)
    return mi::error{"field 'p' is not a decimal: \"" + std::string(*f.p) + "\"", mi::errc::bad_number};
  if (price->signum() <= 0)
    return mi::error{"price must be > 0", mi::errc::bad_number};
  std::optional<mi::decimal> size = mi::decimal::parse(*f.v);
  if (!size)
    return mi::error{"field 'v' is not a decimal: \"" + std::string(*f.v) + "\"", mi::errc::bad_number};
  if (size->signum() <= 0)
    return mi::error{"size must be > 0", mi::errc::bad_number};
  t.price = *price;
  t.quantity = *size;

  if (*f.S == "Buy")
    t.taker_side = mi::side::buy; // S is the taker's side
  else if (*f.S == "Sell")
    t.taker_side = mi::side::sell;
  else
    return mi::error{"field 'S' must be \"Buy\" or \"Sell\", not \"" + std::string(*f.S) + "\"", mi::errc::bad_field};

  if (*f.T < 0 || *f.T > std::numeric_limits<std::int64_t>::max() / 1'000'000)
    return mi::error{"field 'T' out of range", mi::errc::bad_timestamp};
  t.ts_ns = *f.T * 1'000'000;
  t.recv_ns = recv_ns;
  return t;
}

mi::result<frame_events> codec::impl::decode(std::string_view frame, std::int64_t recv_ns) {
  if (!looks_like_object(frame))
    return mi::error{"not JSON: expected one object", mi::errc::malformed_json};
  // A reusable padded copy: simdjson reads up to SIMDJSON_PADDING bytes past the end.
  buffer.assign(frame.data(), frame.size());
  buffer.append(simdjson::SIMDJSON_PADDING, '\0');
  od::document doc;
  if (auto ec = parser.iterate(buffer.data(), frame.size(), buffer.size()).get(doc))
    return mi::error{not_json(ec), mi::errc::malformed_json};
  od::object root;
  if (auto ec = doc.get_object().get(root))
    return mi::error{not_json(ec), mi::errc::malformed_json};

  top_fields top;
  problem_list problems;
  data.clear();
  for (auto field : root) {
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key))
      return mi::error{not_json(ec), mi::errc::malformed_json};
    auto v_in = field.value(); // read in place: copying the value out stalls store forwarding
    if (auto ec = v_in.error())
      return mi::error{not_json(ec), mi::errc::malformed_json};
    od::value& v = v_in.value_unsafe();
    if (key == "topic")
      read_string(key, v, top.topic, problems);
    else if (key == "ret_msg")
      read_string(key, v, top.ret_msg, problems);
    else if (key == "op")
      read_string(key, v, top.op, problems);
    else if (key == "success") {
      bool b = false;
      if (!v.get_bool().get(b))
        top.success = b;
    } else if (key == "req_id") {
      od::json_type type;
      if (auto ec = v.type().get(type))
        return mi::error{not_json(ec), mi::errc::malformed_json};
      std::string_view s;
      if (type == od::json_type::string && !v.get_string().get(s))
        top.req_id = std::string(s);
      else if (type == od::json_type::number)
        top.req_id = std::string(mi::util::trim(v.raw_json_token(), mi::util::json_whitespace));
    } else if (key == "data") {
      od::json_type type;
      if (auto ec = v.type().get(type))
        return mi::error{not_json(ec), mi::errc::malformed_json};
      if (type != od::json_type::array)
        continue; // orderbook, tickers: an object
      od::array arr;
      if (auto ec = v.get_array().get(arr))
        return mi::error{not_json(ec), mi::errc::malformed_json};
      top.has_data = true;
      for (auto element : arr) {
        od::value ev;
        if (auto ec = element.get(ev))
          return mi::error{not_json(ec), mi::errc::malformed_json};
        data.emplace_back();
        if (std::string p = read_trade(ev, data.back()); !p.empty())
          return mi::error{p, mi::errc::malformed_json};
      }
    }
  }

  frame_events out;
  if (top.topic) {
    if (!top.topic->starts_with(trade_topic_prefix))
      return out; // orderbook, tickers, kline, ...
    if (!top.has_data)
      return mi::error{"missing field 'data' (an array of trades)", mi::errc::missing_field};
    out.what = frame_events::kind::trades;
    out.trades.reserve(data.size());
    for (std::size_t i = 0; i < data.size(); ++i) {
      mi::result<mi::trade> t = make_trade(data[i], recv_ns);
      if (!t)
        return mi::error{"data[" + std::to_string(i) + "]: " + t.err().message, t.err().code};
      out.trades.push_back(std::move(*t));
    }
    mi::sort_oldest_first(out.trades);
    return out;
  }
  const std::string_view op = top.op.value_or("");
  if (top.success) {
    out.req_id = std::move(top.req_id);
    if (!*top.success) {
      out.what = frame_events::kind::error;
      out.error_message =
        std::string(op.empty() ? "request" : op) + " failed: " + std::string(top.ret_msg.value_or("(no message)"));
    } else if (op == "ping" || top.ret_msg == "pong") {
      out.what = frame_events::kind::pong;
    } else if (op == "subscribe" || op == "unsubscribe") {
      out.what = frame_events::kind::ack;
    }
    return out; // auth and other responses: not ours
  }
  if (op == "pong") { // linear/inverse pong shape: {"req_id":..,"op":"pong","args":["1675418560633"],"conn_id":..}
    out.what = frame_events::kind::pong;
    out.req_id = std::move(top.req_id);
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

namespace {

std::vector<std::string> control_requests(std::string_view op, const std::vector<std::string>& topics,
                                          std::int64_t first_req_id, std::size_t per_message) {
  per_message = std::max<std::size_t>(per_message, 1);
  std::vector<std::string> out;
  std::int64_t id = first_req_id;
  for (std::size_t begin = 0; begin < topics.size(); begin += per_message) {
    const std::size_t end = std::min(topics.size(), begin + per_message);
    std::string msg = R"({"req_id":")";
    msg += std::to_string(id++);
    msg += R"(","op":")" + std::string(op) + R"(","args":[)";
    for (std::size_t i = begin; i < end; ++i) {
      if (i != begin)
        msg += ',';
      mi::connectors::text::append_json_string(msg, topics[i]);
    }
    msg += "]}";
    out.push_back(std::move(msg));
  }
  return out;
}

} // namespace

std::vector<std::string> subscribe_requests(const std::vector<std::string>& topics, std::int64_t first_req_id,
                                            std::size_t per_message) {
  return control_requests("subscribe", topics, first_req_id, per_message);
}

std::vector<std::string> unsubscribe_requests(const std::vector<std::string>& topics, std::int64_t first_req_id,
                                              std::size_t per_message) {
  return control_requests("unsubscribe", topics, first_req_id, per_message);
}

std::string ping_request(std::string_view req_id) {
  std::string out = R"({"req_id":)";
  mi::connectors::text::append_json_string(out, req_id);
  out += R"(,"op":"ping"})";
  return out;
}

heartbeat::heartbeat(std::int64_t interval_ns) : interval_ns_(interval_ns > 0 ? interval_ns : ping_interval_ns) {}

void heartbeat::on_received(std::int64_t) { unanswered_ping_ns_ = -1; }

bool heartbeat::ping_due(std::int64_t now_ns) {
  if (!started_) {
    started_ = true;
    last_ping_ns_ = now_ns;
    return false;
  }
  if (now_ns - last_ping_ns_ < interval_ns_)
    return false;
  last_ping_ns_ = now_ns;
  if (unanswered_ping_ns_ < 0)
    unanswered_ping_ns_ = now_ns;
  return true;
}

bool heartbeat::timed_out(std::int64_t now_ns) const {
  return unanswered_ping_ns_ >= 0 && now_ns - unanswered_ping_ns_ >= interval_ns_;
}

std::string encode_trade_frame(const mi::trade& t) {
  const std::string ms = std::to_string(t.ts_ns >= 0 ? t.ts_ns / 1'000'000 : (t.ts_ns - 999'999) / 1'000'000);
  std::string out;
  out.reserve(256);
  out += R"({"topic":)";
  mi::connectors::text::append_json_string(out, topic_name(t.symbol));
  out += R"(,"ts":)";
  out += ms;
  out += R"(,"type":"snapshot","data":[{"i":)";
  mi::connectors::text::append_json_string(out, t.trade_id);
  out += R"(,"T":)";
  out += ms;
  out += R"(,"p":)";
  mi::connectors::text::append_json_string(out, t.price.to_string());
  out += R"(,"v":)";
  mi::connectors::text::append_json_string(out, t.quantity.to_string());
  out += R"(,"S":)";
  out += t.taker_side == mi::side::buy ? R"("Buy")" : t.taker_side == mi::side::sell ? R"("Sell")" : R"("Unknown")";
  out += R"(,"s":)";
  mi::connectors::text::append_json_string(out, t.symbol);
  out += R"(,"BT":false,"RPI":false}]})";
  return out;
}

} // namespace mi::bybit
