#include "connectors/okx/codec.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include <simdjson.h>

#include "connectors/json_fields.hpp"
#include "connectors/json_text.hpp"
#include "messages/decimal.hpp"
#include "messages/util/text.hpp"

namespace mi::okx {
namespace {

namespace od = simdjson::ondemand;

using mi::connectors::json::find_problem;
using mi::connectors::json::not_json;
using mi::connectors::json::problem_list;
using mi::connectors::json::read_string;
using mi::connectors::json::read_text;

/// The fields of one element of "data" that a trade needs. string_views point into the parser.
struct trade_fields {
  std::optional<std::string_view> inst_id, trade_id, px, sz, side, ts, count;
  bool is_object = true;
  problem_list problems;
};

/// The top-level fields this codec understands; unknown keys are skipped.
struct top_fields {
  std::optional<std::string_view> event, msg, channel, inst_id, op;
  std::optional<std::string> code; ///< a JSON string in OKX frames; a number is accepted and printed
  bool has_data = false;           ///< "data" was an array (its elements are in impl::data)
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
    if (key == "instId")
      read_string(key, fv, out.inst_id, out.problems);
    else if (key == "tradeId")
      read_string(key, fv, out.trade_id, out.problems);
    else if (key == "px")
      read_string(key, fv, out.px, out.problems);
    else if (key == "sz")
      read_string(key, fv, out.sz, out.problems);
    else if (key == "side")
      read_string(key, fv, out.side, out.problems);
    else if (key == "ts")
      read_string(key, fv, out.ts, out.problems);
    else if (key == "count")
      out.count = read_text(fv); // a string in OKX's frames; a number is taken by its text
    // source, ...: not needed
  }
  return {};
}

std::string read_arg(od::value& v, top_fields& out, problem_list& problems) {
  od::json_type type;
  if (auto ec = v.type().get(type))
    return not_json(ec);
  if (type != od::json_type::object)
    return {};
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
    if (key == "channel")
      read_string("arg.channel", fv, out.channel, problems);
    else if (key == "instId")
      read_string("arg.instId", fv, out.inst_id, problems);
  }
  return {};
}

/// Cheap pre-check: the ondemand API is lazy, so make sure the frame is one object.
bool looks_like_object(std::string_view frame) {
  const auto first = frame.find_first_not_of(" \t\r\n");
  const auto last = frame.find_last_not_of(" \t\r\n");
  return first != std::string_view::npos && frame[first] == '{' && frame[last] == '}';
}

/// Milliseconds as OKX sends them: a string of decimal digits.
std::optional<std::int64_t> parse_ms(std::string_view s) {
  if (s.empty() || s.size() > 18)
    return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

void append_request(std::string& out, std::string_view op, std::string_view channel,
                    const std::vector<std::string>& inst_ids, std::size_t begin, std::size_t end) {
  out = R"({"op":)";
  mi::connectors::text::append_json_string(out, op);
  out += R"(,"args":[)";
  for (std::size_t i = begin; i < end; ++i) {
    if (i != begin)
      out += ',';
    out += R"({"channel":)";
    mi::connectors::text::append_json_string(out, channel);
    out += R"(,"instId":)";
    mi::connectors::text::append_json_string(out, inst_ids[i]);
    out += '}';
  }
  out += "]}";
}

std::vector<std::string> requests(std::string_view op, const std::vector<std::string>& inst_ids,
                                  std::string_view channel, std::size_t max_bytes) {
  std::vector<std::string> out;
  std::string msg;
  std::size_t begin = 0;
  while (begin < inst_ids.size()) {
    // Grow the batch while it fits; a single arg always goes, even if larger than max_bytes.
    std::size_t end = begin + 1;
    append_request(msg, op, channel, inst_ids, begin, end);
    std::string longer;
    while (end < inst_ids.size()) {
      append_request(longer, op, channel, inst_ids, begin, end + 1);
      if (longer.size() > max_bytes)
        break;
      msg.swap(longer);
      ++end;
    }
    out.push_back(std::move(msg));
    begin = end;
  }
  return out;
}

} // namespace

struct codec::impl {
  od::parser parser;
  std::string buffer;             ///< the frame plus SIMDJSON_PADDING bytes, reused
  std::vector<trade_fields> data; ///< elements of "data", reused

  mi::result<frame_events> decode(std::string_view frame, std::int64_t recv_ns);
  static mi::result<mi::trade> make_trade(const trade_fields& f, std::int64_t recv_ns);
};

