#include "connectors/alpaca/codec.hpp"

#include <algorithm>
#include <utility>

#include "connectors/alpaca/objects.hpp"
#include "messages/util/civil_time.hpp"
#include "messages/util/json_writer.hpp"

namespace mi::alpaca {

std::optional<std::string> normalize_symbol(std::string_view ticker) {
  if (ticker.empty() || ticker.size() > 16)
    return std::nullopt;
  std::string out;
  out.reserve(ticker.size());
  for (char ch : ticker) {
    if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
      out.push_back(ch);
    else if (ch == '.')
      out.push_back('_');
    else
      return std::nullopt;
  }
  return out;
}

std::string ticker_of(std::string_view symbol) {
  std::string out(symbol);
  std::replace(out.begin(), out.end(), '_', '.');
  return out;
}

std::string trade_id(std::uint64_t id, std::string_view exchange_code) {
  std::string out = std::to_string(id);
  out.push_back('-');
  out.append(exchange_code);
  return out;
}

namespace {
mi::trade amendment_base(const std::string& symbol, const std::string& exchange_code, const std::string& tape,
                         std::int64_t ts_ns, std::int64_t recv_ns) {
  mi::trade t;
  t.exchange = "alpaca";
  t.symbol = symbol;
  t.base = symbol;
  t.quote = "USD";
  t.taker_side = mi::side::unknown;
  t.ts_ns = ts_ns;
  t.recv_ns = recv_ns;
  t.exchange_code = exchange_code;
  t.tape = tape;
  return t;
}
} // namespace

mi::trade amendment_of(const correction& c, std::int64_t recv_ns) {
  auto t = amendment_base(c.symbol, c.exchange_code, c.tape, c.ts_ns, recv_ns);
  t.set_id(c.corrected_trade_id);
  t.price = c.corrected_price;
  t.quantity = c.corrected_size;
  t.conditions = c.corrected_conditions;
  t.amends = c.original_trade_id;
  t.canceled = false;
  return t;
}

mi::trade amendment_of(const cancel& c, std::int64_t recv_ns) {
  auto t = amendment_base(c.symbol, c.exchange_code, c.tape, c.ts_ns, recv_ns);
  t.set_id(c.trade_id + (c.action == "E" ? ":error" : ":cancel"));
  t.price = c.price;
  t.quantity = c.size;
  t.amends = c.trade_id;
  t.canceled = true;
  return t;
}

bool status::halted() const {
  // Alpaca's status codes (CTA letters and UTP digits): H halt, P/5 pause, 2 trading halt, 6 halt (news).
  return status_code == "H" || status_code == "P" || status_code == "2" || status_code == "5" || status_code == "6";
}

bool is_auth_error(int code) {
  using namespace error_code;
  return code == not_authenticated || code == auth_failed || code == auth_timeout ||
         code == connection_limit_exceeded || code == v2_not_enabled || code == insufficient_subscription;
}

namespace {

using detail::field_reader;
using detail::raw_object;

std::string element(std::size_t k) { return "[" + std::to_string(k) + "]"; }

/// The normalized symbol of field S, or a problem.
std::optional<std::string> symbol_of(const raw_object& r, const std::string& where, std::string& problem) {
  if (!r.S) {
    problem = where + (r.is_wrong("S") ? ": field 'S' must be a string" : ": missing field 'S'");
    return std::nullopt;
  }
  auto sym = normalize_symbol(*r.S);
  if (!sym)
    problem = where + ": field 'S' is not a ticker: \"" + std::string(*r.S) + "\"";
  return sym;
}

std::string decode_one(const raw_object& r, std::size_t k, std::int64_t recv_ns, frame_events& out) {
  const std::string where = element(k);
  if (!r.T)
    return where + (r.is_wrong("T") ? ": field 'T' must be a string" : ": missing field 'T'");
  const std::string_view type = *r.T;
  std::string problem;
  if (type == "success" || type == "error" || type == "subscription") {
    control c;
    if (type == "subscription") {
      c.what = control::kind::subscription;
    } else if (type == "error") {
      c.what = control::kind::error;
      if (!r.code)
        return where + ": error without an integer 'code'";
      c.code = static_cast<int>(std::clamp<std::int64_t>(*r.code, -1, 100000));
      c.message = r.msg ? std::string(*r.msg) : std::string();
    } else {
      c.message = r.msg ? std::string(*r.msg) : std::string();
      c.what = c.message == "connected"       ? control::kind::connected
               : c.message == "authenticated" ? control::kind::authenticated
                                              : control::kind::other_success;
    }
    out.controls.push_back(std::move(c));
    return {};
  }
  if (type.size() != 1 || std::string_view("tqbudcxs").find(type[0]) == std::string_view::npos) {
    ++out.ignored; // LULD "l", imbalance "i", and whatever Alpaca adds
    return {};
  }
  auto sym = symbol_of(r, where, problem);
  if (!sym)
    return problem;
  field_reader f(r, where);
  switch (type[0]) {
  case 't': {
    auto t = detail::to_trade(r, *sym, where, recv_ns);
    if (!t)
      return t.err().message;
    out.trades.push_back(std::move(*t));
    return {};
  }
  case 'q': {
    quote q;
    q.symbol = *sym;
    q.bid_exchange = f.opt_str("bx", r.bx);
    q.ask_exchange = f.opt_str("ax", r.ax);
    q.bid_price = f.dec("bp", r.bp, true);
    q.bid_size = f.dec("bs", r.bs, true);
    q.ask_price = f.dec("ap", r.ap, true);
    q.ask_size = f.dec("as", r.as, true);
    q.ts_ns = f.time("t", r.t);
    q.conditions = f.list("c", r.c);
    q.tape = f.opt_str("z", r.z);
    if (!f.ok())
      return f.problem();
    out.quotes.push_back(std::move(q));
    return {};
  }
  case 'b':
  case 'u':
  case 'd': {
    auto b = detail::to_bar(f, r,
                            type[0] == 'b'   ? bar::kind::minute
                            : type[0] == 'u' ? bar::kind::updated
                                             : bar::kind::daily,
                            *sym);
    if (!f.ok())
      return f.problem();
    out.bars.push_back(std::move(b));
    return {};
  }
  case 'c': {
    correction c;
    c.symbol = *sym;
    c.exchange_code = std::string(f.str("x", r.x));
    const auto oi = f.u64("oi", r.oi);
    const auto ci = f.u64("ci", r.ci);
    c.original_price = f.dec("op", r.op);
    c.original_size = f.dec("os", r.os);
    c.original_conditions = f.list("oc", r.oc);
    c.corrected_price = f.dec("cp", r.cp);
    c.corrected_size = f.dec("cs", r.cs);
    c.corrected_conditions = f.list("cc", r.cc);
    c.tape = f.opt_str("z", r.z);
    c.ts_ns = f.time("t", r.t);
    if (!f.ok())
      return f.problem();
    c.original_trade_id = trade_id(oi, c.exchange_code);
    c.corrected_trade_id = trade_id(ci, c.exchange_code);
    out.corrections.push_back(std::move(c));
    return {};
  }
  case 'x': {
    cancel c;
    c.symbol = *sym;
    const auto id = f.u64("i", r.i);
    c.exchange_code = std::string(f.str("x", r.x));
    c.price = f.dec("p", r.p);
    c.size = f.dec("s", r.s);
    c.action = std::string(f.str("a", r.a));
    c.tape = f.opt_str("z", r.z);
    c.ts_ns = f.time("t", r.t);
    if (!f.ok())
      return f.problem();
    c.trade_id = trade_id(id, c.exchange_code);
    out.cancels.push_back(std::move(c));
    return {};
  }
  default: { // 's'
    status s;
    s.symbol = *sym;
    s.status_code = std::string(f.str("sc", r.sc));
    s.status_message = f.opt_str("sm", r.sm);
    s.reason_code = f.opt_str("rc", r.rc);
    s.reason_message = f.opt_str("rm", r.rm);
    s.tape = f.opt_str("z", r.z);
    s.ts_ns = f.time("t", r.t);
    if (!f.ok())
      return f.problem();
    out.statuses.push_back(std::move(s));
    return {};
  }
  }
}

} // namespace

struct codec::impl {
  detail::od::parser parser;
  std::string buffer; ///< the frame plus SIMDJSON_PADDING bytes, reused

