#include "gateways/http/admin.hpp"

#include <boost/json.hpp>
#include <memory>
#include <mutex>

#include "gateways/http/auth.hpp"

namespace mi::gw {
namespace {

constexpr std::string_view api_prefix = "/admin/api/";
constexpr std::string_view history_prefix = "/admin/api/history/";

http_response error(int status, const std::string& message) {
  http_response r{status, "", "application/json", {}, nullptr};
  boost::json::object o{{"error", message}};
  r.body = boost::json::serialize(o) + "\n";
  if (status == 401)
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"market-ingestor admin\"");
  return r;
}

bool authorized(const admin_options& o, const http_request& r) {
  constexpr std::string_view scheme = "Bearer ";
  const auto h = r.header("authorization");
  if (o.token.empty() || h.size() <= scheme.size() || h.compare(0, scheme.size(), scheme) != 0)
    return false;
  // Hashes have one length whatever was sent: neither the content nor the length of the token leaks.
  return auth::equal_constant_time(auth::sha256_hex(std::string_view(h).substr(scheme.size())),
                                   auth::sha256_hex(o.token));
}

http_response json_ok(std::string body) {
  return {200, std::move(body), "application/json", {{"Cache-Control", "no-store"}}, nullptr};
}

std::string sse_event(std::string_view name, std::string_view data) {
  std::string out = "event: ";
  out += name;
  out += "\ndata: ";
  for (char c : data) // a JSON text has no raw newline but may end with one: keep the event one data line
    if (c != '\n' && c != '\r')
      out += c;
  out += "\n\n";
  return out;
}

// The chart's candles: the newest few of the chosen series, from the REST API.
std::string chart_query(std::string_view chart) {
  // EX.SYMBOL.INTERVAL; a symbol may hold no '.' on the wire (NATS token rule), so split at the ends.
  const auto a = chart.find('.');
  const auto b = chart.rfind('.');
  if (a == std::string_view::npos || b == a)
    return {};
  return "exchange=" + auth::percent_encode(chart.substr(0, a)) +
         "&symbol=" + auth::percent_encode(chart.substr(a + 1, b - a - 1)) +
         "&interval=" + auth::percent_encode(chart.substr(b + 1)) + "&limit=3";
}

http_response events(const admin_options& o, const http_request& r) {
  std::string chart;
  if (auto qp = auth::parse_query(r.query))
    for (const auto& p : *qp)
      if (p.name == "chart")
        chart = chart_query(p.value);
  struct seen {
    std::mutex mu;
    std::map<std::string, std::string> last; // section -> last JSON sent
  };
  auto state = std::make_shared<seen>();
  auto sections = o.sections;
  auto history = o.history;
  auto s = std::make_shared<http_stream>();
  s->interval = o.event_interval;
  s->heartbeat = o.heartbeat;
  s->next = [state, sections, history, chart] {
    std::lock_guard lock{state->mu}; // one tick at a time per stream
    std::string out;
    auto emit = [&](const std::string& name, std::string json) {
      auto& last = state->last[name];
      if (json == last)
        return;
      out += sse_event(name, json);
      last = std::move(json);
    };
    for (const auto& sec : sections)
      emit(sec.name, sec.json());
    if (!chart.empty() && history) {
      auto h = history("klines", chart);
      if (h.status == 200)
        emit("candles", std::move(h.body));
    }
    return out;
  };
  http_response resp{200, ": console events\n\n", "text/event-stream", {}, s};
  return resp;
}

} // namespace

std::optional<admin_params> parse_admin_params(std::string_view body) {
  admin_params out;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return out;
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object())
    return std::nullopt;
  for (const auto& [k, x] : v.as_object()) {
    std::string key(k);
    if (x.is_string())
      out[key] = std::string(x.as_string());
    else if (x.is_int64())
      out[key] = std::to_string(x.as_int64());
    else if (x.is_uint64())
      out[key] = std::to_string(x.as_uint64());
    else if (x.is_bool())
      out[key] = x.as_bool() ? "true" : "false";
    else
      return std::nullopt;
  }
  return out;
}

http_response handle_admin(const admin_options& o, const http_request& r) {
  // The page itself holds no data (it asks for the token and sends it with every API call).
  if (r.path == "/admin" || r.path == "/admin/" || r.path == "/admin/console.js" || r.path == "/admin/console.css") {
    if (r.method != "GET" && r.method != "HEAD")
      return error(405, "method not allowed: GET only");
    const auto name = r.path.size() <= 7 ? std::string_view("console.html") : std::string_view(r.path).substr(7);
    const auto* a = find_console_asset(name);
    if (a == nullptr)
      return error(404, "not found");
    return {200,
            std::string(a->body),
            std::string(a->content_type),
            {{"Cache-Control", "no-cache"}, {"X-Content-Type-Options", "nosniff"}},
            nullptr};
  }
  if (!authorized(o, r))
    return error(401, "unauthorized: send Authorization: Bearer <admin token>");
  if (r.path.rfind(api_prefix, 0) != 0)
    return error(404, "not found: the console is at /admin, its API under /admin/api/");
  const auto name = r.path.substr(api_prefix.size());
  if (r.method == "GET") {
    if (name == "events")
      return events(o, r);
    const bool coverage = name == "coverage"; // the heat-map's data: GET /api/v1/coverage behind the admin token
    if (coverage || r.path.rfind(history_prefix, 0) == 0) {
      if (!o.history)
        return error(404, "no history here: this process has no database");
      return o.history(coverage ? std::string("coverage") : r.path.substr(history_prefix.size()), r.query);
    }
    for (const auto& s : o.sections)
      if (s.name == name)
        return json_ok(s.json());
  } else if (r.method == "POST") {
    for (const auto& a : o.actions)
      if (a.name == name) {
        const std::string who = "peer " + r.remote;
        auto p = parse_admin_params(r.body);
        http_response out = p ? a.run(*p, who) : error(400, "the body must be a flat JSON object");
        if (o.on_action)
          o.on_action(a.name, who, out.status, p ? *p : admin_params{});
        return out;
      }
  } else {
    return error(405, "method not allowed: GET for sections, POST for actions");
  }
  for (const auto& s : o.sections)
    if (s.name == name)
      return error(405, "method not allowed: " + name + " is a section (GET)");
  for (const auto& a : o.actions)
    if (a.name == name)
      return error(405, "method not allowed: " + name + " is an action (POST)");
  return error(404, "not found: see docs/operations.md \"Operator's console\"");
}

} // namespace mi::gw
