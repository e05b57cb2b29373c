// Integration tests of read_range against a real nats-server (tests/harness).
#include "gateways/jetstream/range_reader.hpp"
#include "messages/util/clock.hpp"
#include "tests/harness/nats_server.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace std::chrono_literals;
using mi::gw::jetstream;
using mi::gw::js_message;
using mi::gw::outgoing;
using mi::gw::read_range;
using mi::gw::stream_range;

namespace {

std::unique_ptr<jetstream> connect_with_stream(const mi::test::nats_server& server) {
  jetstream::options o;
  o.url = server.url();
  auto js = jetstream::connect(o);
  REQUIRE_MESSAGE(js.has_value(), (js ? "" : js.err().message));
  mi::gw::stream_spec s;
  s.name = "MARKET_RAW";
  s.subjects = {"market.raw.>"};
  REQUIRE((*js)->ensure_stream(s).has_value());
  return std::move(*js);
}

void publish(jetstream& js, const std::string& symbol, int id) {
  const std::string data = symbol + "-" + std::to_string(id);
  REQUIRE(js.publish_sync(outgoing{"market.raw.binance." + symbol, "binance:" + data, "text/plain", data}).has_value());
}

struct seen {
  std::vector<std::uint64_t> seqs;
  std::vector<std::string> data;
  std::function<void(js_message&&)> sink() {
    return [this](js_message&& m) {
      seqs.push_back(m.stream_seq());
      data.emplace_back(m.data());
    };
  }
};

} // namespace

TEST_CASE("read_range reads from a sequence to the last one, or to a given one") {
  mi::test::nats_server server;
  auto js = connect_with_stream(server);
  for (int i = 1; i <= 10; ++i)
    publish(*js, "BTCUSDT", i);
  seen all;
  stream_range r;
  r.stream = "MARKET_RAW";
  r.from_seq = 4;
  auto res = read_range(*js, r, all.sink());
  REQUIRE_MESSAGE(res.has_value(), (res ? "" : res.err().message));
  CHECK(res->complete);
  CHECK(res->last_seq == 10);
  CHECK(res->delivered == 7);
  CHECK(all.seqs == std::vector<std::uint64_t>{4, 5, 6, 7, 8, 9, 10});
  CHECK(all.data.front() == "BTCUSDT-4");

  seen part;
  r.to_seq = 6;
  res = read_range(*js, r, part.sink());
  REQUIRE(res.has_value());
  CHECK(res->complete);
  CHECK(part.seqs == std::vector<std::uint64_t>{4, 5, 6});
}

TEST_CASE("read_range of one subject stops at that subject's last message") {
  mi::test::nats_server server;
  auto js = connect_with_stream(server);
  for (int i = 1; i <= 3; ++i)
    publish(*js, "BTCUSDT", i); // seq 1..3
  publish(*js, "ETHUSDT", 1);   // 4
  publish(*js, "BTCUSDT", 4);   // 5
  publish(*js, "ETHUSDT", 2);   // 6
  seen got;
  stream_range r;
  r.stream = "MARKET_RAW";
  r.filter_subject = "market.raw.binance.BTCUSDT";
  r.from_time_ns = mi::util::now_ns() - 3'600'000'000'000; // an hour ago: all of it
  auto res = read_range(*js, r, got.sink());
  REQUIRE_MESSAGE(res.has_value(), (res ? "" : res.err().message));
  CHECK(res->complete);
  CHECK(res->last_seq == 5);
  CHECK(got.seqs == std::vector<std::uint64_t>{1, 2, 3, 5});
}

TEST_CASE("read_range returns at once when nothing is in the range") {
  mi::test::nats_server server;
  auto js = connect_with_stream(server);
  seen got;
  stream_range r;
  r.stream = "MARKET_RAW";
  auto empty = read_range(*js, r, got.sink());
  REQUIRE(empty.has_value());
  CHECK(empty->complete);
  CHECK(empty->last_seq == 0);

  publish(*js, "BTCUSDT", 1);
  r.from_time_ns = mi::util::now_ns() + 3'600'000'000'000; // an hour after the last stored message
  r.stall_timeout = 20s;                                   // were it to wait, the test would notice
  const auto t0 = std::chrono::steady_clock::now();
  auto later = read_range(*js, r, got.sink());
  REQUIRE(later.has_value());
  CHECK(later->complete);
  CHECK(later->delivered == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK(got.seqs.empty());
}

TEST_CASE("read_range stops, incomplete, when the range's end never comes") {
  mi::test::nats_server server;
  auto js = connect_with_stream(server);
  for (int i = 1; i <= 3; ++i)
    publish(*js, "BTCUSDT", i);
  seen got;
  stream_range r;
  r.stream = "MARKET_RAW";
  r.to_seq = 100; // beyond the end: nothing will ever reach it
  r.stall_timeout = 300ms;
  auto res = read_range(*js, r, got.sink());
  REQUIRE(res.has_value());
  CHECK_FALSE(res->complete);
  CHECK(res->reached_seq == 3);
  CHECK(got.seqs.size() == 3);

  r.stream = "NO_SUCH_STREAM";
  r.to_seq = 0;
  auto missing = read_range(*js, r, got.sink());
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.err().message.find("NO_SUCH_STREAM") != std::string::npos);
}
