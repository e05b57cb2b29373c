#include "connectors/okx/codec.hpp"

#include <doctest/doctest.h>

#include "tests/unit/fixtures.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "messages/codec.hpp"

namespace {

using mi::okx::codec;
using mi::okx::frame_events;

std::vector<std::string> fixture_lines(const std::string& name) { return mi::test::fixture_lines("okx", name); }

using mi::test::as_json_array;

mi::trade sample_trade() {
  mi::trade t;
  t.exchange = "okx";
  t.symbol = "BTCUSDT";
  t.base = "BTC";
  t.quote = "USDT";
  t.trade_id = "338476307";
  t.price = *mi::decimal::parse("30236.5");
  t.quantity = *mi::decimal::parse("0.0002");
  t.taker_side = mi::side::sell;
  t.ts_ns = 1'652'459'224'818'000'000;
  t.recv_ns = 7;
  return t;
}

const std::string trade_head = R"({"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[)";

} // namespace

TEST_CASE("every fixture frame decodes, and trades match trades.expected.jsonl exactly") {
  const auto frames = fixture_lines("trades.jsonl");
  const auto expected = fixture_lines("trades.expected.jsonl");
  if (frames.empty())
    return;
  REQUIRE(frames.size() == expected.size());
  codec c;
  std::size_t compared = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    CAPTURE(i + 1);
    CAPTURE(frames[i]);
    auto r = c.decode(frames[i], 123);
    REQUIRE_MESSAGE(r.has_value(), r.err().message);
    CHECK(r->what == frame_events::kind::trades);
    CHECK_FALSE(r->trades.empty());
    for (const auto& t : r->trades)
      CHECK(t.recv_ns == 123);
    for (const auto& t : r->trades) { // the number read once by the codec, equal to the text id
      REQUIRE(t.id_number);
      CHECK(*t.id_number == std::stoll(t.trade_id)); // the value (Coinbase also sends "000000000")
    }
    if (expected[i] == "null")
      continue;
    CHECK(as_json_array(r->trades) == expected[i]);
    ++compared;
  }
  CHECK(compared > 30);
}

TEST_CASE("every control frame decodes without error, acks, errors and notices are classified") {
  const auto lines = fixture_lines("control.jsonl");
  if (lines.empty())
    return;
  codec c;
  std::size_t acks = 0, errors = 0, notices = 0;
  for (const auto& line : lines) {
    CAPTURE(line);
    auto r = c.decode(line, 0);
    REQUIRE_MESSAGE(r.has_value(), r.err().message);
    CHECK(r->trades.empty());
    acks += r->what == frame_events::kind::ack;
    errors += r->what == frame_events::kind::error;
    notices += r->what == frame_events::kind::server_notice;
  }
  CHECK(acks == 7);
  CHECK(errors == 1);
  CHECK(notices == 1);
}

TEST_CASE("the plain-text heartbeat: pong is kind::pong, ping is ignored") {
  const auto lines = fixture_lines("ping_pong.txt");
  codec c;
  for (const auto& line : lines) {
    CAPTURE(line);
    auto r = c.decode(line, 0);
    REQUIRE_MESSAGE(r.has_value(), r.err().message);
    CHECK(r->what == (line == "pong" ? frame_events::kind::pong : frame_events::kind::ignored));
  }
  auto pong = c.decode("pong", 0);
  REQUIRE(pong.has_value());
  CHECK(pong->what == frame_events::kind::pong);
  auto ping = c.decode("ping\n", 0);
  REQUIRE(ping.has_value());
  CHECK(ping->what == frame_events::kind::ignored);
}

TEST_CASE("a subscribe ack names the channel and instId") {
  codec c;
  auto r = c.decode(R"({"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT"},"connId":"a4d3ae55"})", 0);
  REQUIRE(r.has_value());
  CHECK(r->what == frame_events::kind::ack);
  CHECK(r->channel == "trades");
  CHECK(r->inst_id == "BTC-USDT");
}

