#include "gateways/http/admin.hpp"

#include <doctest/doctest.h>

namespace {
mi::gw::http_request get(const std::string& path, const std::string& authorization = {}) {
  mi::gw::http_request r;
  r.method = "GET";
  r.target = r.path = path;
  if (!authorization.empty())
    r.headers.emplace_back("authorization", authorization);
  return r;
}
const mi::gw::admin_options opts{"s3cret-admin-token-0123", [] { return std::string(R"({"actors":[]})"); }};
} // namespace

TEST_CASE("admin: the right bearer token gets the actor tree") {
  auto r = mi::gw::handle_admin(opts, get("/admin/api/actors", "Bearer s3cret-admin-token-0123"));
  CHECK(r.status == 200);
  CHECK(r.body == R"({"actors":[]})");
  CHECK(r.content_type == "application/json");
}

TEST_CASE("admin: no token, a wrong one, another scheme or a prefix of the token get 401 and nothing else") {
  for (const auto& auth : {std::string(), std::string("Bearer wrong"), std::string("Basic czNjcmV0"),
                           std::string("Bearer s3cret-admin-token-012"), std::string("Bearer s3cret-admin-token-01234"),
                           std::string("bearer s3cret-admin-token-0123"), std::string("Bearer ")}) {
    for (const char* path : {"/admin/api/actors", "/admin/api/other", "/"}) {
      auto r = mi::gw::handle_admin(opts, get(path, auth));
      CHECK_MESSAGE(r.status == 401, auth << " " << path);
      CHECK(r.body.find("actors") == std::string::npos);
      CHECK(r.body.find("s3cret") == std::string::npos);
    }
  }
  // An empty configured token never matches (role admin refuses to start without one anyway).
  const mi::gw::admin_options none{"", opts.actors_json};
  CHECK(mi::gw::handle_admin(none, get("/admin/api/actors", "Bearer ")).status == 401);
}

TEST_CASE("admin: with the token, an unknown path is 404 and a POST is 405") {
  CHECK(mi::gw::handle_admin(opts, get("/admin/api/nope", "Bearer s3cret-admin-token-0123")).status == 404);
  auto post = get("/admin/api/actors", "Bearer s3cret-admin-token-0123");
  post.method = "POST";
  CHECK(mi::gw::handle_admin(opts, post).status == 405);
}
