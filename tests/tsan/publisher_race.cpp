// ThreadSanitizer check of issue 9, item 7, built and run by scripts/tsan (it proves nothing
// without -fsanitize=thread): while the publisher is restarted over and over (each start stores
// its address in publish_feedback), the JetStream ack path (on_publish_outcome, on a nats.c
// thread in production, a plain thread here) reads that address to wake the publisher up.
// Before the fix the address was a plain caf::actor written and read without synchronization.
// Exit 0 when done; TSan reports (to its log_path) and sets the exit code if it sees a race.
#include <atomic>
#include <iostream>
#include <thread>

#include "actors/caf_types.hpp"
#include "actors/publisher.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/send.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/metrics/metrics.hpp"
#include "tests/harness/nats_server.hpp"

int main() {
  mi::test::nats_server nats;
  mi::gw::jetstream::options o;
  o.url = nats.url();
  auto js = mi::gw::jetstream::connect(o);
  if (!js) {
    std::cerr << js.err().message << "\n";
    return 2;
  }
  mi::gw::metrics m;
  auto fb = std::make_shared<mi::actors::publish_feedback>();
  fb->low_water = 1'000'000; // every outcome may wake the publisher
  caf::actor_system_config cfg;
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};

  std::atomic<bool> done{false};
  std::thread acks([&] {
    mi::gw::publish_outcome oc;
    oc.ok = true;
    oc.subject = "market.kline.binance.BTCUSDT.1m";
    while (!done.load()) {
      fb->waiting.store(true);
      mi::actors::on_publish_outcome(fb, &m, js->get(), oc);
    }
  });
  for (int i = 0; i < 2000; ++i) { // "restarts"
    auto a = mi::actors::spawn_publisher(sys, {js->get(), &m, 16, fb});
    caf::anon_send(a, mi::actors::stop_atom::value);
  }
  done.store(true);
  acks.join();
  std::cout << "publisher race check: 2000 restarts done\n";
  return 0;
}
