// The push gateway's protocol as a client sees it, against a running platform.
#include <doctest/doctest.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;

namespace {

// A WebSocket client whose received frames a test can wait for.
class test_client {
public:
  test_client(mi::net::io_thread& io, int port) {
    mi::net::ws_handlers h;
    h.on_open = [this] { push("<open>"); };
    h.on_text = [this](std::string&& t, std::int64_t) { push(std::move(t)); };
    h.on_close = [this](std::string r) { push("<close " + r + ">"); };
    auto u = mi::net::parse_url("ws://127.0.0.1:" + std::to_string(port) + "/");
    client_ = mi::net::ws_client::create(io.context(), *u, {}, std::move(h));
    client_->start();
  }
  ~test_client() { client_->close(); }
  void send(std::string s) { client_->send(std::move(s)); }
  std::string next(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [this] { return !frames_.empty(); }))
      return "<timeout>";
    auto f = std::move(frames_.front());
    frames_.pop_front();
    return f;
  }

private:
  void push(std::string s) {
    std::lock_guard<std::mutex> lock(mu_);
    frames_.push_back(std::move(s));
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> frames_;
  std::shared_ptr<mi::net::ws_client> client_;
};

} // namespace

TEST_CASE("push: malformed requests get a JSON error and a counter, and the session keeps working") {
  mi::test::platform_env env;
  env.start_platform();
  mi::net::io_thread io;
  test_client c(io, env.push_port());
  REQUIRE(c.next() == "<open>");

  c.send("{\"op\":\"subscribe\",\"channels\":");
  CHECK(c.next().find(R"("op":"error","code":"bad_json")") != std::string::npos);
  c.send(R"({"op":"subscribe","channels":["kline.binance.BTC USDT.1m"]})");
  CHECK(c.next().find(R"("code":"bad_channel")") != std::string::npos);
  c.send(R"({"op":"dance"})");
  CHECK(c.next().find(R"("code":"bad_op")") != std::string::npos);

  // Still alive: a valid subscribe and a ping are answered.
  c.send(R"({"op":"subscribe","channels":["kline.binance.BTCUSDT.1m"]})");
  CHECK(c.next() == R"({"op":"subscribed","channels":["kline.binance.BTCUSDT.1m"]})");
  c.send(R"({"op":"ping","id":"7"})");
  CHECK(c.next() == R"({"op":"pong","id":"7"})");

  auto m = env.scrape_metrics();
  CHECK(m.find("mi_push_bad_requests_total{code=\"bad_json\"} 1") != std::string::npos);
  CHECK(m.find("mi_push_bad_requests_total{code=\"bad_channel\"} 1") != std::string::npos);
  CHECK(m.find("mi_push_clients 1") != std::string::npos);
}

TEST_CASE("push: a subscriber gets new klines only, never the stream's history") {
  mi::test::platform_env env({"1s"});
  env.start_platform();
  env.start_simulator({"--count", "3000", "--rate", "3000"});
  // Wait until every final is stored: MARKET_KLINE now holds the whole history.
  REQUIRE(mi::test::eventually([&] { return env.simulator_done(); }, 30s));
  auto want = mi::test::canonical(env.expected_klines());
  REQUIRE(mi::test::eventually([&] { return mi::test::canonical(env.stored_klines()) == want; }, 30s));
  REQUIRE(env.stream_messages("MARKET_KLINE") >= want.size());

  mi::net::io_thread io;
  test_client c(io, env.push_port());
  REQUIRE(c.next() == "<open>");
  c.send(R"({"op":"subscribe","channels":["kline.binance.BTCUSDT.1s","kline.binance.ETHUSDT.1s"]})");
  REQUIRE(c.next().find("subscribed") != std::string::npos);
  // Nothing new is being published, so a replay of history would be the only thing to arrive.
  CHECK(c.next(3s) == "<timeout>");
}
