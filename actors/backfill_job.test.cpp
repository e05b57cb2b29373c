#include "actors/backfill_job.hpp"

#include <doctest/doctest.h>

using mi::actors::backfill_job;

namespace {

mi::venue::gap gap(std::int64_t first, std::int64_t last) { return {first, last, 111, 222}; }

void receive_all(backfill_job& j, std::initializer_list<std::int64_t> ids) {
  for (auto id : ids) {
    bool fresh = false;
    j.receive(id, fresh);
  }
}

} // namespace

TEST_CASE("backfill_job: ids of the gap are counted once, ids outside it are not kept") {
  backfill_job j(gap(100, 109));
  CHECK(j.size() == 10);
  bool fresh = false;
  CHECK(j.receive(100, fresh));
  CHECK(fresh);
  CHECK(j.receive(100, fresh)); // a repeat is kept (dedup downstream) but not new
  CHECK_FALSE(fresh);
  CHECK_FALSE(j.receive(99, fresh));
  CHECK_FALSE(j.receive(110, fresh));
  CHECK(j.receive(109, fresh));
  CHECK(j.received() == 2);
  CHECK_FALSE(j.complete());
  receive_all(j, {101, 102, 103, 104, 105, 106, 107, 108});
  CHECK(j.complete());
  CHECK(j.missing_ranges().empty());
}

TEST_CASE("backfill_job: what was not received is reported in contiguous ranges with the gap's times") {
  backfill_job j(gap(100, 119));
  receive_all(j, {100, 101, 105, 106, 107, 119});
  auto r = j.missing_ranges();
  REQUIRE(r.size() == 2);
  CHECK(r[0].part == mi::venue::gap{102, 104, 111, 222});
  CHECK(r[0].missing == 3);
  CHECK(r[1].part == mi::venue::gap{108, 118, 111, 222});
  CHECK(r[1].missing == 11);
}

TEST_CASE("backfill_job: beyond 16 ranges the last report spans the rest and counts only what is missing in it") {
  // 40 ids, every even one received: 20 holes of one id each.
  backfill_job j(gap(0, 39));
  for (std::int64_t id = 0; id < 40; id += 2) {
    bool fresh = false;
    j.receive(id, fresh);
  }
  auto r = j.missing_ranges();
  REQUIRE(r.size() == backfill_job::max_reported_ranges);
  CHECK(r[0].part.first_id == 1);
  CHECK(r[0].part.last_id == 1);
  CHECK(r[14].part.first_id == 29);
  CHECK(r[15].part.first_id == 31);
  CHECK(r[15].part.last_id == 39);
  CHECK(r[15].missing == 5); // 31, 33, 35, 37, 39
  std::int64_t total = 0;
  for (const auto& x : r)
    total += x.missing;
  CHECK(total == 20);
}

TEST_CASE("backfill_job: a gap gives up when the venue has no next page or after 3 fruitless pages in a row") {
  backfill_job j(gap(1, 50));
  CHECK(j.give_up_reason(false) == "the exchange's REST history does not reach back to them");
  j.page_done(0);
  j.page_done(0);
  CHECK(j.give_up_reason(true).empty());
  j.page_done(4); // something new: the count starts again
  j.page_done(0);
  j.page_done(0);
  CHECK(j.give_up_reason(true).empty());
  j.page_done(0);
  CHECK(j.give_up_reason(true) == "the exchange's REST history returned no more of them");
}

TEST_CASE("backfill_job: REST failures back off 1, 2, 4, 8 s and give up at the fifth in a row") {
  backfill_job j(gap(1, 5));
  CHECK_FALSE(j.failed("HTTP 500"));
  CHECK(j.retry_delay_ns() == 1'000'000'000);
  CHECK_FALSE(j.failed("HTTP 500"));
  CHECK(j.retry_delay_ns() == 2'000'000'000);
  j.page_done(1); // a page that parsed: failures are counted in a row only
  CHECK(j.failures() == 0);
  for (int i = 0; i < 3; ++i)
    CHECK_FALSE(j.failed("timeout"));
  CHECK(j.retry_delay_ns() == 4'000'000'000);
  CHECK_FALSE(j.failed("timeout"));
  CHECK(j.retry_delay_ns() == 8'000'000'000);
  CHECK(j.failed("timeout"));
  CHECK(j.last_error() == "timeout");
}
