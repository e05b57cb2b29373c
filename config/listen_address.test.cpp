#include "config/listen_address.hpp"

#include <doctest/doctest.h>

using mi::cfg::listen_address;
using mi::cfg::parse_listen_address;

TEST_CASE("listen addresses: IPv4, IPv6 in brackets, host names and the bare port") {
  struct row {
    const char* text;
    listen_address want;
    const char* shown;
  };
  const row rows[] = {
    {"[::1]:8080", {"::1", 8080, true}, "[::1]:8080"},
    {"[::]:0", {"::", 0, true}, "[::]:0"},
    {"[fd00::2]:443", {"fd00::2", 443, true}, "[fd00::2]:443"},
    {"127.0.0.1:8080", {"127.0.0.1", 8080, false}, "127.0.0.1:8080"},
    {"0.0.0.0:8080", {"0.0.0.0", 8080, false}, "0.0.0.0:8080"},
    {":8080", {"0.0.0.0", 8080, false}, "0.0.0.0:8080"},
    {"localhost:65535", {"localhost", 65535, false}, "localhost:65535"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    auto a = parse_listen_address(r.text);
    REQUIRE(a);
    CHECK(*a == r.want);
    CHECK(a->text() == r.shown);
  }
}

TEST_CASE("listen addresses: bad input is an error that names the input and the reason") {
  struct row {
    const char* text;
    const char* reason;
  };
  const row rows[] = {
    {"", "empty"},
    {"localhost", "no port"},
    {"::1:8080", "must be written in brackets"},
    {"[::1]8080", "no ':port' after ']'"},
    {"[::1:8080", "'[' without ']'"},
    {"[]:8080", "empty IPv6 address"},
    {"[localhost]:8080", "is not an IPv6 address"},
    {"[::1]:", "port must be a number 0..65535"},
    {"127.0.0.1:70000", "port must be a number 0..65535"},
    {"127.0.0.1:-1", "port must be a number 0..65535"},
    {"127.0.0.1:80x", "port must be a number 0..65535"},
    {"127.0.0.1:", "port must be a number 0..65535"},
    {"my host:80", "is not an IP address or host name"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    auto a = parse_listen_address(r.text);
    REQUIRE_FALSE(a);
    CHECK(a.err().message.find(r.reason) != std::string::npos);
    CHECK(a.err().message.find("'" + std::string(r.text) + "'") != std::string::npos);
  }
}
