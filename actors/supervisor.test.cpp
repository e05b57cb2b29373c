// Actor-level tests on CAF's deterministic scheduler (actors/caf_test_fixture.hpp): no threads,
// no sleeps; time moves only when the test fires the next delayed message.
#include "actors/supervisor.hpp"

#include <doctest/doctest.h>
#include <memory>
#include <stdexcept>
#include <vector>

#include "actors/caf_test_fixture.hpp"
#include "actors/caf_types.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scheduler/test_coordinator.hpp"
#include "caf/send.hpp"

using namespace std::chrono_literals;
using mi::actors::child_spec;
using mi::actors::restart_limits;
using mi::actors::supervisor_args;
using mi::actors::test::caf_fixture;
using mi::actors::test::watch;
using mi::actors::test::watch_result;

namespace {

using fail_atom = caf::atom_constant<caf::atom("t_fail")>;

/// Start times of every incarnation of a test child.
using starts = std::shared_ptr<std::vector<caf::actor_clock::time_point>>;

/// A child that throws as soon as it starts, every time.
child_spec always_throws(const std::string& name, starts log, caf::scheduler::test_coordinator& sched) {
  return {name, [log, &sched](caf::actor_system& sys) {
            log->push_back(sched.clock().now());
            return sys.spawn([](caf::event_based_actor* self) -> caf::behavior {
              self->set_exception_handler(mi::actors::exception_error);
              throw std::runtime_error("boom at start");
            });
          }};
}

/// A child that runs until told to fail (then throws), or to stop (then exits normally).
child_spec fails_on_demand(const std::string& name, starts log, caf::scheduler::test_coordinator& sched,
                           std::shared_ptr<caf::actor> current) {
  return {name, [log, &sched, current](caf::actor_system& sys) {
            log->push_back(sched.clock().now());
            *current = sys.spawn([](caf::event_based_actor* self) -> caf::behavior {
              self->set_exception_handler(mi::actors::exception_error);
              return {
                [](fail_atom) { throw std::runtime_error("told to fail"); },
                [self](mi::actors::stop_atom) { self->quit(); },
              };
            });
            return *current;
          }};
}

std::vector<long> gaps_ms(const std::vector<caf::actor_clock::time_point>& ts) {
  std::vector<long> out;
  for (std::size_t i = 1; i < ts.size(); ++i)
    out.push_back(static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(ts[i] - ts[i - 1]).count()));
  return out;
}

const restart_limits test_limits{100ms, 400ms, 10s, 3, 60s};

} // namespace

TEST_CASE("supervisor: a child that keeps throwing is restarted with doubling backoff, then the supervisor escalates") {
  caf_fixture f;
  auto log = std::make_shared<std::vector<caf::actor_clock::time_point>>();
  auto sup = mi::actors::spawn_supervisor(f.sys, {"kline", {always_throws("kline_stage", log, f.sched)}, test_limits});
  auto seen = std::make_shared<watch_result>();
  auto w1 = watch(f.sys, sup, seen);
  f.run();
  while (!seen->down && f.next_timeout()) {
  }
  REQUIRE(seen->down);
  // First start + 3 restarts, 100, 200, 400 ms apart; the 4th failure is one too many.
  CHECK(log->size() == 4);
  CHECK(gaps_ms(*log) == std::vector<long>{100, 200, 400});
  auto why = mi::actors::describe_escalation(f.sys, seen->reason);
  CHECK(why.find("kline: kline_stage failed 4 times within 60.0 s") != std::string::npos);
  CHECK(why.find("boom at start") != std::string::npos);
}

