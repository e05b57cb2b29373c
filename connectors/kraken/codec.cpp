#include "connectors/kraken/codec.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include <simdjson.h>

#include "connectors/json_fields.hpp"
#include "connectors/json_text.hpp"
#include "connectors/time_text.hpp"
#include "messages/decimal.hpp"
#include "messages/util/civil_time.hpp"

namespace mi::kraken {
namespace {

namespace od = simdjson::ondemand;
using mi::connectors::json::read_text;

std::string json_error(simdjson::error_code ec) { return std::string("not JSON: ") + simdjson::error_message(ec); }

void note(std::string& problem, std::string_view what) {
  if (problem.empty())
    problem = std::string(what);
}

/// One v2 trade object (data[i]); string_views point into the parser until the next iterate().
struct raw_trade {
  std::optional<std::string_view> symbol, side, price, qty, timestamp;
  std::optional<std::uint64_t> trade_id;
  std::string problem; ///< first field of a wrong type; reported only if the frame is a trade frame
};

/// Top-level fields of a v2 object or a v1 event object.
struct fields {
  std::optional<std::string_view> channel, method, event, status, error, error_message;
  std::optional<bool> success;
  std::vector<raw_trade> data;
  std::string data_problem;
};

void read_string(std::string_view key, od::value& v, std::optional<std::string_view>& out, std::string& problem) {
  std::string_view s;
  if (v.get_string().get(s))
    note(problem, "field '" + std::string(key) + "' must be a string");
  else
    out = s;
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
    if (key == "symbol") {
      read_string(key, value, t.symbol, t.problem);
    } else if (key == "side") {
      read_string(key, value, t.side, t.problem);
    } else if (key == "timestamp") {
      read_string(key, value, t.timestamp, t.problem);
    } else if (key == "price" || key == "qty") {
      std::optional<std::string_view> text = read_text(value);
      if (!text)
        note(t.problem, "field '" + std::string(key) + "' must be a number");
      (key == "price" ? t.price : t.qty) = text;
    } else if (key == "trade_id") {
      std::uint64_t id = 0;
      if (value.get_uint64().get(id))
        note(t.problem, "field 'trade_id' must be a non-negative integer");
      else
        t.trade_id = id;
    }
  }
  return {};
}

std::string read_object(od::object& root, fields& f) {
  std::string ignored; // wrong types of fields that only matter for the frame kinds that need them
  for (auto field : root) {
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key))
      return json_error(ec);
    auto v_in = field.value(); // read in place: copying the value out stalls store forwarding
    if (auto ec = v_in.error())
      return json_error(ec);
    od::value& v = v_in.value_unsafe();
    if (key == "channel") {
      read_string(key, v, f.channel, ignored);
    } else if (key == "method") {
      read_string(key, v, f.method, ignored);
    } else if (key == "event") {
      read_string(key, v, f.event, ignored);
    } else if (key == "status") {
      read_string(key, v, f.status, ignored); // v1 subscriptionStatus/systemStatus
    } else if (key == "error") {
      read_string(key, v, f.error, ignored);
    } else if (key == "errorMessage") {
      read_string(key, v, f.error_message, ignored);
    } else if (key == "success") {
      bool b = false;
      if (!v.get_bool().get(b))
        f.success = b;
    } else if (key == "data") {
      od::array data;
      if (v.get_array().get(data)) {
        f.data_problem = "field 'data' must be an array";
        continue;
      }
      for (auto element : data) {
        od::value ev;
        if (auto ec = element.get(ev))
          return json_error(ec);
        raw_trade& t = f.data.emplace_back();
        if (std::string e = read_trade_object(ev, t); !e.empty())
          return e;
      }
    }
  }
  return {};
}

/// One v1 trade row: [price, volume, time, side, ordType, misc], all strings.
struct raw_row {
  std::optional<std::string_view> price, volume, time, side;
  std::string problem;
};

/// A v1 array frame: [channelID, data..., channelName, pair]. Only arrays of rows are read as trade data.
struct v1_frame {
  std::vector<std::string_view> strings; ///< the string elements, in order: channel name and pair at the end
  std::vector<raw_row> rows;
  std::string problem;
};

