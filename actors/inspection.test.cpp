// The inspection registry (pure) and its CAF glue on the deterministic scheduler.
#include "actors/inspection.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "actors/caf_test_fixture.hpp"
#include "actors/caf_types.hpp"
#include "actors/supervisor.hpp"
#include "caf/send.hpp"

using namespace std::chrono_literals;
using mi::actors::inspection;

namespace {
const mi::actors::actor_info* find(const std::vector<mi::actors::actor_info>& xs, const std::string& name) {
  for (const auto& x : xs)
    if (x.name == name)
      return &x;
  return nullptr;
}
} // namespace

TEST_CASE("inspection: actors enter with kind and name, are adopted by their parent, and leave") {
  inspection reg;
  auto c = reg.enter(7, "connection", "self-named");
  reg.adopt(7, 3, "connection.binance.1"); // the supervisor's name wins
  reg.enter(3, "supervisor", "ingest");
  reg.adopt(9, 3, "backfill.binance"); // adopted before (or without) registering: kind "actor"
  c->handled(1500, 1000);
  c->handled(500, 2000);
  reg.set_state(7, "connected");
  reg.set_error(7, "read timeout");
  auto s = reg.snapshot();
  REQUIRE(s.size() == 3);
  const auto* conn = find(s, "connection.binance.1");
  REQUIRE(conn != nullptr);
  CHECK(conn->kind == "connection");
  CHECK(conn->parent == 3);
  CHECK(conn->state == "connected");
  CHECK(conn->handled == 2);
  CHECK(conn->busy_ns == 2000);
  CHECK(conn->last_ms == 2000);
  CHECK(conn->last_error == "read timeout");
  CHECK(conn->last_error_ms > 0);
  CHECK(find(s, "backfill.binance")->kind == "actor");
  reg.enter(9, "backfill", "ignored");
  CHECK(find(reg.snapshot(), "backfill.binance")->kind == "backfill");
  reg.leave(7);
  reg.leave(7); // twice: harmless
  CHECK(reg.snapshot().size() == 2);
  reg.set_state(7, "gone"); // absent: no-op, not re-created
  CHECK(reg.snapshot().size() == 2);
}

TEST_CASE("inspection: a supervisor keeps its last 32 restarts with time and reason") {
  inspection reg;
  reg.enter(1, "supervisor", "kline");
  for (int i = 0; i < 40; ++i)
    reg.restarted(1, "kline_stage", "exception: boom " + std::to_string(i));
  auto s = reg.snapshot();
  REQUIRE(s.size() == 1);
  REQUIRE(s[0].restarts.size() == inspection::max_restarts_kept);
  CHECK(s[0].restarts.front().reason == "exception: boom 8");
  CHECK(s[0].restarts.back().reason == "exception: boom 39");
  CHECK(s[0].restarts.back().child == "kline_stage");
  CHECK(s[0].restarts.back().at_ms > 0);
  CHECK(s[0].last_error == "kline_stage: exception: boom 39");
}

TEST_CASE("inspection: the JSON tree nests children under their parents, and an unknown parent makes a root") {
  inspection reg;
  reg.enter(1, "supervisor", "root");
  reg.adopt(2, 1, "ingest");
  reg.enter(2, "supervisor", "ingest");
  reg.adopt(5, 2, "connection.binance.1");
  reg.enter(5, "connection", "");
  reg.adopt(6, 99, "orphan \"quoted\"");
  auto v = boost::json::parse(reg.tree_json());
  const auto& roots = v.at("actors").as_array();
  REQUIRE(roots.size() == 2);
  CHECK(roots[0].at("name").as_string() == "root");
  const auto& ingest = roots[0].at("children").as_array().at(0);
  CHECK(ingest.at("name").as_string() == "ingest");
  CHECK(ingest.at("parent").as_int64() == 1);
  const auto& conn = ingest.at("children").as_array().at(0);
  CHECK(conn.at("kind").as_string() == "connection");
  CHECK(conn.at("state").as_string() == "running");
  CHECK(conn.at("children").as_array().empty());
  CHECK(roots[1].at("name").as_string() == "orphan \"quoted\"");
}

