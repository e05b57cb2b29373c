#include <doctest/doctest.h>

#include "connectors/kraken/book.hpp"
#include "tests/unit/book_fixtures.hpp"

namespace {

using mi::book::side;
using mi::book::status;

} // namespace

TEST_CASE("kraken book: every recorded v1 and v2 set equals the oracle frame by frame, every checksum verified") {
  for (const char* set : {"kraken_v1.XBT-CHF", "kraken_v1.GRT-ETH", "kraken_v2.BTC-USD"}) {
    CAPTURE(set);
    mi::kraken::book_sync sync;
    CHECK(mi::test::check_book_set(sync, set) > 0);
    CHECK(sync.resyncs() == 0);
  }
}

TEST_CASE("kraken book: a corrupted v2 checksum causes exactly one resync and the next snapshot a right book") {
  mi::kraken::book_sync sync;
  mi::test::check_data_file(sync, "kraken_v2_checksum.jsonl",
                            {{status::snapshot, true},
                             {status::applied, true},
                             {status::resync, false},
                             {status::awaiting_snapshot, std::nullopt},
                             {status::snapshot, true},
                             {status::applied, true}});
  CHECK(sync.resyncs() == 1);
  mi::test::check_levels(sync.book(), side::bid, {{"78500", "0.75"}, {"78498", "3"}});
  mi::test::check_levels(sync.book(), side::ask, {{"78502", "2"}, {"78503", "1.1"}});
}

TEST_CASE("kraken book: the checksum uses the received text, trailing zeros included") {
  // Kraken's documented worked example (docs.kraken.com, "Spot Websockets book checksum"), as the fixtures' README
  // gives it: 3310070434.
  mi::book::order_book b;
  for (auto [p, q] : {std::pair{"45285.2", "0.00100000"},
                      {"45286.4", "1.54571953"},
                      {"45286.6", "1.54571109"},
                      {"45289.6", "1.54560911"},
                      {"45290.2", "0.15890660"},
                      {"45291.8", "1.54553491"},
                      {"45294.7", "0.04454749"},
                      {"45296.1", "0.35380000"},
                      {"45297.5", "0.09945542"},
                      {"45299.5", "0.18772827"}})
    b.set(side::ask, p, q);
  for (auto [p, q] : {std::pair{"45283.5", "0.10000000"},
                      {"45283.4", "1.54582015"},
                      {"45282.1", "0.10000000"},
                      {"45281.0", "0.10000000"},
                      {"45280.3", "1.54592586"},
                      {"45279.0", "0.07990000"},
                      {"45277.6", "0.03310103"},
                      {"45277.5", "0.30000000"},
                      {"45277.3", "1.54602737"},
                      {"45276.6", "0.15445238"}})
    b.set(side::bid, p, q);
  std::string scratch;
  CHECK(mi::kraken::book_checksum(b, scratch) == 3310070434u);
  CHECK(scratch.substr(0, 20) == "45285210000045286415");
}

TEST_CASE("kraken book: heartbeats and acknowledgements are ignored, an update before a snapshot waits") {
  mi::kraken::book_sync sync;
  CHECK(sync.on_frame(R"({"channel":"heartbeat"})").what == status::ignored);
  CHECK(sync.on_frame(R"({"event":"heartbeat"})").what == status::ignored);
  CHECK(
    sync.on_frame(R"({"method":"subscribe","result":{"channel":"book","depth":10,"symbol":"BTC/USD"},"success":true})")
      .what == status::ignored);
  CHECK(
    sync
      .on_frame(R"([336,{"a":[["5541.30000","2.50700000","1534614248.456738"]],"c":"974942666"},"book-10","XBT/USD"])")
      .what == status::awaiting_snapshot);
  CHECK(sync.resyncs() == 0);
}