TEST_CASE("error and notice frames carry code and message") {
  codec c;
  auto err = c.decode(R"({"event":"error","msg":"channel:tickers,instId:LTC-USD doesn't exist","code":"60018"})", 0);
  REQUIRE(err.has_value());
  CHECK(err->what == frame_events::kind::error);
  CHECK(err->error_message == "code 60018: channel:tickers,instId:LTC-USD doesn't exist");
  auto numeric = c.decode(R"({"event":"error","code":60012,"msg":"Invalid request"})", 0);
  REQUIRE(numeric.has_value());
  CHECK(numeric->error_message == "code 60012: Invalid request");
  auto notice = c.decode(
    R"({"event":"notice","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","code":"64008","connId":"761bf5d1"})",
    0);
  REQUIRE(notice.has_value());
  CHECK(notice->what == frame_events::kind::server_notice);
  CHECK(notice->error_message ==
        "code 64008: The connection will soon be closed for a service upgrade. Please reconnect.");
}

TEST_CASE("other channels, events and our own requests are ignored, not errors") {
  codec c;
  for (
    const char* frame :
    {R"({"op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]})",
     R"({"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","last":"9999.99","ts":"1597026383085"}]})",
     R"({"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["8476.98","415","0","13"]],"bids":[],"ts":"1597026383085"}]})",
     R"({"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["1597026383085","8533","8553","8527","8548","45","45"]]})",
     R"({"event":"login","code":"0","msg":""})", R"({})"}) {
    CAPTURE(frame);
    auto r = c.decode(frame, 0);
    REQUIRE_MESSAGE(r.has_value(), r.err().message);
    CHECK(r->what == frame_events::kind::ignored);
    CHECK(r->trades.empty());
  }
}

TEST_CASE("a frame with several trades gives all of them, oldest first") {
  codec c;
  auto r = c.decode(trade_head + R"({"instId":"BTC-USDT","tradeId":"12","px":"2","sz":"1","side":"sell","ts":"1000"},)"
                                 R"({"instId":"BTC-USDT","tradeId":"11","px":"1","sz":"1","side":"buy","ts":"1000"},)"
                                 R"({"instId":"BTC-USDT","tradeId":"9","px":"3","sz":"1","side":"buy","ts":"1001"}]})",
                    5);
  REQUIRE_MESSAGE(r.has_value(), r.err().message);
  REQUIRE(r->trades.size() == 3);
  CHECK(r->trades[0].trade_id == "11");
  CHECK(r->trades[0].taker_side == mi::side::buy);
  CHECK(r->trades[1].trade_id == "12");
  CHECK(r->trades[1].taker_side == mi::side::sell);
  CHECK(r->trades[2].trade_id == "9");
  CHECK(r->trades[2].ts_ns == 1'001'000'000);
  auto empty = c.decode(trade_head + "]}", 0);
  REQUIRE(empty.has_value());
  CHECK(empty->what == frame_events::kind::trades);
  CHECK(empty->trades.empty());
}

TEST_CASE("aggregated pushes (count > 1) report their fills, aligned with the trades oldest first") {
  codec c;
  auto r = c.decode(
    trade_head + R"({"instId":"BTC-USDT","tradeId":"20","px":"2","sz":"3","side":"sell","ts":"1001","count":"3"},)"
                 R"({"instId":"BTC-USDT","tradeId":"17","px":"1","sz":"1","side":"buy","ts":"1000","count":"1"}]})",
    5);
  REQUIRE_MESSAGE(r.has_value(), r.err().message);
  REQUIRE(r->trades.size() == 2);
  CHECK(r->trades[0].trade_id == "17");
  CHECK(r->trades[1].trade_id == "20");
  CHECK(r->fills == std::vector<std::int64_t>{1, 3});
  // One fill each (count "1" or absent): no fills vector at all.
  auto single = c.decode(
    trade_head + R"({"instId":"BTC-USDT","tradeId":"21","px":"2","sz":"1","side":"buy","ts":"1002","count":"1"}]})", 5);
  REQUIRE(single.has_value());
  CHECK(single->fills.empty());
  auto bad = c.decode(
    trade_head + R"({"instId":"BTC-USDT","tradeId":"21","px":"2","sz":"1","side":"buy","ts":"1002","count":"x"}]})", 5);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.err().message.find("count") != std::string::npos);
}