  mi::result<frame_events> decode(std::string_view frame, std::int64_t recv_ns) {
    buffer.assign(frame.data(), frame.size());
    buffer.append(simdjson::SIMDJSON_PADDING, '\0');
    detail::od::document doc;
    if (auto ec = parser.iterate(buffer.data(), frame.size(), buffer.size()).get(doc))
      return mi::error{detail::not_json(ec)};
    detail::od::array root;
    if (auto ec = doc.get_array().get(root))
      return mi::error{ec == simdjson::INCORRECT_TYPE ? std::string("not a JSON array of messages")
                                                      : detail::not_json(ec)};
    frame_events out;
    std::size_t k = 0;
    for (auto el : root) {
      detail::od::value v;
      if (auto ec = el.get(v))
        return mi::error{detail::not_json(ec)};
      raw_object r;
      bool wrong = false;
      if (auto e = detail::read_object(v, r, wrong); !e.empty())
        return mi::error{std::move(e)};
      if (wrong)
        return mi::error{element(k) + ": must be an object"};
      if (auto e = decode_one(r, k, recv_ns, out); !e.empty())
        return mi::error{std::move(e)};
      ++k;
    }
    mi::sort_oldest_first(out.trades);
    return out;
  }
};

codec::codec() : impl_(std::make_unique<impl>()) {}
codec::~codec() = default;
codec::codec(codec&&) noexcept = default;
codec& codec::operator=(codec&&) noexcept = default;

mi::result<frame_events> codec::decode(std::string_view frame, std::int64_t recv_ns) {
  try {
    return impl_->decode(frame, recv_ns);
  } catch (const std::exception& e) { // allocation failure: a frame never takes the connection down
    return mi::error{std::string("decode failed: ") + e.what()};
  }
}

std::string auth_request(std::string_view key_id, std::string_view secret_key) {
  std::string out = R"({"action":"auth","key":)";
  mi::util::append_json_string(out, key_id);
  out += R"(,"secret":)";
  mi::util::append_json_string(out, secret_key);
  out += '}';
  return out;
}

std::string subscribe_request(const std::vector<std::string>& tickers, const channels& ch, bool unsubscribe) {
  std::string list = "[";
  for (std::size_t i = 0; i < tickers.size(); ++i) {
    if (i != 0)
      list += ',';
    mi::util::append_json_string(list, tickers[i]);
  }
  list += ']';
  std::string out = unsubscribe ? R"({"action":"unsubscribe")" : R"({"action":"subscribe")";
  auto add = [&](bool on, std::string_view name) {
    if (!on)
      return;
    out += ",\"";
    out += name;
    out += "\":";
    out += list;
  };
  add(ch.trades, "trades");
  add(ch.quotes, "quotes");
  add(ch.bars, "bars");
  add(ch.updated_bars, "updatedBars");
  add(ch.daily_bars, "dailyBars");
  add(ch.statuses, "statuses");
  out += '}';
  return out;
}

std::string encode_trade_object(const mi::trade& t, std::uint64_t numeric_id, std::string_view exchange_code) {
  std::string out = R"({"T":"t","S":)";
  mi::util::append_json_string(out, ticker_of(t.symbol));
  out += ",\"i\":" + std::to_string(numeric_id) + ",\"x\":";
  mi::util::append_json_string(out, exchange_code);
  out += ",\"p\":" + t.price.to_string() + ",\"s\":" + t.quantity.to_string() + ",\"c\":[";
  for (std::size_t i = 0; i < t.conditions.size(); ++i) {
    if (i != 0)
      out += ',';
    mi::util::append_json_string(out, t.conditions[i]);
  }
  out += "],\"z\":";
  mi::util::append_json_string(out, t.tape.empty() ? std::string_view("C") : std::string_view(t.tape));
  out += ",\"t\":\"" + mi::util::rfc3339(t.ts_ns) + "\"}";
  return out;
}

} // namespace mi::alpaca
