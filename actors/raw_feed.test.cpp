#include "actors/raw_feed.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <numeric>
#include <random>
#include <vector>

using mi::actors::local_raw_feed;
using mi::actors::raw_entry;
using mi::actors::raw_sequencer;
using verdict = mi::actors::raw_sequencer::verdict;

namespace {

raw_entry local(std::uint64_t seq) { return raw_entry{seq, "t" + std::to_string(seq), 0, false, true}; }

// Feeds one entry as the kline router does and returns the sequences handled because of it, in order.
std::vector<std::uint64_t> feed(raw_sequencer& s, raw_entry e) {
  std::vector<std::uint64_t> out;
  const bool handle = e.local ? s.accept_local(e) == verdict::handle : s.accept_stream(e.seq);
  if (!handle)
    return out;
  out.push_back(e.seq);
  for (raw_entry h; s.next_held(h);)
    out.push_back(h.seq);
  return out;
}

using seqs = std::vector<std::uint64_t>;

} // namespace

TEST_CASE("raw_sequencer: local entries in order are handled at once, nothing held") {
  raw_sequencer s;
  s.read_from(11); // a reader started at 11: 1..10 count as handled
  CHECK(s.last() == 10);
  for (std::uint64_t q = 11; q <= 13; ++q)
    CHECK(feed(s, local(q)) == seqs{q});
  CHECK(s.held() == 0);
  CHECK_FALSE(s.gap());
  CHECK(feed(s, local(12)).empty()); // handled already (a repeated ack)
}

TEST_CASE("raw_sequencer: a local entry ahead of a missing sequence waits for it, the gap shows until it comes") {
  raw_sequencer s;
  CHECK(feed(s, local(1)) == seqs{1});
  CHECK(feed(s, local(3)).empty());
  CHECK(feed(s, local(4)).empty());
  CHECK(s.gap());
  CHECK(s.held() == 2);
  // The missing one through the local feed (an ack that came late): everything held follows, in order.
  CHECK(feed(s, local(2)) == seqs{2, 3, 4});
  CHECK_FALSE(s.gap());
  CHECK(s.held() == 0);
}

TEST_CASE("raw_sequencer: the stream reader fills a gap, and what it brings again is not handled twice") {
  raw_sequencer s;
  CHECK(feed(s, local(1)) == seqs{1});
  CHECK(feed(s, local(4)).empty()); // 2 and 3 were stored by another publisher
  CHECK(s.gap());
  s.read_from(2); // the reader starts after the last handled
  CHECK(s.last() == 1);
  CHECK(feed(s, raw_entry{2, "x", 2, false, false}) == seqs{2});
  CHECK(feed(s, raw_entry{3, "y", 1, false, false}) == seqs{3, 4}); // 4 was held: handled right after 3
  CHECK(feed(s, raw_entry{4, "t4", 0, false, false}).empty());      // the reader's copy of 4
  CHECK(s.last() == 4);
  CHECK_FALSE(s.gap());
}

TEST_CASE("raw_sequencer: the reader's entries skip what its filter excludes, held local entries below are dropped") {
  raw_sequencer s;
  s.read_from(1);
  // Local: 2 is a message of another subject (position only); the reader never delivers it.
  CHECK(feed(s, raw_entry{1, "a", 5, false, false}) == seqs{1});
  CHECK(feed(s, raw_entry{3, "c", 4, false, false}) == seqs{3}); // the reader jumps over 2
  CHECK(feed(s, raw_entry{2, "", 0, true, true}).empty());       // at or below last: skipped
  CHECK(feed(s, local(5)).empty());                              // held: 4 missing
  CHECK(feed(s, raw_entry{6, "f", 0, false, false}) == seqs{6}); // the reader's 6 (4 and 5 were other subjects)
  CHECK(s.held() == 0);                                          // 5 dropped on the way
  CHECK_FALSE(s.gap());
}

TEST_CASE("raw_sequencer: a full hold drops new local entries, which the stream reader then brings") {
  raw_sequencer s(2);
  CHECK(feed(s, local(1)) == seqs{1});
  CHECK(feed(s, local(3)).empty());
  CHECK(feed(s, local(4)).empty());
  CHECK(feed(s, local(5)).empty());
  CHECK(s.held() == 2);
  CHECK(s.dropped() == 1);
  CHECK(feed(s, raw_entry{2, "b", 3, false, false}) == seqs{2, 3, 4});
  CHECK(s.gap() == false); // nothing held beyond: 5 is the reader's to bring
  CHECK(feed(s, raw_entry{5, "e", 0, false, false}) == seqs{5});
}

