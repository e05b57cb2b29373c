#include "actors/kline_leases.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>

using mi::actors::kline_leases;
using step = kline_leases::step;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t ttl_ms = 6000;

// The lease bucket as JetStream's KV behaves for these writes: one revision counter for the bucket, a create
// only where the key is absent, an update only at the key's current revision, entries that vanish `ttl_ms`
// after their last write. The reference the class is checked against (the real bucket: tests/integration).
struct bucket {
  struct value {
    std::string owner;
    std::uint64_t revision;
    std::int64_t written_ms;
  };
  std::map<std::uint32_t, value> keys;
  std::map<std::string, std::int64_t> nodes; // node id -> last announcement
  std::uint64_t next_revision = 1;

  void expire(std::int64_t now) {
    std::erase_if(keys, [&](const auto& kv) { return now - kv.second.written_ms >= ttl_ms; });
    std::erase_if(nodes, [&](const auto& kv) { return now - kv.second >= ttl_ms; });
  }
  kline_leases::view read(std::uint32_t partitions) const {
    kline_leases::view v;
    v.live_nodes = nodes.size();
    for (std::uint32_t p = 0; p < partitions; ++p) {
      auto it = keys.find(p);
      v.partitions.push_back(it == keys.end() ? kline_leases::entry{}
                                              : kline_leases::entry{it->second.owner, it->second.revision});
    }
    return v;
  }
  // Revision-checked write: 0 when refused, else the new revision.
  std::uint64_t write(std::uint32_t p, const std::string& owner, std::uint64_t expected, std::int64_t now) {
    auto it = keys.find(p);
    if ((expected == 0) != (it == keys.end()) || (it != keys.end() && it->second.revision != expected))
      return 0;
    keys[p] = {owner, next_revision, now};
    return next_revision++;
  }
};

// One node: its leases, the stages it runs, and its round (announce, read, plan, act) against the bucket.
// Stages stop at once when asked (stage_stopped is reported in the same round).
struct node {
  std::string id;
  kline_leases leases;
  std::set<std::uint32_t> running;
  std::vector<std::pair<std::uint32_t, std::int64_t>> started; // (partition, when)
  node(std::string name, std::uint32_t p) : id(name), leases(std::move(name), p, std::chrono::milliseconds(ttl_ms)) {}

  void round(bucket& b, std::int64_t now) {
    b.nodes[id] = now;
    for (const auto& a : leases.plan(b.read(leases.partitions()), now))
      act(b, a, now);
  }
  void act(bucket& b, const kline_leases::action& a, std::int64_t now) {
    switch (a.what) {
    case step::claim:
      if (auto r = b.write(a.partition, id, a.revision, now); r != 0) {
        leases.claimed(a.partition, r, now);
        running.insert(a.partition);
        started.emplace_back(a.partition, now);
      }
      break;
    case step::renew:
      if (auto r = b.write(a.partition, id, a.revision, now); r != 0)
        leases.renewed(a.partition, r, now);
      else if (leases.lost(a.partition))
        stop(a.partition);
      break;
    case step::stop_stage:
    case step::abandon:
      stop(a.partition);
      break;
    case step::release:
      b.write(a.partition, "", a.revision, now);
      leases.released(a.partition);
      break;
    }
  }
  void stop(std::uint32_t p) {
    running.erase(p);
    leases.stage_stopped(p);
  }
};

// No partition has a stage on two nodes at once.
bool exclusive(const std::vector<node*>& nodes, std::uint32_t partitions) {
  for (std::uint32_t p = 0; p < partitions; ++p) {
    int n = 0;
    for (auto* x : nodes)
      n += static_cast<int>(x->running.count(p));
    if (n > 1)
      return false;
  }
  return true;
}

} // namespace

TEST_CASE("kline leases: a lone node claims every partition of an empty bucket by create") {
  kline_leases l("a", 4, 6s);
  auto acts = l.plan(kline_leases::view{std::vector<kline_leases::entry>(4), 1}, 0);
  REQUIRE(acts.size() == 4);
  std::set<std::uint32_t> ps;
  for (const auto& a : acts) {
    CHECK(a.what == step::claim);
    CHECK(a.revision == 0); // absent key: create
    ps.insert(a.partition);
  }
  CHECK(ps.size() == 4);
}

