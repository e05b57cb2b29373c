#include "gateways/jetstream/pub_ack.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>

using mi::gw::parse_pub_ack;
using mi::gw::pub_ack;

// The answers below have the shape of nats-server's JSPubAckResponse (server/jetstream_api.go: an optional "error"
// ApiError {code, err_code, description} and the PubAck fields stream, seq, domain and duplicate, empty ones
// omitted); the integration tests (jetstream.test.cpp) read the real server's.

TEST_CASE("publish ack: stored, duplicate and stored in a domain") {
  auto a = parse_pub_ack(R"({"stream":"MARKET_RAW","seq":17})");
  CHECK(a.what == pub_ack::kind::stored);
  CHECK(a.stream == "MARKET_RAW");
  CHECK(a.seq == 17);
  CHECK_FALSE(a.duplicate);

  a = parse_pub_ack(R"({"stream":"MARKET_RAW","seq":18446744073709551615,"duplicate":true})");
  CHECK(a.what == pub_ack::kind::stored);
  CHECK(a.seq == 18446744073709551615ULL);
  CHECK(a.duplicate);

  a = parse_pub_ack(R"({"stream":"S","domain":"hub","seq":3})");
  CHECK(a.what == pub_ack::kind::stored);
  CHECK(a.stream == "S");
  CHECK(a.seq == 3);
}

TEST_CASE("publish ack: a refusal carries the server's codes and description") {
  auto a = parse_pub_ack(R"({"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}})");
  CHECK(a.what == pub_ack::kind::refused);
  CHECK(a.code == 503);
  CHECK(a.err_code == 10077);
  CHECK(a.error == "maximum messages exceeded");

  a = parse_pub_ack(R"({"stream":"S","error":{"code":400,"err_code":10071,"description":"wrong last sequence: 4"}})");
  CHECK(a.what == pub_ack::kind::refused);
  CHECK(a.err_code == 10071);
  CHECK(a.error == "wrong last sequence: 4");

  a = parse_pub_ack(R"({"error":{"code":500}})");
  CHECK(a.what == pub_ack::kind::refused);
  CHECK(a.error == "refused without a description");
}

TEST_CASE("publish ack: anything else is malformed, with what is wrong") {
  for (const char* bad : {"", "null", "[]", "{", R"({"stream":"S"})", R"({"seq":1})", R"({"stream":"S","seq":0})",
                          R"({"stream":"S","seq":-1})", R"({"stream":"S","seq":"1"})", R"({"stream":1,"seq":1})",
                          R"({"stream":"S","seq":1,"duplicate":1})", R"({"error":"nope"})",
                          R"({"error":{"code":"503"}})", R"({"error":{"code":1e99}})"}) {
    CAPTURE(bad);
    auto a = parse_pub_ack(bad);
    CHECK(a.what == pub_ack::kind::malformed);
    CHECK_FALSE(a.error.empty());
  }
  CHECK(parse_pub_ack(std::string(5000, ' ')).what == pub_ack::kind::malformed);
}

TEST_CASE("publish ack: 100,000 mutations of real answers never throw, and a stored answer always has its fields") {
  const std::string seeds[] = {R"({"stream":"MARKET_RAW","seq":17})",
                               R"({"stream":"MARKET_RAW","seq":18,"duplicate":true})",
                               R"({"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}})"};
  std::mt19937 rng(5);
  int stored = 0;
  for (int i = 0; i < 100'000; ++i) {
    std::string s = seeds[rng() % 3];
    for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) {
      const auto at = rng() % (s.size() + 1);
      switch (rng() % 3) {
      case 0:
        s.insert(at, 1, static_cast<char>(rng() % 256));
        break;
      case 1:
        if (at < s.size())
          s.erase(at, 1);
        break;
      default:
        if (at < s.size())
          s[at] = "{}[]\":,0123456789aetrsx \\"[rng() % 26];
      }
    }
    pub_ack a;
    CHECK_NOTHROW(a = parse_pub_ack(s));
    if (a.what == pub_ack::kind::stored) {
      ++stored;
      REQUIRE(a.seq > 0);
      REQUIRE_FALSE(a.stream.empty());
    } else {
      REQUIRE_FALSE(a.error.empty());
    }
  }
  CHECK(stored > 0); // some mutations keep a valid answer
}
