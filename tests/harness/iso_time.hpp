#pragma once
// Tests' own reading of "2026-12-01T17:45:00.000Z" (UTC, milliseconds, exactly 24 characters) into ms since the Unix
// epoch: written here, not by the code under test, so expected files can be compared with what it computes.

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

namespace mi::test {

inline std::int64_t iso_ms(const std::string& s) {
  REQUIRE_MESSAGE(s.size() == 24, s);
  const std::int64_t y = std::stoi(s.substr(0, 4));
  const unsigned m = static_cast<unsigned>(std::stoi(s.substr(5, 2)));
  const unsigned d = static_cast<unsigned>(std::stoi(s.substr(8, 2)));
  // days from civil (H. Hinnant's algorithm), written out so the tests do not lean on messages/util
  const std::int64_t yy = y - (m <= 2);
  const std::int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  const std::int64_t yoe = yy - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = era * 146097 + doe - 719468;
  return (((days * 24 + std::stoi(s.substr(11, 2))) * 60 + std::stoi(s.substr(14, 2))) * 60 +
          std::stoi(s.substr(17, 2))) *
           1000 +
         std::stoi(s.substr(20, 3));
}

} // namespace mi::test