TEST_CASE("kline leases: an owner renews every third of the TTL at the revision it holds, not before") {
  kline_leases l("a", 1, 6s);
  l.claimed(0, 7, 1000);
  kline_leases::view v{{{"a", 7}}, 1};
  CHECK(l.plan(v, 2999).empty());
  auto acts = l.plan(v, 3000);
  REQUIRE(acts.size() == 1);
  CHECK(acts[0] == kline_leases::action{step::renew, 0, 7});
  l.renewed(0, 9, 3000);
  CHECK(l.plan(kline_leases::view{{{"a", 9}}, 1}, 4000).empty());
  CHECK(l.owned() == std::vector<std::uint32_t>{0});
}

TEST_CASE("kline leases: the renewals due are known without reading the bucket, and none past the fence") {
  kline_leases l("a", 3, 6s);
  l.claimed(0, 7, 1000);
  l.claimed(1, 8, 2500);
  CHECK(l.renewals(2999).empty());
  CHECK(l.renewals(3000) == std::vector<kline_leases::action>{{step::renew, 0, 7}});
  CHECK(l.renewals(4500) == std::vector<kline_leases::action>{{step::renew, 0, 7}, {step::renew, 1, 8}});
  l.renewed(0, 9, 4500);
  CHECK(l.renewals(4600) == std::vector<kline_leases::action>{{step::renew, 1, 8}});
  // Past 2/3 of the TTL a renewal could land after another node took the key: plan() abandons it instead.
  CHECK(l.renewals(6500) == std::vector<kline_leases::action>{{step::renew, 0, 9}});
  auto acts = l.plan(std::nullopt, 6500);
  REQUIRE(acts.size() == 2);
  CHECK(acts[0] == kline_leases::action{step::renew, 0, 9});
  CHECK(acts[1] == kline_leases::action{step::abandon, 1, 0});
}

TEST_CASE("kline leases: a lease another node holds now is lost and its stage is abandoned at once") {
  kline_leases l("a", 2, 6s);
  l.claimed(0, 3, 0);
  l.claimed(1, 4, 0);
  auto acts = l.plan(kline_leases::view{{{"b", 5}, {"a", 4}}, 2}, 500);
  REQUIRE(acts.size() == 1);
  CHECK(acts[0] == kline_leases::action{step::abandon, 0, 0});
  CHECK(l.owned() == std::vector<std::uint32_t>{1});
  // Until its stage is down it is not claimed again, even when free.
  CHECK(l.plan(kline_leases::view{{{"", 6}, {"a", 4}}, 1}, 600).empty());
  l.stage_stopped(0);
  auto again = l.plan(kline_leases::view{{{"", 6}, {"a", 4}}, 1}, 700);
  REQUIRE(again.size() == 1);
  CHECK(again[0] == kline_leases::action{step::claim, 0, 6});
}

TEST_CASE("kline leases: a refused renewal loses the lease") {
  kline_leases l("a", 1, 6s);
  l.claimed(0, 3, 0);
  CHECK(l.lost(0)); // the stage runs: stop it
  CHECK(l.owned().empty());
  CHECK_FALSE(l.idle());
  l.stage_stopped(0);
  CHECK(l.idle());
}

TEST_CASE("kline leases: a node that cannot reach the bucket gives its leases up after 2/3 of the TTL") {
  kline_leases l("a", 1, 6s);
  l.claimed(0, 3, 0);
  auto trying = l.plan(std::nullopt, 3999); // renewals are still tried
  REQUIRE(trying.size() == 1);
  CHECK(trying[0] == kline_leases::action{step::renew, 0, 3});
  auto acts = l.plan(std::nullopt, 4000); // another node may take it at 6000: this stage stops first
  REQUIRE(acts.size() == 1);
  CHECK(acts[0].what == step::abandon);
}

