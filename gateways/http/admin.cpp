#include "gateways/http/admin.hpp"

#include "gateways/http/auth.hpp"

namespace mi::gw {
namespace {

http_response error(int status, const char* message) {
  http_response r{status, std::string(R"({"error":")") + message + "\"}\n", "application/json", {}};
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

} // namespace

http_response handle_admin(const admin_options& o, const http_request& r) {
  if (!authorized(o, r))
    return error(401, "unauthorized: send Authorization: Bearer <admin token>");
  if (r.path == "/admin/api/actors") {
    if (r.method != "GET")
      return error(405, "method not allowed: GET only");
    return {200, o.actors_json(), "application/json", {{"Cache-Control", "no-store"}}};
  }
  return error(404, "not found: see /admin/api/actors");
}

} // namespace mi::gw
