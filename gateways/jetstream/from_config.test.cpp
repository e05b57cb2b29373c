#include "gateways/jetstream/from_config.hpp"

#include <doctest/doctest.h>

TEST_CASE("from config: a stream section and the nats section map field by field onto the gateway") {
  mi::cfg::stream_config sc;
  sc.name = "MARKET_RAW";
  sc.subjects = "market.raw.>";
  sc.storage = mi::cfg::stream_storage::memory;
  sc.max_age = std::chrono::hours(24);
  sc.max_bytes = 1 << 20;
  sc.replicas = 3;
  sc.duplicate_window = std::chrono::minutes(5);
  auto s = mi::gw::to_spec(sc);
  CHECK(s.name == "MARKET_RAW");
  CHECK(s.subjects == std::vector<std::string>{"market.raw.>"});
  CHECK(!s.file_storage);
  CHECK(s.max_age == std::chrono::hours(24));
  CHECK(s.max_bytes == 1 << 20);
  CHECK(s.replicas == 3);
  CHECK(s.duplicate_window == std::chrono::minutes(5));

  mi::cfg::nats_config nc;
  nc.url = "nats://a:4222,nats://b:4222";
  nc.max_in_flight = 100;
  nc.ack_timeout = std::chrono::seconds(3);
  nc.kv_replicas = 3;
  auto o = mi::gw::to_options(nc);
  CHECK(o.kv_replicas == 3);
  CHECK(mi::gw::to_options(mi::cfg::nats_config{}).kv_replicas == 1);
  CHECK(o.url == "nats://a:4222,nats://b:4222");
  CHECK(o.ack_timeout == std::chrono::seconds(3));
  CHECK(o.max_pending > 100); // nats.c's window is above ours: it never stalls first
}
