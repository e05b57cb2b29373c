#include "messages/decimal.hpp"

#include <doctest/doctest.h>

using mi::decimal;

namespace {
std::string canon(std::string_view s) {
  auto d = decimal::parse(s);
  return d ? d->to_string() : "<error>";
}
decimal D(std::string_view s) {
  auto d = decimal::parse(s);
  REQUIRE(d.has_value());
  return *d;
}
} // namespace

TEST_CASE("decimal parses exchange text and prints it canonically") {
  CHECK(canon("0.00426990") == "0.0042699");
  CHECK(canon("33.82000000") == "33.82");
  CHECK(canon("40.0") == "40");
  CHECK(canon("100") == "100");
  CHECK(canon("0") == "0");
  CHECK(canon("-0.000") == "0");
  CHECK(canon("-12.5") == "-12.5");
  CHECK(canon(".5") == "0.5");
  CHECK(canon("1.5e-3") == "0.0015");
  CHECK(canon("2E+2") == "200");
  CHECK(canon("0.00000001") == "0.00000001");
  CHECK(canon("12345678901234567890.123456789") == "12345678901234567890.123456789");
}

TEST_CASE("decimal parse: the 64-bit fast path (at most 18 digits) and the general path agree at their edge") {
  CHECK(canon("5.") == "5");
  CHECK(canon("00.10") == "0.1");
  CHECK(canon("0.000") == "0");
  CHECK(canon("000000000000000001") == "1");
  CHECK(canon("123456789012345678") == "123456789012345678");    // 18 digits: fast path
  CHECK(canon("1234567890123456789") == "1234567890123456789");  // 19: general path
  CHECK(canon("99999999999999999.9") == "99999999999999999.9");  // 18 digits and a point
  CHECK(canon("0.00000000000000001") == "0.00000000000000001");  // 18 digits after the point
  CHECK(canon("0.000000000000000010") == "0.00000000000000001"); // 19 digits with the trailing 0
  CHECK(decimal::parse("1.50") == decimal::parse("1.5e0"));
  CHECK(decimal::parse("123.4500") == decimal::from_parts(12345, 2));
}

TEST_CASE("decimal rejects what is not a number") {
  for (auto bad : {"", "-", ".", "abc", "1.2.3", "1e", "1e+", "0x10", "1,5", "NaN", "inf", " 1", "1 "})
    CHECK_MESSAGE(!decimal::parse(bad).has_value(), bad);
  // 39 significant digits at or above 2^127, and 40, cannot be held exactly
  CHECK(!decimal::parse("170141183460469231731687303715884105728").has_value());
  CHECK(!decimal::parse("999999999999999999999999999999999999999").has_value());
  CHECK(!decimal::parse("1234567890123456789012345678901234567890").has_value());
}

TEST_CASE("decimal: what to_string prints parses back, 39 digits below 2^127 included (found by fuzz_kline_engine)") {
  // A kline's quote volume: 29 integer and 10 fraction digits in one 128-bit mantissa.
  auto q = decimal::from_parts(
    static_cast<decimal::mantissa_type>(123324) * 1'000'000'000'000'000'000 * 1'000'000'000'000'000 + 648, 10);
  REQUIRE(q);
  CHECK(q->to_string() == "12332400000000000000000000000.0000000648");
  CHECK(decimal::parse(q->to_string()) == q);
  const decimal::mantissa_type max = ~(static_cast<unsigned __int128>(1) << 127);
  for (int scale : {0, 1, 20, 38}) {
    auto d = decimal::from_parts(max, scale);
    REQUIRE(d);
    CHECK(decimal::parse(d->to_string()) == d);
    auto n = decimal::from_parts(-max, scale);
    CHECK(decimal::parse(n->to_string()) == n);
  }
}

TEST_CASE("decimal sums a memecoin day without overflow and exactly") {
  // 10^13 units with 8 decimals, summed 100,000 times
  auto q = D("99999999999999.99999999");
  decimal sum;
  for (int i = 0; i < 100000; ++i)
    sum = *sum.checked_add(q);
  CHECK(sum.to_string() == "9999999999999999999.999");
  // 0.1 + 0.2 is 0.3, not 0.30000000000000004
  CHECK(D("0.1").checked_add(D("0.2"))->to_string() == "0.3");
}

TEST_CASE("decimal multiplies price by quantity exactly") {
  CHECK(D("58001.03").checked_mul(D("0.086205"))->to_string() == "4999.97879115");
  CHECK(D("0.00426990").checked_mul(D("33.82"))->to_string() == "0.144408018");
}

TEST_CASE("decimal reports overflow instead of wrapping") {
  auto big = D("99999999999999999999999999999999999999");
  CHECK(!big.checked_add(big).has_value());
  CHECK(!big.checked_mul(D("10")).has_value());
}

TEST_CASE("decimal divides to a fixed number of digits, truncating") {
  CHECK(D("10").checked_div(D("3"), 4)->to_string() == "3.3333");
  CHECK(D("1").checked_div(D("8"), 18)->to_string() == "0.125");
  CHECK(!D("1").checked_div(D("0"), 4).has_value());
}

TEST_CASE("decimal compares by value whatever the scale") {
  CHECK(D("1.10") == D("1.1"));
  CHECK(D("1.1") < D("1.11"));
  CHECK(D("-2") < D("-1.5"));
  CHECK(D("0") < D("0.00000001"));
  CHECK(D("99999999999999999999999999999999999999") > D("0.1"));
}
