#include "simulator/requests.hpp"

#include <boost/json.hpp>

namespace mi::sim {
namespace {

void append_string(std::string& out, std::string_view s) {
  out += boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool name_char(char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '_'; }

} // namespace

std::variant<control_request, control_error> parse_control_request(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
  if (ec)
    return control_error{3, "Invalid JSON: " + ec.message(), std::nullopt};
  if (!v.is_object())
    return control_error{2, "Invalid request: expected a JSON object", std::nullopt};
  const auto& o = v.get_object();

  control_request r;
  const auto* id = o.if_contains("id");
  if (!id)
    return control_error{2, "Invalid request: missing field `id`", std::nullopt};
  if (id->is_uint64()) {
    r.id = id->get_uint64();
  } else if (id->is_int64() && id->get_int64() >= 0) {
    r.id = static_cast<std::uint64_t>(id->get_int64());
  } else {
    return control_error{2, "Invalid request: request ID must be an unsigned integer", std::nullopt};
  }

  const auto* method = o.if_contains("method");
  if (!method || !method->is_string())
    return control_error{2, "Invalid request: missing field `method`", r.id};
  const std::string_view m(method->get_string().data(), method->get_string().size());
  if (m == "SUBSCRIBE")
    r.what = control_request::method::subscribe;
  else if (m == "UNSUBSCRIBE")
    r.what = control_request::method::unsubscribe;
  else if (m == "LIST_SUBSCRIPTIONS")
    r.what = control_request::method::list_subscriptions;
  else
    return control_error{2,
                         "Invalid request: unknown variant `" + std::string(m) +
                           "`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`",
                         r.id};

  for (const auto& kv : o) {
    const std::string_view key(kv.key().data(), kv.key().size());
    if (key != "id" && key != "method" && key != "params")
      return control_error{0, "Unknown property `" + std::string(key) + "`", r.id};
  }
  if (r.what == control_request::method::list_subscriptions)
    return r;

  const auto* params = o.if_contains("params");
  if (!params)
    return control_error{2, "Invalid request: missing field `params`", r.id};
  if (!params->is_array())
    return control_error{2, "Invalid request: `params` must be an array of stream names", r.id};
  for (const auto& p : params->get_array()) {
    if (!p.is_string())
      return control_error{2, "Invalid request: stream names must be strings", r.id};
    std::string name(p.get_string().data(), p.get_string().size());
    if (!parse_stream_name(name))
      return control_error{2, "Invalid request: invalid stream name `" + name + "`", r.id};
    r.params.push_back(std::move(name));
  }
  return r;
}

std::optional<stream_ref> parse_stream_name(std::string_view name) {
  const auto at = name.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == name.size())
    return std::nullopt;
  const auto sym = name.substr(0, at);
  auto kind = name.substr(at + 1);
  stream_ref r;
  if (kind == "depth" || kind == "depth@100ms" || kind == "depth@1000ms") {
    r.depth = true;
    kind = "depth";
  }
  for (char c : sym) {
    if (!lower_alnum(c))
      return std::nullopt;
    r.symbol += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  for (char c : kind)
    if (!name_char(c))
      return std::nullopt;
  if (kind == "trade")
    r.kind = binance::stream_kind::trade;
  else if (kind == "aggTrade")
    r.kind = binance::stream_kind::agg_trade;
  return r;
}

std::string ack_frame(std::uint64_t id) { return "{\"result\":null,\"id\":" + std::to_string(id) + "}"; }

std::string list_frame(const std::vector<std::string>& streams, std::uint64_t id) {
  std::string out = "{\"result\":[";
  for (std::size_t i = 0; i < streams.size(); ++i) {
    if (i)
      out += ',';
    append_string(out, streams[i]);
  }
  out += "],\"id\":" + std::to_string(id) + "}";
  return out;
}

std::string error_frame(const control_error& e) {
  std::string out = "{\"code\":" + std::to_string(e.code) + ",\"msg\":";
  append_string(out, e.msg);
  if (e.id)
    out += ",\"id\":" + std::to_string(*e.id);
  out += '}';
  return out;
}

} // namespace mi::sim
