// The simulator and the client transport together, on loopback: what a connection actor will see.
#include <doctest/doctest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "connectors/binance/codec.hpp"
#include "connectors/binance/instruments.hpp"
#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/ws_client.hpp"
#include "messages/codec.hpp"
#include "simulator/simulator.hpp"
#include "simulator/test_client.hpp"
#include "tests/harness/process.hpp"

using namespace std::chrono_literals;

namespace {

using mi::sim::test::test_client;

std::string base(const mi::sim::simulator& s) { return "ws://127.0.0.1:" + std::to_string(s.port()); }

std::string subscribe(const std::vector<std::string>& streams, int id = 1) {
  return mi::binance::subscribe_requests(streams, id).at(0);
}

/// The trades in the frames (acks and errors skipped), decoded with the platform's own codec.
std::vector<mi::trade> trades_of(const std::vector<std::string>& texts) {
  mi::binance::instruments meta;
  mi::binance::codec codec(&meta);
  std::vector<mi::trade> out;
  for (const auto& t : texts) {
    auto ev = codec.decode(t, 1);
    REQUIRE_MESSAGE(ev, t);
    for (auto& tr : ev->trades)
      out.push_back(std::move(tr));
  }
  return out;
}

std::size_t count_trades(const std::vector<std::string>& texts) {
  std::size_t n = 0;
  for (const auto& t : texts)
    n += t.find("\"e\":\"trade\"") != std::string::npos || t.find("\"e\":\"aggTrade\"") != std::string::npos;
  return n;
}

std::vector<std::uint64_t> ids(const std::vector<mi::trade>& ts) {
  std::vector<std::uint64_t> out;
  for (const auto& t : ts)
    out.push_back(std::stoull(t.trade_id));
  return out;
}

std::vector<std::uint64_t> iota_ids(std::uint64_t from, std::uint64_t to) {
  std::vector<std::uint64_t> v;
  for (auto i = from; i <= to; ++i)
    v.push_back(i);
  return v;
}

mi::sim::options opts(double rate, std::uint64_t count, std::vector<std::string> symbols = {"BTCUSDT"}) {
  mi::sim::options o;
  o.rate = rate;
  o.count = count;
  o.symbols = std::move(symbols);
  return o;
}

} // namespace

TEST_CASE("simulator: /stream SUBSCRIBE gets the ack, then exactly `count` combined trade frames, ids from 1") {
  mi::net::io_thread io;
  mi::sim::simulator sim(io.context(), opts(2000, 50));
  test_client c(io.context(), base(sim) + "/stream");
  REQUIRE(c.wait_open());
  CHECK(sim.current().trades_generated == 0); // nothing before a subscriber
  c.ws().send(subscribe({"btcusdt@trade"}, 1));
  REQUIRE(c.wait_texts(51));
  REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 5s));
  auto texts = c.texts();
  CHECK(texts.size() == 51);
  CHECK(texts[0] == R"({"result":null,"id":1})");
  CHECK(texts[1].rfind(R"({"stream":"btcusdt@trade","data":{"e":"trade")", 0) == 0);
  auto ts = trades_of(texts);
  CHECK(ids(ts) == iota_ids(1, 50));
  for (const auto& t : ts) {
    CHECK(t.symbol == "BTCUSDT");
    CHECK(t.base == "BTC");
    CHECK(t.quote == "USDT");
    CHECK(t.ts_ns % 1'000'000 == 0);
  }
  const auto st = sim.current();
  CHECK(st.trades_generated == 50);
  CHECK(st.frames_sent == 50);
  CHECK(st.connections == 1);
  CHECK(st.subscribes == 1);
}

TEST_CASE("simulator: streams in the URL: /ws/<stream> gets raw aggTrade frames") {
  mi::net::io_thread io;
  mi::sim::simulator sim(io.context(), opts(5000, 20, {"BTCUSDT", "ETHUSDT"}));
  test_client raw(io.context(), base(sim) + "/ws/btcusdt@aggTrade");
  REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 10s));
  auto texts = raw.texts();
  REQUIRE(texts.size() == 20);
  for (const auto& t : texts)
    CHECK(t.rfind(R"({"e":"aggTrade")", 0) == 0);
  CHECK(ids(trades_of(texts)) == iota_ids(1, 20)); // ETHUSDT had no subscriber: all 20 are BTC
  CHECK(sim.current().subscribes == 1);
}

