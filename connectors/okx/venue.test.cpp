#include <doctest/doctest.h>

#include "connectors/venue/test_support.hpp"

using namespace mi::venue;
using namespace mi::venue::test;

namespace {

constexpr std::int64_t s_ns = 1'000'000'000;

const char* const instruments_body =
  R"({"code":"0","msg":"","data":[)"
  R"({"instType":"SPOT","instId":"BTC-USDT","baseCcy":"BTC","quoteCcy":"USDT","state":"live"},)"
  R"({"instType":"SPOT","instId":"ETH-USDT","baseCcy":"ETH","quoteCcy":"USDT","state":"live"}]})";

/// A history-trades page as OKX serves it: up to 100 ids below `after` (down to `oldest`), newest first.
std::string okx_page(std::int64_t after, std::int64_t oldest) {
  std::vector<std::int64_t> ids;
  for (std::int64_t id = after - 1; id >= oldest && ids.size() < 100; --id)
    ids.push_back(id);
  return R"({"code":"0","msg":"","data":[)" +
         join(ids,
              [](std::int64_t id) {
                return R"({"instId":"BTC-USDT","side":"buy","sz":"0.1","px":"100","source":"0","tradeId":")" +
                       std::to_string(id) + R"(","ts":")" + std::to_string(1'630'048'890'000 + id) + R"("})";
              }) +
         "]}";
}

} // namespace

TEST_CASE("okx resolve: instId for subscribe and REST, listing checked once instruments are loaded") {
  auto v = must_make("okx");
  CHECK(v->instruments_request() == rest_request{"/api/v5/public/instruments?instType=SPOT"});
  CHECK(must_resolve(*v, "BTC/USDT") == subscription{"BTC/USDT", "BTCUSDT", "BTC", "USDT", "BTC-USDT", "BTC-USDT"});
  CHECK_FALSE(v->resolve("BTC-USDT").has_value());
  auto err = v->load_instruments(R"({"code":"50011","msg":"Too Many Requests","data":[]})");
  REQUIRE_FALSE(err.has_value());
  CHECK(err.err().message == "okx instruments: code 50011: Too Many Requests");
  auto n = v->load_instruments(instruments_body);
  REQUIRE(n.has_value());
  CHECK(*n == 2);
  CHECK(must_resolve(*v, "eth/usdt").wire == "ETH-USDT");
  auto unlisted = v->resolve("XYZ/USDT");
  REQUIRE_FALSE(unlisted.has_value());
  CHECK(unlisted.err().message == "XYZ/USDT: not listed by okx");
}

