#include "actors/quarantine.hpp"

#include <doctest/doctest.h>

#include <string>

#include "gateways/jetstream/header_block.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/metrics/metrics.hpp"
#include "messages/codec.hpp"

namespace {

mi::trade okx_trade(std::string id) {
  mi::trade t;
  t.exchange = "okx";
  t.symbol = "BTC-USDT";
  t.base = "BTC";
  t.quote = "USDT";
  t.trade_id = std::move(id);
  t.price = *mi::decimal::parse("16500.5");
  t.quantity = *mi::decimal::parse("0.1");
  t.taker_side = mi::side::buy;
  t.ts_ns = 1'700'000'000'000'000'000;
  t.recv_ns = t.ts_ns;
  return t;
}

} // namespace

TEST_CASE("quarantine: a trade id with a line break is quarantined under a sendable dedup id, the trade kept as "
          "received") {
  mi::gw::metrics m;
  mi::actors::quarantine q("okx", &m.connection("okx"), {});
  CHECK(!q.check(okx_trade("77"), 0)); // admitted: published to MARKET_RAW, not here

  const auto out = q.check(okx_trade("77\r\n88"), 0);
  REQUIRE(out);
  CHECK(out->subject == "market.rejected.okx.BTC-USDT");
  CHECK(out->msg_id == "okx:BTC-USDT:77%0D%0A88");
  auto kept = mi::decode_trade_pb(out->data);
  REQUIRE(kept);
  CHECK(kept->trade_id == "77\r\n88");
  // What goes on the wire, written out by hand: every header one line.
  std::string block;
  REQUIRE(mi::gw::append_header_block(block, *out));
  CHECK(block == "NATS/1.0\r\n"
                 "Nats-Msg-Id: okx:BTC-USDT:77%0D%0A88\r\n"
                 "Content-Type: " +
                   std::string(mi::trade_content_type) +
                   "\r\n"
                   "Mi-Reject-Reason: bad_trade_id\r\n"
                   "Mi-Reject-Detail: trade id has the control character 0x0D at byte 2\r\n"
                   "\r\n");
  CHECK(m.scrape().find("mi_trades_rejected_total{exchange=\"okx\",reason=\"bad_trade_id\"} 1\n") != std::string::npos);
}
