#include "gateways/jetstream/from_config.hpp"

#include <limits>

namespace mi::gw {

stream_spec to_spec(const mi::cfg::stream_config& c) {
  stream_spec s;
  s.name = c.name;
  s.subjects = mi::cfg::subject_filters(c);
  s.file_storage = c.storage == mi::cfg::stream_storage::file;
  s.max_age = c.max_age;
  s.max_bytes = c.max_bytes;
  s.replicas = c.replicas;
  s.duplicate_window = c.duplicate_window;
  return s;
}

jetstream::options to_options(const mi::cfg::nats_config& c) {
  jetstream::options o;
  o.url = c.url;
  o.connect_timeout = c.connect_timeout;
  o.kv_replicas = c.kv_replicas;
  o.ack_timeout = c.ack_timeout;
  o.max_pending = c.max_in_flight * 2 + 1024;      // nats.c must never stall before our own limit
  o.max_retries = std::numeric_limits<int>::max(); // a trade is never given up
  return o;
}

} // namespace mi::gw
