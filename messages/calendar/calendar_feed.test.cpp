// The process's calendar feed (messages/calendar/calendar_feed.hpp): a refresh publishes a new immutable snapshot;
// a reader's snapshot never changes under it.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "messages/calendar/calendar_feed.hpp"

namespace {

std::shared_ptr<const mi::calendar::calendar_set> repo() {
  auto set = mi::calendar::load_calendars(std::string(MI_SOURCE_DIR) + "/deploy/calendars");
  REQUIRE(set.has_value());
  return std::make_shared<const mi::calendar::calendar_set>(std::move(*set));
}

} // namespace

TEST_CASE("calendar feed: a replaced snapshot reaches new readers, an old reader keeps its own") {
  mi::calendar::calendar_feed feed(repo());
  CHECK(feed.version() == 1);
  auto old = feed.current();
  REQUIRE(old->find("XNYS") != nullptr);
  // A refresh: 2026-12-01 closes at 13:00 (the file says 16:00).
  mi::calendar::calendar_set next = *old;
  const auto dec1 = mi::util::days_from_civil(2026, 12, 1);
  REQUIRE(next.find_mutable("XNYS")->merge(dec1, dec1, {{dec1, 570, 780}}).has_value());
  CHECK_FALSE(mi::calendar::same_days(*old->find("XNYS"), *next.find("XNYS")));
  feed.replace(std::make_shared<const mi::calendar::calendar_set>(std::move(next)));
  CHECK(feed.version() == 2);
  auto s_old = old->find("XNYS")->session_on_day(dec1);
  auto s_new = feed.current()->find("XNYS")->session_on_day(dec1);
  REQUIRE((s_old && *s_old && s_new && *s_new));
  CHECK((*s_old)->local.end == 16 * 60); // the reader's snapshot is unchanged
  CHECK((*s_new)->local.end == 13 * 60);
  CHECK((*s_new)->early_close);
  feed.replace(nullptr); // ignored
  CHECK(feed.version() == 2);
}

TEST_CASE("calendar feed: the same days are recognized as unchanged, and a null start is CRYPTO only") {
  auto a = repo();
  auto b = repo();
  CHECK(mi::calendar::same_days(*a->find("XNYS"), *b->find("XNYS")));
  CHECK_FALSE(mi::calendar::same_days(*a->find("XNYS"), *a->find("XSHG")));
  mi::calendar::calendar_feed empty(nullptr);
  CHECK(empty.current()->markets() == std::vector<std::string>{"CRYPTO"});
}
