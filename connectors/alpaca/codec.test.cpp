// Every frame of Alpaca's recorded stream fixtures decodes to the values written by hand in tests/data/alpaca/
// (from the fixture's documentation, SOURCES.md), and malformed frames are refused with a reason.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <string>

#include "connectors/alpaca/codec.hpp"
#include "connectors/alpaca/test_files.hpp"

namespace {

using mi::alpaca::test::expected_lines;
using mi::alpaca::test::fixture_text;
using mi::alpaca::test::lines_of;

/// Decodes each line (wrapped in [...] when `wrap`: doc objects are single elements) and compares with the
/// expected file line by line.
void check_file(const std::string& fixture, const std::string& expected, bool wrap) {
  const auto frames = lines_of(fixture_text("ws/" + fixture));
  const auto want = expected_lines(expected);
  REQUIRE(!frames.empty());
  REQUIRE(frames.size() == want.size());
  mi::alpaca::codec codec;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    CAPTURE(fixture);
    CAPTURE(i + 1);
    const std::string frame = wrap ? "[" + frames[i] + "]" : frames[i];
    auto ev = codec.decode(frame, 42);
    REQUIRE_MESSAGE(ev, (ev ? std::string() : ev.err().message));
    const auto got = mi::alpaca::test::to_json(*ev);
    const auto expect = boost::json::parse(want[i]);
    CHECK_MESSAGE(got == expect, boost::json::serialize(got) << "\n   expected " << want[i]);
    for (const auto& t : ev->trades)
      CHECK(t.recv_ns == 42);
  }
}

} // namespace

TEST_CASE("alpaca data frames (trades, quote batches, a minute bar) decode to the documented values") {
  check_file("data_frames.jsonl", "data_frames.expected.jsonl", false);
}

TEST_CASE("alpaca control frames: connected, authenticated, every error code, subscription acks") {
  check_file("control.jsonl", "control.expected.jsonl", false);
}

TEST_CASE(
  "alpaca documented objects: bars, daily bar, halt status, correction, cancel, with LULD and imbalance ignored") {
  check_file("doc_objects.jsonl", "doc_objects.expected.jsonl", true);
}

TEST_CASE("alpaca wscat sessions: every received frame decodes") {
  for (const char* name :
       {"session_sip_2021-02-22_wscat.txt", "session_sip_2023-04-06_wscat.txt",
        "session_subscribe_unsubscribe_2021docs.txt", "session_test_FAKEPACA_2024-07-24_wscat.txt"}) {
    CAPTURE(name);
    mi::alpaca::codec codec;
    std::size_t received = 0;
    for (const auto& line : lines_of(fixture_text(std::string("ws/") + name))) {
      if (line.rfind("< ", 0) != 0)
        continue;
      ++received;
      auto ev = codec.decode(line.substr(2), 1);
      CHECK_MESSAGE(ev, line);
    }
    CHECK(received >= 2);
  }
}

TEST_CASE("alpaca client requests: auth and subscribe have the documented shape") {
  const auto requests = lines_of(fixture_text("ws/client_requests.jsonl"));
  REQUIRE(requests.size() >= 9);
  // {"action":"auth","key":"<YOUR API KEY>","secret":"<YOUR API SECRET>"}
  CHECK(boost::json::parse(mi::alpaca::auth_request("<YOUR API KEY>", "<YOUR API SECRET>")) ==
        boost::json::parse(requests[12]));
  // {"action":"subscribe","trades":["AAPL"]}
  mi::alpaca::channels trades_only;
  CHECK(boost::json::parse(mi::alpaca::subscribe_request({"AAPL"}, trades_only)) == boost::json::parse(requests[8]));
  // {"action":"unsubscribe","quotes":["FAKEPACA"]}
  mi::alpaca::channels quotes_only;
  quotes_only.trades = false;
  quotes_only.quotes = true;
  CHECK(boost::json::parse(mi::alpaca::subscribe_request({"FAKEPACA"}, quotes_only, true)) ==
        boost::json::parse(requests[11]));
  // Every channel the platform uses, with the documented names.
  mi::alpaca::channels all;
  all.quotes = all.bars = all.updated_bars = all.daily_bars = all.statuses = true;
  CHECK(mi::alpaca::subscribe_request({"AAPL", "BRK.B"}, all) ==
        R"({"action":"subscribe","trades":["AAPL","BRK.B"],"quotes":["AAPL","BRK.B"],"bars":["AAPL","BRK.B"],)"
        R"("updatedBars":["AAPL","BRK.B"],"dailyBars":["AAPL","BRK.B"],"statuses":["AAPL","BRK.B"]})");
}

TEST_CASE("alpaca trade ids are per exchange: the same id on two exchanges is two trades") {
  mi::alpaca::codec codec;
  auto ev =
    codec.decode(R"([{"T":"t","S":"AAPL","i":7,"x":"V","p":1.5,"s":10,"t":"2024-01-02T15:00:00.000000001Z"},)"
                 R"({"T":"t","S":"AAPL","i":7,"x":"D","p":1.25,"s":3,"t":"2024-01-02T15:00:00Z","c":[],"z":"C"}])",
                 0);
  REQUIRE(ev);
  REQUIRE(ev->trades.size() == 2);
  // Oldest first.
  CHECK(ev->trades[0].trade_id == "7-D");
  CHECK(ev->trades[0].ts_ns == 1704207600000000000);
  CHECK(ev->trades[1].trade_id == "7-V");
  CHECK(ev->trades[1].ts_ns == 1704207600000000001);
  CHECK(mi::dedup_id(ev->trades[0]) == "alpaca:AAPL:7-D");
  CHECK(ev->trades[1].tape.empty());
  CHECK(ev->trades[1].conditions.empty());
}