TEST_CASE("simulator: /stream?streams=a/b/c: both symbols, and @trade + @aggTrade of the same trade") {
  mi::net::io_thread io;
  mi::sim::simulator sim(io.context(), opts(5000, 40, {"BTCUSDT", "ETHUSDT"}));
  test_client comb(io.context(), base(sim) + "/stream?streams=btcusdt@trade/ethusdt@trade/btcusdt@aggTrade");
  REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 10s));
  auto texts = comb.texts();
  std::vector<std::uint64_t> btc, eth, btc_agg;
  for (const auto& t : texts) {
    auto one = trades_of({t});
    REQUIRE(one.size() == 1);
    const auto id = std::stoull(one[0].trade_id);
    if (t.rfind(R"({"stream":"btcusdt@aggTrade")", 0) == 0)
      btc_agg.push_back(id);
    else if (t.rfind(R"({"stream":"btcusdt@trade")", 0) == 0)
      btc.push_back(id);
    else if (t.rfind(R"({"stream":"ethusdt@trade")", 0) == 0)
      eth.push_back(id);
    else
      FAIL("unexpected frame ", t);
  }
  CHECK(btc.size() + eth.size() == 40);
  CHECK_FALSE(btc.empty());
  CHECK_FALSE(eth.empty());
  CHECK(btc == iota_ids(1, btc.size())); // per symbol, ids from 1, consecutive
  CHECK(eth == iota_ids(1, eth.size()));
  CHECK(btc_agg == btc);
  CHECK(sim.current().frames_sent == 40 + btc.size());
}