namespace {
using ping_atom = caf::atom_constant<caf::atom("t_ping")>;
using fail_atom = caf::atom_constant<caf::atom("t_fail")>;
} // namespace

TEST_CASE("inspection: an inspected actor counts the messages it handles, and a supervisor's tree and restarts show") {
  mi::actors::test::caf_fixture f;
  auto current = std::make_shared<caf::actor>();
  auto child = [current](caf::actor_system& sys) {
    *current = sys.spawn([](caf::event_based_actor* self) -> caf::behavior {
      self->set_exception_handler(mi::actors::exception_error);
      caf::behavior handlers{
        [self](ping_atom) { mi::actors::inspect_state(self, "pinged"); },
        [](fail_atom) { throw std::runtime_error("told to fail"); },
        [self](mi::actors::stop_atom) { self->quit(); },
      };
      return mi::actors::inspected(self, "worker", "w", std::move(handlers));
    });
    return *current;
  };
  mi::actors::restart_limits limits;
  limits.initial_backoff = 100ms;
  limits.max_backoff = 1s;
  limits.max_restarts = 5;
  limits.window = 60s;
  auto sup = mi::actors::spawn_supervisor(f.sys, {"unit_sup", {{"worker.1", child}}, limits, 1s, nullptr});
  f.run();
  auto& reg = inspection::process();
  auto s = reg.snapshot();
  const auto* sv = find(s, "unit_sup");
  const auto* w = find(s, "worker.1");
  REQUIRE(sv != nullptr);
  REQUIRE(w != nullptr);
  CHECK(sv->kind == "supervisor");
  CHECK(w->kind == "worker");
  CHECK(w->parent == sv->id);
  const auto first_id = w->id;

  auto worker = *current;
  REQUIRE(worker.id() == first_id);
  for (int i = 0; i < 3; ++i)
    caf::anon_send(worker, ping_atom::value);
  f.run();
  s = reg.snapshot();
  CHECK(find(s, "worker.1")->handled == 3);
  CHECK(find(s, "worker.1")->state == "pinged");

  caf::anon_send(worker, fail_atom::value);
  f.run();
  worker = nullptr;
  *current = nullptr;
  s = reg.snapshot();
  CHECK(find(s, "worker.1") == nullptr); // left on exit; the restart is pending (backoff)
  REQUIRE(find(s, "unit_sup")->restarts.size() == 1);
  CHECK(find(s, "unit_sup")->restarts[0].child == "worker.1");
  CHECK(find(s, "unit_sup")->restarts[0].reason.find("told to fail") != std::string::npos);
  f.next_timeout(); // the restart
  s = reg.snapshot();
  REQUIRE(find(s, "worker.1") != nullptr);
  CHECK(find(s, "worker.1")->id != first_id);
  CHECK(find(s, "worker.1")->handled == 0);

  caf::anon_send(sup, mi::actors::stop_atom::value);
  f.run();
  s = reg.snapshot();
  CHECK(find(s, "unit_sup") == nullptr);
  CHECK(find(s, "worker.1") == nullptr);
}

TEST_CASE("inspection: stop() runs the actor's stopper once asked, and is false for an unknown or stopper-less actor") {
  inspection reg;
  reg.enter(7, "connection", "connection.binance.1");
  reg.enter(8, "publisher", "publisher");
  int stopped = 0;
  reg.set_stopper(7, [&] { ++stopped; });
  CHECK(reg.stop(7));
  CHECK(stopped == 1);
  CHECK_FALSE(reg.stop(8));
  CHECK_FALSE(reg.stop(99));
  reg.leave(7);
  CHECK_FALSE(reg.stop(7));
  CHECK(stopped == 1);
}