TEST_CASE("alpaca symbols: a '.' becomes '_' (a NATS token), other characters are refused") {
  CHECK(mi::alpaca::normalize_symbol("BRK.B") == std::optional<std::string>("BRK_B"));
  CHECK(mi::alpaca::ticker_of("BRK_B") == "BRK.B");
  CHECK(!mi::alpaca::normalize_symbol("aapl"));
  CHECK(!mi::alpaca::normalize_symbol(""));
  CHECK(!mi::alpaca::normalize_symbol("A*B"));
  mi::alpaca::codec codec;
  auto ev = codec.decode(R"([{"T":"t","S":"BRK.B","i":1,"x":"N","p":400.1,"s":1,"t":"2024-01-02T15:00:00Z"}])", 0);
  REQUIRE(ev);
  CHECK(ev->trades.at(0).symbol == "BRK_B");
}

TEST_CASE("alpaca malformed frames are refused with the element and the field") {
  struct bad {
    const char* frame;
    const char* reason;
  };
  const bad cases[] = {
    {"", "not JSON"},
    {"{\"T\":\"t\"}", "not a JSON array"},
    {"[1]", "[0]: must be an object"},
    {R"([{"S":"AAPL"}])", "[0]: missing field 'T'"},
    {R"([{"T":"t","S":"AAPL","i":1,"x":"V","p":0,"s":1,"t":"2024-01-02T15:00:00Z"}])",
     "[0]: field 'p' must be a positive decimal"},
    {R"([{"T":"t","S":"AAPL","i":1,"x":"V","p":"1.5","s":1,"t":"2024-01-02T15:00:00Z"}])",
     "[0]: field 'p' must be a number"},
    {R"([{"T":"t","S":"AAPL","i":1,"x":"V","p":1.5,"s":-2,"t":"2024-01-02T15:00:00Z"}])",
     "[0]: field 's' must be a positive decimal"},
    {R"([{"T":"t","S":"AAPL","i":-1,"x":"V","p":1.5,"s":2,"t":"2024-01-02T15:00:00Z"}])",
     "[0]: field 'i' must be a non-negative integer"},
    {R"([{"T":"t","S":"AAPL","i":1,"p":1.5,"s":2,"t":"2024-01-02T15:00:00Z"}])", "[0]: missing field 'x'"},
    {R"([{"T":"t","S":"AAPL","i":1,"x":"V","p":1.5,"s":2,"t":"yesterday"}])",
     "[0]: field 't' must be an RFC 3339 time"},
    {R"([{"T":"t","S":"aapl","i":1,"x":"V","p":1.5,"s":2,"t":"2024-01-02T15:00:00Z"}])",
     "[0]: field 'S' is not a ticker"},
    {R"([{"T":"success","msg":"connected"},{"T":"q","S":"AMD","bp":1}])", "[1]: missing field 'bs'"},
    {R"([{"T":"error","msg":"x"}])", "[0]: error without an integer 'code'"},
    {R"([{"T":"t","S":"AAPL","i":1,"x":"V","p":1.5,"s":2,"t":"2024-01-02T15:00:00Z","c":"@"}])",
     "[0]: field 'c' must be an array of strings"},
  };
  mi::alpaca::codec codec;
  for (const auto& c : cases) {
    CAPTURE(c.frame);
    auto ev = codec.decode(c.frame, 0);
    REQUIRE_FALSE(ev);
    CHECK_MESSAGE(ev.err().message.find(c.reason) != std::string::npos, ev.err().message);
  }
  // The codec goes on after a refused frame.
  CHECK(codec.decode(R"([{"T":"success","msg":"authenticated"}])", 0));
}

TEST_CASE("alpaca encode_trade_object round-trips through the codec") {
  mi::trade t;
  t.exchange = "alpaca";
  t.symbol = t.base = "BRK_B";
  t.quote = "USD";
  t.price = *mi::decimal::parse("401.125");
  t.quantity = *mi::decimal::parse("0.5");
  t.ts_ns = 1704207600123456789;
  t.conditions = {"@", "I"};
  t.tape = "A";
  mi::alpaca::codec codec;
  auto ev = codec.decode("[" + mi::alpaca::encode_trade_object(t, 991, "V") + "]", 5);
  REQUIRE(ev);
  REQUIRE(ev->trades.size() == 1);
  const auto& got = ev->trades[0];
  CHECK(got.trade_id == "991-V");
  CHECK(got.exchange_code == "V");
  CHECK(got.symbol == "BRK_B");
  CHECK(got.price.to_string() == "401.125");
  CHECK(got.quantity.to_string() == "0.5");
  CHECK(got.ts_ns == 1704207600123456789);
  CHECK(got.conditions == std::vector<std::string>{"@", "I"});
  CHECK(got.tape == "A");
}
