#include "gateways/push/from_config.hpp"

#include "config/listen_address.hpp"

namespace mi::gw {

push_server_options to_options(const mi::cfg::push_config& c) {
  const auto addr = *mi::cfg::parse_listen_address(c.listen); // validated by load()
  push_server_options po;
  po.host = addr.host;
  po.port = addr.port;
  po.queue_limit = static_cast<std::size_t>(c.queue_size);
  po.max_connections = static_cast<std::size_t>(c.max_connections);
  po.client_rate = static_cast<std::uint32_t>(c.client_rate);
  po.client_burst = static_cast<std::uint32_t>(c.client_burst);
  po.max_message_bytes = static_cast<std::size_t>(c.max_message_bytes);
  po.queue_bytes = static_cast<std::size_t>(c.queue_bytes);
  po.disconnect_after = static_cast<std::uint32_t>(c.disconnect_after);
  po.idle_timeout = c.idle_timeout;
  po.compression = c.compression;
  po.send_buffer = static_cast<std::size_t>(c.send_buffer);
  return po;
}

std::array<slow_policy, std::size(channel_kinds)> slow_policies(const mi::cfg::push_config& c) {
  auto of = [](mi::cfg::slow_mode m) {
    switch (m) {
    case mi::cfg::slow_mode::drop:
      return slow_policy::drop;
    case mi::cfg::slow_mode::conflate:
      return slow_policy::conflate;
    case mi::cfg::slow_mode::disconnect:
      return slow_policy::disconnect;
    }
    return slow_policy::drop;
  };
  // quote: conflate (a newer snapshot of the symbol replaces one still queued: each carries the day's totals);
  // status: conflate (the newest status of a symbol is the one that holds).
  return {of(c.slow_kline),  of(c.slow_trade),      slow_policy::conflate, of(c.slow_bbo),
          slow_policy::drop, slow_policy::conflate, slow_policy::conflate};
}

} // namespace mi::gw
