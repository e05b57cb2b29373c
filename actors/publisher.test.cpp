#include "actors/publisher.hpp"

#include <doctest/doctest.h>

#include "gateways/jetstream/jetstream.hpp"
#include "gateways/metrics/metrics.hpp"

TEST_CASE("publisher: a permanently failed publish is counted under the stream its subject belongs to") {
  auto fb = std::make_shared<mi::actors::publish_feedback>();
  mi::gw::metrics m;
  for (const char* subject : {"market.gap.binance.BTCUSDT", "market.kline.okx.ETHUSDT.1m", "market.raw.binance.BTCUSDT",
                              "market.gap.okx.ETHUSDT"}) {
    mi::gw::publish_outcome o;
    o.ok = false;
    o.subject = subject;
    o.error = "test";
    mi::actors::on_publish_outcome(fb, &m, nullptr, o);
  }
  auto text = m.scrape();
  CHECK(text.find("mi_publish_failures_total{stream=\"MARKET_GAP\"} 2") != std::string::npos);
  CHECK(text.find("mi_publish_failures_total{stream=\"MARKET_KLINE\"} 1") != std::string::npos);
  CHECK(text.find("mi_publish_failures_total{stream=\"MARKET_RAW\"} 1") != std::string::npos);
  CHECK(mi::actors::stream_of(*fb, "market.dlq.trades") == "MARKET_DLQ");
  CHECK(mi::actors::stream_of(*fb, "elsewhere.x") == "other");
}

TEST_CASE("metrics: mi_publish_in_flight is read from its source at every scrape, never a stale copy") {
  mi::gw::metrics m;
  std::int64_t now = 7;
  m.publish_in_flight_source([&] { return now; });
  CHECK(m.scrape().find("\nmi_publish_in_flight 7\n") != std::string::npos);
  now = 0;
  CHECK(m.scrape().find("\nmi_publish_in_flight 0\n") != std::string::npos);
  m.publish_in_flight_source(nullptr);
  m.publish_retried();
  m.actor_restart("kline");
  m.push_session_failed();
  auto text = m.scrape();
  CHECK(text.find("\nmi_publish_retries_total 1\n") != std::string::npos);
  CHECK(text.find("mi_actor_restarts_total{supervisor=\"kline\"} 1") != std::string::npos);
  CHECK(text.find("\nmi_push_sessions_failed_total 1\n") != std::string::npos);
}
