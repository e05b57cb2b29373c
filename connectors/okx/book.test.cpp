#include <doctest/doctest.h>

#include "connectors/okx/book.hpp"
#include "tests/unit/book_fixtures.hpp"

namespace {

using mi::book::side;
using mi::book::status;

} // namespace

TEST_CASE("okx book: every recorded set equals the oracle frame by frame, every checksum verified") {
  for (const char* set : {"okx.BTC-USDT", "okx.UNI-USD-SWAP"}) {
    CAPTURE(set);
    mi::okx::book_sync sync;
    CHECK(mi::test::check_book_set(sync, set) > 0);
    CHECK(sync.resyncs() == 0);
  }
}

TEST_CASE("okx book: a seqId gap and a corrupted checksum each cause one resync, the next snapshot a right book") {
  mi::okx::book_sync sync;
  mi::test::check_data_file(sync, "okx_seq_checksum.jsonl",
                            {{status::snapshot, true},
                             {status::applied, true},
                             {status::applied, std::nullopt}, // checksum 0: OKX's phase-out, accepted
                             {status::resync, std::nullopt},  // prevSeqId 13 after seqId 11
                             {status::awaiting_snapshot, std::nullopt},
                             {status::snapshot, true},
                             {status::applied, true},
                             {status::resync, false}, // checksum off by one
                             {status::snapshot, true},
                             {status::applied, true}});
  CHECK(sync.resyncs() == 2);
  mi::test::check_levels(sync.book(), side::bid, {{"99", "5"}});
  mi::test::check_levels(sync.book(), side::ask, {{"103", "1.5"}});
}

TEST_CASE("okx book: a corrupted checksum in a recorded set resyncs once and the next snapshot restores the book") {
  const auto frames = mi::test::book_fixture_lines("okx.UNI-USD-SWAP.frames.jsonl");
  REQUIRE(frames.size() > 10);
  mi::okx::book_sync sync;
  for (std::size_t i = 0; i < 5; ++i)
    REQUIRE(sync.on_frame(frames[i]).checksum_ok == true);
  std::string bad = frames[5];
  const auto at = bad.find("\"checksum\":");
  REQUIRE(at != std::string::npos);
  bad = bad.substr(0, at + 11) + "1" + bad.substr(at + 11); // another number (not insert(): GCC 12 -Wrestrict)
  const auto r = sync.on_frame(bad);
  CHECK(r.what == status::resync);
  CHECK(r.checksum_ok == false);
  CHECK(sync.on_frame(frames[6]).what == status::awaiting_snapshot);
  CHECK(sync.on_frame(frames[0]).what == status::snapshot);
  CHECK(sync.book().valid());
  CHECK(sync.resyncs() == 1);
}

TEST_CASE("okx book: the checksum is computed over the received strings") {
  mi::book::order_book b;
  b.set(side::bid, "3366.1", "7");
  b.set(side::bid, "3366", "6");
  b.set(side::ask, "3366.8", "9");
  b.set(side::ask, "3368", "8");
  b.set(side::ask, "3372", "8");
  std::string scratch;
  mi::okx::book_checksum(b, scratch);
  // OKX's documented example: "3366.1:7:3366.8:9:3366:6:3368:8:3372:8".
  CHECK(scratch == "3366.1:7:3366.8:9:3366:6:3368:8:3372:8");
  CHECK(mi::okx::book_checksum(b, scratch) == 1362239393); // python3: zlib.crc32(b"3366.1:7:...")
}

TEST_CASE("okx book: acknowledgements, pongs and other channels leave the book alone") {
  mi::okx::book_sync sync;
  CHECK(sync.on_frame("pong").what == status::ignored);
  CHECK(
    sync.on_frame(R"({"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"a4d3ae55"})").what ==
    status::ignored);
  CHECK(sync.on_frame(R"({"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"px":"1"}]})").what ==
        status::ignored);
  CHECK(
    sync.on_frame(R"({"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],"bids":[]}]})")
      .what == status::awaiting_snapshot);
  CHECK(sync.resyncs() == 0);
}
