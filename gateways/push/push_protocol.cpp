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
    if (!is_valid_channel(name))
      return make_error(push_error::bad_channel,
                        "invalid channel \"" + shown(name) +
                          "\": expected kline.{exchange}.{symbol}.{interval}, trade.{exchange}.{symbol}, "
                          "book.{exchange}.{symbol} or bbo.{exchange}.{symbol}");
    if (seen.insert(name).second)
      req.channels.emplace_back(name);
  }
  return req;
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
    return parse_channels(*o, std::move(req), max_channels);
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
  return make_error(push_error::bad_op, "unknown op \"" + shown(op) + "\": expected subscribe, unsubscribe or ping");
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

bool is_valid_channel(std::string_view channel) {
  if (channel.empty() || channel.size() > max_channel_length)
    return false;
  auto t = split_dots(channel);
  if (t[0] == "kline") {
    return t.size() == 4 && is_lower_token(t[1]) && is_token(t[2]) && is_token(t[3]);
  }
  if (t[0] == "trade" || t[0] == "book" || t[0] == "bbo") {
    return t.size() == 3 && is_lower_token(t[1]) && is_token(t[2]);
  }
  if (t[0] == "doc") { // doc.{source}, doc.symbol.{symbol} (a symbol may hold dots: doc.symbol.600000.SH)
    if (t.size() == 2)
      return is_lower_token(t[1]) && t[1] != "symbol";
    return t.size() >= 3 && t[1] == "symbol" && std::all_of(t.begin() + 2, t.end(), [](auto x) { return is_token(x); });
  }
  return false;
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

std::string data_frame(std::string_view channel, std::string_view data_json) {
  std::string out;
  out.reserve(channel.size() + data_json.size() + 24);
  out += R"({"channel":)";
  append_json_string(out, channel);
  out += R"(,"data":)";
  out.append(data_json);
  out += '}';
  return out;
}

} // namespace mi::gw