std::string read_row(od::value& v, raw_row& r) {
  od::array row;
  if (v.get_array().get(row)) {
    r.problem = "must be an array";
    return {};
  }
  std::size_t i = 0;
  for (auto element : row) {
    od::value value;
    if (auto ec = element.get(value))
      return json_error(ec);
    if (i < 4) {
      std::optional<std::string_view> text = read_text(value);
      if (!text)
        note(r.problem, "element " + std::to_string(i) + " must be a string");
      (i == 0 ? r.price : i == 1 ? r.volume : i == 2 ? r.time : r.side) = text;
    }
    ++i; // ordType, misc and anything newer are not needed
  }
  if (i < 4)
    note(r.problem, "must have [price, volume, time, side, ...]");
  return {};
}

std::string read_v1(od::array& root, v1_frame& f) {
  bool have_rows = false;
  for (auto element : root) {
    od::value v;
    if (auto ec = element.get(v))
      return json_error(ec);
    od::json_type type;
    if (auto ec = v.type().get(type))
      return json_error(ec);
    if (type == od::json_type::string) {
      std::string_view s;
      if (auto ec = v.get_string().get(s))
        return json_error(ec);
      f.strings.push_back(s);
    } else if (type == od::json_type::array && !have_rows) {
      have_rows = true;
      od::array rows;
      if (auto ec = v.get_array().get(rows))
        return json_error(ec);
      for (auto row : rows) {
        od::value rv;
        if (auto ec = row.get(rv))
          return json_error(ec);
        raw_row& r = f.rows.emplace_back();
        if (std::string e = read_row(rv, r); !e.empty())
          return e;
      }
    }
    // channelID (number), book/ticker objects, a second array: not needed, skipped by the iterator
  }
  if (!have_rows)
    f.problem = "v1 trade frame without an array of trades";
  return {};
}

/// Checks and converts the common parts of both versions.
mi::result<mi::trade> make_trade(std::string_view pair, std::string_view price_text, std::string_view qty_text,
                                 std::string_view qty_key, std::int64_t ts_ns, mi::side taker, std::int64_t recv_ns) {
  mi::result<instrument> inst = from_wire(pair);
  if (!inst)
    return mi::error{inst.err().message, mi::errc::unknown_symbol};
  std::optional<mi::decimal> price = mi::decimal::parse(price_text);
  if (!price)
    return mi::error{"price is not a decimal: \"" + std::string(price_text) + "\"", mi::errc::bad_number};
  if (price->signum() <= 0)
    return mi::error{"price must be > 0", mi::errc::bad_number};
  std::optional<mi::decimal> qty = mi::decimal::parse(qty_text);
  if (!qty)
    return mi::error{std::string(qty_key) + " is not a decimal: \"" + std::string(qty_text) + "\"",
                     mi::errc::bad_number};
  if (qty->signum() <= 0)
    return mi::error{std::string(qty_key) + " must be > 0", mi::errc::bad_number};
  mi::trade t;
  t.exchange = "kraken";
  t.symbol = std::move(inst->symbol);
  t.base = std::move(inst->base);
  t.quote = std::move(inst->quote);
  t.price = *price;
  t.quantity = *qty;
  t.taker_side = taker;
  t.ts_ns = ts_ns;
  t.recv_ns = recv_ns;
  return t;
}

mi::result<mi::trade> make_v2_trade(const raw_trade& r, std::int64_t recv_ns) {
  if (!r.problem.empty())
    return mi::error{r.problem, mi::errc::bad_field};
  for (auto [key, present] : {std::pair<std::string_view, bool>{"symbol", r.symbol.has_value()},
                              {"side", r.side.has_value()},
                              {"price", r.price.has_value()},
                              {"qty", r.qty.has_value()},
                              {"trade_id", r.trade_id.has_value()},
                              {"timestamp", r.timestamp.has_value()}})
    if (!present)
      return mi::error{"missing field '" + std::string(key) + "'", mi::errc::missing_field};
  mi::side taker = mi::side::unknown;
  if (*r.side == "buy")
    taker = mi::side::buy;
  else if (*r.side == "sell")
    taker = mi::side::sell;
  else
    return mi::error{"field 'side' must be buy or sell: \"" + std::string(*r.side) + "\"", mi::errc::bad_field};
  std::optional<std::int64_t> ts = mi::connectors::text::parse_rfc3339_ns(*r.timestamp);
  if (!ts)
    return mi::error{"field 'timestamp' is not an RFC 3339 time: \"" + std::string(*r.timestamp) + "\"",
                     mi::errc::bad_timestamp};
  mi::result<mi::trade> t = make_trade(*r.symbol, *r.price, *r.qty, "qty", *ts, taker, recv_ns);
  if (t)
    t->set_id(*r.trade_id);
  return t;
}

