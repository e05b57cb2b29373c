#pragma once

// The config -> push server mapping, beside the gateway.

#include <array>

#include "config/config.hpp"
#include "gateways/push/push_protocol.hpp"
#include "gateways/push/push_server.hpp"

namespace mi::gw {

/// `push.*` as the server takes it; `push.listen` must have been validated (config load does).
push_server_options to_options(const mi::cfg::push_config& c);
/// push.slow.* by channel_kind (kline, trade, book, bbo, doc); book is always conflate, doc always drop.
std::array<slow_policy, std::size(channel_kinds)> slow_policies(const mi::cfg::push_config& c);

} // namespace mi::gw
