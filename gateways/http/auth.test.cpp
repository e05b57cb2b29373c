#include "gateways/http/auth.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <memory>

using namespace mi::gw::auth;

namespace {

const std::string test_id = "mik_0123456789abcdef01234567";

key_record live_key(std::int64_t quota = 0) {
  return key_record{test_id, signing_key(test_id, "s3cret"), false, quota, {}};
}

credentials signed_request(const std::string& ts, const std::string& nonce, const std::string& canonical,
                           const std::string& key = signing_key(test_id, "s3cret")) {
  return credentials{test_id, ts, nonce, hmac_sha256_hex(key, string_to_sign(ts, "GET", "/api/v1/klines", canonical))};
}

/// A nonce store that does not answer (NATS down), counting calls.
struct broken_store : nonce_store {
  int calls = 0;
  mi::result<nonce_outcome> remember(const std::string&, const std::string&, std::int64_t, std::int64_t) override {
    ++calls;
    return mi::error{"nats: no server available"};
  }
};

constexpr std::int64_t now = 1'700'000'000'000;

} // namespace

TEST_CASE("sha256 and hmac-sha256 match the published test vectors") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("signing key is sha256 of key id, colon, secret (what the docs tell clients to compute)") {
  CHECK(signing_key("mik_1", "abc") == sha256_hex("mik_1:abc"));
  CHECK(signing_key("mik_1", "abc") != signing_key("mik_2", "abc")); // the key id salts it
}

TEST_CASE("canonical query sorts by name, re-encodes RFC 3986, drops excluded names") {
  auto q = parse_query("symbol=BTCUSDT&exchange=binance&limit=5&x=a%2Fb+c");
  REQUIRE(q);
  CHECK(canonical_query(*q) == "exchange=binance&limit=5&symbol=BTCUSDT&x=a%2Fb%2Bc");
  CHECK(canonical_query(*q, {"limit", "x"}) == "exchange=binance&symbol=BTCUSDT");
  CHECK(canonical_query({}) == "");
}

TEST_CASE("parse_query names the parameter with bad percent-encoding") {
  auto q = parse_query("a=1&start=12%G4");
  REQUIRE_FALSE(q);
  CHECK(q.err().message.find("'start'") != std::string::npos);
  CHECK_FALSE(parse_query("a=%4"));
}

TEST_CASE("a correctly signed request passes once, the same nonce again is a replay") {
  authenticator a{auth_options{}};
  auto c = signed_request(std::to_string(now), "n1", "symbol=BTCUSDT");
  CHECK(a.check(c, live_key(), "GET", "/api/v1/klines", "symbol=BTCUSDT", now).ok());
  auto again = a.check(c, live_key(), "GET", "/api/v1/klines", "symbol=BTCUSDT", now + 10);
  CHECK(again.reason == reject::replayed_nonce);
}

TEST_CASE("each rejection reason") {
  authenticator a{auth_options{}};
  const std::string ts = std::to_string(now);
  SUBCASE("wrong secret") {
    auto c = signed_request(ts, "n", "", signing_key(test_id, "wrong"));
    CHECK(a.check(c, live_key(), "GET", "/api/v1/klines", "", now).reason == reject::bad_signature);
  }
  SUBCASE("query changed after signing") {
    auto c = signed_request(ts, "n", "limit=5");
    CHECK(a.check(c, live_key(), "GET", "/api/v1/klines", "limit=6", now).reason == reject::bad_signature);
  }
  SUBCASE("timestamp just outside the window, both sides") {
    CHECK(a.check(signed_request(std::to_string(now - 5001), "n", ""), live_key(), "GET", "/api/v1/klines", "", now)
            .reason == reject::expired_timestamp);
    CHECK(a.check(signed_request(std::to_string(now + 5001), "n", ""), live_key(), "GET", "/api/v1/klines", "", now)
            .reason == reject::expired_timestamp);
    CHECK(
      a.check(signed_request(std::to_string(now - 5000), "n", ""), live_key(), "GET", "/api/v1/klines", "", now).ok());
  }
  SUBCASE("unknown and revoked key") {
    auto c = signed_request(ts, "n", "");
    CHECK(a.check(c, std::nullopt, "GET", "/api/v1/klines", "", now).reason == reject::unknown_key);
    auto k = live_key();
    k.revoked = true;
    CHECK(a.check(c, k, "GET", "/api/v1/klines", "", now).reason == reject::revoked_key);
  }
  SUBCASE("missing and malformed credentials") {
    auto c = signed_request(ts, "n", "");
    c.signature.clear();
    CHECK(a.check(c, live_key(), "GET", "/api/v1/klines", "", now).reason == reject::missing_credentials);
    auto bad_ts = signed_request("12x", "n", "");
    CHECK(a.check(bad_ts, live_key(), "GET", "/api/v1/klines", "", now).reason == reject::malformed);
    auto bad_nonce = signed_request(ts, "has space", "");
    CHECK(a.check(bad_nonce, live_key(), "GET", "/api/v1/klines", "", now).reason == reject::malformed);
  }
}

TEST_CASE("failed checks store no nonce, nonces are forgotten after the window") {
  auto store = std::make_shared<memory_nonce_store>();
  authenticator a{auth_options{}, store};
  auto bad = signed_request(std::to_string(now), "n", "", signing_key(test_id, "wrong"));
  CHECK_FALSE(a.check(bad, live_key(), "GET", "/api/v1/klines", "", now).ok());
  CHECK(store->size() == 0);
  CHECK(a.check(signed_request(std::to_string(now), "n", ""), live_key(), "GET", "/api/v1/klines", "", now).ok());
  CHECK(store->size() == 1);
  // Later, an unrelated request of the same key prunes it.
  CHECK(
    a.check(signed_request(std::to_string(now + 20000), "m", ""), live_key(), "GET", "/api/v1/klines", "", now + 20000)
      .ok());
  CHECK(store->size() == 1);
}