mi::result<mi::trade> make_v1_trade(const raw_row& r, std::string_view pair, std::size_t position,
                                    std::int64_t recv_ns) {
  if (!r.problem.empty())
    return mi::error{r.problem, mi::errc::bad_field};
  mi::side taker = mi::side::unknown;
  if (*r.side == "b")
    taker = mi::side::buy;
  else if (*r.side == "s")
    taker = mi::side::sell;
  else
    return mi::error{"side must be \"b\" or \"s\": \"" + std::string(*r.side) + "\"", mi::errc::bad_field};
  std::optional<std::int64_t> ts = mi::connectors::text::parse_epoch_seconds_ns(*r.time);
  if (!ts)
    return mi::error{"time is not \"seconds.fraction\": \"" + std::string(*r.time) + "\"", mi::errc::bad_timestamp};
  mi::result<mi::trade> t = make_trade(pair, *r.price, *r.volume, "volume", *ts, taker, recv_ns);
  if (!t)
    return t;
  // No id on the wire: see codec's documentation for why this is unique and stable.
  t->trade_id = std::to_string(*ts) + "-" + std::string(*r.side) + "-" + t->price.to_string() + "-" +
                t->quantity.to_string() + "-" + std::to_string(position);
  return t;
}

void sort_oldest_first(std::vector<mi::trade>& trades, bool by_id) {
  std::stable_sort(trades.begin(), trades.end(), [by_id](const mi::trade& x, const mi::trade& y) {
    if (x.ts_ns != y.ts_ns)
      return x.ts_ns < y.ts_ns;
    return by_id && mi::compare_trade_ids(x.trade_id, y.trade_id) < 0;
  });
}

char first_significant(std::string_view frame) {
  const auto first = frame.find_first_not_of(" \t\r\n");
  const auto last = frame.find_last_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return 0;
  if ((frame[first] == '{' && frame[last] == '}') || (frame[first] == '[' && frame[last] == ']'))
    return frame[first];
  return 0;
}

} // namespace

struct codec::impl {
  od::parser parser;
  std::string buffer; ///< the frame plus SIMDJSON_PADDING bytes, reused

  mi::result<frame_events> decode(std::string_view frame, std::int64_t recv_ns);
  mi::result<frame_events> decode_v1(od::document& doc, std::int64_t recv_ns);
  mi::result<frame_events> decode_object(od::document& doc, std::int64_t recv_ns);
};

mi::result<frame_events> codec::impl::decode(std::string_view frame, std::int64_t recv_ns) {
  const char first = first_significant(frame);
  if (first == 0)
    return mi::error{"not JSON: expected an object or an array", mi::errc::malformed_json};
  buffer.assign(frame.data(), frame.size());
  buffer.append(simdjson::SIMDJSON_PADDING, '\0');
  od::document doc;
  if (auto ec = parser.iterate(buffer.data(), frame.size(), buffer.size()).get(doc))
    return mi::error{json_error(ec), mi::errc::malformed_json};
  return first == '[' ? decode_v1(doc, recv_ns) : decode_object(doc, recv_ns);
}

mi::result<frame_events> codec::impl::decode_v1(od::document& doc, std::int64_t recv_ns) {
  od::array root;
  if (auto ec = doc.get_array().get(root))
    return mi::error{json_error(ec), mi::errc::malformed_json};
  v1_frame f;
  if (std::string e = read_v1(root, f); !e.empty())
    return mi::error{e, mi::errc::malformed_json};
  if (f.strings.empty())
    return mi::error{"v1 frame must be [channelID, data, channelName, pair]", mi::errc::malformed_json};
  frame_events out;
  const std::string_view channel = f.strings.size() >= 2 ? f.strings[f.strings.size() - 2] : f.strings.back();
  if (channel != "trade")
    return out; // book-*, ticker, spread, ohlc-*, ownTrades, ...
  if (f.strings.size() < 2)
    return mi::error{"v1 trade frame without a pair", mi::errc::missing_field};
  if (!f.problem.empty())
    return mi::error{f.problem, mi::errc::bad_field};
  const std::string_view pair = f.strings.back();
  out.what = frame_events::kind::trades;
  out.trades.reserve(f.rows.size());
  for (std::size_t i = 0; i < f.rows.size(); ++i) {
    mi::result<mi::trade> t = make_v1_trade(f.rows[i], pair, i, recv_ns);
    if (!t)
      return mi::error{"trade " + std::to_string(i) + ": " + t.err().message, t.err().code};
    out.trades.push_back(std::move(*t));
  }
  // Rows come oldest first; within one microsecond the wire order stands (the synthesized ids do not order).
  sort_oldest_first(out.trades, false);
  return out;
}

