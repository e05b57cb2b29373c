#include "messages/util/time_zone.hpp"

#include <doctest/doctest.h>

using namespace mi::util;

// Reference instants: `TZ=America/New_York date -d @<s>` and `date -u -d <time> +%s` (GNU coreutils).

TEST_CASE("New York across the March 2024 daylight-saving switch") {
  constexpr std::int64_t s = 1'000'000'000;
  auto before = local_time_in("America/New_York", 1'710'053'999 * s); // 2024-03-10T06:59:59Z
  REQUIRE(before);
  CHECK(before->utc_offset_s == -5 * 3600);
  CHECK(before->local == civil_time{{2024, 3, 10}, 1, 59, 59, 0});
  auto after = local_time_in("America/New_York", 1'710'054'000 * s); // 2024-03-10T07:00:00Z
  REQUIRE(after);
  CHECK(after->utc_offset_s == -4 * 3600);
  CHECK(after->local == civil_time{{2024, 3, 10}, 3, 0, 0, 0});
  // 02:30 that night never happens; 01:30 on 2024-11-03 happens twice: the earlier (EDT) instant.
  CHECK_FALSE(utc_of_local("America/New_York", civil_time{{2024, 3, 10}, 2, 30, 0, 0}));
  auto twice = utc_of_local("America/New_York", civil_time{{2024, 11, 3}, 1, 30, 0, 0});
  REQUIRE(twice);
  CHECK(*twice == 1'730'611'800 * s); // 2024-11-03T05:30:00Z
  auto open = utc_of_local("America/New_York", civil_time{{2024, 7, 1}, 9, 30, 0, 0});
  REQUIRE(open);
  CHECK(*open == (1'719'792'000 + 13 * 3600 + 30 * 60) * s); // 13:30Z in summer
}

TEST_CASE("Shanghai is UTC+8 all year") {
  constexpr std::int64_t s = 1'000'000'000;
  for (std::int64_t utc : {1'704'067'200LL, 1'719'792'000LL}) { // 2024-01-01 and 2024-07-01, 00:00Z
    auto t = local_time_in("Asia/Shanghai", utc * s + 7);
    REQUIRE(t);
    CHECK(t->utc_offset_s == 8 * 3600);
    CHECK(t->local.hour == 8);
    CHECK(t->local.nanos == 7);
  }
  auto open = utc_of_local("Asia/Shanghai", civil_time{{2024, 1, 2}, 9, 30, 0, 0});
  REQUIRE(open);
  CHECK(*open == (1'704'067'200 + 86'400 + 3600 + 30 * 60) * s); // 01:30Z
}

TEST_CASE("an unknown zone is an error, not an exception") {
  auto t = local_time_in("Mars/Olympus_Mons", 0);
  REQUIRE_FALSE(t);
  CHECK(t.err().message.find("Mars/Olympus_Mons") != std::string::npos);
}