TEST_CASE("kline leases: a node takes at most ceil(partitions / live nodes)") {
  CHECK(kline_leases::fair_share(4, 1) == 4);
  CHECK(kline_leases::fair_share(4, 2) == 2);
  CHECK(kline_leases::fair_share(4, 3) == 2);
  CHECK(kline_leases::fair_share(5, 2) == 3);
  CHECK(kline_leases::fair_share(4, 0) == 4);
  kline_leases l("b", 4, 6s);
  auto acts = l.plan(kline_leases::view{{{"a", 1}, {}, {}, {}}, 3}, 0);
  CHECK(acts.size() == 2);
}

TEST_CASE("kline leases: an owner above its share stops the surplus stages first and releases them once down") {
  kline_leases l("a", 4, 6s);
  for (std::uint32_t p = 0; p < 4; ++p)
    l.claimed(p, p + 1, 0);
  kline_leases::view two{{{"a", 1}, {"a", 2}, {"a", 3}, {"a", 4}}, 2};
  auto acts = l.plan(two, 100);
  REQUIRE(acts.size() == 2);
  for (const auto& a : acts)
    CHECK(a.what == step::stop_stage);
  CHECK(l.owned().size() == 2);
  // Still stopping: the leases are renewed, not released, and nothing is claimed meanwhile.
  auto waiting = l.plan(two, 2100);
  CHECK(waiting.size() == 4);
  for (const auto& a : waiting)
    CHECK(a.what == step::renew);
  for (const auto& a : acts)
    l.stage_stopped(a.partition);
  auto rel = l.plan(two, 2200);
  int releases = 0;
  for (const auto& a : rel)
    if (a.what == step::release) {
      ++releases;
      CHECK(a.revision == a.partition + 1);
      l.released(a.partition);
    }
  CHECK(releases == 2);
}

TEST_CASE("kline leases: a lease left by this node's previous process is claimed back at its revision") {
  kline_leases l("a", 2, 6s);
  auto acts = l.plan(kline_leases::view{{{"a", 41}, {"b", 42}}, 2}, 0);
  REQUIRE(acts.size() == 1);
  CHECK(acts[0] == kline_leases::action{step::claim, 0, 41});
}

TEST_CASE("kline leases: on shutdown every stage stops, then every lease is released, and nothing is claimed") {
  kline_leases l("a", 2, 6s);
  l.claimed(0, 1, 0);
  l.claimed(1, 2, 0);
  CHECK(l.drain_all().size() == 2);
  l.stage_stopped(0);
  l.stage_stopped(1);
  auto acts = l.plan(kline_leases::view{{{"a", 1}, {"a", 2}}, 1}, 100);
  CHECK(acts.size() == 2);
  for (const auto& a : acts) {
    CHECK(a.what == step::release);
    l.released(a.partition);
  }
  CHECK(l.idle());
  CHECK(l.plan(kline_leases::view{{{"", 3}, {"", 4}}, 1}, 200).empty());
}

TEST_CASE("kline leases: two nodes share 4 partitions, a dead node's are taken within the TTL and a returning node "
          "gets its share back with no partition running twice") {
  bucket b;
  node a("kline-a", 4), c("kline-b", 4);
  std::vector<node*> both{&a, &c};
  std::int64_t now = 0;
  auto rounds = [&](std::int64_t until, bool with_a, bool with_c) {
    for (; now < until; now += 1000) { // each node's round once a second
      b.expire(now);
      if (with_a)
        a.round(b, now);
      if (with_c)
        c.round(b, now);
      REQUIRE(exclusive(both, 4));
    }
  };
  rounds(1000, true, false); // a alone: all four
  CHECK(a.running.size() == 4);
  rounds(20000, true, true); // b joins: a hands two over, stopping them first
  CHECK(a.running.size() == 2);
  CHECK(c.running.size() == 2);

  // a dies (kill -9: no release; its stages vanish with it).
  a.running.clear();
  const auto died = now;
  c.started.clear();
  rounds(died + 15000, false, true);
  CHECK(c.running.size() == 4);
  for (const auto& [p, when] : c.started)
    CHECK(when - died <= ttl_ms + 1000); // its leases expire after the TTL; taken at the next round

  // a comes back (a new process with the same id): b stops two, releases them, a claims them.
  a = node("kline-a", 4);
  rounds(now + 20000, true, true);
  CHECK(a.running.size() == 2);
  CHECK(c.running.size() == 2);
}
