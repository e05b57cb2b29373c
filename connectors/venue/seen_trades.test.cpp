#include <doctest/doctest.h>

#include <string>

#include "connectors/venue/seen_trades.hpp"

using mi::venue::seen_trades;

TEST_CASE("seen_trades: a polled trade already seen (live or in an earlier poll) is not offered again") {
  seen_trades seen;
  CHECK(seen.first_time("BTCUSDT", "2290000000123456789")); // live
  // The same 60-trade poll answered every second: only its new ids pass, once.
  int passed = 0;
  for (int poll = 0; poll < 100; ++poll)
    for (int i = 0; i < 60; ++i)
      passed += seen.first_time("BTCUSDT", "22900000001234" + std::to_string(56000 + i)) ? 1 : 0;
  CHECK(passed == 60);
  CHECK_FALSE(seen.first_time("BTCUSDT", "2290000000123456789"));
  // Ids are per symbol.
  CHECK(seen.first_time("ETHUSDT", "2290000000123456789"));
}

TEST_CASE("seen_trades: memory is bounded per symbol, the oldest ids are forgotten first") {
  seen_trades seen(100);
  for (int i = 0; i < 1000; ++i)
    CHECK(seen.first_time("BTCUSDT", std::to_string(i)));
  CHECK(seen.size("BTCUSDT") == 100);
  CHECK_FALSE(seen.first_time("BTCUSDT", "999")); // among the last 100
  CHECK_FALSE(seen.first_time("BTCUSDT", "900"));
  CHECK(seen.first_time("BTCUSDT", "899")); // forgotten: offered again
  CHECK(seen.size("BTCUSDT") == 100);
  CHECK(seen.size("ETHUSDT") == 0);
}
