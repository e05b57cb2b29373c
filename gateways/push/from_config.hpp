#pragma once

// The config -> push server mapping, beside the gateway.

#include "config/config.hpp"
#include "gateways/push/push_server.hpp"

namespace mi::gw {

/// `push.*` as the server takes it; `push.listen` must have been validated (config load does).
push_server_options to_options(const mi::cfg::push_config& c);

} // namespace mi::gw