TEST_CASE("okx subscribe_requests: trades channel args, batched within 64 KB") {
  auto v = must_make("okx");
  auto msgs = v->subscribe_requests({must_resolve(*v, "BTC/USDT"), must_resolve(*v, "ETH/USDT")});
  REQUIRE(msgs.size() == 1);
  CHECK(
    msgs[0] ==
    R"({"op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"},{"channel":"trades","instId":"ETH-USDT"}]})");
  std::vector<subscription> many;
  for (int i = 0; i < 3000; ++i)
    many.push_back(must_resolve(*v, "A" + std::to_string(i) + "/USDT"));
  auto batched = v->subscribe_requests(many);
  CHECK(batched.size() > 1);
  std::size_t args = 0;
  for (const auto& m : batched) {
    CHECK(m.size() <= 65'536);
    for (auto at = m.find("instId"); at != std::string::npos; at = m.find("instId", at + 1))
      ++args;
  }
  CHECK(args == 3000);
}

TEST_CASE("okx decode: captured trades, acks, errors with the rejected symbol, pong, notice 64008") {
  auto v = must_make("okx");
  const std::size_t compared = replay_trade_fixture(*v, "okx");
  if (!mi::test::fixture_lines("okx", "trades.jsonl").empty())
    CHECK(compared > 30);
  kind_counts c = replay_control_fixture(*v, "okx");
  if (!mi::test::fixture_lines("okx", "control.jsonl").empty()) {
    CHECK(c.ack == 7);
    CHECK(c.error == 1);
    CHECK(c.reconnect_notice == 1);
  }
  auto err = v->decode(R"({"event":"error","msg":"channel:trades,instId:XYZ-USDT doesn't exist","code":"60018"})", 0);
  REQUIRE(err.has_value());
  CHECK(err->what == events::kind::error);
  CHECK(err->rejected == "XYZUSDT");
  CHECK(err->message.find("XYZ-USDT doesn't exist") != std::string::npos);
  auto other = v->decode(R"({"event":"error","msg":"Invalid request","code":"60012"})", 0);
  REQUIRE(other.has_value());
  CHECK(other->what == events::kind::error);
  CHECK(other->rejected.empty());
  auto pong = v->decode("pong", 0);
  REQUIRE(pong.has_value());
  CHECK(pong->what == events::kind::heartbeat);
  auto notice = v->decode(
    R"({"event":"notice","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","code":"64008","connId":"761bf5d1"})",
    0);
  REQUIRE(notice.has_value());
  CHECK(notice->what == events::kind::reconnect_notice);
  CHECK(notice->message.find("service upgrade") != std::string::npos);
  auto ack = v->decode(R"({"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT"}})", 0);
  REQUIRE(ack.has_value());
  CHECK(ack->what == events::kind::ack);
}

TEST_CASE("okx heartbeat: text ping after 25 s of silence, dead 25 s after an unanswered ping") {
  auto v = must_make("okx");
  v->on_open(100 * s_ns);
  CHECK_FALSE(v->ping_due(124 * s_ns).has_value());
  v->on_frame(110 * s_ns); // traffic restarts the idle timer
  CHECK_FALSE(v->ping_due(134 * s_ns).has_value());
  CHECK(v->ping_due(135 * s_ns) == std::optional<std::string>("ping"));
  CHECK_FALSE(v->ping_due(136 * s_ns).has_value()); // one ping per idle period
  CHECK_FALSE(v->heartbeat_timed_out(159 * s_ns));
  CHECK(v->heartbeat_timed_out(160 * s_ns));
  v->on_frame(161 * s_ns); // pong
  CHECK_FALSE(v->heartbeat_timed_out(170 * s_ns));
  // A new connection starts over.
  v->on_open(1000 * s_ns);
  CHECK_FALSE(v->heartbeat_timed_out(1000 * s_ns));
  CHECK_FALSE(v->ping_due(1024 * s_ns).has_value());
  CHECK(v->ping_due(1025 * s_ns).has_value());
}

TEST_CASE("okx history: history-trades paged backward over 3 pages, ending exactly at the gap's ends") {
  auto v = must_make("okx");
  CHECK(v->sequential_ids());
  CHECK(v->rest_min_interval_ns() == 200'000'000);
  const subscription s = must_resolve(*v, "BTC/USDT");
  CHECK_FALSE(v->recent_request(s).has_value());
  const gap g{1001, 1250, 0, 0};
  auto run = run_backfill(*v, s, g, [](const std::string& target) { return okx_page(query_int(target, "after"), 1); });
  CHECK(run.targets ==
        std::vector<std::string>{"/api/v5/market/history-trades?instId=BTC-USDT&type=1&after=1251&limit=100",
                                 "/api/v5/market/history-trades?instId=BTC-USDT&type=1&after=1151&limit=100",
                                 "/api/v5/market/history-trades?instId=BTC-USDT&type=1&after=1051&limit=100"});
  CHECK(ids_of(run.trades).size() == 250);
  // Each page comes oldest first; pages arrive newest first, so the caller sorts across pages.
  auto ids = ids_of(run.trades);
  std::sort(ids.begin(), ids.end());
  CHECK(ids == id_range(1001, 1250));
  CHECK(run.trades.front().trade_id == "1151"); // the first page, oldest first
  CHECK(run.trades.front().ts_ns == 1'630'048'891'151'000'000);
}

TEST_CASE("okx history: the exchange runs out, error bodies name OKX's message") {
  auto v = must_make("okx");
  const subscription s = must_resolve(*v, "BTC/USDT");
  const gap g{1001, 1250, 0, 0};
  // Only ids >= 1120 are still available: the second page is short, the third empty.
  auto run =
    run_backfill(*v, s, g, [](const std::string& target) { return okx_page(query_int(target, "after"), 1120); });
  auto ids = ids_of(run.trades);
  std::sort(ids.begin(), ids.end());
  CHECK(ids == id_range(1120, 1250));
  CHECK(run.targets.size() == 3);
  auto err = v->parse_history(s, g, R"({"code":"51001","msg":"Instrument ID does not exist","data":[]})");
  REQUIRE_FALSE(err.has_value());
  CHECK(err.err().message == "okx history: code 51001: Instrument ID does not exist");
}

TEST_CASE("okx history: a server ignoring `after` cannot make the backfill loop") {
  auto v = must_make("okx");
  const subscription s = must_resolve(*v, "BTC/USDT");
  const gap g{1001, 1250, 0, 0};
  auto stuck = run_backfill(*v, s, g, [](const std::string&) { return okx_page(1251, 1); });
  CHECK(stuck.targets.size() == 2);
  auto ids = ids_of(stuck.trades);
  std::sort(ids.begin(), ids.end());
  CHECK(ids == id_range(1151, 1250));
}
