// copy_binary against the reference that matters: PostgreSQL's own binary send functions (numeric_send,
// timestamptz_send) on the text form the platform wrote before binary COPY.
#include "gateways/postgres/copy_binary.hpp"

#include <doctest/doctest.h>

#include <pqxx/pqxx>
#include <random>
#include <string>
#include <vector>

#include "gateways/postgres/postgres.hpp"
#include "tests/harness/pg_server.hpp"

namespace {

std::string hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

} // namespace

TEST_CASE("numeric_binary gives the bytes of the server's numeric_send for the same value") {
  std::vector<std::string> texts{"0",
                                 "1",
                                 "-1",
                                 "0.1",
                                 "-0.5",
                                 "0.00001234",
                                 "0.000000000000000001",
                                 "10000",
                                 "100000000",
                                 "1.0001",
                                 "9999.9999",
                                 "58001.03123456",
                                 "16500.12",
                                 "12345678901234567890.123456789",
                                 "99999999999999999999.999999999999999999",
                                 "123456789.123456789012345678",
                                 "-170141183460469231731687303715884105.727",
                                 "0.00000000000000000000000000000000000001"};
  std::mt19937_64 rng(17);
  for (int i = 0; i < 3000; ++i) { // random mantissas of 1..38 digits at scales 0..20, both signs
    const int digits = 1 + static_cast<int>(rng() % 38);
    std::string m;
    for (int d = 0; d < digits; ++d)
      m += static_cast<char>('0' + rng() % 10);
    const int scale = static_cast<int>(rng() % 21);
    auto d = mi::decimal::from_parts(0, 0);
    __int128 v = 0;
    for (char c : m)
      v = v * 10 + (c - '0');
    d = mi::decimal::from_parts((rng() % 2) != 0 ? -v : v, scale);
    REQUIRE(d.has_value());
    texts.push_back(d->to_string());
  }
  mi::test::pg_server pg;
  pqxx::connection c{pg.conninfo()};
  pqxx::nontransaction w{c};
  std::string array = "{";
  for (std::size_t i = 0; i < texts.size(); ++i)
    array += (i ? "," : "") + texts[i];
  array += "}";
  const auto r = w.exec_params(
    "SELECT encode(numeric_send(v), 'hex') FROM unnest($1::numeric[]) WITH ORDINALITY AS a(v, i) ORDER BY i", array);
  REQUIRE(r.size() == texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto d = mi::decimal::parse(texts[i]);
    REQUIRE(d.has_value());
    INFO("value ", texts[i]);
    CHECK(hex(mi::gw::numeric_binary(*d)) == r[i][0].as<std::string>());
  }
}

TEST_CASE("copy_binary timestamptz is the server's timestamptz_send of timestamptz_text, before and after 2000") {
  const std::int64_t times[] = {0,
                                -1, // floors to the microsecond before 1970
                                -1'500,
                                946'684'799'999'999'999LL, // the last ns before 2000-01-01
                                946'684'800'000'000'000LL,
                                1'672'515'782'136'000'999LL,
                                4'102'444'800'123'456'789LL}; // 2100
  mi::test::pg_server pg;
  pqxx::connection c{pg.conninfo()};
  pqxx::nontransaction w{c};
  for (auto ns : times) {
    mi::gw::copy_binary b;
    b.row(1);
    b.timestamptz_ns(ns);
    const auto& data = b.finish();
    // header (19) + field count (2) + length (4), then the 8 bytes, then the trailer (2).
    REQUIRE(data.size() == 19 + 2 + 4 + 8 + 2);
    const auto want =
      w.exec_params1("SELECT encode(timestamptz_send($1::timestamptz), 'hex')", mi::gw::timestamptz_text(ns))[0]
        .as<std::string>();
    INFO("ns ", ns);
    CHECK(hex(std::string_view(data).substr(25, 8)) == want);
    CHECK(hex(std::string_view(data).substr(21, 4)) == "00000008");
  }
}