TEST_CASE("derivative instIds keep their suffix in the symbol") {
  codec c;
  auto r = c.decode(
    R"({"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP","tradeId":"1","px":"1","sz":"1","side":"buy","ts":"1"}]})",
    0);
  REQUIRE(r.has_value());
  REQUIRE(r->trades.size() == 1);
  CHECK(r->trades[0].symbol == "BTCUSDTSWAP");
  CHECK(r->trades[0].base == "BTC");
  CHECK(r->trades[0].quote == "USDT");
}

TEST_CASE("bad input gives an error naming the reason") {
  const std::string good = R"("instId":"BTC-USDT","tradeId":"5")";
  struct row {
    std::string frame;
    std::string reason;
  };
  const std::vector<row> rows = {
    {"hello", "not JSON"},
    {"", "not JSON"},
    {R"({"arg":{"channel":"trades",)", "not JSON"},
    {"[1,2]", "not JSON"},
    {trade_head + "{" + good + R"(,"sz":"1","side":"buy","ts":"1"}]})", "data[0]: missing field 'px'"},
    {trade_head + "{" + good + R"(,"px":"1","side":"buy","ts":"1"}]})", "missing field 'sz'"},
    {trade_head + "{" + good + R"(,"px":"1","sz":"1","ts":"1"}]})", "missing field 'side'"},
    {trade_head + "{" + good + R"(,"px":"1","sz":"1","side":"buy"}]})", "missing field 'ts'"},
    {trade_head + R"({"instId":"BTC-USDT","px":"1","sz":"1","side":"buy","ts":"1"}]})", "missing field 'tradeId'"},
    {trade_head + "{" + good + R"(,"px":"0","sz":"1","side":"buy","ts":"1"}]})", "price must be > 0"},
    {trade_head + "{" + good + R"(,"px":"0.000","sz":"1","side":"buy","ts":"1"}]})", "price must be > 0"},
    {trade_head + "{" + good + R"(,"px":"1","sz":"-0.5","side":"buy","ts":"1"}]})", "size must be > 0"},
    {trade_head + "{" + good + R"(,"px":"abc","sz":"1","side":"buy","ts":"1"}]})", "field 'px' is not a decimal"},
    {trade_head + "{" + good + R"(,"px":1.5,"sz":"1","side":"buy","ts":"1"}]})", "field 'px' must be a string"},
    {trade_head + "{" + good + R"(,"px":"1","sz":"1","side":"up","ts":"1"}]})", "field 'side' must be"},
    {trade_head + "{" + good + R"(,"px":"1","sz":"1","side":"buy","ts":"-1"}]})", "field 'ts' must be milliseconds"},
    {trade_head + R"({"instId":"BTCUSDT","tradeId":"5","px":"1","sz":"1","side":"buy","ts":"1"}]})",
     "instId 'BTCUSDT' must be BASE-QUOTE"},
    {trade_head + R"(5]})", "data[0]: not an object"},
    {R"({"arg":{"channel":"trades","instId":"BTC-USDT"}})", "missing field 'data'"},
  };
  codec c;
  for (const auto& [frame, reason] : rows) {
    CAPTURE(frame);
    auto r = c.decode(frame, 0);
    REQUIRE_FALSE(r.has_value());
    CHECK_MESSAGE(r.err().message.find(reason) != std::string::npos, r.err().message);
  }
  // The codec keeps working after errors.
  auto ok = c.decode(trade_head + "{" + good + R"(,"px":"1","sz":"1","side":"buy","ts":"1"}]})", 0);
  CHECK(ok.has_value());
}