mi::result<mi::trade> codec::impl::make_trade(const trade_fields& f, std::int64_t recv_ns) {
  if (!f.is_object)
    return mi::error{"not an object", mi::errc::malformed_json};
  for (auto [key, present] : {std::pair<std::string_view, bool>{"instId", f.inst_id.has_value()},
                              {"tradeId", f.trade_id.has_value()},
                              {"px", f.px.has_value()},
                              {"sz", f.sz.has_value()},
                              {"side", f.side.has_value()},
                              {"ts", f.ts.has_value()}}) {
    if (const std::string* why = find_problem(f.problems, key))
      return mi::error{*why, mi::errc::bad_field};
    if (!present)
      return mi::error{"missing field '" + std::string(key) + "'", mi::errc::missing_field};
  }
  mi::result<instrument> inst = from_inst_id(*f.inst_id);
  if (!inst)
    return mi::error{inst.err().message, mi::errc::unknown_symbol};
  mi::trade t;
  t.exchange = "okx";
  t.symbol = std::move(inst->symbol);
  t.base = std::move(inst->base);
  t.quote = std::move(inst->quote);
  if (f.trade_id->empty())
    return mi::error{"field 'tradeId' is empty", mi::errc::bad_field};
  t.set_id(std::string(*f.trade_id));

  std::optional<mi::decimal> price = mi::decimal::parse(*f.px);
  if (!price)
    return mi::error{"field 'px' is not a decimal: \"" + std::string(*f.px) + "\"", mi::errc::bad_number};
  if (price->signum() <= 0)
    return mi::error{"price must be > 0", mi::errc::bad_number};
  std::optional<mi::decimal> size = mi::decimal::parse(*f.sz);
  if (!size)
    return mi::error{"field 'sz' is not a decimal: \"" + std::string(*f.sz) + "\"", mi::errc::bad_number};
  if (size->signum() <= 0)
    return mi::error{"size must be > 0", mi::errc::bad_number};
  t.price = *price;
  t.quantity = *size;

  if (*f.side == "buy")
    t.taker_side = mi::side::buy; // OKX's side is the taker's side
  else if (*f.side == "sell")
    t.taker_side = mi::side::sell;
  else
    return mi::error{"field 'side' must be \"buy\" or \"sell\", not \"" + std::string(*f.side) + "\"",
                     mi::errc::bad_field};

  std::optional<std::int64_t> ms = parse_ms(*f.ts);
  if (!ms || *ms > std::numeric_limits<std::int64_t>::max() / 1'000'000)
    return mi::error{"field 'ts' must be milliseconds (digits), not \"" + std::string(*f.ts) + "\"",
                     mi::errc::bad_timestamp};
  t.ts_ns = *ms * 1'000'000;
  t.recv_ns = recv_ns;
  return t;
}