mi::result<frame_events> codec::impl::decode_object(od::document& doc, std::int64_t recv_ns) {
  od::object root;
  if (auto ec = doc.get_object().get(root))
    return mi::error{json_error(ec), mi::errc::malformed_json};
  fields f;
  if (std::string e = read_object(root, f); !e.empty())
    return mi::error{e, mi::errc::malformed_json};
  frame_events out;
  if (f.channel) { // v2 channel message
    if (*f.channel == "trade") {
      if (!f.data_problem.empty())
        return mi::error{f.data_problem, mi::errc::bad_field};
      out.what = frame_events::kind::trades;
      out.trades.reserve(f.data.size());
      for (std::size_t i = 0; i < f.data.size(); ++i) {
        mi::result<mi::trade> t = make_v2_trade(f.data[i], recv_ns);
        if (!t)
          return mi::error{"data[" + std::to_string(i) + "]: " + t.err().message, t.err().code};
        out.trades.push_back(std::move(*t));
      }
      sort_oldest_first(out.trades, true);
    } else if (*f.channel == "heartbeat") {
      out.what = frame_events::kind::heartbeat;
    }
    return out; // status, book, ticker, ...
  }
  if (f.method) { // v2 method response (or our own request, which has no "success")
    if (f.success == false) {
      out.what = frame_events::kind::error;
      out.error_message = std::string(f.error.value_or("(no message)"));
    } else if (*f.method == "pong") {
      out.what = frame_events::kind::heartbeat;
    } else if (f.success == true && (*f.method == "subscribe" || *f.method == "unsubscribe")) {
      out.what = frame_events::kind::ack;
    }
    return out;
  }
  if (f.event) { // v1 event
    if (*f.event == "heartbeat" || *f.event == "pong") {
      out.what = frame_events::kind::heartbeat;
    } else if (*f.event == "subscriptionStatus") {
      if (f.status == "error") {
        out.what = frame_events::kind::error;
        out.error_message = std::string(f.error_message.value_or("(no message)"));
      } else {
        out.what = frame_events::kind::ack;
      }
    } else if (*f.event == "error") {
      out.what = frame_events::kind::error;
      out.error_message = std::string(f.error_message.value_or("(no message)"));
    }
    return out; // systemStatus, subscribe, ping
  }
  if (f.error) { // a v2 error without a method
    out.what = frame_events::kind::error;
    out.error_message = std::string(*f.error);
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

std::string subscribe_request(const std::vector<std::string>& symbols) {
  std::string out = R"({"method":"subscribe","params":{"channel":"trade","symbol":)";
  mi::connectors::text::append_json_string_array(out, symbols);
  out += "}}";
  return out;
}

std::string unsubscribe_request(const std::vector<std::string>& symbols) {
  std::string out = R"({"method":"unsubscribe","params":{"channel":"trade","symbol":)";
  mi::connectors::text::append_json_string_array(out, symbols);
  out += "}}";
  return out;
}

std::string v1_subscribe_request(const std::vector<std::string>& v1_pairs) {
  std::string out = R"({"event":"subscribe","pair":)";
  mi::connectors::text::append_json_string_array(out, v1_pairs);
  out += R"(,"subscription":{"name":"trade"}})";
  return out;
}

std::string encode_trade_frame(const mi::trade& t) {
  const bool numeric_id =
    !t.trade_id.empty() && t.trade_id.size() <= 19 &&
    std::all_of(t.trade_id.begin(), t.trade_id.end(), [](char c) { return c >= '0' && c <= '9'; });
  std::string out;
  out.reserve(256);
  out += R"({"channel":"trade","type":"update","data":[{"symbol":)";
  mi::connectors::text::append_json_string(out, t.base + "/" + t.quote);
  out += R"(,"side":)";
  out += t.taker_side == mi::side::buy ? R"("buy")" : t.taker_side == mi::side::sell ? R"("sell")" : R"("unknown")";
  out += R"(,"price":)";
  out += t.price.to_string(); // a JSON number, as Kraken sends it
  out += R"(,"qty":)";
  out += t.quantity.to_string();
  out += R"(,"ord_type":"market","trade_id":)";
  out += numeric_id ? t.trade_id : std::string("0");
  out += R"(,"timestamp":)";
  mi::connectors::text::append_json_string(out, mi::util::rfc3339(t.ts_ns));
  out += "}]}";
  return out;
}

} // namespace mi::kraken
