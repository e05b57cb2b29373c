#include <doctest/doctest.h>

#include "connectors/transport/url.hpp"

using mi::net::parse_url;

TEST_CASE("parse_url: wss with default port and path") {
  auto u = parse_url("wss://stream.binance.com/ws");
  REQUIRE(u);
  CHECK(u->tls);
  CHECK(u->scheme == "wss");
  CHECK(u->host == "stream.binance.com");
  CHECK(u->port == "443");
  CHECK(u->target == "/ws");
}

TEST_CASE("parse_url: explicit port, query kept in the target") {
  auto u = parse_url("ws://127.0.0.1:9443/stream?streams=btcusdt@trade/ethusdt@trade");
  REQUIRE(u);
  CHECK_FALSE(u->tls);
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == "9443");
  CHECK(u->target == "/stream?streams=btcusdt@trade/ethusdt@trade");
}

TEST_CASE("parse_url: http/https default ports, empty target becomes /, case of scheme and host folded") {
  auto h = parse_url("http://example.com");
  REQUIRE(h);
  CHECK(h->port == "80");
  CHECK(h->target == "/");
  auto s = parse_url("HTTPS://API.Binance.com?x=1");
  REQUIRE(s);
  CHECK(s->tls);
  CHECK(s->scheme == "https");
  CHECK(s->host == "api.binance.com");
  CHECK(s->port == "443");
  CHECK(s->target == "/?x=1");
  CHECK(s->host_and_target() == "api.binance.com/?x=1");
}

TEST_CASE("parse_url: IPv6 literal") {
  auto u = parse_url("ws://[::1]:8080/ws");
  REQUIRE(u);
  CHECK(u->host == "::1");
  CHECK(u->port == "8080");
}

TEST_CASE("parse_url: errors name the problem") {
  struct bad {
    const char* text;
    const char* reason;
  };
  for (auto b : {bad{"ftp://x/y", "scheme"}, bad{"stream.binance.com/ws", "scheme"}, bad{"wss:///ws", "host"},
                 bad{"wss://:443/ws", "host"}, bad{"wss://host:0/", "port"}, bad{"wss://host:65536/", "port"},
                 bad{"wss://host:12ab/", "port"}, bad{"wss://host:/", "port"}, bad{"wss://ho st/", "host"},
                 bad{"wss://user@host/", "user info"}, bad{"wss://host/a b", "space"},
                 bad{"wss://host/a#frag", "fragment"}, bad{"ws://[::1/", "["}}) {
    CAPTURE(b.text);
    auto u = parse_url(b.text);
    REQUIRE_FALSE(u);
    CHECK(u.err().message.find(b.reason) != std::string::npos);
  }
}
