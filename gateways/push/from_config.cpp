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
  return po;
}

} // namespace mi::gw