TEST_CASE("subscribe_requests packs args up to the byte limit") {
  const std::vector<std::string> ids = {"BTC-USDT", "ETH-USDT", "SOL-USDT"};
  auto one = mi::okx::subscribe_requests(ids);
  REQUIRE(one.size() == 1);
  CHECK(one[0] == R"({"op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"},)"
                  R"({"channel":"trades","instId":"ETH-USDT"},{"channel":"trades","instId":"SOL-USDT"}]})");
  // 1 arg = 68 bytes; 2 args = 110 bytes: a 110-byte limit packs 2 + 1.
  auto split = mi::okx::subscribe_requests(ids, "trades", 110);
  REQUIRE(split.size() == 2);
  CHECK(split[0].size() <= 110);
  CHECK(split[1] == R"({"op":"subscribe","args":[{"channel":"trades","instId":"SOL-USDT"}]})");
  // A limit smaller than one arg still sends every instId, one per request.
  CHECK(mi::okx::subscribe_requests(ids, "trades", 1).size() == 3);
  CHECK(mi::okx::subscribe_requests({}).empty());
  CHECK(mi::okx::unsubscribe_requests({"BTC-USDT"}, "trades-all")[0] ==
        R"({"op":"unsubscribe","args":[{"channel":"trades-all","instId":"BTC-USDT"}]})");
  // Many instruments: every request within 64 KB, every instId sent once.
  std::vector<std::string> many;
  for (int i = 0; i < 3000; ++i)
    many.push_back("C" + std::to_string(i) + "-USDT");
  auto reqs = mi::okx::subscribe_requests(many);
  CHECK(reqs.size() > 1);
  std::size_t args = 0;
  for (const auto& r : reqs) {
    CHECK(r.size() <= mi::okx::max_request_bytes);
    for (auto pos = r.find("instId"); pos != std::string::npos; pos = r.find("instId", pos + 1))
      ++args;
  }
  CHECK(args == many.size());
  // Our own request decodes as ignored.
  codec c;
  auto r = c.decode(one[0], 0);
  REQUIRE(r.has_value());
  CHECK(r->what == frame_events::kind::ignored);
}

TEST_CASE("heartbeat pings after 25 s of silence and times out 25 s after an unanswered ping") {
  constexpr std::int64_t s = 1'000'000'000;
  mi::okx::heartbeat hb;
  const std::int64_t t0 = 1'000 * s;
  hb.on_received(t0);
  CHECK_FALSE(hb.ping_due(t0 + 24 * s));
  hb.on_received(t0 + 24 * s); // traffic restarts the idle timer
  CHECK_FALSE(hb.ping_due(t0 + 48 * s));
  CHECK(hb.ping_due(t0 + 49 * s));
  CHECK_FALSE(hb.ping_due(t0 + 50 * s)); // one ping per idle period
  CHECK_FALSE(hb.timed_out(t0 + 73 * s));
  CHECK(hb.timed_out(t0 + 74 * s));
  hb.on_received(t0 + 74 * s); // the pong
  CHECK_FALSE(hb.timed_out(t0 + 74 * s));
  CHECK(mi::okx::ping_after_idle_ns < 30 * s);
  CHECK(mi::okx::ping_frame == "ping");
}

TEST_CASE("encode_trade_frame produces OKX frames that decode back to the trade") {
  const mi::trade t = sample_trade();
  CHECK(mi::okx::encode_trade_frame(t) ==
        R"({"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"338476307",)"
        R"("px":"30236.5","sz":"0.0002","side":"sell","ts":"1652459224818","count":"1"}]})");
  codec c;
  for (auto side : {mi::side::buy, mi::side::sell}) {
    for (const char* id : {"1", "338476307", "9223372036854775807123"}) {
      mi::trade x = t;
      x.taker_side = side;
      x.trade_id = id;
      auto r = c.decode(mi::okx::encode_trade_frame(x), x.recv_ns);
      REQUIRE_MESSAGE(r.has_value(), r.err().message);
      REQUIRE(r->trades.size() == 1);
      CHECK(r->trades[0] == x);
    }
  }
  mi::trade swap = t;
  swap.symbol = "BTCUSDTSWAP";
  auto r = c.decode(mi::okx::encode_trade_frame(swap), swap.recv_ns);
  REQUIRE(r.has_value());
  CHECK(r->trades[0] == swap);
}
