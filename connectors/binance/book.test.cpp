#include <doctest/doctest.h>

#include "connectors/binance/book.hpp"
#include "tests/unit/book_fixtures.hpp"

#include <fstream>

namespace {

using mi::book::side;
using mi::book::status;

std::vector<std::string> data_lines(const std::string& name) {
  std::ifstream in(std::string(MI_SOURCE_DIR) + "/tests/data/books/" + name);
  REQUIRE_MESSAGE(in, "tests/data/books/" << name << " is missing");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

void check_fixture_set(const std::string& set) {
  mi::binance::book_sync sync;
  const auto r = sync.on_rest_snapshot(mi::test::book_fixture_text(set + ".rest_depth.json"));
  REQUIRE(r.what == status::snapshot);
  CHECK(mi::test::check_book_set(sync, set) > 0);
  CHECK(sync.resyncs() == 0);
}

} // namespace

TEST_CASE("binance book: every recorded set equals the oracle frame by frame after the REST snapshot") {
  for (const char* set : {"binance_spot.LRCBTC", "binance_spot.BLZETH", "binance_spot.RUNEEUR"}) {
    CAPTURE(set);
    check_fixture_set(set);
  }
}

TEST_CASE("binance book: events before the REST snapshot are buffered and replayed against it") {
  const std::string set = "binance_spot.LRCBTC";
  const auto frames = mi::test::book_fixture_lines(set + ".frames.jsonl");
  const auto expected = mi::test::book_fixture_lines(set + ".expected.jsonl");
  REQUIRE(frames.size() == expected.size());
  mi::binance::book_sync sync;
  for (const auto& f : frames)
    CHECK(sync.on_frame(f).what == status::awaiting_snapshot);
  CHECK(!sync.book().valid());
  CHECK(sync.buffered() == frames.size());
  CHECK(sync.on_rest_snapshot(mi::test::book_fixture_text(set + ".rest_depth.json")).what == status::snapshot);
  CHECK(sync.buffered() == 0);
  REQUIRE(sync.book().valid());
  const auto last = boost::json::parse(expected.back()).as_object();
  mi::test::check_side(sync.book(), side::bid, last.at("bids").as_array(), frames.size() - 1);
  mi::test::check_side(sync.book(), side::ask, last.at("asks").as_array(), frames.size() - 1);
}

TEST_CASE("binance book: a sequence gap causes exactly one resync and the next snapshot gives the right book") {
  const auto lines = data_lines("binance_gap.jsonl");
  const std::vector<status> want{status::snapshot, status::dropped_stale,     status::applied,  status::applied,
                                 status::resync,   status::awaiting_snapshot, status::snapshot, status::applied};
  REQUIRE(lines.size() == want.size());
  mi::binance::book_sync sync;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CAPTURE(i);
    const auto r = sync.on_frame(lines[i]);
    CHECK(r.what == want[i]);
    CHECK(sync.book().valid() == (want[i] != status::resync && want[i] != status::awaiting_snapshot));
  }
  CHECK(sync.resyncs() == 1);
  const auto& b = sync.book();
  REQUIRE(b.size(side::bid) == 2);
  REQUIRE(b.size(side::ask) == 2);
  CHECK(b.at(side::bid, 0).price == *mi::decimal::parse("9.5"));
  CHECK(b.at(side::bid, 0).qty == *mi::decimal::parse("3"));
  CHECK(b.at(side::bid, 1).price == *mi::decimal::parse("9"));
  CHECK(b.at(side::ask, 0).price == *mi::decimal::parse("12"));
  CHECK(b.at(side::ask, 0).qty == *mi::decimal::parse("4")); // the buffered event 108 replayed on snapshot 107
  CHECK(b.at(side::ask, 1).price == *mi::decimal::parse("13"));
}

TEST_CASE("binance book: a snapshot older than the stream is refused with a resync") {
  mi::binance::book_sync sync;
  CHECK(sync.on_frame(R"({"e":"depthUpdate","U":200,"u":205,"b":[["1","1"]],"a":[]})").what ==
        status::awaiting_snapshot);
  // lastUpdateId 150: events 151..199 are lost between the snapshot and the first buffered event.
  const auto r = sync.on_rest_snapshot(R"({"lastUpdateId":150,"bids":[["1","2"]],"asks":[["2","1"]]})");
  CHECK(r.what == status::resync);
  CHECK(!sync.book().valid());
  CHECK(sync.resyncs() == 1);
  // A newer snapshot straddled by the buffered event syncs.
  CHECK(sync.on_rest_snapshot(R"({"lastUpdateId":202,"bids":[["1","2"]],"asks":[["2","1"]]})").what ==
        status::snapshot);
  CHECK(sync.book().valid());
  CHECK(sync.book().at(side::bid, 0).qty == *mi::decimal::parse("1"));
}

TEST_CASE("binance book: malformed frames resync a valid book and never leave it valid") {
  mi::binance::book_sync sync;
  REQUIRE(sync.on_rest_snapshot(R"({"lastUpdateId":1,"bids":[["1","2"]],"asks":[["2","1"]]})").what ==
          status::snapshot);
  CHECK(sync.on_frame(R"({"result":null,"id":1})").what == status::ignored);
  CHECK(sync.on_frame(R"({"e":"depthUpdate","U":2,"u":2,"b":[["x","1"]],"a":[]})").what == status::resync);
  CHECK(!sync.book().valid());
  CHECK(sync.on_frame(R"({"e":"depthUpdate","U":3,"u":3,"b":[],"a":[]})").what == status::awaiting_snapshot);
  CHECK(sync.on_frame("{\"e\":\"depthUpdate\",").what == status::awaiting_snapshot);
  CHECK(sync.resyncs() == 1);
}
