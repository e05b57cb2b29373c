#include "gateways/push/push_protocol.hpp"

#include <algorithm>
#include <unordered_set>

#include <boost/json.hpp>

#include "messages/util/json_writer.hpp"
#include "messages/util/text.hpp"

namespace mi::gw {
namespace {

namespace json = boost::json;

mi::error make_error(std::string_view code, std::string_view msg) {
  std::string m;
  m.reserve(code.size() + 2 + msg.size());
  m.append(code).append(": ").append(msg);
  return mi::error{std::move(m)};
}

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool is_token(std::string_view t) { return !t.empty() && std::all_of(t.begin(), t.end(), is_token_char); }

bool is_lower_token(std::string_view t) {
  return is_token(t) && std::none_of(t.begin(), t.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

std::vector<std::string_view> split_dots(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto dot = s.find('.', start);
    if (dot == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, dot - start));
    start = dot + 1;
  }
}

using mi::util::append_json_string;

std::string channels_reply(std::string_view op, const std::vector<std::string>& channels) {
  std::string out = R"({"op":")";
  out.append(op).append(R"(","channels":[)");
  for (std::size_t i = 0; i < channels.size(); ++i) {
    if (i != 0)
      out += ',';
    append_json_string(out, channels[i]);
  }
  out += "]}";
  return out;
}

// Text of a client-supplied value for error messages, bounded so an error never echoes a huge input.
std::string shown(std::string_view s) {
  constexpr std::size_t max_shown = 64;
  if (s.size() <= max_shown)
    return std::string{s};
  std::size_t cut = max_shown;
  // Never split a UTF-8 sequence: back up over continuation bytes (10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0U) == 0x80U)
    --cut;
  return std::string{s.substr(0, cut)} + "...";
}

mi::result<client_request> parse_channels(const json::object& o, client_request req, std::size_t max_channels) {
  const json::value* v = o.if_contains("channels");
  if (v == nullptr)
    return make_error(push_error::bad_json, "\"channels\" is missing");
  const json::array* arr = v->if_array();
  if (arr == nullptr)
    return make_error(push_error::bad_json, "\"channels\" must be an array of strings");
  if (arr->empty())
    return make_error(push_error::bad_channel, "\"channels\" must not be empty");
  if (arr->size() > max_channels)
    return make_error(push_error::too_many_channels, "at most " + std::to_string(max_channels) +
                                                       " channels per client, got " + std::to_string(arr->size()));
  std::unordered_set<std::string_view> seen;
  req.channels.reserve(arr->size());
  for (const json::value& c : *arr) {
    const json::string* s = c.if_string();
    if (s == nullptr)
      return make_error(push_error::bad_channel, "every channel must be a string");
    std::string_view name{s->data(), s->size()};
    if (!is_valid_channel_or_pattern(name))
      return make_error(
        push_error::bad_channel,
        "invalid channel \"" + shown(name) +
          "\": expected kline.{exchange}.{symbol}.{interval}, trade.{exchange}.{symbol}, "
          "book.{exchange}.{symbol}, bbo.{exchange}.{symbol}, quote.{venue}.{symbol} or status.{venue}.{symbol} "
          "(`*` for one token, not in trade, quote and status)");
    if (seen.insert(name).second)
      req.channels.emplace_back(name);
  }
  return req;
}

// "since": {"<channel>": <sequence>, ...}; every channel one of the request's, concrete and resumable.
mi::result<client_request> parse_since(const json::object& o, client_request req) {
  if (auto* snap = o.if_contains("snapshot"); snap != nullptr && !snap->is_null()) {
    if (!snap->is_bool())
      return make_error(push_error::bad_json, "\"snapshot\" must be true or false");
    req.snapshot = snap->get_bool();
  }
  const json::value* v = o.if_contains("since");
  if (v == nullptr || v->is_null())
    return req;
  const json::object* since = v->if_object();
  if (since == nullptr)
    return make_error(push_error::bad_since, "\"since\" must be an object of channel: sequence");
  for (const auto& [key, value] : *since) {
    std::string_view channel{key.data(), key.size()};
    if (std::find(req.channels.begin(), req.channels.end(), channel) == req.channels.end())
      return make_error(push_error::bad_since, "\"since\" names \"" + shown(channel) + "\", not in \"channels\"");
    const auto kind = kind_of(channel);
    const bool resumable = kind && std::any_of(std::begin(channel_kinds), std::end(channel_kinds),
                                               [&](auto& k) { return k.kind == *kind && k.resumable; });
    if (!resumable || is_pattern(channel))
      return make_error(push_error::bad_since,
                        "\"" + shown(channel) + "\" cannot be resumed: only concrete kline and trade channels can");
    std::uint64_t seq = 0;
    if (value.is_uint64())
      seq = value.get_uint64();
    else if (value.is_int64() && value.get_int64() >= 0)
      seq = static_cast<std::uint64_t>(value.get_int64());
    else
      return make_error(push_error::bad_since,
                        "the sequence of \"" + shown(channel) + "\" must be a non-negative integer");
    req.since.emplace_back(std::string{channel}, seq);
  }
  return req;
}

const channel_kind_info* kind_info(std::string_view first_token) {
  for (const auto& k : channel_kinds)
    if (k.name == first_token)
      return &k;
  return nullptr;
}

// Channel (`allow_star` false) or pattern validation over the kind table.
bool valid_channel(std::string_view channel, bool allow_star) {
  if (channel.empty() || channel.size() > max_channel_length)
    return false;
  auto t = split_dots(channel);
  const auto* k = kind_info(t[0]);
  if (k != nullptr && k->kind == channel_kind::doc) {
    if (t.size() == 2)
      return is_lower_token(t[1]) && t[1] != "symbol";
    return t.size() >= 3 && t[1] == "symbol" &&
           std::all_of(t.begin() + 2, t.end(), [](std::string_view x) { return is_token(x); });
  }
  if (k == nullptr || t.size() != k->tokens + 1)
    return false;
  for (std::size_t i = 1; i < t.size(); ++i) {
    if (t[i] == "*") {
      if (!allow_star || !k->wildcard)
        return false;
      continue;
    }
    if (i == 1 ? !is_lower_token(t[i]) : !is_token(t[i]))
      return false;
  }
  return true;
}

} // namespace

mi::result<client_request> parse_client_message(std::string_view text, std::size_t max_channels,
                                                std::size_t max_message_bytes) {
  if (text.size() > max_message_bytes)
    return make_error(push_error::message_too_large, "message of " + std::to_string(text.size()) + " bytes, limit " +
                                                       std::to_string(max_message_bytes));
  boost::system::error_code ec;
  json::value doc = json::parse(json::string_view{text.data(), text.size()}, ec);
  if (ec)
    return make_error(push_error::bad_json, "not valid JSON: " + ec.message());
  const json::object* o = doc.if_object();
  if (o == nullptr)
    return make_error(push_error::bad_json, "expected a JSON object");

  const json::value* opv = o->if_contains("op");
  if (opv == nullptr)
    return make_error(push_error::bad_op, "\"op\" is missing");
  const json::string* ops = opv->if_string();
  if (ops == nullptr)
    return make_error(push_error::bad_op, "\"op\" must be a string");
  std::string_view op{ops->data(), ops->size()};

  client_request req;
  if (op == "subscribe") {
    req.what = client_request::op::subscribe;
    auto r = parse_channels(*o, std::move(req), max_channels);
    if (!r)
      return r;
    return parse_since(*o, std::move(*r));
  }
  if (op == "list") {
    req.what = client_request::op::list;
    return req;
  }
  if (op == "unsubscribe") {
    req.what = client_request::op::unsubscribe;
    return parse_channels(*o, std::move(req), max_channels);
  }
  if (op == "ping") {
    req.what = client_request::op::ping;
    if (const json::value* idv = o->if_contains("id"); idv != nullptr && !idv->is_null()) {
      const json::string* id = idv->if_string();
      if (id == nullptr)
        return make_error(push_error::bad_json, "\"id\" must be a string");
      if (id->size() > max_ping_id_length)
        return make_error(push_error::bad_json,
                          "\"id\" longer than " + std::to_string(max_ping_id_length) + " characters");
      req.id = std::string{id->data(), id->size()};
    }
    return req;
  }
  return make_error(push_error::bad_op,
                    "unknown op \"" + shown(op) + "\": expected subscribe, unsubscribe, list or ping");
}

push_error_parts split_push_error(const mi::error& e) {
  std::string_view m = e.message;
  auto colon = m.find(": ");
  if (colon != std::string_view::npos) {
    std::string_view code = m.substr(0, colon);
    if (is_lower_token(code))
      return {std::string{code}, std::string{m.substr(colon + 2)}};
  }
  return {std::string{push_error::bad_json}, std::string{m}};
}

std::string reply_subscribed(const std::vector<std::string>& channels) {
  return channels_reply("subscribed", channels);
}

std::string reply_unsubscribed(const std::vector<std::string>& channels) {
  return channels_reply("unsubscribed", channels);
}

std::string reply_list(const std::vector<std::string>& channels) { return channels_reply("list", channels); }

std::string reply_gap(std::string_view channel, std::uint64_t from, std::uint64_t to) {
  std::string out = R"({"op":"gap","channel":)";
  append_json_string(out, channel);
  out.append(R"(,"from":)").append(std::to_string(from)).append(R"(,"to":)").append(std::to_string(to)) += '}';
  return out;
}

std::string reply_pong(const std::optional<std::string>& id) {
  if (!id)
    return R"({"op":"pong"})";
  std::string out = R"({"op":"pong","id":)";
  append_json_string(out, *id);
  out += '}';
  return out;
}

std::string reply_error(std::string_view code, std::string_view msg) {
  std::string out = R"({"op":"error","code":)";
  append_json_string(out, code);
  out += R"(,"msg":)";
  append_json_string(out, msg);
  out += '}';
  return out;
}

std::string reply_error(const mi::error& e) {
  auto parts = split_push_error(e);
  return reply_error(parts.code, parts.msg);
}

std::optional<channel_kind> kind_of(std::string_view channel) {
  const auto* k = kind_info(channel.substr(0, channel.find('.')));
  return k ? std::optional<channel_kind>{k->kind} : std::nullopt;
}

bool is_valid_channel(std::string_view channel) { return valid_channel(channel, false); }

bool is_valid_channel_or_pattern(std::string_view channel) { return valid_channel(channel, true); }

bool is_pattern(std::string_view channel) {
  for (auto t : split_dots(channel))
    if (t == "*")
      return true;
  return false;
}

bool channel_matches(std::string_view pattern, std::string_view channel) {
  for (;;) {
    const auto pd = pattern.find('.');
    const auto cd = channel.find('.');
    const auto pt = pattern.substr(0, pd);
    const auto ct = channel.substr(0, cd);
    if (pt != "*" && pt != ct)
      return false;
    if (pd == std::string_view::npos || cd == std::string_view::npos)
      return pd == cd;
    pattern.remove_prefix(pd + 1);
    channel.remove_prefix(cd + 1);
  }
}

std::vector<std::string> channels_for_document(std::string_view source, const std::vector<std::string>& symbols) {
  std::vector<std::string> out;
  if (std::string c = "doc." + std::string(source); is_valid_channel(c))
    out.push_back(std::move(c));
  for (const auto& s : symbols)
    if (std::string c = "doc.symbol." + s; is_valid_channel(c))
      out.push_back(std::move(c));
  return out;
}

std::string channel_for_book_subject(std::string_view subject) {
  for (auto [prefix, kind] : {std::pair<std::string_view, std::string_view>{"market.book.", "book."},
                              std::pair<std::string_view, std::string_view>{"market.bbo.", "bbo."}}) {
    if (!subject.starts_with(prefix))
      continue;
    std::string channel = std::string(kind) + std::string{subject.substr(prefix.size())};
    return is_valid_channel(channel) ? channel : std::string{};
  }
  return {};
}

std::string channel_for_quote_subject(std::string_view subject) {
  constexpr std::string_view prefix = "market.quote.";
  if (!subject.starts_with(prefix))
    return {};
  std::string channel = "quote." + std::string{subject.substr(prefix.size())};
  return is_valid_channel(channel) ? channel : std::string{};
}

std::string channel_for_status_subject(std::string_view subject) {
  constexpr std::string_view prefix = "market.status.";
  if (!subject.starts_with(prefix))
    return {};
  std::string channel = "status." + std::string{subject.substr(prefix.size())};
  return is_valid_channel(channel) ? channel : std::string{};
}

std::string channel_for_kline_subject(std::string_view subject) {
  // Finals from MARKET_KLINE and live partials from core NATS feed the same channel.
  std::string_view rest;
  if (subject.starts_with("market.kline."))
    rest = subject.substr(std::string_view("market.kline.").size());
  else if (subject.starts_with("market.partial."))
    rest = subject.substr(std::string_view("market.partial.").size());
  else
    return {};
  std::string channel = "kline." + std::string{rest};
  return is_valid_channel(channel) ? channel : std::string{};
}

std::string channel_for_trade_subject(std::string_view subject) {
  constexpr std::string_view prefix = "market.raw.";
  if (!subject.starts_with(prefix))
    return {};
  std::string channel = "trade." + std::string{subject.substr(prefix.size())};
  return is_valid_channel(channel) ? channel : std::string{};
}

std::string trade_subject_for_channel(std::string_view channel) {
  constexpr std::string_view prefix = "trade.";
  if (!channel.starts_with(prefix) || !is_valid_channel(channel))
    return {};
  return "market.raw." + std::string{channel.substr(prefix.size())};
}

std::string push_token_key(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos)
    return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view param = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (!param.starts_with("key="))
      continue;
    std::string_view v = param.substr(4);
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] != '%') {
        out += v[i];
        continue;
      }
      if (i + 2 >= v.size())
        return {}; // a cut-off escape
      int hi = mi::util::hex_value(v[i + 1]);
      int lo = mi::util::hex_value(v[i + 2]);
      if (hi < 0 || lo < 0)
        return {};
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    return out;
  }
  return {};
}

std::string data_frame(std::string_view channel, std::string_view data_json, std::uint64_t seq, std::int64_t ts_ns) {
  std::string out;
  out.reserve(channel.size() + data_json.size() + 64);
  out += R"({"channel":)";
  append_json_string(out, channel);
  if (seq != 0)
    out.append(R"(,"seq":)").append(std::to_string(seq));
  if (ts_ns != 0)
    out.append(R"(,"ts":)").append(std::to_string(ts_ns));
  out += R"(,"data":)";
  out.append(data_json);
  out += '}';
  return out;
}

} // namespace mi::gw