TEST_CASE("supervisor: a role that gives up ends the root, which names the role and the child") {
  caf_fixture f;
  auto log = std::make_shared<std::vector<caf::actor_clock::time_point>>();
  auto healthy_log = std::make_shared<std::vector<caf::actor_clock::time_point>>();
  auto healthy = std::make_shared<caf::actor>();
  auto& sched = f.sched;
  restart_limits root_limits{100ms, 100ms, 1s, 0, 1s};
  auto root = mi::actors::spawn_supervisor(
    f.sys,
    {"root",
     {{"store",
       [&](caf::actor_system& s) {
         return mi::actors::spawn_supervisor(
           s, {"store", {fails_on_demand("saver_trades", healthy_log, sched, healthy)}, test_limits});
       }},
      {"kline",
       [&](caf::actor_system& s) {
         return mi::actors::spawn_supervisor(s, {"kline", {always_throws("kline_stage", log, sched)}, test_limits});
       }}},
     root_limits});
  auto root_seen = std::make_shared<watch_result>();
  auto w2 = watch(f.sys, root, root_seen);
  f.run();
  auto healthy_seen = std::make_shared<watch_result>();
  REQUIRE(*healthy);
  auto w3 = watch(f.sys, *healthy, healthy_seen);
  f.run();
  while (!root_seen->down && f.next_timeout()) {
  }
  REQUIRE(root_seen->down);
  CHECK(mi::actors::describe_escalation(f.sys, root_seen->reason).find("kline: kline_stage failed 4 times") !=
        std::string::npos);
  // The other role's child was taken down with the root (nothing is left running), not restarted.
  CHECK(healthy_seen->down);
  CHECK(healthy_log->size() == 1);
}

TEST_CASE("supervisor: a child that ran longer than reset_after is restarted after initial_backoff again") {
  caf_fixture f;
  auto log = std::make_shared<std::vector<caf::actor_clock::time_point>>();
  auto current = std::make_shared<caf::actor>();
  auto sup = mi::actors::spawn_supervisor(
    f.sys, {"ingest", {fails_on_demand("connection", log, f.sched, current)}, test_limits});
  f.run();
  auto fail_now = [&] {
    caf::anon_send(*current, fail_atom::value);
    f.run();
    REQUIRE(f.next_timeout()); // the restart
  };
  fail_now();
  fail_now();
  CHECK(gaps_ms(*log) == std::vector<long>{100, 200});
  // Healthy for reset_after: the next failure waits initial_backoff, not 400 ms.
  f.sched.clock().current_time += 10s;
  fail_now();
  CHECK(gaps_ms(*log).back() == 10000 + 100);
  caf::anon_send(sup, mi::actors::stop_atom::value);
  f.run();
}

TEST_CASE("supervisor: one for one, a failing child does not touch its sibling, and stop stops them last to first") {
  caf_fixture f;
  auto a_log = std::make_shared<std::vector<caf::actor_clock::time_point>>();
  auto b_log = std::make_shared<std::vector<caf::actor_clock::time_point>>();
  auto a = std::make_shared<caf::actor>();
  auto b = std::make_shared<caf::actor>();
  auto sup = mi::actors::spawn_supervisor(
    f.sys, {"ingest",
            {fails_on_demand("backfill", a_log, f.sched, a), fails_on_demand("connection", b_log, f.sched, b)},
            test_limits});
  f.run();
  auto first_a = *a;
  caf::anon_send(*b, fail_atom::value);
  f.run();
  REQUIRE(f.next_timeout());
  CHECK(b_log->size() == 2);
  CHECK(a_log->size() == 1);
  CHECK(*a == first_a);
  // Stop: the connection (last started) goes first, then the backfill, then the supervisor.
  auto a_seen = std::make_shared<watch_result>();
  auto b_seen = std::make_shared<watch_result>();
  auto sup_seen = std::make_shared<watch_result>();
  auto order = std::make_shared<std::vector<std::string>>();
  auto w4 = watch(f.sys, *a, a_seen, order, "backfill");
  auto w5 = watch(f.sys, *b, b_seen, order, "connection");
  auto w6 = watch(f.sys, sup, sup_seen, order, "supervisor");
  f.run();
  caf::anon_send(sup, mi::actors::stop_atom::value);
  f.run();
  CHECK(*order == std::vector<std::string>{"connection", "backfill", "supervisor"});
  CHECK(a_seen->down);
  CHECK(b_seen->down);
  CHECK(sup_seen->down);
  CHECK_FALSE(sup_seen->reason); // a clean stop: no error
  CHECK(a_log->size() == 1);     // nothing restarted while stopping
  CHECK(b_log->size() == 2);
}
