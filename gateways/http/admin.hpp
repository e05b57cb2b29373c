#pragma once

// The admin API (role `admin`, its own listen address admin.listen; docs/operations.md "Admin API"):
// GET /admin/api/actors, the actor inspection tree (actors/inspection.hpp) as JSON. Every request
// carries `Authorization: Bearer <admin.token>`; anything else gets 401 and an error body, nothing
// more. The token is compared in constant time (through SHA-256, so its length does not leak either)
// and never logged.

#include <functional>
#include <string>

#include "gateways/http/http_server.hpp"

namespace mi::gw {

/// What the admin routes serve.
struct admin_options {
  std::string token;                        ///< the bearer token (admin.token, MI_ADMIN_TOKEN); never empty
  std::function<std::string()> actors_json; ///< the inspection tree's JSON (a snapshot per request)
};

/// Answers one admin request (any thread; never blocks beyond the snapshot).
http_response handle_admin(const admin_options& o, const http_request& r);

} // namespace mi::gw
