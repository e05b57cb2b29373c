// Streaming answers of http_server (server-sent events) over real loopback sockets: headers then pieces as they
// come, heartbeat comments, the worker pool free for other requests meanwhile, and the stream stopped once the
// client is gone.
#include "gateways/http/http_server.hpp"

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <doctest/doctest.h>
#include <thread>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

struct server_fixture {
  asio::io_context ioc;
  std::atomic<int> calls{0};
  std::unique_ptr<mi::gw::http_server> server;
  std::thread io;

  server_fixture() {
    mi::gw::http_server_options o;
    o.workers = 1; // one worker: a stream must not hold it between pieces
    server = std::make_unique<mi::gw::http_server>(ioc, o, [this](const mi::gw::http_request& r) {
      if (r.path != "/events")
        return mi::gw::http_response{200, "plain\n", "text/plain"};
      auto s = std::make_shared<mi::gw::http_stream>();
      s->interval = 20ms;
      s->heartbeat = 150ms;
      s->next = [this] {
        const int n = calls.fetch_add(1);
        return n < 3 ? "event: n\ndata: " + std::to_string(n) + "\n\n" : std::string{};
      };
      return mi::gw::http_response{200, ": hello\n\n", "text/event-stream", {}, s};
    });
    io = std::thread([this] { ioc.run(); });
  }
  ~server_fixture() {
    server->stop();
    server.reset();
    ioc.stop();
    io.join();
  }
};

// Reads from `s` until `text` has come (or 3 s passed); everything read.
std::string read_until(tcp::socket& s, const std::string& text) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  s.non_blocking(true);
  while (got.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    char buf[512];
    boost::system::error_code ec;
    const auto n = s.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block) {
      std::this_thread::sleep_for(5ms);
      continue;
    }
    if (ec)
      break;
    got.append(buf, n);
  }
  return got;
}

tcp::socket connect_to(asio::io_context& ctx, std::uint16_t port, const std::string& path) {
  tcp::socket s(ctx);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  asio::write(s, asio::buffer(req));
  return s;
}

} // namespace

TEST_CASE("http stream: headers, the pieces in order, then heartbeats, while other requests are still answered") {
  server_fixture f;
  asio::io_context client;
  auto s = connect_to(client, f.server->port(), "/events");
  const auto got = read_until(s, ": keep-alive");
  CHECK(got.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(got.find("Content-Type: text/event-stream\r\n") != std::string::npos);
  CHECK(got.find("Content-Length") == std::string::npos);
  const auto body = got.substr(got.find("\r\n\r\n") + 4);
  CHECK(body.rfind(": hello\n\nevent: n\ndata: 0\n\nevent: n\ndata: 1\n\nevent: n\ndata: 2\n\n", 0) == 0);
  CHECK(body.find(": keep-alive\n\n") != std::string::npos);

  // The one worker is free between pieces: a plain request on another connection is answered.
  auto other = connect_to(client, f.server->port(), "/plain");
  CHECK(read_until(other, "plain\n").find("200 OK") != std::string::npos);
}

TEST_CASE("http stream: a client that goes away stops the stream (next is no longer called)") {
  server_fixture f;
  asio::io_context client;
  {
    auto s = connect_to(client, f.server->port(), "/events");
    CHECK(read_until(s, "data: 2").find("data: 2") != std::string::npos);
    s.close();
  }
  std::this_thread::sleep_for(300ms); // the server notices the close
  const int after_close = f.calls.load();
  std::this_thread::sleep_for(400ms); // 20 more ticks if it had not
  CHECK(f.calls.load() == after_close);
}