TEST_CASE("simulator: malformed requests get Binance errors - LIST_SUBSCRIPTIONS - UNSUBSCRIBE stops the stream") {
  mi::net::io_thread io;
  mi::sim::simulator sim(io.context(), opts(2000, 0));
  test_client c(io.context(), base(sim) + "/ws");
  REQUIRE(c.wait_open());
  c.ws().send("not json");
  c.ws().send(R"({"method":"SUBSCRIBE","params":"btcusdt@trade","id":5})");
  c.ws().send(R"({"method":"LIST_SUBSCRIPTIONS","id":6})");
  REQUIRE(c.wait_texts(3));
  auto t = c.texts();
  CHECK(t[0].rfind(R"({"code":3,"msg":"Invalid JSON)", 0) == 0);
  CHECK(t[1] == R"({"code":2,"msg":"Invalid request: `params` must be an array of stream names","id":5})");
  CHECK(t[2] == R"({"result":[],"id":6})");

  c.ws().send(subscribe({"btcusdt@trade"}, 7));
  REQUIRE(c.wait_until([](const auto& v) { return count_trades(v) >= 20; }));
  c.ws().send(R"({"method":"LIST_SUBSCRIPTIONS","id":8})");
  c.ws().send(R"({"method":"UNSUBSCRIBE","params":["btcusdt@trade"],"id":9})");
  c.ws().send(R"({"method":"LIST_SUBSCRIPTIONS","id":10})");
  REQUIRE(c.wait_until([](const auto& v) { return v.back() == R"({"result":[],"id":10})"; }));
  t = c.texts();
  auto unsub_ack = std::find(t.begin(), t.end(), R"({"result":null,"id":9})");
  REQUIRE(unsub_ack != t.end());
  CHECK(std::find(t.begin(), t.end(), R"({"result":["btcusdt@trade"],"id":8})") != t.end());
  // after the UNSUBSCRIBE ack, not one trade frame
  CHECK(count_trades({unsub_ack, t.end()}) == 0);
  CHECK(ids(trades_of(t)) == iota_ids(1, count_trades(t)));
}

TEST_CASE("ws_client: the read deadline closes a silent connection with \"read timeout\"") {
  mi::net::io_thread io;
  auto o = opts(0, 0);
  o.ping_interval = std::chrono::hours(1);
  mi::sim::simulator sim(io.context(), o);
  mi::net::ws_options wo;
  wo.read_timeout = 300ms;
  const auto t0 = std::chrono::steady_clock::now();
  test_client c(io.context(), base(sim) + "/ws", wo);
  REQUIRE(c.wait_open());
  auto why = c.wait_closed(5s);
  REQUIRE(why);
  CHECK(*why == "read timeout");
  CHECK(std::chrono::steady_clock::now() - t0 >= 300ms);
}

TEST_CASE("ws_client: server pings keep a quiet connection alive - close() reports \"closed\"") {
  mi::net::io_thread io;
  auto o = opts(0, 0);
  o.ping_interval = 50ms;
  mi::sim::simulator sim(io.context(), o);
  mi::net::ws_options wo;
  wo.read_timeout = 400ms;
  test_client c(io.context(), base(sim) + "/ws", wo);
  REQUIRE(c.wait_open());
  CHECK_FALSE(c.wait_closed(1200ms)); // 3 read timeouts long, kept alive by pings alone
  c.ws().close();
  auto why = c.wait_closed(5s);
  REQUIRE(why);
  CHECK(*why == "closed");
}

TEST_CASE("ws_client: pause_reading holds frames back (deadline suspended), resume_reading delivers all in order") {
  mi::net::io_thread io;
  auto o = opts(20000, 12000);
  o.ping_interval = std::chrono::hours(1);
  mi::sim::simulator sim(io.context(), o);
  mi::net::ws_options wo;
  wo.read_timeout = 200ms;
  std::atomic<bool> paused{false};
  test_client c(io.context(), base(sim) + "/stream", wo, [&paused](test_client& self, const std::string& text) {
    if (!paused && text.find("\"t\":100,") != std::string::npos) {
      paused = true;
      self.ws().pause_reading(); // from inside on_text: takes effect before the next read
    }
  });
  REQUIRE(c.wait_open());
  c.ws().send(subscribe({"btcusdt@trade"}));
  REQUIRE(mi::test::eventually([&] { return paused.load(); }, 10s));
  // the simulator goes on producing for > 2 read timeouts while nothing is read
  REQUIRE(mi::test::eventually([&] { return sim.current().trades_generated >= 10000; }, 10s));
  CHECK(count_trades(c.texts()) == 100);
  CHECK_FALSE(c.wait_closed(0ms));
  c.ws().resume_reading();
  // wait_until fails if the connection closed first
  REQUIRE(c.wait_until([](const auto& v) { return count_trades(v) == 12000; }, 20s));
  CHECK(ids(trades_of(c.texts())) == iota_ids(1, 12000));
}

TEST_CASE("http_get: exchangeInfo and ping from the simulator - non-2xx is an error naming status and URL") {
  mi::net::io_thread io;
  mi::sim::simulator sim(io.context(), opts(0, 0, {"BTCUSDT", "ETHBTC"}));
  const std::string http = "http://127.0.0.1:" + std::to_string(sim.port());
  auto body = mi::net::http_get(*mi::net::parse_url(http + "/api/v3/exchangeInfo"), 5s);
  REQUIRE_MESSAGE(body, (body ? "" : body.err().message));
  auto meta = mi::binance::instruments::from_exchange_info(*body);
  REQUIRE(meta);
  CHECK(meta->size() == 2);
  REQUIRE(meta->find("ETHBTC"));
  CHECK(meta->find("ETHBTC")->base == "ETH");
  CHECK(meta->find("ETHBTC")->quote == "BTC");

  auto ping = mi::net::http_get(*mi::net::parse_url(http + "/api/v3/ping"), 5s);
  REQUIRE(ping);
  CHECK(*ping == "{}");

  auto missing = mi::net::http_get(*mi::net::parse_url(http + "/api/v3/nothing"), 5s);
  REQUIRE_FALSE(missing);
  CHECK(missing.err().message == "HTTP 404 from 127.0.0.1/api/v3/nothing");
}

TEST_CASE("fault drop_after + resend: the client sees the close, re-subscribes and gets the resent trades") {
  mi::net::io_thread io;
  auto o = opts(2000, 100);
  o.drop_after = 60;
  o.resend = 20;
  mi::sim::simulator sim(io.context(), o);

  std::vector<mi::trade> first;
  {
    test_client a(io.context(), base(sim) + "/stream");
    REQUIRE(a.wait_open());
    a.ws().send(subscribe({"btcusdt@trade"}));
    auto why = a.wait_closed(10s);
    REQUIRE(why);
    CHECK_MESSAGE(why->rfind("read: ", 0) == 0, *why); // an abrupt end, not a close frame
    first = trades_of(a.texts());
  }
  REQUIRE_FALSE(first.empty());
  CHECK(ids(first) == iota_ids(1, first.size())); // in order up to the drop
  CHECK(first.size() <= 60);
  CHECK_FALSE(sim.finished()); // the resend is still owed

  test_client b(io.context(), base(sim) + "/stream");
  REQUIRE(b.wait_open());
  b.ws().send(subscribe({"btcusdt@trade"}, 2));
  REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 10s));
  auto second = ids(trades_of(b.texts()));
  // first the last 20 before the drop (41..60), then the rest
  CHECK(second == iota_ids(41, 100));
  std::set<std::uint64_t> all(second.begin(), second.end());
  for (auto i : ids(first))
    all.insert(i);
  CHECK(all.size() == 100); // nothing lost across the drop
  CHECK(sim.current().connections == 2);
  CHECK(sim.current().trades_generated == 100);
}