TEST_CASE("raw_sequencer: any mix of a reader and a lossy, reordering local feed handles 1..N once, in order") {
  // The reference is the stream itself: 1..N. The local feed brings a random 90 % of it, each entry displaced by up
  // to 8 places, some twice; the reader brings all of it in order from 1. Their entries interleave at random, as
  // the two threads fill the router's inbox.
  for (unsigned seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    constexpr std::uint64_t n = 500;
    std::vector<raw_entry> loc;
    for (std::uint64_t q = 1; q <= n; ++q) {
      if (rng() % 10 == 0)
        continue;
      loc.push_back(local(q));
      if (rng() % 20 == 0)
        loc.push_back(local(q));
    }
    for (std::size_t i = 0; i + 1 < loc.size(); ++i)
      std::swap(loc[i], loc[std::min(loc.size() - 1, i + rng() % 8)]);
    std::vector<raw_entry> inbox;
    std::size_t li = 0;
    std::uint64_t ri = 1;
    while (li < loc.size() || ri <= n) {
      if (ri > n || (li < loc.size() && rng() % 2 == 0))
        inbox.push_back(std::move(loc[li++]));
      else {
        inbox.push_back(raw_entry{ri, "t" + std::to_string(ri), n - ri, false, false});
        ++ri;
      }
    }
    raw_sequencer s(64);
    s.read_from(1);
    seqs handled;
    bool payload_ok = true;
    for (auto& e : inbox) {
      const bool handle = e.local ? s.accept_local(e) == verdict::handle : s.accept_stream(e.seq);
      if (!handle)
        continue;
      payload_ok = payload_ok && e.data == "t" + std::to_string(e.seq);
      handled.push_back(e.seq);
      for (raw_entry h; s.next_held(h);) {
        payload_ok = payload_ok && h.data == "t" + std::to_string(h.seq);
        handled.push_back(h.seq);
      }
    }
    seqs expected(n);
    std::iota(expected.begin(), expected.end(), 1);
    CHECK_MESSAGE(handled == expected, "seed " << seed);
    CHECK(payload_ok);
    CHECK(s.held() == 0);
  }
}

TEST_CASE("local_raw_feed: each reader gets every acked message of its stream once, payload only where wanted") {
  auto feed_ = std::make_shared<local_raw_feed>("MARKET_RAW");
  auto in_a = std::make_shared<mi::actors::inbox<raw_entry>>();
  auto in_b = std::make_shared<mi::actors::inbox<raw_entry>>();
  int rings_a = 0, rings_b = 0;
  auto a = local_raw_feed::attach(
    feed_, {in_a, [](std::string_view s) { return s.rfind("market.raw.", 0) == 0; }, [&] { ++rings_a; }});
  auto b = local_raw_feed::attach(
    feed_, {in_b, [](std::string_view s) { return s == "market.raw.okx.BTC-USDT"; }, [&] { ++rings_b; }});
  feed_->offer("MARKET_RAW", 7, "market.raw.binance.BTCUSDT", "p7");
  feed_->offer("MARKET_KLINE", 3, "market.kline.binance.BTCUSDT.1m", "k3"); // another stream: nobody's
  feed_->offer("MARKET_RAW", 8, "market.raw.okx.BTC-USDT", "p8");
  feed_->offer("MARKET_RAW", 9, "market.status.alpaca.AAPL", "s9"); // in the stream, not a trade: position only
  std::vector<raw_entry> got;
  in_a->take(got);
  REQUIRE(got.size() == 3);
  CHECK((got[0].seq == 7 && got[0].data == "p7" && !got[0].other_partition && got[0].local));
  CHECK((got[1].seq == 8 && got[1].data == "p8" && !got[1].other_partition));
  CHECK((got[2].seq == 9 && got[2].data.empty() && got[2].other_partition));
  CHECK(rings_a == 1); // only the first entry found the inbox empty
  in_b->take(got);
  REQUIRE(got.size() == 3);
  CHECK((got[0].other_partition && got[0].data.empty()));
  CHECK((got[1].seq == 8 && got[1].data == "p8"));
  CHECK(rings_b == 1);
  // Destroyed: nothing more reaches that reader, and it is not rung.
  b.reset();
  feed_->offer("MARKET_RAW", 10, "market.raw.okx.BTC-USDT", "p10");
  in_b->take(got);
  CHECK(got.empty());
  CHECK(rings_b == 1);
  in_a->take(got);
  CHECK(got.size() == 1);
  CHECK(rings_a == 2);
}

TEST_CASE("local_raw_feed: a reader that does not take is bounded, and what was dropped is counted") {
  auto feed_ = std::make_shared<local_raw_feed>("MARKET_RAW");
  auto in = std::make_shared<mi::actors::inbox<raw_entry>>();
  auto sub = local_raw_feed::attach(feed_, {in, [](std::string_view) { return true; }, [] {}, 3});
  for (std::uint64_t q = 1; q <= 5; ++q)
    feed_->offer("MARKET_RAW", q, "market.raw.x.y", "p");
  std::vector<raw_entry> got;
  in->take(got);
  CHECK(got.size() == 3);
  CHECK(feed_->dropped() == 2);
}
