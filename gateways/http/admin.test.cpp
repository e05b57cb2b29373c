#include "gateways/http/admin.hpp"

#include <doctest/doctest.h>

namespace {
mi::gw::http_request get(const std::string& path, const std::string& authorization = {}) {
  mi::gw::http_request r;
  r.method = "GET";
  r.target = r.path = path;
  if (!authorization.empty())
    r.headers.emplace_back("authorization", authorization);
  r.remote = "127.0.0.1:5000";
  return r;
}
const std::string bearer = "Bearer s3cret-admin-token-0123";

mi::gw::admin_options options() {
  mi::gw::admin_options o;
  o.token = "s3cret-admin-token-0123";
  o.sections = {{"actors", [] { return std::string(R"({"actors":[]})"); }},
                {"push", [] { return std::string(R"({"clients":0})"); }}};
  o.actions = {{"pause", [](const mi::gw::admin_params& p, const std::string& who) {
                  return mi::gw::http_response{
                    200, "{\"result\":\"" + p.at("symbol") + " by " + who + "\"}", "application/json", {}, nullptr};
                }}};
  o.history = [](const std::string& route, const std::string& query) {
    return mi::gw::http_response{200, route + "?" + query, "application/json", {}, nullptr};
  };
  return o;
}
} // namespace

TEST_CASE("admin: the right bearer token gets each section") {
  const auto opts = options();
  auto r = mi::gw::handle_admin(opts, get("/admin/api/actors", bearer));
  CHECK(r.status == 200);
  CHECK(r.body == R"({"actors":[]})");
  CHECK(r.content_type == "application/json");
  CHECK(mi::gw::handle_admin(opts, get("/admin/api/push", bearer)).body == R"({"clients":0})");
}

TEST_CASE("admin: no token, a wrong one, another scheme or a prefix of the token get 401 and nothing else") {
  const auto opts = options();
  for (const auto& auth : {std::string(), std::string("Bearer wrong"), std::string("Basic czNjcmV0"),
                           std::string("Bearer s3cret-admin-token-012"), std::string("Bearer s3cret-admin-token-01234"),
                           std::string("bearer s3cret-admin-token-0123"), std::string("Bearer ")}) {
    for (const char* path :
         {"/admin/api/actors", "/admin/api/other", "/admin/api/events", "/admin/api/history/klines", "/"}) {
      auto r = mi::gw::handle_admin(opts, get(path, auth));
      CHECK_MESSAGE(r.status == 401, auth << " " << path);
      CHECK(r.body.find("actors") == std::string::npos);
      CHECK(r.body.find("s3cret") == std::string::npos);
      CHECK(r.stream == nullptr);
    }
    auto post = get("/admin/api/pause", auth);
    post.method = "POST";
    post.body = R"({"symbol":"BTCUSDT"})";
    CHECK(mi::gw::handle_admin(opts, post).status == 401);
  }
  // An empty configured token never matches (role admin refuses to start without one anyway).
  auto none = opts;
  none.token.clear();
  CHECK(mi::gw::handle_admin(none, get("/admin/api/actors", "Bearer ")).status == 401);
}

TEST_CASE("admin: with the token, an unknown path is 404, a POST to a section and a GET of an action are 405") {
  const auto opts = options();
  CHECK(mi::gw::handle_admin(opts, get("/admin/api/nope", bearer)).status == 404);
  auto post = get("/admin/api/actors", bearer);
  post.method = "POST";
  CHECK(mi::gw::handle_admin(opts, post).status == 405);
  CHECK(mi::gw::handle_admin(opts, get("/admin/api/pause", bearer)).status == 405);
}

TEST_CASE("admin: the page and its script and style are served without a token, from the binary") {
  const auto opts = options();
  for (const char* path : {"/admin", "/admin/", "/admin/console.js", "/admin/console.css"}) {
    auto r = mi::gw::handle_admin(opts, get(path));
    CHECK_MESSAGE(r.status == 200, path);
    CHECK(r.body.size() > 100);
  }
  CHECK(mi::gw::handle_admin(opts, get("/admin")).content_type.find("text/html") == 0);
  CHECK(mi::gw::handle_admin(opts, get("/admin/console.js")).content_type.find("text/javascript") == 0);
  // No CDN, nothing fetched from elsewhere: every URL the page names is ours.
  const auto html = mi::gw::handle_admin(opts, get("/admin")).body;
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  CHECK(mi::gw::handle_admin(opts, get("/admin/other.js")).status == 401); // not an asset: behind the token
}

TEST_CASE("admin: an action gets its parameters and who asked, and is reported once with its outcome") {
  auto opts = options();
  std::vector<std::string> reported;
  opts.on_action = [&](const std::string& action, const std::string& who, int status, const mi::gw::admin_params& p) {
    reported.push_back(action + " " + who + " " + std::to_string(status) + " " +
                       (p.count("symbol") ? p.at("symbol") : ""));
  };
  auto post = get("/admin/api/pause", bearer);
  post.method = "POST";
  post.body = R"({"exchange":"binance","symbol":"BTCUSDT"})";
  auto r = mi::gw::handle_admin(opts, post);
  CHECK(r.status == 200);
  CHECK(r.body == R"({"result":"BTCUSDT by peer 127.0.0.1:5000"})");
  post.body = "[1,2]";
  CHECK(mi::gw::handle_admin(opts, post).status == 400);
  CHECK(reported ==
        std::vector<std::string>{"pause peer 127.0.0.1:5000 200 BTCUSDT", "pause peer 127.0.0.1:5000 400 "});
}

TEST_CASE("admin: action parameters are a flat JSON object, numbers and booleans as text") {
  auto p = mi::gw::parse_admin_params(R"({"actor":42,"symbol":"BTCUSDT","force":true})");
  REQUIRE(p);
  CHECK(p->at("actor") == "42");
  CHECK(p->at("symbol") == "BTCUSDT");
  CHECK(p->at("force") == "true");
  CHECK(mi::gw::parse_admin_params("")->empty());
  CHECK_FALSE(mi::gw::parse_admin_params(R"({"a":{"b":1}})"));
  CHECK_FALSE(mi::gw::parse_admin_params("not json"));
}

TEST_CASE("admin: the event stream sends each section once, then only when it changed, and the chart's candles") {
  auto opts = options();
  int n = 0;
  opts.sections = {{"actors", [&] { return std::string(n < 2 ? "{\"a\":1}" : "{\"a\":2}"); }}};
  opts.history = [](const std::string& route, const std::string&) {
    return mi::gw::http_response{
      200, "[" + std::string(route == "klines" ? "1" : "0") + "]\n", "application/json", {}, nullptr};
  };
  auto req = get("/admin/api/events", bearer);
  req.query = "chart=binance.BTCUSDT.1m";
  auto r = mi::gw::handle_admin(opts, req);
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/event-stream");
  REQUIRE(r.stream != nullptr);
  CHECK(r.stream->next() == "event: actors\ndata: {\"a\":1}\n\nevent: candles\ndata: [1]\n\n");
  ++n;
  CHECK(r.stream->next().empty()); // nothing changed
  ++n;
  CHECK(r.stream->next() == "event: actors\ndata: {\"a\":2}\n\n");
}
