#pragma once

// The deterministic actor-test fixture of the project (tests only): CAF 0.17's
// caf::scheduler::test_coordinator runs every actor on the test's own thread, and time moves only
// when the test fires the next delayed message. No threads, no sleeps, no flakiness.
//
//   caf_fixture f;
//   auto a = f.sys.spawn(...);             // or spawn_x(f.sys, ...)
//   caf::anon_send(a, some_atom::value);
//   f.run();                               // deliver every pending message
//   f.next_timeout();                      // jump to the next delayed_send and deliver it
//
// Detached actors (caf::detached) get their own threads even here: test event-based actors.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scheduler/test_coordinator.hpp"

namespace mi::actors::test {

inline caf::actor_system_config& deterministic(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  return cfg;
}

/// A deterministic actor system for one test.
struct caf_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{deterministic(cfg)};
  caf::scheduler::test_coordinator& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());

  caf_fixture() { sched.clock().current_time += std::chrono::hours(1); } // time 0 is not special
  ~caf_fixture() { run(); }

  /// Runs every actor until no message is left (delayed messages stay pending).
  void run() { sched.run(); }
  /// Fires the earliest delayed message (the clock jumps to it) and runs; false when none is pending.
  bool next_timeout() {
    if (!sched.has_pending_timeout())
      return false;
    sched.trigger_timeout();
    run();
    return true;
  }
  caf::actor_clock::time_point now() const { return sched.clock().now(); }
};

/// How a watched actor ended.
struct watch_result {
  bool down = false;
  caf::error reason;
};

/// Spawns an actor that monitors `target` and records how it ended (and, in `order`, when).
/// Keep the returned handle: an actor nobody references is gone before it can see anything.
inline caf::actor watch(caf::actor_system& sys, caf::actor target, std::shared_ptr<watch_result> out,
                        std::shared_ptr<std::vector<std::string>> order = nullptr, std::string name = {}) {
  return sys.spawn([target, out, order, name](caf::event_based_actor* self) -> caf::behavior {
    self->monitor(target);
    self->set_down_handler([self, out, order, name](caf::down_msg& dm) {
      out->down = true;
      out->reason = dm.reason;
      if (order)
        order->push_back(name);
      self->quit();
    });
    return {[](int) {}};
  });
}

} // namespace mi::actors::test
