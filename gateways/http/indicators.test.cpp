#include "gateways/http/indicators.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace mi::gw::ind;

namespace {

std::vector<mi::decimal> decs(std::initializer_list<const char*> texts) {
  std::vector<mi::decimal> out;
  for (auto t : texts)
    out.push_back(*mi::decimal::parse(t));
  return out;
}

std::vector<std::int64_t> times(std::size_t n) {
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(static_cast<std::int64_t>(i) * 60'000);
  return out;
}

} // namespace

TEST_CASE("SMA is exact (sums of decimals that binary floating point cannot hold)") {
  auto closes = decs({"0.1", "0.2", "0.3", "0.4"});
  auto r = sma(times(4), closes, 2);
  REQUIRE(r);
  REQUIRE(r->size() == 3);
  CHECK((*r)[0] == point{60'000, "0.15"});
  CHECK((*r)[1] == point{120'000, "0.25"});
  CHECK((*r)[2] == point{180'000, "0.35"});
}

TEST_CASE("SMA of a non-terminating quotient is truncated to 18 fraction digits") {
  auto r = sma(times(3), decs({"1", "0", "0"}), 3);
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].value == "0.333333333333333333");
}

TEST_CASE("EMA: seeded by the SMA, then (2 close + (N-1) ema) / (N+1)") {
  auto r = ema(times(4), decs({"10", "20", "30", "40"}), 3);
  REQUIRE(r);
  REQUIRE(r->size() == 2);
  CHECK((*r)[0] == point{120'000, "20"});
  CHECK((*r)[1] == point{180'000, "30"}); // (80 + 2*20) / 4
  auto short_input = ema(times(2), decs({"1", "2"}), 3);
  REQUIRE(short_input);
  CHECK(short_input->empty());
}

TEST_CASE("realized volatility is sqrt of the sum of squared log returns") {
  auto r = realized_volatility(times(3), decs({"100", "110", "99"}), 2);
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  const double want = std::sqrt(std::pow(std::log(1.1), 2) + std::pow(std::log(0.9), 2));
  CHECK(std::stod((*r)[0].value) == doctest::Approx(want).epsilon(1e-12));
  CHECK_FALSE(realized_volatility(times(2), decs({"1", "0"}), 1));
}
