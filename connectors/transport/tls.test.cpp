// TLS path of the client transport against a real TLS server: `openssl s_server -WWW` with a
// self-signed certificate made by `openssl req` at test time. It speaks HTTP/1.0 over TLS (so
// http_get succeeds end to end) but not WebSocket (so a wss:// handshake gets through TLS and then
// fails at the upgrade, which proves the TLS part worked). A server that does not come up fails the test.
#include <doctest/doctest.h>

#include <fstream>
#include <future>
#include <memory>

#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/ws_client.hpp"
#include "tests/harness/process.hpp"

using namespace std::chrono_literals;

namespace {

struct tls_server {
  mi::test::temp_dir dir{"mi-tls"};
  int port = mi::test::free_port();
  std::unique_ptr<mi::test::child_process> proc;
  bool ok = false;
  std::string why; ///< why the server is not up, for the failure message

  tls_server() {
    const auto& d = dir.path();
    auto gen = mi::test::run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                              "-nodes", "-keyout", d + "/key.pem", "-out", d + "/cert.pem", "-days", "1", "-subj",
                              "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"},
                             {}, true);
    if (gen.exit_code != 0) {
      why = "openssl req failed (exit " + std::to_string(gen.exit_code) + ")";
      return;
    }
    std::ofstream(d + "/hello.txt") << "hello over tls\n";
    proc = std::make_unique<mi::test::child_process>(
      std::vector<std::string>{"sh", "-c",
                               "cd '" + d + "' && exec openssl s_server -quiet -WWW -accept 127.0.0.1:" +
                                 std::to_string(port) + " -cert cert.pem -key key.pem"},
      d + "/s_server.log");
    ok = mi::test::wait_for_port(port, 5s);
    if (!ok)
      why = "openssl s_server did not listen on port " + std::to_string(port) + " within 5 s";
  }
  std::string ca() const { return dir.path() + "/cert.pem"; }
  std::string base(const std::string& scheme, const std::string& host) const {
    return scheme + "://" + host + ":" + std::to_string(port);
  }
};

/// Runs one ws_client to its end and returns the on_close reason (and whether on_open fired).
std::pair<std::string, bool> ws_outcome(const std::string& text, const std::string& ca_file) {
  mi::net::io_thread io;
  auto u = mi::net::parse_url(text);
  REQUIRE(u);
  std::promise<std::string> closed;
  auto opened = std::make_shared<std::atomic<bool>>(false);
  mi::net::ws_options o;
  o.connect_timeout = 3s;
  o.ca_file = ca_file;
  auto c = mi::net::ws_client::create(io.context(), *u, o,
                                      {[opened] { *opened = true; }, [](std::string&&, std::int64_t) {},
                                       [&closed](std::string why) { closed.set_value(std::move(why)); }});
  c->start();
  auto f = closed.get_future();
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  return {f.get(), opened->load()};
}

} // namespace

TEST_CASE("http_get over TLS: trusted certificate, SNI and host name verified, body returned") {
  tls_server s;
  REQUIRE_MESSAGE(s.ok, s.why);
  auto u = mi::net::parse_url(s.base("https", "localhost") + "/hello.txt");
  REQUIRE(u);
  auto body = mi::net::http_get(*u, 5s, s.ca());
  REQUIRE_MESSAGE(body, (body ? "" : body.err().message));
  CHECK(*body == "hello over tls\n");
}

TEST_CASE("http_get over TLS: an untrusted (self-signed) certificate is refused with the reason") {
  tls_server s;
  REQUIRE_MESSAGE(s.ok, s.why);
  auto u = mi::net::parse_url(s.base("https", "localhost") + "/hello.txt");
  REQUIRE(u);
  auto body = mi::net::http_get(*u, 5s);
  REQUIRE_FALSE(body);
  CHECK(body.err().message.find("TLS handshake with localhost") != std::string::npos);
  CHECK(body.err().message.find("certificate verify failed") != std::string::npos);
  CHECK(body.err().message.find("self-signed") != std::string::npos);
}

TEST_CASE("http_get over TLS: a certificate for another host is refused even when trusted") {
  tls_server s;
  REQUIRE_MESSAGE(s.ok, s.why);
  auto u = mi::net::parse_url(s.base("https", "127.0.0.1") + "/hello.txt"); // cert says DNS:localhost only
  REQUIRE(u);
  auto body = mi::net::http_get(*u, 5s, s.ca());
  REQUIRE_FALSE(body);
  CHECK(body.err().message.find("certificate verify failed") != std::string::npos);
  CHECK(body.err().message.find("IP address mismatch") != std::string::npos);
}

TEST_CASE("ws_client wss://: trusted TLS succeeds and the failure is at the WebSocket upgrade") {
  tls_server s;
  REQUIRE_MESSAGE(s.ok, s.why);
  auto [why, opened] = ws_outcome(s.base("wss", "localhost") + "/hello.txt", s.ca());
  CHECK_FALSE(opened);
  CHECK_MESSAGE(why.find("WebSocket handshake with localhost/hello.txt") != std::string::npos, why);
}

TEST_CASE("ws_client wss://: an untrusted certificate closes with a TLS verification error") {
  tls_server s;
  REQUIRE_MESSAGE(s.ok, s.why);
  auto [why, opened] = ws_outcome(s.base("wss", "localhost") + "/ws", "");
  CHECK_FALSE(opened);
  CHECK_MESSAGE(why.find("TLS handshake with localhost") != std::string::npos, why);
  CHECK_MESSAGE(why.find("certificate verify failed") != std::string::npos, why);
  CHECK_MESSAGE(why.find("self-signed certificate") != std::string::npos, why);
}

TEST_CASE("ws_client: connection refused and a missing CA file are reported through on_close") {
  const int port = mi::test::free_port(); // nothing listens there
  auto [why, opened] = ws_outcome("ws://127.0.0.1:" + std::to_string(port) + "/ws", "");
  CHECK_FALSE(opened);
  CHECK_MESSAGE(why.find("connect 127.0.0.1:" + std::to_string(port)) != std::string::npos, why);
  CHECK_MESSAGE(why.find("refused") != std::string::npos, why);

  auto [why2, opened2] = ws_outcome("wss://127.0.0.1:1/ws", "/nonexistent/ca.pem");
  CHECK_FALSE(opened2);
  CHECK_MESSAGE(why2.find("cannot load CA file '/nonexistent/ca.pem'") != std::string::npos, why2);
}

TEST_CASE("http_get: connection refused names host and port") {
  const int port = mi::test::free_port();
  auto u = mi::net::parse_url("http://127.0.0.1:" + std::to_string(port) + "/api/v3/ping");
  REQUIRE(u);
  auto r = mi::net::http_get(*u, 2s);
  REQUIRE_FALSE(r);
  CHECK(r.err().message.find("connect 127.0.0.1:" + std::to_string(port)) != std::string::npos);
}
