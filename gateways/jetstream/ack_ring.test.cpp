#include "gateways/jetstream/ack_ring.hpp"

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

using ring = mi::gw::ack_ring<std::string>;
using namespace std::chrono_literals;

TEST_CASE(
  "ack ring: each publish is taken once by its id, in ack order or not, unknown and repeated ids give nothing") {
  ring r;
  const auto t0 = ring::clock::time_point{} + 1h;
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(r.add("m" + std::to_string(i), t0));
  CHECK(ids == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
  CHECK(r.live() == 5);
  CHECK(r.take(3) == "m2");
  CHECK_FALSE(r.take(3)); // a repeated ack
  CHECK_FALSE(r.take(0));
  CHECK_FALSE(r.take(99));
  CHECK(r.slots() == 5); // the oldest still waits: the answered slot stays behind it
  CHECK(r.take(1) == "m0");
  CHECK(r.slots() == 4);
  CHECK(r.take(2) == "m1");
  CHECK(r.slots() == 2); // 3 was answered already: dropped with 1 and 2
  CHECK(r.take(5) == "m4");
  CHECK(r.take(4) == "m3");
  CHECK(r.live() == 0);
  CHECK(r.slots() == 0);
  CHECK(r.next_id() == 6);
  CHECK_FALSE(r.next_deadline());
}

TEST_CASE("ack ring: expire takes the publishes past their deadline, oldest first, and leaves the later ones") {
  ring r;
  const auto t0 = ring::clock::time_point{} + 1h;
  r.add("a", t0);
  r.add("b", t0 + 1s);
  r.add("c", t0 + 2s);
  r.add("d", t0 + 500ms); // earlier than the last one: taken as t0 + 2s (deadlines never go back)
  CHECK(r.take(2) == "b");
  std::vector<std::string> out;
  r.expire(t0 + 1500ms, [&](std::string&& s) { out.push_back(s); });
  CHECK(out == std::vector<std::string>{"a"});
  CHECK(r.next_deadline() == t0 + 2s);
  r.expire(t0 + 2s, [&](std::string&& s) { out.push_back(s); });
  CHECK(out == std::vector<std::string>{"a", "c", "d"});
  CHECK(r.live() == 0);
  CHECK_FALSE(r.take(4)); // expired: a late ack finds nothing
}

TEST_CASE("ack ring: random adds, acks, expiries and a final take_all agree with a std::map") {
  std::mt19937_64 rng(17);
  ring r;
  std::map<std::uint64_t, std::pair<std::string, ring::clock::time_point>> ref;
  auto now = ring::clock::time_point{} + 1h;
  for (int step = 0; step < 200'000; ++step) {
    const auto dice = rng() % 100;
    if (dice < 45) {
      const auto id = r.add(std::to_string(step), now + 5s);
      CHECK(ref.emplace(id, std::pair{std::to_string(step), now + 5s}).second);
    } else if (dice < 90) {
      // an ack: mostly for a waiting publish, sometimes a late or unknown id
      std::uint64_t id = r.next_id() > 1 ? 1 + rng() % (r.next_id() - 1) : 1;
      if (!ref.empty() && rng() % 4 != 0)
        id = std::next(ref.begin(), static_cast<long>(rng() % std::min<std::size_t>(ref.size(), 64)))->first;
      auto got = r.take(id);
      auto it = ref.find(id);
      REQUIRE(got.has_value() == (it != ref.end()));
      if (got) {
        CHECK(*got == it->second.first);
        ref.erase(it);
      }
    } else {
      now += std::chrono::milliseconds(rng() % 2000);
      std::vector<std::string> expired;
      r.expire(now, [&](std::string&& s) { expired.push_back(std::move(s)); });
      std::vector<std::string> want;
      for (auto it = ref.begin(); it != ref.end();)
        if (it->second.second <= now) {
          want.push_back(it->second.first);
          it = ref.erase(it);
        } else {
          ++it;
        }
      REQUIRE(expired == want);
    }
    REQUIRE(r.live() == ref.size());
    if (!ref.empty())
      REQUIRE(r.next_deadline() == ref.begin()->second.second);
  }
  std::vector<std::string> rest;
  r.take_all([&](std::string&& s) { rest.push_back(std::move(s)); });
  std::vector<std::string> want;
  for (auto& [id, v] : ref)
    want.push_back(v.first);
  CHECK(rest == want);
  CHECK(r.live() == 0);
  CHECK(r.slots() == 0);
}
