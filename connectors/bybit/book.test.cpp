#include <doctest/doctest.h>

#include "connectors/bybit/book.hpp"
#include "tests/unit/book_fixtures.hpp"

namespace {

using mi::book::side;
using mi::book::status;

} // namespace

TEST_CASE("bybit book: the recorded set equals the oracle frame by frame") {
  mi::bybit::book_sync sync;
  CHECK(mi::test::check_book_set(sync, "bybit_v5.BTCUSDT") > 0);
  CHECK(sync.resyncs() == 0);
}

TEST_CASE("bybit book: a u gap causes exactly one resync and the next snapshot gives the right book") {
  mi::bybit::book_sync sync;
  mi::test::check_data_file(sync, "bybit_gap.jsonl",
                            {{status::ignored, std::nullopt},
                             {status::snapshot, std::nullopt},
                             {status::applied, std::nullopt},
                             {status::dropped_stale, std::nullopt}, // u 101 again
                             {status::resync, std::nullopt},        // u 103 after 101
                             {status::awaiting_snapshot, std::nullopt},
                             {status::snapshot, std::nullopt},
                             {status::applied, std::nullopt}});
  CHECK(sync.resyncs() == 1);
  mi::test::check_levels(sync.book(), side::bid, {{"99", "1"}});
  mi::test::check_levels(sync.book(), side::ask, {{"102", "5"}});
}

TEST_CASE("bybit book: a delta before any snapshot and malformed frames never give a valid book") {
  mi::bybit::book_sync sync;
  CHECK(sync.on_frame(R"({"topic":"orderbook.50.BTCUSDT","type":"delta","data":{"s":"BTCUSDT","b":[],"a":[],"u":5}})")
          .what == status::awaiting_snapshot);
  CHECK(
    sync
      .on_frame(
        R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","data":{"s":"BTCUSDT","b":[["1","1"]],"a":[["2","1"]],"u":7}})")
      .what == status::snapshot);
  CHECK(sync
          .on_frame(
            R"({"topic":"orderbook.50.BTCUSDT","type":"delta","data":{"s":"BTCUSDT","b":[["1","-1"]],"a":[],"u":8}})")
          .what == status::resync);
  CHECK(!sync.book().valid());
  CHECK(sync.on_frame("{\"topic\":").what == status::awaiting_snapshot);
  CHECK(sync.resyncs() == 1);
}