TEST_CASE("record file: exactly `count` distinct trades, the same the client decoded") {
  mi::test::temp_dir dir;
  const std::string path = dir.path() + "/truth.jsonl";
  mi::net::io_thread io;
  std::vector<mi::trade> received;
  {
    auto o = opts(50000, 50000, {"BTCUSDT", "ETHUSDT"});
    o.record_file = path;
    mi::sim::simulator sim(io.context(), o);
    test_client c(io.context(), base(sim) + "/stream");
    REQUIRE(c.wait_open());
    c.ws().send(subscribe({"btcusdt@trade", "ethusdt@trade"}));
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 20s));
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE("50000 trades at rate 50000/s took " << secs << " s (" << 50000 / secs << " trades/s)");
    CHECK(secs >= 0.9); // paced, not a burst
    REQUIRE(c.wait_until([](const auto& v) { return count_trades(v) == 50000; }));
    received = trades_of(c.texts());
  }
  std::ifstream in(path);
  std::vector<mi::trade> recorded;
  std::set<std::string> distinct;
  for (std::string line; std::getline(in, line);) {
    auto t = mi::trade_from_json(line);
    REQUIRE_MESSAGE(t, line);
    distinct.insert(mi::dedup_id(*t));
    recorded.push_back(*t);
  }
  CHECK(recorded.size() == 50000);
  CHECK(distinct.size() == 50000);
  REQUIRE(received.size() == recorded.size());
  std::size_t same = 0;
  for (std::size_t i = 0; i < received.size(); ++i) {
    received[i].recv_ns = 0;
    same += received[i] == recorded[i];
  }
  CHECK(same == recorded.size());
}

TEST_CASE("simulator: replays a JSONL file instead of generating") {
  mi::test::temp_dir dir;
  const std::string path = dir.path() + "/in.jsonl";
  {
    std::ofstream out(path);
    out
      << R"({"exchange":"binance","symbol":"BTCUSDT","base":"BTC","quote":"USDT","trade_id":"12345","price":"16500.12","quantity":"0.001","side":"sell","ts_ns":1672515782136000000})"
      << "\n"
      << "garbage line\n"
      << R"({"exchange":"binance","symbol":"BTCUSDT","base":"BTC","quote":"USDT","trade_id":"12346","price":"16500.5","quantity":"2","side":"buy","ts_ns":1672515782137000000})"
      << "\n";
  }
  mi::net::io_thread io;
  auto o = opts(1000, 0);
  o.input_file = path;
  mi::sim::simulator sim(io.context(), o);
  test_client c(io.context(), base(sim) + "/ws/btcusdt@trade");
  REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 10s));
  auto ts = trades_of(c.texts());
  REQUIRE(ts.size() == 2);
  CHECK(ts[0].trade_id == "12345");
  CHECK(ts[0].price.to_string() == "16500.12");
  CHECK(ts[0].taker_side == mi::side::sell);
  CHECK(ts[0].ts_ns == 1672515782136000000);
  CHECK(ts[1].quantity.to_string() == "2");
}

TEST_CASE("ws_client: wss:// to the simulator's plain port fails in the TLS handshake") {
  mi::net::io_thread io;
  mi::sim::simulator sim(io.context(), opts(0, 0));
  test_client c(io.context(), "wss://127.0.0.1:" + std::to_string(sim.port()) + "/ws");
  auto why = c.wait_closed(10s);
  REQUIRE(why);
  CHECK_MESSAGE(why->rfind("TLS handshake with 127.0.0.1: ", 0) == 0, *why);
}

TEST_CASE("run_simulator: serves until finished, then lingers and returns 0") {
  auto o = opts(1000, 5);
  o.port = static_cast<std::uint16_t>(mi::test::free_port());
  o.linger = 100ms;
  std::atomic<int> rc{-1};
  std::thread runner([&] { rc = mi::sim::run_simulator(o); });
  REQUIRE(mi::test::wait_for_port(o.port, 5s));
  {
    mi::net::io_thread io;
    test_client c(io.context(), "ws://127.0.0.1:" + std::to_string(o.port) + "/ws/btcusdt@trade");
    REQUIRE(c.wait_texts(5));
  }
  runner.join();
  CHECK(rc == 0);
}

TEST_CASE("simulator: a bad symbol is refused at construction") {
  mi::net::io_thread io;
  CHECK_THROWS_WITH_AS(mi::sim::simulator(io.context(), opts(1, 1, {"btc-usdt"})), doctest::Contains("unknown symbol"),
                       std::runtime_error);
}
