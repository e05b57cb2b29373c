#include "actors/ack_frontier.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

using frontier = mi::actors::ack_frontier<std::string>;
using seqs = std::vector<std::uint64_t>;

namespace {

std::string msg(std::uint64_t seq) { return "m" + std::to_string(seq); }

void done(frontier& f, std::uint64_t first, std::uint64_t last) {
  for (auto s = first; s <= last; ++s)
    f.done(s, msg(s));
}

// The sequence next() offers with its message checked, or 0.
std::uint64_t offered(frontier& f) {
  auto n = f.next();
  if (!n)
    return 0;
  CHECK(*n->second == msg(n->first)); // the message that acks the run is its last sequence's
  return n->first;
}

} // namespace

TEST_CASE("ack_frontier: a batch right above the floor is acked by its last message") {
  frontier f;
  done(f, 1, 5);
  CHECK(f.held() == 5);
  CHECK_FALSE(f.waiting());
  CHECK(offered(f) == 5);
  f.acked(5);
  CHECK(f.floor() == 5);
  CHECK(f.held() == 0);
  CHECK(offered(f) == 0);
  CHECK_FALSE(f.waiting());
}

TEST_CASE("ack_frontier: done messages above a hole wait until the floor reaches them") {
  frontier f;
  done(f, 4, 6); // 1..3: another saver's batch
  CHECK(offered(f) == 0);
  CHECK(f.waiting());
  CHECK(f.holes(10) == seqs{1, 2, 3});
  CHECK(f.holes(2) == seqs{1, 2});
  f.floor(2); // the other saver acked 1..2 only: still a hole
  CHECK(offered(f) == 0);
  CHECK(f.holes(10) == seqs{3});
  f.floor(3);
  CHECK(offered(f) == 6);
}

TEST_CASE("ack_frontier: a floor behind the known one changes nothing, one inside a run trims it") {
  frontier f;
  done(f, 1, 3);
  f.acked(3);
  f.floor(1); // an older consumer info
  CHECK(f.floor() == 3);
  done(f, 5, 9);
  f.floor(6); // another saver's ack of 6 covered part of this saver's run
  CHECK(f.held() == 3);
  CHECK(offered(f) == 9);
  f.done(2, msg(2)); // below the floor: nothing
  f.done(7, msg(7)); // done already: nothing
  CHECK(f.held() == 3);
}

TEST_CASE("ack_frontier: a nak'ed message in a batch stops the ack before it until it is done") {
  frontier f;
  for (std::uint64_t s : {1, 2, 4, 5})
    f.done(s, msg(s));
  CHECK(offered(f) == 2);
  f.acked(2);
  CHECK(f.waiting());
  CHECK(f.holes(10) == seqs{3});
  f.done(3, msg(3)); // redelivered and stored: the runs join
  CHECK(offered(f) == 5);
}

TEST_CASE("ack_frontier: runs done out of order join, and the last message of the joined run acks it") {
  frontier f;
  done(f, 7, 8);
  done(f, 3, 4);
  f.done(6, msg(6)); // joins 7..8 from below
  f.done(5, msg(5)); // joins 3..4 and 6..8
  done(f, 1, 2);
  CHECK(f.held() == 8);
  CHECK(offered(f) == 8);
}

TEST_CASE("ack_frontier: sequences the stream no longer has fill the holes below the first run") {
  frontier f;
  done(f, 6, 9);
  f.gone(20); // not in a hole: ignored
  f.gone(0);
  CHECK(f.holes(10) == seqs{1, 2, 3, 4, 5});
  f.gone(3); // a gone run of its own, below the run that can be acked
  CHECK(offered(f) == 0);
  CHECK(f.holes(10) == seqs{1, 2, 4, 5});
  for (std::uint64_t s : {1, 2, 4})
    f.gone(s);
  CHECK(offered(f) == 0); // 1..4 gone but 5 still open: nothing may be acked
  CHECK(f.holes(10) == seqs{5});
  f.gone(5);
  CHECK_FALSE(f.waiting());
  CHECK(offered(f) == 9);
}