TEST_CASE("precheck refuses malformed key ids, signatures and stale timestamps without a key") {
  authenticator a{auth_options{}};
  const std::string ts = std::to_string(now);
  CHECK(a.precheck(signed_request(ts, "n", ""), now).ok());
  auto bad_id = signed_request(ts, "n", "");
  for (const char* id : {"mik_test", "mik_0123456789ABCDEF01234567", "mik_0123456789abcdef0123456", "xyz",
                         "mik_0123456789abcdef01234567' OR 1=1"}) {
    bad_id.key_id = id;
    CHECK_MESSAGE(a.precheck(bad_id, now).reason == reject::malformed, id);
  }
  auto bad_sig = signed_request(ts, "n", "");
  bad_sig.signature = std::string(64, 'g');
  CHECK(a.precheck(bad_sig, now).reason == reject::malformed);
  bad_sig.signature = std::string(63, '0');
  CHECK(a.precheck(bad_sig, now).reason == reject::malformed);
  // Upper-case hex is a well-formed signature (compared case-insensitively).
  auto upper = signed_request(ts, "n", "");
  std::transform(upper.signature.begin(), upper.signature.end(), upper.signature.begin(),
                 [](char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); });
  CHECK(a.precheck(upper, now).ok());
  CHECK(a.check(upper, live_key(), "GET", "/api/v1/klines", "", now).ok());
  // The window needs no key: a stale request is refused before any lookup.
  CHECK(a.precheck(signed_request(std::to_string(now - 6000), "n", ""), now).reason == reject::expired_timestamp);
}

TEST_CASE("a nonce store that does not answer refuses the request and costs no quota") {
  auto store = std::make_shared<broken_store>();
  authenticator a{auth_options{}, store};
  const auto key = live_key(1); // one request per minute
  auto d = a.check(signed_request(std::to_string(now), "n1", ""), key, "GET", "/api/v1/klines", "", now);
  CHECK(d.reason == reject::nonce_store_unavailable);
  CHECK(reason_label(d.reason) == "nonce_store_unavailable");
  CHECK(store->calls == 1);
  // The token was given back: with a working store the one request of the minute passes.
  authenticator b{auth_options{}};
  CHECK(b.check(signed_request(std::to_string(now), "n1", ""), key, "GET", "/api/v1/klines", "", now).ok());
  auto again = a.check(signed_request(std::to_string(now), "n2", ""), key, "GET", "/api/v1/klines", "", now);
  CHECK(again.reason == reject::nonce_store_unavailable); // not quota_exceeded: the first cost nothing
  // Requests refused before the store (bad signature) never reach it.
  CHECK_FALSE(a.check(signed_request(std::to_string(now), "n3", "", signing_key(test_id, "x")), key, "GET",
                      "/api/v1/klines", "", now)
                .ok());
  CHECK(store->calls == 2);
}

TEST_CASE("a replayed nonce gives its quota token back") {
  authenticator a{auth_options{}};
  const auto key = live_key(2);
  CHECK(a.check(signed_request(std::to_string(now), "r1", ""), key, "GET", "/api/v1/klines", "", now).ok());
  CHECK(a.check(signed_request(std::to_string(now), "r1", ""), key, "GET", "/api/v1/klines", "", now).reason ==
        reject::replayed_nonce);
  // Quota 2: the replay did not use the second token.
  CHECK(a.check(signed_request(std::to_string(now), "r2", ""), key, "GET", "/api/v1/klines", "", now).ok());
  CHECK(a.check(signed_request(std::to_string(now), "r3", ""), key, "GET", "/api/v1/klines", "", now).reason ==
        reject::quota_exceeded);
}

TEST_CASE("quota: token bucket of quota_per_minute, 429 with the seconds to wait") {
  authenticator a{auth_options{}};
  const auto key = live_key(3); // 3 per minute: one token every 20 s
  for (int i = 0; i < 3; ++i)
    CHECK(
      a.check(signed_request(std::to_string(now), "q" + std::to_string(i), ""), key, "GET", "/api/v1/klines", "", now)
        .ok());
  auto d = a.check(signed_request(std::to_string(now), "q3", ""), key, "GET", "/api/v1/klines", "", now);
  CHECK(d.reason == reject::quota_exceeded);
  CHECK(d.retry_after_s == 20);
  // 20 s later one token is back (a fresh timestamp, inside the window).
  const auto later = now + 20000;
  CHECK(a.check(signed_request(std::to_string(later), "q4", ""), key, "GET", "/api/v1/klines", "", later).ok());
}

TEST_CASE("take_token refills continuously and never above capacity") {
  double tokens = 2;
  std::int64_t last = 0;
  CHECK(take_token(tokens, last, 2, 0) == 0);
  CHECK(take_token(tokens, last, 2, 0) == 0);
  CHECK(take_token(tokens, last, 2, 0) == 30);
  CHECK(take_token(tokens, last, 2, 3'600'000) == 0);
  CHECK(tokens == doctest::Approx(1.0));
}

TEST_CASE("has_push_token looks at parameter names, not substrings") {
  CHECK_FALSE(has_push_token("/"));
  CHECK_FALSE(has_push_token("/?monkey=1&x=sig"));
  CHECK(has_push_token("/?key=mik_1"));
  CHECK(has_push_token("/?a=1&sig=00"));
  CHECK(has_push_token("/?a=%zz")); // malformed: checked (and refused) rather than waved through
}
