// The REST API over real HTTP on loopback against a real PostgreSQL (tests/harness).
#include "gateways/http/api.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <future>
#include <set>
#include <thread>

#include "gateways/http/api_keys.hpp"
#include "gateways/postgres/coverage.hpp"
#include "gateways/postgres/history_reader.hpp"
#include "gateways/http/nonce_store_kv.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/postgres/postgres.hpp"
#include "messages/kline/interval.hpp"
#include "messages/venue_registry.hpp"
#include "tests/harness/nats_server.hpp"
#include "tests/harness/pg_server.hpp"

namespace json = boost::json;

namespace {

mi::decimal dec(const char* text) { return *mi::decimal::parse(text); }

/// One HTTP exchange on a fresh connection: sends `raw` bytes, reads to EOF.
std::string raw_exchange(std::uint16_t port, const std::string& raw) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::size_t sent = 0;
  while (sent < raw.size()) {
    auto n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      break; // the server may close early on hostile input: read what it said
    sent += static_cast<std::size_t>(n);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

struct reply {
  int status = 0;
  std::string head;
  std::string body;
  json::value json() const { return json::parse(body); }
  std::string header(const std::string& name) const {
    auto p = head.find("\r\n" + name + ": ");
    if (p == std::string::npos)
      return {};
    p += name.size() + 4;
    return head.substr(p, head.find("\r\n", p) - p);
  }
};

reply parse_reply(const std::string& raw) {
  reply r;
  auto end = raw.find("\r\n\r\n");
  REQUIRE_MESSAGE(end != std::string::npos, raw);
  r.head = raw.substr(0, end + 2);
  r.body = raw.substr(end + 4);
  r.status = std::stoi(raw.substr(9, 3));
  return r;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// The master key of these tests (what api.master_key_file would hold).
mi::gw::auth::master_key test_master_key() {
  return *mi::gw::auth::parse_master_key("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
}

/// Limits of one test API server.
struct fixture_options {
  std::int64_t quota = 1'000'000;
  std::chrono::milliseconds statement_timeout{3000};
  std::chrono::milliseconds pool_wait{2000};
  std::size_t workers = 2;
  std::size_t max_connections = 0;
  std::size_t connections = 0; ///< pooled database connections; 0: one per worker
  std::chrono::milliseconds read_timeout{2000};
  std::shared_ptr<mi::gw::auth::nonce_store> nonces; ///< nullptr: process memory
};

/// One API "process": service + Beast server + I/O thread, over a database it does not own.
struct api_node {
  boost::asio::io_context ioc;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{ioc.get_executor()};
  std::unique_ptr<mi::gw::api_service> api;
  std::unique_ptr<mi::gw::http_server> server;
  std::thread io_thread;
  std::mutex mu;
  std::vector<std::string> rejected; // reasons counted by the hook (worker threads)
  std::atomic<int> key_lookups{0};
  std::atomic<int> refused{0};
  std::atomic<int> busy{0};
  std::atomic<std::size_t> open_connections{0};

  api_node(const std::string& conninfo, const fixture_options& fo) {
    mi::gw::api_options o;
    o.conninfo = conninfo;
    o.master_key = test_master_key();
    o.nonces = fo.nonces;
    o.statement_timeout = fo.statement_timeout;
    o.pool_wait = fo.pool_wait;
    o.connections = fo.connections > 0 ? fo.connections : fo.workers;
    o.health_interval = std::chrono::milliseconds(200);
    o.on_auth_rejected = [this](std::string_view r) {
      std::lock_guard lock{mu};
      rejected.emplace_back(r);
    };
    o.on_key_lookup = [this] { ++key_lookups; };
    o.on_error = [](std::string_view m) { std::cerr << "api error: " << m << "\n"; }; // worker thread
    api = std::make_unique<mi::gw::api_service>(o);
    mi::gw::http_server_options so;
    so.read_timeout = fo.read_timeout;
    so.workers = fo.workers;
    so.queue_timeout = fo.pool_wait;
    so.max_connections = fo.max_connections;
    so.inline_handler = [this](const mi::gw::http_request& r) { return api->handle_inline(r); };
    so.on_refused = [this] { ++refused; };
    so.on_busy = [this] { ++busy; };
    so.on_connections = [this](std::size_t n) { open_connections = n; };
    server =
      std::make_unique<mi::gw::http_server>(ioc, so, [this](const mi::gw::http_request& r) { return api->handle(r); });
    io_thread = std::thread([this] { ioc.run(); });
  }
  ~api_node() {
    server.reset();
    work.reset();
    ioc.stop();
    io_thread.join();
  }
  std::vector<std::string> reasons() {
    std::lock_guard lock{mu};
    return rejected;
  }
};

struct api_fixture {
  mi::test::pg_server pg{mi::test::pg_server_options{true}};
  std::unique_ptr<api_node> node;
  mi::gw::api_service* api = nullptr;
  mi::gw::http_server* server = nullptr;
  mi::gw::created_key key;
  std::atomic<int> nonce{0};

  explicit api_fixture(std::int64_t quota = 1'000'000) : api_fixture(with_quota(quota)) {}
  static fixture_options with_quota(std::int64_t quota) {
    fixture_options fo;
    fo.quota = quota;
    return fo;
  }
  explicit api_fixture(const fixture_options& fo) {
    auto m = mi::gw::migrate(pg.conninfo());
    REQUIRE_MESSAGE(m.has_value(), (m ? "" : m.err().message));
    auto k = mi::gw::create_api_key(pg.conninfo(), "tests", fo.quota, test_master_key());
    REQUIRE_MESSAGE(k.has_value(), (k ? "" : k.err().message));
    key = *k;
    node = std::make_unique<api_node>(pg.conninfo(), fo);
    api = node->api.get();
    server = node->server.get();
  }
  std::vector<std::string> rejected() { return node->reasons(); }

  /// Signed headers for GET target with this key id/secret, at time `ts`.
  std::string auth_headers(const std::string& target, const std::string& key_id, const std::string& secret,
                           std::int64_t ts, const std::string& nonce_text) {
    return signed_headers(target, key_id, mi::gw::auth::signing_key(key_id, secret), ts, nonce_text);
  }
  /// The same with the HMAC key given directly.
  static std::string signed_headers(const std::string& target, const std::string& key_id, const std::string& hmac_key,
                                    std::int64_t ts, const std::string& nonce_text) {
    auto q = target.find('?');
    std::string path = target.substr(0, q);
    auto params = mi::gw::auth::parse_query(q == std::string::npos ? "" : target.substr(q + 1));
    // A malformed query is refused before authentication: any signature will do.
    auto canonical = params ? mi::gw::auth::canonical_query(*params) : std::string{};
    auto sig =
      mi::gw::auth::hmac_sha256_hex(hmac_key, mi::gw::auth::string_to_sign(std::to_string(ts), "GET", path, canonical));
    return "X-MI-APIKEY: " + key_id + "\r\nX-MI-TIMESTAMP: " + std::to_string(ts) + "\r\nX-MI-NONCE: " + nonce_text +
           "\r\nX-MI-SIGNATURE: " + sig + "\r\n";
  }

  reply get(const std::string& target) {
    auto h = auth_headers(target, key.key_id, key.secret, now_ms(), "n" + std::to_string(nonce++));
    return parse_reply(
      raw_exchange(server->port(), "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + h + "\r\n"));
  }
  reply get_with(const std::string& target, const std::string& headers) {
    return parse_reply(raw_exchange(server->port(), "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                                                      headers + "\r\n"));
  }

  std::unique_ptr<mi::gw::pg_writer> writer() {
    auto w = mi::gw::pg_writer::connect(pg.conninfo());
    REQUIRE(w.has_value());
    return std::move(*w);
  }
};

mi::kline hour_kline(std::int64_t open_ms, const char* close, std::uint32_t revision = 0) {
  mi::kline k;
  k.exchange = "binance";
  k.symbol = "BTCUSDT";
  k.interval = "1h";
  k.open_time_ms = open_ms;
  k.close_time_ms = open_ms + 3'600'000 - 1;
  k.open = dec("100.5");
  k.high = dec("101.000000000000000001");
  k.low = dec("99");
  k.close = dec(close);
  k.volume = dec("12345678901234567890.123456789");
  k.quote_volume = dec("2.5");
  k.trade_count = 7;
  k.taker_buy_volume = dec("0.001");
  k.taker_buy_quote_volume = dec("0.1005");
  k.vwap = dec("100.123456789012345678");
  k.first_trade_id = "1";
  k.last_trade_id = "7";
  k.is_final = true;
  k.revision = revision;
  return k;
}

constexpr std::int64_t jan31_20h = 1'706'731'200'000; // 2024-01-31T20:00:00Z
constexpr std::int64_t hour = 3'600'000;

/// n trades of binance BTCUSDT from `t0_ns`, several per nanosecond tick (ties broken by id).
std::vector<mi::trade> make_trades(std::size_t n, std::int64_t t0_ns, std::int64_t step_ns) {
  std::vector<mi::trade> out;
  for (std::size_t i = 0; i < n; ++i) {
    mi::trade t;
    t.exchange = "binance";
    t.symbol = "BTCUSDT";
    t.base = "BTC";
    t.quote = "USDT";
    t.trade_id = std::to_string(500'000 + i);
    t.price = dec("64000.12345678");
    t.quantity = dec("0.00000001");
    t.taker_side = i % 2 ? mi::side::buy : mi::side::sell;
    t.ts_ns = t0_ns + static_cast<std::int64_t>(i / 3) * step_ns; // three trades share each time
    t.recv_ns = t.ts_ns + 1000;
    out.push_back(std::move(t));
  }
  return out;
}

} // namespace

TEST_CASE("klines across a month boundary: oldest first, every field exact, latest revision only") {
  api_fixture f;
  std::vector<mi::kline> ks;
  for (int i = 0; i < 9; ++i)
    ks.push_back(hour_kline(jan31_20h + i * hour, "100.25"));
  auto w = f.writer();
  REQUIRE(w->upsert_klines(ks).has_value());
  REQUIRE(w->upsert_klines({hour_kline(jan31_20h + 4 * hour, "105.75", 2)}).has_value()); // Feb 1 00:00, revised

  auto r = f.get("/api/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1h&start=" + std::to_string(jan31_20h) +
                 "&end=" + std::to_string(jan31_20h + 8 * hour));
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto arr = r.json().as_array();
  REQUIRE(arr.size() == 9);
  for (std::size_t i = 0; i < arr.size(); ++i)
    CHECK(arr[i].at("open_time_ms").as_int64() == jan31_20h + static_cast<std::int64_t>(i) * hour);
  const auto& feb1 = arr[4].as_object();
  CHECK(feb1.at("close").as_string() == "105.75");
  CHECK(feb1.at("revision").as_int64() == 2);
  CHECK(feb1.at("volume").as_string() == "12345678901234567890.123456789");
  CHECK(feb1.at("high").as_string() == "101.000000000000000001");
  CHECK(feb1.at("vwap").as_string() == "100.123456789012345678");
  CHECK(feb1.at("is_final").as_bool());
  CHECK(feb1.at("close_time_ms").as_int64() == jan31_20h + 5 * hour - 1);

  auto limited =
    f.get("/api/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1h&start=" + std::to_string(jan31_20h + 3 * hour) +
          "&limit=2");
  REQUIRE(limited.status == 200);
  auto la = limited.json().as_array();
  REQUIRE(la.size() == 2);
  CHECK(la[0].at("open_time_ms").as_int64() == jan31_20h + 3 * hour);
  CHECK(la[1].at("open_time_ms").as_int64() == jan31_20h + 4 * hour);

  // No start: the latest `limit` candles, still oldest first.
  auto latest = f.get("/api/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1h&limit=3");
  auto lt = latest.json().as_array();
  REQUIRE(lt.size() == 3);
  CHECK(lt[0].at("open_time_ms").as_int64() == jan31_20h + 6 * hour);
  CHECK(lt[2].at("open_time_ms").as_int64() == jan31_20h + 8 * hour);

  auto other = f.get("/api/v1/klines?exchange=okx&symbol=BTCUSDT&interval=1h");
  CHECK(other.status == 200);
  CHECK(other.body == "[]");
}

TEST_CASE("trades: cursor pagination over 3 pages across a day boundary, no gap, no repeat") {
  api_fixture f;
  // 2024-02-29T23:59:59.000Z, one tick per 700 µs: 2500 trades span midnight into March 1.
  const std::int64_t t0 = 1'709'251'199'000'000'000;
  auto all = make_trades(2500, t0, 700'001);
  REQUIRE(f.writer()->write_trades(all).has_value());

  std::vector<std::string> ids;
  std::string target =
    "/api/v1/trades?exchange=binance&symbol=BTCUSDT&start=" + std::to_string(t0 / 1'000'000) + "&limit=1000";
  int pages = 0;
  for (;;) {
    auto r = f.get(target);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    auto o = r.json().as_object();
    for (const auto& t : o.at("trades").as_array())
      ids.emplace_back(t.at("trade_id").as_string());
    ++pages;
    if (o.at("next").is_null())
      break;
    REQUIRE(pages < 10);
    target =
      "/api/v1/trades?exchange=binance&symbol=BTCUSDT&limit=1000&cursor=" + std::string(o.at("next").as_string());
  }
  CHECK(pages == 3);
  REQUIRE(ids.size() == all.size());
  for (std::size_t i = 0; i < ids.size(); ++i)
    REQUIRE(ids[i] == all[i].trade_id);

  // Fields as the decode format.
  auto first = f.get("/api/v1/trades?exchange=binance&symbol=BTCUSDT&fromId=500001&limit=2");
  REQUIRE(first.status == 200);
  auto arr = first.json().at("trades").as_array();
  REQUIRE(arr.size() == 2);
  CHECK(
    json::serialize(arr[0]) ==
    R"({"exchange":"binance","symbol":"BTCUSDT","base":"BTC","quote":"USDT","trade_id":"500001","price":"64000.12345678","quantity":"0.00000001","side":"buy","ts_ns":1709251199000000000})");
  CHECK(arr[1].at("trade_id").as_string() == "500002");

  // A time range across midnight: [23:59:59.500, 00:00:00.200] in ms, both ends inclusive.
  const std::int64_t from_ms = t0 / 1'000'000 + 500, to_ms = t0 / 1'000'000 + 1200;
  std::size_t want = 0;
  for (const auto& t : all)
    if (t.ts_ns >= from_ms * 1'000'000 && t.ts_ns < (to_ms + 1) * 1'000'000)
      ++want;
  auto ranged = f.get("/api/v1/trades?exchange=binance&symbol=BTCUSDT&start=" + std::to_string(from_ms) +
                      "&end=" + std::to_string(to_ms) + "&limit=1000");
  REQUIRE(ranged.status == 200);
  CHECK(ranged.json().at("trades").as_array().size() == want);
  CHECK(ranged.json().at("next").is_null());

  auto unknown = f.get("/api/v1/trades?exchange=binance&symbol=BTCUSDT&fromId=nope");
  CHECK(unknown.status == 400);
  CHECK(unknown.body.find("fromId") != std::string::npos);
}

TEST_CASE("symbols lists what is stored with first/last time and count") {
  api_fixture f;
  auto trades = make_trades(10, 1'709'251'199'000'000'000, 1'000'000);
  REQUIRE(f.writer()->write_trades(trades).has_value());
  auto r = f.get("/api/v1/symbols");
  REQUIRE(r.status == 200);
  auto arr = r.json().as_array();
  REQUIRE(arr.size() == 1);
  CHECK(arr[0].at("exchange").as_string() == "binance");
  CHECK(arr[0].at("symbol").as_string() == "BTCUSDT");
  CHECK(arr[0].at("trade_count").as_int64() == 10);
  CHECK(arr[0].at("first_ts_ns").as_int64() == trades.front().ts_ns);
  CHECK(arr[0].at("last_ts_ns").as_int64() == trades.back().ts_ns);
}

TEST_CASE("indicators: sma, ema and rv over stored closes") {
  api_fixture f;
  const char* closes[] = {"10", "20", "30", "40", "50"};
  std::vector<mi::kline> ks;
  for (int i = 0; i < 5; ++i)
    ks.push_back(hour_kline(jan31_20h + i * hour, closes[i]));
  REQUIRE(f.writer()->upsert_klines(ks).has_value());
  const std::string base =
    "/api/v1/indicators?exchange=binance&symbol=BTCUSDT&interval=1h&start=" + std::to_string(jan31_20h);
  auto sma = f.get(base + "&indicator=sma&period=3");
  REQUIRE_MESSAGE(sma.status == 200, sma.body);
  auto v = sma.json().at("values").as_array();
  REQUIRE(v.size() == 3);
  CHECK(v[0].at("value").as_string() == "20");
  CHECK(v[0].at("open_time_ms").as_int64() == jan31_20h + 2 * hour);
  CHECK(v[2].at("value").as_string() == "40");
  auto ema = f.get(base + "&indicator=ema&period=3");
  auto e = ema.json().at("values").as_array();
  REQUIRE(e.size() == 3);
  CHECK(e[1].at("value").as_string() == "30"); // (2*40 + 2*20) / 4
  auto rv = f.get(base + "&indicator=rv&period=2");
  REQUIRE(rv.status == 200);
  CHECK(rv.json().at("values").as_array().size() == 3);
}

TEST_CASE("every bad parameter gets 400 with code -1100 naming it") {
  api_fixture f;
  const std::string k = "/api/v1/klines?";
  const std::pair<std::string, std::string> cases[] = {
    {k + "symbol=BTCUSDT&interval=1m", "'exchange'"},
    {k + "exchange=nasdaq&symbol=BTCUSDT&interval=1m", "'exchange'"},
    {k + "exchange=binance&interval=1m", "'symbol'"},
    {k + "exchange=binance&symbol=btc-usdt&interval=1m", "'symbol'"},
    {k + "exchange=binance&symbol=BTCUSDT", "'interval'"},
    {k + "exchange=binance&symbol=BTCUSDT&interval=7m", "'interval'"},
    {k + "exchange=binance&symbol=BTCUSDT&interval=1m&start=abc", "'start'"},
    {k + "exchange=binance&symbol=BTCUSDT&interval=1m&start=-5", "'start'"},
    {k + "exchange=binance&symbol=BTCUSDT&interval=1m&end=99999999999999999999", "'end'"},
    {k + "exchange=binance&symbol=BTCUSDT&interval=1m&start=10&end=5", "'start'"},
    {k + "exchange=binance&symbol=BTCUSDT&interval=1m&limit=1001", "'limit'"},
    {k + "exchange=binance&symbol=BTCUSDT&interval=1m&limit=0", "'limit'"},
    {k + "exchange=binance&symbol=BTCUSDT&interval=1m&limit=", "'limit'"},
    {k + "exchange=binance&symbol=BTCUSDT&interval=1m&limt=5", "'limt'"},
    {k + "exchange=binance&symbol=BTCUSDT&symbol=ETHUSDT&interval=1m", "'symbol'"},
    {k + "exchange=binance&symbol=BTC%ZZ&interval=1m", "'symbol'"},
    {"/api/v1/trades?exchange=binance&symbol=BTCUSDT", "'start'"},
    {"/api/v1/trades?exchange=binance&symbol=BTCUSDT&start=1&fromId=5", "'fromId'"},
    {"/api/v1/trades?exchange=binance&symbol=BTCUSDT&cursor=zz", "cursor"},
    {"/api/v1/indicators?exchange=binance&symbol=BTCUSDT&interval=1m&period=3", "'indicator'"},
    {"/api/v1/indicators?exchange=binance&symbol=BTCUSDT&interval=1m&indicator=macd&period=3", "'indicator'"},
    {"/api/v1/indicators?exchange=binance&symbol=BTCUSDT&interval=1m&indicator=sma", "'period'"},
    {"/api/v1/indicators?exchange=binance&symbol=BTCUSDT&interval=1m&indicator=sma&period=0", "'period'"},
    {"/api/v1/symbols?x=1", "'x'"},
  };
  for (const auto& [target, name] : cases) {
    CAPTURE(target);
    auto r = f.get(target);
    CHECK(r.status == 400);
    auto o = r.json().as_object();
    CHECK(o.at("code").as_int64() == -1100);
    CHECK(std::string(o.at("msg").as_string()).find(name) != std::string::npos);
  }
  // The known sets are the registries' (venues, intervals), named in their order; each of their names is accepted.
  auto ex = f.get(k + "exchange=nasdaq&symbol=BTCUSDT&interval=1m");
  CHECK(std::string(ex.json().at("msg").as_string()).find("(known: binance, okx, bybit, coinbase, kraken") !=
        std::string::npos);
  auto iv = f.get(k + "exchange=binance&symbol=BTCUSDT&interval=7m");
  CHECK(std::string(iv.json().at("msg").as_string()).find("(known: 1s 1m 3m 5m 15m") != std::string::npos);
  for (const mi::venue_info& v : mi::venues()) {
    CAPTURE(v.name);
    CHECK(f.get(k + "exchange=" + std::string(v.name) + "&symbol=BTCUSDT&interval=1m").status == 200);
  }
  for (const auto& spec : mi::kline_engine::all_intervals()) {
    CAPTURE(spec.name);
    CHECK(f.get(k + "exchange=binance&symbol=BTCUSDT&interval=" + std::string(spec.name)).status == 200);
  }

  auto nf = f.get("/api/v1/nothing");
  CHECK(nf.status == 404);
  CHECK(nf.json().at("msg").as_string().size() > 0);
  auto post = parse_reply(raw_exchange(
    f.server->port(), "POST /api/v1/klines HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
  CHECK(post.status == 405);
  CHECK(post.header("Allow") == "GET");
}

TEST_CASE("auth: wrong signature, expired timestamp, replayed nonce, unknown and revoked key get 401") {
  api_fixture f;
  const std::string t = "/api/v1/symbols";
  const auto now = now_ms();
  auto msg = [](const reply& r) { return std::string(r.json().at("msg").as_string()); };

  auto missing = f.get_with(t, "");
  CHECK(missing.status == 401);

  auto wrong = f.get_with(t, f.auth_headers(t, f.key.key_id, "not-the-secret", now, "a1"));
  CHECK(wrong.status == 401);
  CHECK(wrong.json().at("code").as_int64() == -1022);

  auto expired = f.get_with(t, f.auth_headers(t, f.key.key_id, f.key.secret, now - 60'000, "a2"));
  CHECK(expired.status == 401);
  CHECK(expired.json().at("code").as_int64() == -1021);

  const auto h = f.auth_headers(t, f.key.key_id, f.key.secret, now, "a3");
  CHECK(f.get_with(t, h).status == 200);
  auto replay = f.get_with(t, h);
  CHECK(replay.status == 401);
  CHECK(msg(replay).find("nonce") != std::string::npos);
  CHECK(msg(replay) != msg(wrong));

  auto unknown = f.get_with(t, f.auth_headers(t, "mik_000000000000000000000000", f.key.secret, now, "a4"));
  CHECK(unknown.status == 401);
  CHECK(msg(unknown).find("unknown") != std::string::npos);

  REQUIRE(mi::gw::revoke_api_key(f.pg.conninfo(), f.key.key_id).has_value());
  auto revoked = f.get_with(t, f.auth_headers(t, f.key.key_id, f.key.secret, now_ms(), "a5"));
  CHECK(revoked.status == 401);
  CHECK(msg(revoked).find("revoked") != std::string::npos);

  // Health needs no key.
  CHECK(f.get_with("/api/v1/health", "").status == 200);
  const auto all = f.rejected();
  const std::set<std::string> reasons(all.begin(), all.end());
  CHECK(reasons == std::set<std::string>{"missing_credentials", "bad_signature", "expired_timestamp", "replayed_nonce",
                                         "unknown_key", "revoked_key"});
}

TEST_CASE("quota exceeded gives 429 with Retry-After") {
  api_fixture f{3}; // 3 requests per minute
  for (int i = 0; i < 3; ++i)
    CHECK(f.get("/api/v1/symbols").status == 200);
  auto r = f.get("/api/v1/symbols");
  CHECK(r.status == 429);
  const auto retry = r.header("Retry-After");
  REQUIRE_FALSE(retry.empty());
  CHECK(std::stoi(retry) >= 1);
  CHECK(std::stoi(retry) <= 20);
}

TEST_CASE("hostile HTTP: garbage, huge header, stalled request get 4xx and the server keeps serving") {
  api_fixture f;
  auto garbage = raw_exchange(f.server->port(), "\x16\x03\x01 NOT HTTP AT ALL\r\n\r\n");
  CHECK(garbage.rfind("HTTP/1.1 400", 0) == 0);
  auto huge = raw_exchange(
    f.server->port(), "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100'000, 'a') + "\r\n\r\n");
  CHECK(huge.rfind("HTTP/1.1 431", 0) == 0);
  auto body =
    raw_exchange(f.server->port(), "POST /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" +
                                     std::string(20'000, 'b'));
  CHECK(body.rfind("HTTP/1.1 413", 0) == 0);
  auto stalled = raw_exchange(f.server->port(), "GET /api/v1/health HTTP/1.1\r\nHost:"); // then nothing (2 s timeout)
  CHECK(stalled.rfind("HTTP/1.1 408", 0) == 0);
  auto health = f.get_with("/api/v1/health", "");
  CHECK(health.status == 200);
  CHECK(health.json().at("database").as_string() == "up");
}

TEST_CASE("keep-alive: several requests on one connection") {
  api_fixture f;
  auto raw = raw_exchange(f.server->port(), "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
                                            "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::size_t count = 0;
  for (auto p = raw.find("HTTP/1.1 200"); p != std::string::npos; p = raw.find("HTTP/1.1 200", p + 1))
    ++count;
  CHECK(count == 2);
}

TEST_CASE("push token: signed query accepted once, tampered or replayed refused") {
  api_fixture f;
  const auto ts = std::to_string(now_ms());
  auto sig = mi::gw::auth::hmac_sha256_hex(mi::gw::auth::signing_key(f.key.key_id, f.key.secret),
                                           mi::gw::auth::string_to_sign(ts, "GET", "/", ""));
  const std::string target = "/?key=" + f.key.key_id + "&ts=" + ts + "&nonce=p1&sig=" + sig;
  CHECK(f.api->check_push_token(target).status == 200);
  auto replay = f.api->check_push_token(target);
  CHECK(replay.status == 401);
  CHECK(replay.body.find("nonce") != std::string::npos);
  // A parameter added after signing breaks the signature.
  CHECK(f.api->check_push_token("/?key=" + f.key.key_id + "&ts=" + ts + "&nonce=p2&sig=" + sig + "&extra=1").status ==
        401);
  CHECK(f.api->check_push_token("/").status == 401);
}

TEST_CASE("trade cursor tokens round-trip any trade id and reject malformed text") {
  for (const mi::gw::trade_cursor& c : {mi::gw::trade_cursor{1'709'251'199'000'700'001, "500001"},
                                        mi::gw::trade_cursor{-5, "x-1:2/3 \"é\""}, mi::gw::trade_cursor{0, "0"}}) {
    auto back = mi::gw::decode_cursor(mi::gw::encode_cursor(c));
    REQUIRE(back);
    CHECK(*back == c);
  }
  for (const char* bad : {"", "_", "12", "12_", "12_3", "12_zz", "x_3030", "12_3030_"}) {
    CAPTURE(bad);
    auto r = mi::gw::decode_cursor(bad);
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("cursor") != std::string::npos);
  }
}

TEST_CASE("the queries work unchanged on tables partitioned by day (trades) and month (klines)") {
  api_fixture f;
  // What the storage change does to the schema: same columns and primary keys, range partitions.
  f.pg.psql(R"sql(
    CREATE TABLE trades_new (LIKE market_trades INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
      PRIMARY KEY (exchange, symbol, trade_id, ts)) PARTITION BY RANGE (ts);
    DROP TABLE market_trades;
    ALTER TABLE trades_new RENAME TO market_trades;
    CREATE INDEX ON market_trades (exchange, symbol, ts DESC);
    CREATE TABLE market_trades_20240229 PARTITION OF market_trades FOR VALUES FROM ('2024-02-29+00') TO ('2024-03-01+00');
    CREATE TABLE market_trades_20240301 PARTITION OF market_trades FOR VALUES FROM ('2024-03-01+00') TO ('2024-03-02+00');
    CREATE TABLE market_trades_default PARTITION OF market_trades DEFAULT;
    CREATE TABLE klines_new (LIKE market_klines INCLUDING DEFAULTS, PRIMARY KEY (exchange, symbol, interval, open_time))
      PARTITION BY RANGE (open_time);
    DROP TABLE market_klines;
    ALTER TABLE klines_new RENAME TO market_klines;
    CREATE TABLE market_klines_202401 PARTITION OF market_klines FOR VALUES FROM ('2024-01-01+00') TO ('2024-02-01+00');
    CREATE TABLE market_klines_202402 PARTITION OF market_klines FOR VALUES FROM ('2024-02-01+00') TO ('2024-03-01+00');
    CREATE TABLE market_klines_default PARTITION OF market_klines DEFAULT;
  )sql");
  const std::int64_t t0 = 1'709'251'199'000'000'000; // 2024-02-29T23:59:59Z
  auto trades = make_trades(1500, t0, 5'000'001);    // 2.5 s: past midnight
  std::vector<mi::kline> ks;
  for (int i = 0; i < 9; ++i)
    ks.push_back(hour_kline(jan31_20h + i * hour, "100.25"));
  auto w = f.writer();
  REQUIRE(w->write_trades(trades).has_value());
  REQUIRE(w->upsert_klines(ks).has_value());
  REQUIRE(f.pg.psql("SELECT count(*) FROM market_trades_20240301") != "0"); // really spread over partitions
  REQUIRE(f.pg.psql("SELECT count(*) FROM market_klines_202401") == "4");

  std::vector<std::string> ids;
  std::string target =
    "/api/v1/trades?exchange=binance&symbol=BTCUSDT&start=" + std::to_string(t0 / 1'000'000) + "&limit=700";
  for (int page = 0; page < 10; ++page) {
    auto r = f.get(target);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    auto o = r.json().as_object();
    for (const auto& t : o.at("trades").as_array())
      ids.emplace_back(t.at("trade_id").as_string());
    if (o.at("next").is_null())
      break;
    target = "/api/v1/trades?exchange=binance&symbol=BTCUSDT&limit=700&cursor=" + std::string(o.at("next").as_string());
  }
  REQUIRE(ids.size() == trades.size());
  for (std::size_t i = 0; i < ids.size(); ++i)
    REQUIRE(ids[i] == trades[i].trade_id);

  auto k = f.get("/api/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1h&start=" + std::to_string(jan31_20h));
  REQUIRE(k.status == 200);
  CHECK(k.json().as_array().size() == 9);
  auto s = f.get("/api/v1/symbols");
  REQUIRE(s.status == 200);
  CHECK(s.json().as_array().at(0).at("trade_count").as_int64() == 1500);
}

// ---- limits a hostile client cannot get around (issue 9, item 8) ----------------------------------

namespace {

using namespace std::chrono_literals;

/// Waits for `cond` up to `deadline` (polling); true when it held.
template <class F>
bool eventually(F cond, std::chrono::milliseconds deadline = 20s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (cond())
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return cond();
}

/// Holds an ACCESS EXCLUSIVE lock on `table` for `seconds` from another session (psql) and
/// returns once the lock is granted: every query on that table then waits.
/// Holds an ACCESS EXCLUSIVE lock on `table` from another session for `seconds`, or until release_locks(). A
/// jthread: a failed REQUIRE while it holds joins it instead of terminating the test binary.
std::jthread hold_lock(mi::test::pg_server& pg, const std::string& table, int seconds) {
  std::jthread t([&pg, table, seconds] {
    try {
      pg.psql("BEGIN; LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(" + std::to_string(seconds) +
              "); COMMIT;");
    } catch (const std::exception&) {
      // release_locks() cancelled the sleep: the transaction aborted and the lock went with it.
    }
  });
  const bool held = eventually([&] {
    return pg.psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = '" + table +
                   "' AND l.mode = 'AccessExclusiveLock' AND l.granted") == "1";
  });
  if (!held) {
    t.join();
    FAIL("the lock on " << table << " was never granted");
  }
  return t;
}

/// Ends every hold_lock() now (cancels its sleep), instead of a test racing the lock's fixed duration.
void release_locks(mi::test::pg_server& pg) {
  pg.psql("SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%LOCK TABLE%pg_sleep%' AND "
          "pid <> pg_backend_pid()");
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// A connected loopback socket that sends nothing (an idle or hostile client).
int idle_connection(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

} // namespace

TEST_CASE("cheap checks come before the key lookup: with PostgreSQL stopped a flood of bad requests gets 401") {
  api_fixture f;
  const std::string t = "/api/v1/symbols";
  f.pg.stop_immediate(); // any request that reaches the database now gets 503
  const auto now = now_ms();
  auto code = [](const reply& r) { return r.json().at("code").as_int64(); };

  auto stale = f.get_with(t, f.auth_headers(t, f.key.key_id, f.key.secret, now - 60'000, "s1"));
  CHECK(stale.status == 401);
  CHECK(code(stale) == -1021);
  auto bad_id = f.get_with(t, f.auth_headers(t, "mik_' OR 1=1 --", f.key.secret, now, "s2"));
  CHECK(bad_id.status == 401);
  CHECK(code(bad_id) == -2015);
  auto h = f.auth_headers(t, f.key.key_id, f.key.secret, now, "s3");
  auto bad_sig =
    f.get_with(t, h.substr(0, h.find("X-MI-SIGNATURE")) + "X-MI-SIGNATURE: " + std::string(64, 'z') + "\r\n");
  CHECK(bad_sig.status == 401);
  auto bad_nonce = f.get_with(t, f.auth_headers(t, f.key.key_id, f.key.secret, now, "no spaces allowed"));
  CHECK(bad_nonce.status == 401);

  // A flood from 8 threads of stale and unsigned requests: every one 401, none reaches PostgreSQL.
  std::atomic<int> answered_401{0};
  std::vector<std::thread> flood;
  for (int i = 0; i < 8; ++i)
    flood.emplace_back([&, i] {
      for (int j = 0; j < 50; ++j) {
        const auto headers = j % 2 ? std::string{}
                                   : f.auth_headers(t, f.key.key_id, f.key.secret, now - 3'600'000,
                                                    "f" + std::to_string(i) + "_" + std::to_string(j));
        auto raw = raw_exchange(f.server->port(),
                                "GET " + t + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + "\r\n");
        if (raw.rfind("HTTP/1.1 401", 0) == 0)
          ++answered_401;
      }
    });
  for (auto& th : flood)
    th.join();
  CHECK(answered_401 == 400);
  CHECK(f.node->key_lookups == 0);

  // The reference: a well-formed, fresh request does need the database, and gets 503 without it.
  auto fresh = f.get(t);
  CHECK(fresh.status == 503);
}

TEST_CASE("statement_timeout: a query stuck behind a lock answers 504 with code -1007 in time") {
  fixture_options fo;
  fo.statement_timeout = 500ms;
  api_fixture f{fo};
  auto locker = hold_lock(f.pg, "market_klines", 6);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = f.get("/api/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1h");
  const double took = seconds_since(t0);
  CHECK(r.status == 504);
  CHECK(r.json().at("code").as_int64() == -1007);
  CHECK(std::string(r.json().at("msg").as_string()).find("api.statement_timeout") != std::string::npos);
  CHECK(took < 3.0); // 0.5 s limit, generous margin for a loaded machine; without the limit: 6 s
  // The worker is free again and other tables answer.
  CHECK(f.get("/api/v1/trades?exchange=binance&symbol=BTCUSDT&start=0").status == 200);
  locker.join();
  CHECK(f.get("/api/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1h").status == 200);
}

TEST_CASE("every worker stuck in slow queries: queued requests get 503 after pool_wait, health answers at once") {
  fixture_options fo;
  fo.statement_timeout = 20s;
  fo.pool_wait = 500ms;
  fo.workers = 2;
  api_fixture f{fo};
  // Held until released below: on a loaded machine a lock of fixed length could end before both workers wait on it.
  auto locker = hold_lock(f.pg, "market_klines", 60);
  // Six slow requests: two take the workers (and wait for the lock), four wait in the queue.
  std::vector<std::future<int>> slow;
  for (int i = 0; i < 6; ++i)
    slow.push_back(std::async(
      std::launch::async, [&] { return f.get("/api/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1h").status; }));
  REQUIRE(eventually([&] {
    return f.pg.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE "
                     "'%market_klines%'") == "2";
  }));

  // Health never waits for a worker or a database connection.
  auto t0 = std::chrono::steady_clock::now();
  auto health = f.get_with("/api/v1/health", "");
  CHECK(seconds_since(t0) < 0.5);
  CHECK(health.status == 200);
  CHECK(health.json().at("database").as_string() == "up");

  // An honest request meanwhile: a clear 503 after the bounded wait, not a hang.
  t0 = std::chrono::steady_clock::now();
  auto honest = f.get("/api/v1/symbols");
  const double waited = seconds_since(t0);
  CHECK(honest.status == 503);
  CHECK(honest.header("Retry-After") == "1");
  CHECK(waited >= 0.4);
  CHECK(waited < 3.0); // the lock holds until released here

  release_locks(f.pg);
  int ok = 0, busy = 0;
  for (auto& s : slow) {
    const int status = s.get();
    ok += status == 200;
    busy += status == 503;
  }
  CHECK(ok == 2);
  CHECK(busy == 4);
  CHECK(f.node->busy >= 5);
  locker.join();
  // The server stayed up: the honest client is served as soon as the workers are free.
  CHECK(f.get("/api/v1/symbols").status == 200);
}

TEST_CASE("a pool smaller than the workers: a request waits at most pool_wait for a connection, then 503") {
  fixture_options fo;
  fo.statement_timeout = 20s;
  fo.pool_wait = 500ms;
  fo.workers = 2;
  fo.connections = 1;
  api_fixture f{fo};
  // Auth happens on the one connection too; the slow request holds it.
  auto locker = hold_lock(f.pg, "market_klines", 4);
  auto slow = std::async(std::launch::async,
                         [&] { return f.get("/api/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1h").status; });
  REQUIRE(eventually(
    [&] { return f.pg.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") == "1"; }));
  const auto t0 = std::chrono::steady_clock::now();
  auto second = f.get("/api/v1/symbols");
  CHECK(second.status == 503);
  CHECK(std::string(second.json().at("msg").as_string()).find("database connections are busy") != std::string::npos);
  CHECK(seconds_since(t0) < 3.0);
  locker.join();
  CHECK(slow.get() == 200);
  CHECK(f.get("/api/v1/symbols").status == 200);
}

TEST_CASE("max_connections: beyond the limit a client gets 503 at once, honest clients are served when slots free") {
  fixture_options fo;
  fo.max_connections = 50;
  fo.read_timeout = 30s; // the idle connections must stay open during the test
  api_fixture f{fo};
  const auto port = f.server->port();
  std::vector<int> idle;
  for (int i = 0; i < 50; ++i)
    idle.push_back(idle_connection(port));
  REQUIRE(eventually([&] { return f.node->open_connections == 50; }));

  // 200 more, from 4 threads: each refused with a 503 that says why, quickly.
  std::atomic<int> refused{0};
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> flood;
  for (int i = 0; i < 4; ++i)
    flood.emplace_back([&] {
      for (int j = 0; j < 50; ++j) {
        auto raw = raw_exchange(port, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
        if (raw.rfind("HTTP/1.1 503", 0) == 0 && raw.find("too many connections") != std::string::npos)
          ++refused;
      }
    });
  for (auto& t : flood)
    t.join();
  CHECK(refused == 200);
  CHECK(seconds_since(t0) < 20.0);
  CHECK(f.node->refused == 200);
  CHECK(f.node->open_connections == 50);

  for (int fd : idle)
    ::close(fd);
  REQUIRE(eventually([&] { return f.node->open_connections == 0; }));
  CHECK(f.get("/api/v1/symbols").status == 200);
  CHECK(f.get_with("/api/v1/health", "").status == 200);
}

TEST_CASE("symbols is read from the maintained summary, not from market_trades") {
  api_fixture f;
  auto trades = make_trades(30, 1'709'251'199'000'000'000, 1'000'000);
  REQUIRE(f.writer()->write_trades(trades).has_value());
  // market_trades locked: a scan would wait; the summary answers.
  auto locker = hold_lock(f.pg, "market_trades", 4);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = f.get("/api/v1/symbols");
  CHECK(seconds_since(t0) < 2.0);
  REQUIRE(r.status == 200);
  CHECK(r.json().as_array().at(0).at("trade_count").as_int64() == 30);
  locker.join();
}

// ---- keys and nonces (issue 9, item 9) ------------------------------------------------------------

TEST_CASE("nonces are shared by two API servers on one nats-server and survive a restart") {
  mi::test::nats_server nats;
  auto js_connect = [&] {
    mi::gw::jetstream::options o;
    o.url = nats.url();
    auto js = mi::gw::jetstream::connect(o);
    REQUIRE_MESSAGE(js.has_value(), (js ? "" : js.err().message));
    return std::move(*js);
  };
  auto js_a = js_connect();
  auto store_a = mi::gw::kv_nonce_store::open(*js_a, std::chrono::milliseconds(5000));
  REQUIRE(store_a.has_value());
  fixture_options fa;
  fa.nonces = *store_a;
  api_fixture f{fa}; // server A
  auto js_b = js_connect();
  auto store_b = mi::gw::kv_nonce_store::open(*js_b, std::chrono::milliseconds(5000));
  REQUIRE(store_b.has_value());
  fixture_options fb;
  fb.nonces = *store_b;
  auto b = std::make_unique<api_node>(f.pg.conninfo(), fb); // server B, same database and NATS

  const std::string t = "/api/v1/symbols";
  const auto h = f.auth_headers(t, f.key.key_id, f.key.secret, now_ms(), "shared1");
  auto on = [&](std::uint16_t port) {
    return parse_reply(raw_exchange(port, "GET " + t + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + h + "\r\n"));
  };
  CHECK(on(f.server->port()).status == 200);
  auto replay_b = on(b->server->port());
  CHECK(replay_b.status == 401);
  CHECK(replay_b.json().at("code").as_int64() == -1025);

  // B restarts (new process state, new NATS connection): the nonce is still known.
  b.reset();
  store_b = {mi::error{"released"}};
  js_b.reset();
  auto js_b2 = js_connect();
  auto store_b2 = mi::gw::kv_nonce_store::open(*js_b2, std::chrono::milliseconds(5000));
  REQUIRE(store_b2.has_value());
  fixture_options fb2;
  fb2.nonces = *store_b2;
  b = std::make_unique<api_node>(f.pg.conninfo(), fb2);
  auto replay_after_restart = on(b->server->port());
  CHECK(replay_after_restart.status == 401);
  CHECK(replay_after_restart.json().at("code").as_int64() == -1025);
  // A fresh nonce passes on the restarted server.
  const auto h2 = f.auth_headers(t, f.key.key_id, f.key.secret, now_ms(), "shared2");
  CHECK(parse_reply(
          raw_exchange(b->server->port(), "GET " + t + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + h2 + "\r\n"))
          .status == 200);

  // NATS down: signed requests are refused with 503 (never let through unchecked).
  nats.stop();
  auto down = f.get(t);
  CHECK(down.status == 503);
  b.reset();
}

TEST_CASE("the api_keys table holds no usable signing key: signing with any stored value is refused") {
  api_fixture f;
  const std::string t = "/api/v1/symbols";
  // Everything the table holds for the key, column by column.
  const auto row = f.pg.psql("SELECT concat_ws(E'\\n', key_id, name, signing_key, signing_key_enc, quota_per_minute, "
                             "created_at, revoked_at) FROM api_keys WHERE key_id = '" +
                             f.key.key_id + "'");
  std::vector<std::string> values;
  std::istringstream in(row);
  for (std::string line; std::getline(in, line);)
    values.push_back(line);
  REQUIRE(values.size() >= 4);
  const auto real = mi::gw::auth::signing_key(f.key.key_id, f.key.secret);
  CHECK(row.find(real) == std::string::npos);
  CHECK(row.find(f.key.secret) == std::string::npos);
  CHECK(f.pg.psql("SELECT count(*) FROM api_keys WHERE signing_key IS NOT NULL") == "0");
  int n = 0;
  for (const auto& v : values) {
    for (const auto& candidate : {v, mi::gw::auth::sha256_hex(v)}) {
      const auto nonce_text = "t" + std::to_string(n++);
      auto r = f.get_with(t, api_fixture::signed_headers(t, f.key.key_id, candidate, now_ms(), nonce_text));
      CHECK_MESSAGE(r.status == 401, candidate);
      CHECK(r.json().at("code").as_int64() == -1022);
    }
  }
  // The client's own signing key works (the refusals above are about the key, not the request).
  CHECK(f.get_with(t, api_fixture::signed_headers(t, f.key.key_id, real, now_ms(), "real")).status == 200);
}

TEST_CASE("a sealed key moved onto another key id, or opened with another master key, is not usable") {
  api_fixture f;
  auto other = mi::gw::create_api_key(f.pg.conninfo(), "other", std::nullopt, test_master_key());
  REQUIRE(other.has_value());
  // Someone with write access copies the first key's sealed value onto the second key.
  f.pg.psql("UPDATE api_keys SET signing_key_enc = (SELECT signing_key_enc FROM api_keys WHERE key_id = '" +
            f.key.key_id + "') WHERE key_id = '" + other->key_id + "'");
  const std::string t = "/api/v1/symbols";
  auto moved = f.get_with(t, f.auth_headers(t, other->key_id, f.key.secret, now_ms(), "m1"));
  CHECK(moved.status == 401);
  CHECK(moved.json().at("code").as_int64() == -2015);
  const auto r = f.rejected();
  CHECK(std::count(r.begin(), r.end(), "unusable_key") == 1);
  // Rotation: re-sealed under a new master key, the old server (old master key) cannot open it
  // and says so; a server with the new key can.
  auto new_mk = *mi::gw::auth::parse_master_key(std::string(64, 'c'));
  auto n = mi::gw::reseal_api_keys(f.pg.conninfo(), test_master_key(), new_mk);
  REQUIRE_FALSE(n.has_value()); // the moved row does not open: nothing changed
  f.pg.psql("DELETE FROM api_keys WHERE key_id = '" + other->key_id + "'");
  n = mi::gw::reseal_api_keys(f.pg.conninfo(), test_master_key(), new_mk);
  REQUIRE_MESSAGE(n.has_value(), (n ? "" : n.err().message));
  CHECK(*n == 1);
  CHECK(f.get("/api/v1/symbols").status == 401);
  CHECK(f.pg.psql("SELECT signing_key_enc LIKE 'v1:" + new_mk.fingerprint + ":%' FROM api_keys") == "t");
}

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing " << path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("api: the venue parameter is checked against the registry, streamed and polled venues") {
  CHECK_FALSE(mi::gw::unknown_venue("cn").has_value());
  CHECK_FALSE(mi::gw::unknown_venue("alpaca").has_value());
  CHECK_FALSE(mi::gw::unknown_venue("binance").has_value());
  const auto e = mi::gw::unknown_venue("nyse");
  REQUIRE(e.has_value());
  CHECK(*e == "parameter 'venue': unknown venue 'nyse' (known: binance, okx, bybit, coinbase, kraken, alpaca, cn)");
  CHECK(mi::gw::unknown_venue("CN").has_value()); // names are lower case
  CHECK(mi::gw::unknown_venue(std::string(100, 'x'))->find(std::string(41, 'x')) == std::string::npos); // cut
}

mi::calendar::calendar_set repo_calendars() {
  auto set = mi::calendar::load_calendars(std::string(MI_SOURCE_DIR) + "/deploy/calendars");
  REQUIRE_MESSAGE(set.has_value(), (set ? "" : set.err().message));
  return std::move(*set);
}

} // namespace

TEST_CASE("calendar route: the sessions as the hand-written bodies of tests/data/calendar_api") {
  const auto set = repo_calendars();
  const std::string dir = std::string(MI_SOURCE_DIR) + "/tests/data/calendar_api/";
  auto ny = mi::gw::calendar_response(set, {{"market", "XNYS"}, {"from", "2026-11-25"}, {"to", "2026-11-29"}});
  CHECK(ny.status == 200);
  CHECK(json::parse(ny.body) == json::parse(read_text(dir + "xnys_2026-11-25_29.json")));
  auto sh = mi::gw::calendar_response(set, {{"market", "XSHG"}, {"from", "2026-03-02"}, {"to", "2026-03-02"}});
  CHECK(sh.status == 200);
  CHECK(json::parse(sh.body) == json::parse(read_text(dir + "xshg_2026-03-02.json")));
  auto crypto = mi::gw::calendar_response(set, {{"market", "CRYPTO"}, {"from", "2026-03-02"}, {"to", "2026-03-02"}});
  CHECK(crypto.status == 200);
  CHECK(json::parse(crypto.body).at("always_open") == true);
}

TEST_CASE("calendar route: 400 with code -1100 for an unknown market, bad dates and dates without data") {
  const auto set = repo_calendars();
  auto msg = [&](const std::map<std::string, std::string>& p) {
    auto r = mi::gw::calendar_response(set, p);
    CHECK(r.status == 400);
    auto body = json::parse(r.body).as_object();
    CHECK(body.at("code") == -1100);
    return std::string(body.at("msg").as_string());
  };
  CHECK(msg({{"market", "XLON"}, {"from", "2026-01-01"}, {"to", "2026-01-02"}}) ==
        "parameter 'market': unknown market 'XLON' (known: CRYPTO, XNYS, XSHE, XSHG)");
  CHECK(msg({{"from", "2026-01-01"}, {"to", "2026-01-02"}}) == "mandatory parameter 'market' was not sent or is empty");
  CHECK(msg({{"market", "XNYS"}, {"from", "2026-13-01"}, {"to", "2026-12-02"}}) ==
        "parameter 'from': '2026-13-01' is not a date YYYY-MM-DD");
  CHECK(msg({{"market", "XNYS"}, {"from", "2026-02-01"}, {"to", "20260202"}}) ==
        "parameter 'to': '20260202' is not a date YYYY-MM-DD");
  CHECK(msg({{"market", "XNYS"}, {"from", "2026-02-03"}, {"to", "2026-02-02"}}) ==
        "parameter 'from' (2026-02-03) is after 'to' (2026-02-02)");
  CHECK(msg({{"market", "XNYS"}, {"from", "2020-01-01"}, {"to", "2026-02-02"}}) == "at most 400 days per request");
  CHECK(msg({{"market", "XSHG"}, {"from", "2026-12-30"}, {"to", "2027-01-05"}}) ==
        "XSHG: no calendar data for 2027-01-01 (covered: 2024-01-01 to 2026-12-31)");
  CHECK(msg({{"market", "XNYS"}, {"from", "2026-02-01"}, {"to", "2026-02-02"}, {"tz", "x"}}) ==
        "unknown parameter 'tz'");
}

TEST_CASE("coverage: trades stored, gap reports and the latest audit per exchange, symbol and hour") {
  api_fixture f;
  // From 2024-01-31 20:00, three trades every 10 minutes: 18 of BTCUSDT in 20h, 18 in 21h, 3 in 22h.
  const std::int64_t t0 = jan31_20h * 1'000'000;
  REQUIRE(f.writer()->write_trades(make_trades(39, t0, 600'000'000'000)).has_value());
  const auto conninfo = f.pg.conninfo();
  // A gap found and filled in 20h, one found with its older part lost in 21h (ETHUSDT: no trade stored), an okx gap.
  auto gap = [](std::string id, std::string symbol, std::string outcome, std::int64_t trades, std::int64_t after_ms) {
    mi::gw::gap_record g;
    g.id = std::move(id);
    g.exchange = "binance";
    g.symbol = std::move(symbol);
    g.outcome = std::move(outcome);
    g.first_id = 10;
    g.last_id = 49;
    g.trades = trades;
    g.after_ts_ns = after_ms * 1'000'000;
    g.before_ts_ns = g.after_ts_ns + 1'000'000'000;
    return g;
  };
  std::vector<mi::gw::gap_record> gaps{gap("d1", "BTCUSDT", "detected", 40, jan31_20h + 5 * 60'000),
                                       gap("f1", "BTCUSDT", "filled", 40, jan31_20h + 5 * 60'000),
                                       gap("d2", "ETHUSDT", "detected", 300, jan31_20h + hour + 60'000),
                                       gap("f2", "ETHUSDT", "filled", 100, jan31_20h + hour + 60'000),
                                       gap("u2", "ETHUSDT", "unfillable", 200, jan31_20h + hour + 60'000)};
  auto okx = gap("o1", "BTCUSDT", "detected", 5, jan31_20h);
  okx.exchange = "okx";
  gaps.push_back(okx);
  auto written = mi::gw::write_gaps(conninfo, gaps);
  REQUIRE_MESSAGE(written.has_value(), (written ? "" : written.err().message));
  CHECK(*written == 6);
  CHECK(*mi::gw::write_gaps(conninfo, gaps) == 0); // a redelivered report inserts nothing
  REQUIRE(mi::gw::record_audit(conninfo, {{"binance", "BTCUSDT", jan31_20h, 19, 18}}).has_value());
  REQUIRE(mi::gw::record_audit(conninfo, {{"binance", "BTCUSDT", jan31_20h, 18, 18}}).has_value()); // the latest wins
  REQUIRE(mi::gw::record_audit(conninfo, {{"binance", "BTCUSDT", jan31_20h + hour, 19, 18}}).has_value());

  const std::string range = "&from=" + std::to_string(jan31_20h + 60'000) + "&to=" + std::to_string(jan31_20h + hour);
  auto r = f.get("/api/v1/coverage?exchange=binance" + range);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto o = r.json().as_object();
  CHECK(o.at("from").as_int64() == jan31_20h); // widened to whole hours, `to`'s hour included
  CHECK(o.at("to").as_int64() == jan31_20h + 2 * hour);
  const auto& hours = o.at("hours").as_array();
  REQUIRE(hours.size() == 3);
  const auto& b20 = hours[0].as_object();
  CHECK(b20.at("symbol").as_string() == "BTCUSDT");
  CHECK(b20.at("hour_ms").as_int64() == jan31_20h);
  CHECK(b20.at("trades").as_int64() == 18);
  CHECK(b20.at("gaps_detected").as_int64() == 1);
  CHECK(b20.at("gaps_filled").as_int64() == 1);
  CHECK(b20.at("gaps_unfillable").as_int64() == 0);
  CHECK(b20.at("recovered_trades").as_int64() == 40);
  CHECK(b20.at("audit").as_string() == "ok");
  const auto& b21 = hours[1].as_object();
  CHECK(b21.at("hour_ms").as_int64() == jan31_20h + hour);
  CHECK(b21.at("trades").as_int64() == 18);
  CHECK(b21.at("gaps_detected").as_int64() == 0);
  CHECK(b21.at("audit").as_string() == "mismatch");
  CHECK(b21.at("audit_stream_trades").as_int64() == 19);
  const auto& e21 = hours[2].as_object();
  CHECK(e21.at("symbol").as_string() == "ETHUSDT");
  CHECK(e21.at("trades").as_int64() == 0);
  CHECK(e21.at("gaps_unfillable").as_int64() == 1);
  CHECK(e21.at("missing_trades").as_int64() == 200);
  CHECK(e21.at("recovered_trades").as_int64() == 100);
  CHECK(e21.at("audit").is_null());

  auto eth = f.get("/api/v1/coverage?exchange=binance&symbol=ETHUSDT" + range);
  REQUIRE(eth.status == 200);
  CHECK(eth.json().at("hours").as_array().size() == 1);
  auto all = f.get("/api/v1/coverage" + ("?" + range.substr(1)));
  REQUIRE(all.status == 200);
  CHECK(all.json().at("hours").as_array().size() == 4); // with okx's
  CHECK(
    f.get("/api/v1/coverage?from=" + std::to_string(jan31_20h + hour) + "&to=" + std::to_string(jan31_20h)).status ==
    400);                                                                                // `from` after `to`
  CHECK(f.get("/api/v1/coverage?from=0&to=" + std::to_string(jan31_20h)).status == 400); // over 31 days
  CHECK(f.get("/api/v1/coverage?exchange=nope").status == 400);
  CHECK(f.get("/api/v1/coverage?hours=3").status == 400);
  // Signed like every /api/v1 route.
  CHECK(f.get_with("/api/v1/coverage", "").status == 401);
}
