// book_samples: what the store role writes of the published books (storage.books), checked against books built
// here by hand.
#include "actors/book_sampler.hpp"

#include <doctest/doctest.h>

using mi::book::book_update;
using mi::book::update_kind;
using mi::book::wire_level;

namespace {

book_update snapshot(std::uint64_t seq, bool valid, std::vector<wire_level> bids, std::vector<wire_level> asks) {
  book_update u;
  u.exchange = "binance";
  u.symbol = "BTCUSDT";
  u.session = 7;
  u.sequence = seq;
  u.kind = update_kind::snapshot;
  u.valid = valid;
  u.bids = std::move(bids);
  u.asks = std::move(asks);
  return u;
}

book_update delta(std::uint64_t seq, std::vector<wire_level> bids, std::vector<wire_level> asks) {
  auto u = snapshot(seq, true, std::move(bids), std::move(asks));
  u.kind = update_kind::delta;
  return u;
}

} // namespace

TEST_CASE("book samples: best bid/ask each second and the top N each minute, stamped with the boundary") {
  mi::actors::book_samples s(2, 1000, 60'000);
  s.on_update(snapshot(1, true, {{"100.5", "1"}, {"100.4", "2"}, {"100.3", "3"}}, {{"100.6", "4"}, {"100.7", "5"}}));
  std::vector<mi::gw::bbo_sample> bbos;
  std::vector<mi::gw::book_sample> books;
  s.sample(120'000'250, bbos, books); // the first call sets the boundaries
  CHECK(bbos.empty());
  CHECK(books.empty());
  s.sample(120'000'900, bbos, books); // the same second
  CHECK(bbos.empty());

  s.on_update(delta(2, {{"100.5", "0"}}, {{"100.55", "0.5"}})); // best bid leaves, a better ask arrives
  s.sample(120'001'010, bbos, books);
  REQUIRE(bbos.size() == 1);
  CHECK(bbos[0] == mi::gw::bbo_sample{"binance", "BTCUSDT", 120'001'000, wire_level{"100.4", "2"},
                                      wire_level{"100.55", "0.5"}, 2});
  CHECK(books.empty());

  // Several seconds at once and a minute boundary: one sample each, at the last boundary passed.
  bbos.clear();
  s.sample(120'060'500, bbos, books);
  REQUIRE(bbos.size() == 1);
  CHECK(bbos[0].ts_ms == 120'060'000);
  REQUIRE(books.size() == 1);
  CHECK(
    books[0] ==
    mi::gw::book_sample{
      "binance", "BTCUSDT", 120'060'000, 2, {{"100.4", "2"}, {"100.3", "3"}}, {{"100.55", "0.5"}, {"100.6", "4"}}, 2});
}

TEST_CASE("book samples: a book out of sync or published invalid gives no sample until its next valid snapshot") {
  mi::actors::book_samples s(5, 1000, 1000);
  std::vector<mi::gw::bbo_sample> bbos;
  std::vector<mi::gw::book_sample> books;
  s.sample(0, bbos, books);
  s.on_update(snapshot(1, true, {{"1", "1"}}, {{"2", "1"}}));
  s.on_update(delta(3, {{"1.5", "1"}}, {})); // sequence 2 missing: out of sync
  s.sample(1000, bbos, books);
  CHECK(bbos.empty());
  CHECK(books.empty());
  s.on_update(snapshot(4, false, {}, {})); // the feed says: invalid until resynced
  s.sample(2000, bbos, books);
  CHECK(bbos.empty());
  s.on_update(snapshot(5, true, {{"1.25", "3"}}, {})); // one side empty
  s.sample(3000, bbos, books);
  REQUIRE(bbos.size() == 1);
  CHECK(bbos[0].bid == wire_level{"1.25", "3"});
  CHECK_FALSE(bbos[0].ask.has_value());
  REQUIRE(books.size() == 1);
  CHECK(books[0].asks.empty());
  CHECK(s.books() == 1);
}
