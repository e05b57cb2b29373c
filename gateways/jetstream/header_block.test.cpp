#include "gateways/jetstream/header_block.hpp"

#include <doctest/doctest.h>

#include <string>

using mi::gw::append_header_block;
using mi::gw::outgoing;

// The expected blocks are written out by hand from the NATS protocol (ADR-4, "NATS Message Headers": a version line
// "NATS/1.0", then "Name: value" lines, each ended by CRLF, and an empty line); the integration tests
// (jetstream.test.cpp, exchanges.test.cpp, storage.test.cpp) read the headers back from a real nats-server through
// nats.c's parser.

namespace {
outgoing message(std::string msg_id, std::string content_type, mi::gw::header_list more = {}) {
  outgoing m;
  m.subject = "market.raw.binance.BTCUSDT";
  m.msg_id = std::move(msg_id);
  m.content_type = std::move(content_type);
  m.headers = std::move(more);
  m.data = "payload";
  return m;
}
} // namespace

TEST_CASE("header block: the dedup id, the content type and more headers in order, after what the buffer holds") {
  std::string out = "kept";
  auto len = append_header_block(out, message("binance:BTCUSDT:42", "application/x-protobuf",
                                              {{"Mi-Reject-Reason", "bad_price"}, {"Mi-Reject-Detail", "price 0"}}));
  REQUIRE(len);
  const std::string block = "NATS/1.0\r\n"
                            "Nats-Msg-Id: binance:BTCUSDT:42\r\n"
                            "Content-Type: application/x-protobuf\r\n"
                            "Mi-Reject-Reason: bad_price\r\n"
                            "Mi-Reject-Detail: price 0\r\n"
                            "\r\n";
  CHECK(out == "kept" + block);
  CHECK(*len == block.size());
}

TEST_CASE("header block: empty dedup id and content type are left out, no header at all writes nothing") {
  std::string out;
  auto len = append_header_block(out, message("", "application/json"));
  REQUIRE(len);
  CHECK(out == "NATS/1.0\r\nContent-Type: application/json\r\n\r\n");

  out.clear();
  len = append_header_block(out, message("", ""));
  REQUIRE(len);
  CHECK(*len == 0);
  CHECK(out.empty());

  // A value may be empty or hold spaces and colons; only CR and LF would end its line.
  out.clear();
  len = append_header_block(out, message("", "", {{"X-Note", ""}, {"X-Time", "12:30 UTC"}}));
  REQUIRE(len);
  CHECK(out == "NATS/1.0\r\nX-Note: \r\nX-Time: 12:30 UTC\r\n\r\n");
}

TEST_CASE("header block: a header that would break the block is refused by name, the buffer left as it was") {
  struct bad_case {
    outgoing m;
    std::string names;
  };
  const bad_case cases[] = {
    {message("binance:BTCUSDT:1\r\nNats-Msg-Id: forged", "t"), "'Nats-Msg-Id'"}, // an outside trade id with CRLF
    {message("id", "text\n"), "'Content-Type'"},
    {message("id", "t", {{"X-A", "ok"}, {"X-B", "line\rbreak"}}), "'X-B'"},
    {message("id", "t", {{"", "no name"}}), "''"},
    {message("id", "t", {{"Bad Name", "v"}}), "'Bad Name'"},
    {message("id", "t", {{"Bad:Name", "v"}}), "'Bad:Name'"},
    {message("id", "t", {{"Caf\xc3\xa9", "v"}}), "'Caf\xc3\xa9'"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.names);
    std::string out = "kept";
    auto len = append_header_block(out, c.m);
    REQUIRE_FALSE(len);
    CHECK(len.err().code == mi::errc::bad_input);
    CHECK(len.err().message.find("header " + c.names) != std::string::npos);
    CHECK(len.err().message.find("market.raw.binance.BTCUSDT") != std::string::npos);
    CHECK(out == "kept");
  }
}
