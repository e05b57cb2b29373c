#include <doctest/doctest.h>

#include "connectors/coinbase/book.hpp"
#include "tests/unit/book_fixtures.hpp"

namespace {

using mi::book::side;
using mi::book::status;

} // namespace

TEST_CASE("coinbase book: every recorded legacy level2 set equals the oracle frame by frame") {
  for (const char* set : {"coinbase_legacy.BAND-GBP", "coinbase_legacy.NU-GBP"}) {
    CAPTURE(set);
    mi::coinbase::book_sync sync;
    CHECK(mi::test::check_book_set(sync, set) > 0);
    CHECK(sync.resyncs() == 0);
  }
}

TEST_CASE("coinbase book: an Advanced Trade sequence_num gap causes one resync and the next snapshot a right book") {
  mi::coinbase::book_sync sync;
  mi::test::check_data_file(sync, "coinbase_advanced_gap.jsonl",
                            {{status::ignored, std::nullopt}, // subscriptions, sequence_num 0
                             {status::snapshot, std::nullopt},
                             {status::applied, std::nullopt},
                             {status::ignored, std::nullopt}, // heartbeats, 3
                             {status::resync, std::nullopt},  // 5 after 3
                             {status::awaiting_snapshot, std::nullopt},
                             {status::snapshot, std::nullopt},
                             {status::applied, std::nullopt},
                             {status::dropped_stale, std::nullopt}}); // 8 again
  CHECK(sync.resyncs() == 1);
  mi::test::check_levels(sync.book(), side::bid, {{"99.5", "1"}, {"99", "2"}, {"98", "4"}});
  mi::test::check_levels(sync.book(), side::ask, {{"101", "3"}});
}

TEST_CASE("coinbase book: an l2update before the snapshot and a malformed change never give a valid book") {
  mi::coinbase::book_sync sync;
  CHECK(sync.on_frame(R"({"type":"l2update","product_id":"BTC-USD","changes":[["buy","1","1"]]})").what ==
        status::awaiting_snapshot);
  CHECK(sync.on_frame(R"({"type":"snapshot","product_id":"BTC-USD","bids":[["1","1"]],"asks":[["2","1"]]})").what ==
        status::snapshot);
  CHECK(sync.on_frame(R"({"type":"l2update","product_id":"BTC-USD","changes":[["hold","1","1"]]})").what ==
        status::resync);
  CHECK(!sync.book().valid());
  CHECK(sync.on_frame(R"({"type":"heartbeat","sequence":5})").what == status::ignored);
  CHECK(sync.resyncs() == 1);
}

TEST_CASE("coinbase book: a new connection (sequence_num 0 again) resyncs once and its snapshot restores the book") {
  mi::coinbase::book_sync sync;
  const std::string snapshot =
    R"({"channel":"l2_data","sequence_num":1,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[)"
    R"({"side":"bid","price_level":"10","new_quantity":"1"},{"side":"offer","price_level":"11","new_quantity":"1"}]}]})";
  CHECK(sync.on_frame(R"({"channel":"subscriptions","sequence_num":0,"events":[]})").what == status::ignored);
  CHECK(sync.on_frame(snapshot).what == status::snapshot);
  CHECK(sync.on_frame(R"({"channel":"subscriptions","sequence_num":0,"events":[]})").what == status::resync);
  CHECK(!sync.book().valid());
  CHECK(sync.on_frame(snapshot).what == status::snapshot);
  CHECK(sync.book().valid());
  CHECK(sync.resyncs() == 1);
}

TEST_CASE("coinbase connection_sequence: a number skipped on any channel is one break, repeats and frames without "
          "sequence_num are not") {
  mi::coinbase::connection_sequence seq;
  CHECK_FALSE(seq.on_frame(R"({"channel":"subscriptions","sequence_num":0,"events":[]})"));
  CHECK_FALSE(seq.on_frame(R"({"channel":"heartbeats","sequence_num":1,"events":[]})"));
  CHECK_FALSE(seq.on_frame(R"({"channel":"market_trades","sequence_num":2,"events":[]})"));
  CHECK_FALSE(seq.on_frame(R"({"channel":"market_trades","sequence_num":2,"events":[]})")); // a repeat
  CHECK_FALSE(seq.on_frame(R"({"type":"error","message":"Failed to subscribe"})"));
  CHECK_FALSE(seq.on_frame("not json \"sequence_num\""));
  CHECK_FALSE(seq.on_frame(R"({"channel":"l2_data","sequence_num":"x","events":[]})"));
  auto lost = seq.on_frame(R"({"channel":"l2_data","sequence_num":5,"events":[]})");
  REQUIRE(lost);
  CHECK(*lost == "sequence gap: sequence_num 5 after 2");
  CHECK_FALSE(seq.on_frame(R"({"channel":"l2_data","sequence_num":6,"events":[]})"));
  CHECK(seq.breaks() == 1);
  seq.reset(); // a new connection
  CHECK_FALSE(seq.on_frame(R"({"channel":"subscriptions","sequence_num":0,"events":[]})"));
  CHECK_FALSE(seq.on_frame(R"({"channel":"heartbeats","sequence_num":1,"events":[]})"));
  CHECK(seq.last() == 1);
  CHECK(seq.breaks() == 1);
}

TEST_CASE("coinbase book: the codec of one product on a live connection leaves sequence_num continuity to the "
          "connection and still drops a repeated message") {
  mi::coinbase::book_sync sync(mi::coinbase::sequence_scope::connection);
  CHECK(sync
          .on_frame(R"({"channel":"l2_data","sequence_num":3,"events":[{"type":"snapshot","product_id":"BTC-USD",)"
                    R"("updates":[{"side":"bid","price_level":"10","new_quantity":"1"}]}]})")
          .what == status::snapshot);
  CHECK(sync
          .on_frame(R"({"channel":"l2_data","sequence_num":9,"events":[{"type":"update","product_id":"BTC-USD",)"
                    R"("updates":[{"side":"bid","price_level":"10","new_quantity":"2"}]}]})")
          .what == status::applied);
  CHECK(sync
          .on_frame(R"({"channel":"l2_data","sequence_num":9,"events":[{"type":"update","product_id":"BTC-USD",)"
                    R"("updates":[{"side":"bid","price_level":"10","new_quantity":"5"}]}]})")
          .what == status::dropped_stale);
  mi::test::check_levels(sync.book(), side::bid, {{"10", "2"}});
  CHECK(sync.resyncs() == 0);
}
