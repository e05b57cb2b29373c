// fenced_kv against a real nats-server: a previous owner that finishes a write late never overwrites what the next
// owner took over, and an owner that still holds the keys is never stopped by a late writer.
#include "gateways/jetstream/fenced_kv.hpp"
#include "tests/harness/nats_server.hpp"

#include <doctest/doctest.h>

using mi::gw::fenced_kv;
using mi::gw::jetstream;

namespace {

std::unique_ptr<jetstream> connect_to(const mi::test::nats_server& server) {
  mi::gw::jetstream::options o;
  o.url = server.url();
  auto js = jetstream::connect(o);
  REQUIRE_MESSAGE(js.has_value(), (js ? "" : js.err().message));
  return std::move(*js);
}

std::string value_of(jetstream& js, const std::string& key) {
  auto v = js.kv_get_latest("STATE", key);
  REQUIRE(v.has_value());
  return *v ? (*v)->value : std::string("<absent>");
}

} // namespace

TEST_CASE("fenced KV: after a take-over the previous owner's late writes are refused, the new owner's go through") {
  mi::test::nats_server server;
  auto js_a = connect_to(server);
  auto js_b = connect_to(server);
  REQUIRE(js_a->kv_ensure("STATE").has_value());
  std::atomic<bool> a_lost{false};

  fenced_kv a(*js_a, "STATE");
  REQUIRE(*a.write("w.k", "a1", &a_lost));
  REQUIRE(*a.write("w.k", "a2", &a_lost));
  REQUIRE(*a.write("g", "100", &a_lost));

  // B takes over (A does not know yet): it owns what A wrote last.
  fenced_kv b(*js_b, "STATE");
  auto k = b.take_over("w.k");
  REQUIRE(k.has_value());
  CHECK(*k == std::optional<std::string>("a2"));
  CHECK(*b.take_over("g") == std::optional<std::string>("100"));
  CHECK(*b.take_over("w.never") == std::optional<std::string>()); // absent stays absent

  // A's late write, with its lease already lost: nothing is written.
  a_lost = true;
  auto late = a.write("w.k", "a3-late", &a_lost);
  REQUIRE(late.has_value());
  CHECK_FALSE(*late);
  CHECK(value_of(*js_b, "w.k") == "a2");
  // Even a late writer that does not know it lost the keys is refused at its old revision; it then reads the key
  // back and, believing itself the owner, writes again: that is what `lost` is for. Here: its plain swap is refused.
  auto swap = js_a->kv_swap("STATE", "w.k", "a3-late", a.revision("w.k"));
  REQUIRE(swap.has_value());
  CHECK_FALSE(swap->has_value());
  CHECK(value_of(*js_b, "w.k") == "a2");

  REQUIRE(*b.write("w.k", "b1"));
  REQUIRE(*b.write("g", "120"));
  CHECK(value_of(*js_a, "w.k") == "b1");
  CHECK(value_of(*js_a, "g") == "120");
  CHECK(b.overwritten() == 0);
}

TEST_CASE("fenced KV: a write that lands between the new owner's read and its take-over is read back, not lost") {
  mi::test::nats_server server;
  auto js_a = connect_to(server);
  auto js_b = connect_to(server);
  REQUIRE(js_a->kv_ensure("STATE").has_value());
  fenced_kv a(*js_a, "STATE");
  REQUIRE(*a.write("w.k", "a1"));
  // B read "a1" at its revision; A's in-flight write lands before B's take-over writes: the swap at "a1"'s revision
  // is refused inside take_over, which reads again and owns "a2".
  const auto a1_rev = a.revision("w.k");
  REQUIRE(*a.write("w.k", "a2"));
  auto refused = js_b->kv_swap("STATE", "w.k", "a1", a1_rev);
  REQUIRE(refused.has_value());
  CHECK_FALSE(refused->has_value());
  fenced_kv b(*js_b, "STATE");
  CHECK(*b.take_over("w.k") == std::optional<std::string>("a2"));
  CHECK(b.revision("w.k") > a.revision("w.k"));
}

TEST_CASE("fenced KV: a forgotten key is no longer known, and its next write lands at its current revision without "
          "counting an overwrite") {
  mi::test::nats_server server;
  auto js = connect_to(server);
  REQUIRE(js->kv_ensure("STATE").has_value());
  fenced_kv owner(*js, "STATE");
  for (int i = 0; i < 100; ++i)
    REQUIRE(*owner.write("w.s" + std::to_string(i), "passivated"));
  CHECK(owner.known() == 100);
  for (int i = 0; i < 100; ++i)
    owner.forget("w.s" + std::to_string(i));
  CHECK(owner.known() == 0);
  const auto before = js->kv_get_latest("STATE", "w.s7");
  REQUIRE(before.has_value());
  REQUIRE(*before);
  // The symbol trades again: its next checkpoint replaces the passivated one.
  auto w = owner.write("w.s7", "revived");
  REQUIRE(w.has_value());
  CHECK(*w);
  CHECK(value_of(*js, "w.s7") == "revived");
  const auto after = js->kv_get_latest("STATE", "w.s7");
  REQUIRE(after.has_value());
  REQUIRE(*after);
  CHECK((*after)->revision > (*before)->revision);
  CHECK(owner.revision("w.s7") == (*after)->revision);
  CHECK(owner.known() == 1);
  CHECK(owner.overwritten() == 0);
}

TEST_CASE("fenced KV: the owner writes again over a late create of a key it found absent, and adopts its own write "
          "whose answer was lost") {
  mi::test::nats_server server;
  auto js_a = connect_to(server);
  auto js_b = connect_to(server);
  REQUIRE(js_a->kv_ensure("STATE").has_value());
  fenced_kv b(*js_b, "STATE");
  CHECK(*b.take_over("w.new") == std::optional<std::string>()); // absent when B took over
  // A previous owner's create lands afterwards (its first checkpoint of a new symbol).
  REQUIRE(js_a->kv_swap("STATE", "w.new", "a-late", 0)->has_value());
  std::atomic<bool> b_lost{false};
  auto w = b.write("w.new", "b1", &b_lost); // refused at revision 0, read back, written again: B still owns it
  REQUIRE(w.has_value());
  CHECK(*w);
  CHECK(value_of(*js_a, "w.new") == "b1");
  CHECK(b.overwritten() == 0); // B knew no revision of it: adopted, not counted

  // A late writer changes it under a revision B knew: written again, counted.
  REQUIRE(js_a->kv_swap("STATE", "w.new", "a-late-2", b.revision("w.new"))->has_value());
  auto w2 = b.write("w.new", "b1", &b_lost);
  REQUIRE(w2.has_value());
  CHECK(*w2);
  CHECK(value_of(*js_a, "w.new") == "b1");
  CHECK(b.overwritten() == 1);

  // B's own write landed but its answer was lost: B's revision is stale; the next identical write adopts it.
  REQUIRE(js_b->kv_swap("STATE", "w.new", "b2", b.revision("w.new"))->has_value());
  auto again = b.write("w.new", "b2", &b_lost);
  REQUIRE(again.has_value());
  CHECK(*again);
  CHECK(b.overwritten() == 1);
  CHECK(value_of(*js_a, "w.new") == "b2");

  // Once B has lost the keys, a refused write gives up instead of overwriting the next owner.
  fenced_kv c(*js_a, "STATE");
  CHECK(*c.take_over("w.new") == std::optional<std::string>("b2"));
  b_lost = true;
  auto stale = b.write("w.new", "b3", &b_lost);
  REQUIRE(stale.has_value());
  CHECK_FALSE(*stale);
  CHECK(value_of(*js_a, "w.new") == "b2");
}