// A model of JetStream's AckAll pull consumer shared by several savers that fetch, store, nak, crash and come back,
// over a stream with deleted sequences. The reference is the store itself: whenever the server takes an ack of S,
// every sequence up to S that exists must be stored. At the end, with no more faults, everything is stored and acked.
TEST_CASE("ack_frontier: savers sharing an AckAll consumer never ack a message nobody stored (randomized)") {
  for (unsigned seed = 1; seed <= 150; ++seed) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    const std::uint64_t last = 300 + rng() % 300;
    std::set<std::uint64_t> deleted;
    for (int i = 0; i < 6; ++i)
      deleted.insert(1 + rng() % last);
    const std::uint64_t ack_wait = 20;
    const std::size_t savers = 1 + rng() % 3;

    // The server.
    std::uint64_t next_new = 1, floor = 0, now = 0;
    std::map<std::uint64_t, std::uint64_t> pending; // delivered, not acked: seq -> redelivery time
    std::set<std::uint64_t> stored;                 // the database
    bool violated = false;
    auto fetch = [&](std::size_t max) {
      std::vector<std::uint64_t> out;
      for (auto& [s, due] : pending)
        if (out.size() < max && due <= now) {
          out.push_back(s);
          due = now + ack_wait;
        }
      while (out.size() < max && next_new <= last) {
        auto s = next_new++;
        if (deleted.count(s))
          continue;
        pending[s] = now + ack_wait;
        out.push_back(s);
      }
      return out;
    };
    auto ack = [&](std::uint64_t s) {
      for (std::uint64_t q = 1; q <= s; ++q)
        if (!deleted.count(q) && !stored.count(q))
          violated = true;
      if (s <= floor)
        return;
      floor = s;
      pending.erase(pending.begin(), pending.upper_bound(s));
    };

    struct saver {
      std::vector<std::uint64_t> in_hand;
      std::unique_ptr<frontier> f = std::make_unique<frontier>();
    };
    std::vector<saver> sv(savers);
    auto commit = [&](saver& s, bool faults) {
      for (auto q : s.in_hand) {
        if (faults && rng() % 20 == 0) {
          pending[q] = now; // nak: redelivered at once
          continue;
        }
        stored.insert(q);
        s.f->done(q, msg(q));
      }
      s.in_hand.clear();
      auto n = s.f->next();
      if (!n && s.f->waiting()) {
        s.f->floor(floor); // read the consumer's ack floor
        n = s.f->next();
        if (!n)
          for (auto h : s.f->holes(64))
            if (deleted.count(h)) // the stream does not have it
              s.f->gone(h);
        n = s.f->next();
      }
      if (n) {
        ack(n->first);
        s.f->acked(n->first);
      }
    };

    for (int step = 0; step < 4000; ++step, ++now) {
      auto& s = sv[rng() % savers];
      switch (rng() % 8) {
      case 0:
        if (rng() % 4 == 0) { // the process dies: what it held comes back after ack_wait
          s = saver{};
          break;
        }
        [[fallthrough]];
      case 1:
      case 2:
      case 3:
        for (auto q : fetch(1 + rng() % 40))
          s.in_hand.push_back(q);
        break;
      default:
        commit(s, true);
      }
    }
    for (int round = 0; round < 400 && floor < last; ++round, now += ack_wait) // no more faults
      for (auto& s : sv) {
        for (auto q : fetch(50))
          s.in_hand.push_back(q);
        commit(s, false);
      }
    CHECK_FALSE(violated);
    std::size_t existing = 0;
    std::uint64_t last_existing = 0;
    for (std::uint64_t q = 1; q <= last; ++q)
      if (!deleted.count(q)) {
        ++existing;
        last_existing = q;
      }
    CHECK(stored.size() == existing);
    CHECK(floor >= last_existing);
  }
}