mi::result<frame_events> codec::impl::decode(std::string_view frame, std::int64_t recv_ns) {
  frame_events out;
  if (!looks_like_object(frame)) {
    const std::string_view text = mi::util::trim(frame, mi::util::json_whitespace);
    if (text == pong_frame) {
      out.what = frame_events::kind::pong;
      return out;
    }
    if (text == ping_frame)
      return out; // our own heartbeat, e.g. echoed in a capture
    return mi::error{"not JSON: expected one object (or the text ping/pong)", mi::errc::malformed_json};
  }
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
    if (key == "event")
      read_string(key, v, top.event, problems);
    else if (key == "msg")
      read_string(key, v, top.msg, problems);
    else if (key == "op")
      read_string(key, v, top.op, problems);
    else if (key == "code") {
      od::json_type type;
      if (auto ec = v.type().get(type))
        return mi::error{not_json(ec), mi::errc::malformed_json};
      std::string_view s;
      if (type == od::json_type::string && !v.get_string().get(s))
        top.code = std::string(s);
      else if (type == od::json_type::number)
        top.code = std::string(mi::util::trim(v.raw_json_token(), mi::util::json_whitespace));
    } else if (key == "arg") {
      if (std::string p = read_arg(v, top, problems); !p.empty())
        return mi::error{p, mi::errc::malformed_json};
    } else if (key == "data") {
      od::json_type type;
      if (auto ec = v.type().get(type))
        return mi::error{not_json(ec), mi::errc::malformed_json};
      if (type != od::json_type::array)
        continue; // not a trades payload
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

  if (top.event) {
    const std::string code = top.code.value_or("?");
    const std::string message = "code " + code + ": " + std::string(top.msg.value_or("(no message)"));
    if (*top.event == "subscribe" || *top.event == "unsubscribe") {
      out.what = frame_events::kind::ack;
      out.channel = std::string(top.channel.value_or(""));
      out.inst_id = std::string(top.inst_id.value_or(""));
    } else if (*top.event == "error") {
      out.what = frame_events::kind::error;
      out.error_message = message;
    } else if (*top.event == "notice") {
      out.what = frame_events::kind::server_notice;
      out.error_message = message;
    }
    return out; // login, channel-conn-count, ...: not ours
  }
  if (!top.channel || (*top.channel != "trades" && *top.channel != "trades-all"))
    return out; // tickers, books, our own requests, unknown messages
  if (!top.has_data)
    return mi::error{"missing field 'data' (an array of trades)", mi::errc::missing_field};

  out.what = frame_events::kind::trades;
  out.trades.reserve(data.size());
  std::vector<std::pair<std::string, std::int64_t>> aggregated; // trade id -> count, only when count > 1
  for (std::size_t i = 0; i < data.size(); ++i) {
    mi::result<mi::trade> t = make_trade(data[i], recv_ns);
    if (!t)
      return mi::error{"data[" + std::to_string(i) + "]: " + t.err().message, t.err().code};
    if (data[i].count && *data[i].count != "1") {
      auto n = parse_ms(*data[i].count); // digits, as OKX sends them
      if (!n || *n < 1)
        return mi::error{"data[" + std::to_string(i) + "]: field 'count' must be a positive integer, not \"" +
                           std::string(*data[i].count) + "\"",
                         mi::errc::bad_number};
      if (*n > 1)
        aggregated.emplace_back(t->trade_id, *n);
    }
    out.trades.push_back(std::move(*t));
  }
  mi::sort_oldest_first(out.trades);
  if (!aggregated.empty()) {
    out.fills.reserve(out.trades.size());
    for (const auto& t : out.trades) {
      auto it =
        std::find_if(aggregated.begin(), aggregated.end(), [&](const auto& a) { return a.first == t.trade_id; });
      out.fills.push_back(it == aggregated.end() ? 1 : it->second);
    }
  }
  return out;
}

codec::codec() : impl_(std::make_unique<impl>()) {}
codec::~codec() = default;
codec::codec(codec&&) noexcept = default;
codec& codec::operator=(codec&&) noexcept = default;

mi::result<frame_events> codec::decode(std::string_view frame, std::int64_t recv_ns) {
  return impl_->decode(frame, recv_ns);
}

std::vector<std::string> subscribe_requests(const std::vector<std::string>& inst_ids, std::string_view channel,
                                            std::size_t max_bytes) {
  return requests("subscribe", inst_ids, channel, max_bytes);
}

std::vector<std::string> unsubscribe_requests(const std::vector<std::string>& inst_ids, std::string_view channel,
                                              std::size_t max_bytes) {
  return requests("unsubscribe", inst_ids, channel, max_bytes);
}

heartbeat::heartbeat(std::int64_t idle_ns) : idle_ns_(idle_ns > 0 ? idle_ns : ping_after_idle_ns) {}

void heartbeat::on_received(std::int64_t now_ns) {
  last_received_ns_ = now_ns;
  ping_sent_ns_ = -1;
  started_ = true;
}

bool heartbeat::ping_due(std::int64_t now_ns) {
  if (!started_)
    on_received(now_ns); // the idle period starts with the first look
  if (ping_sent_ns_ >= 0 || now_ns - last_received_ns_ < idle_ns_)
    return false;
  ping_sent_ns_ = now_ns;
  return true;
}

bool heartbeat::timed_out(std::int64_t now_ns) const {
  return ping_sent_ns_ >= 0 && now_ns - ping_sent_ns_ >= idle_ns_;
}

std::string encode_trade_frame(const mi::trade& t) {
  const std::string inst_id = inst_id_of(t.symbol, t.base, t.quote);
  const std::string ms = std::to_string(t.ts_ns >= 0 ? t.ts_ns / 1'000'000 : (t.ts_ns - 999'999) / 1'000'000);
  std::string out;
  out.reserve(256);
  out += R"({"arg":{"channel":"trades","instId":)";
  mi::connectors::text::append_json_string(out, inst_id);
  out += R"(},"data":[{"instId":)";
  mi::connectors::text::append_json_string(out, inst_id);
  out += R"(,"tradeId":)";
  mi::connectors::text::append_json_string(out, t.trade_id);
  out += R"(,"px":)";
  mi::connectors::text::append_json_string(out, t.price.to_string());
  out += R"(,"sz":)";
  mi::connectors::text::append_json_string(out, t.quantity.to_string());
  out += R"(,"side":)";
  out += t.taker_side == mi::side::buy ? R"("buy")" : t.taker_side == mi::side::sell ? R"("sell")" : R"("unknown")";
  out += R"(,"ts":")";
  out += ms;
  out += R"(","count":"1"}]})";
  return out;
}

} // namespace mi::okx
