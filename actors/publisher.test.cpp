#include "actors/publisher.hpp"

#include <doctest/doctest.h>

#include <chrono>

#include "gateways/jetstream/jetstream.hpp"
#include "gateways/metrics/metrics.hpp"

TEST_CASE("publisher: a permanently failed publish is counted under the stream its subject belongs to") {
  auto fb = std::make_shared<mi::actors::publish_feedback>();
  mi::gw::metrics m;
  std::vector<std::string> streams;
  for (const auto& [prefix, stream] : fb->streams)
    streams.push_back(stream);
  m.publish_streams(streams); // as the bridge does from the configured streams
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
  m.publisher().publish_retried();
  m.supervisor("kline").restarted();
  m.push().session_failed();
  auto text = m.scrape();
  CHECK(text.find("\nmi_publish_retries_total 1\n") != std::string::npos);
  CHECK(text.find("mi_actor_restarts_total{supervisor=\"kline\"} 1") != std::string::npos);
  CHECK(text.find("\nmi_push_sessions_failed_total 1\n") != std::string::npos);
}

TEST_CASE("publisher: a stored trade's ingest latency is measured from the event time its outcome carries") {
  auto fb = std::make_shared<mi::actors::publish_feedback>();
  mi::gw::metrics m;
  mi::gw::publish_outcome o;
  o.ok = true;
  o.subject = "market.raw.binance.BTCUSDT";
  const auto now_ns =
    std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  o.event_ts_ns = now_ns - 2'000'000'000; // traded 2 s ago
  mi::actors::on_publish_outcome(fb, &m, nullptr, o);
  o.event_ts_ns = 0; // none carried (not a trade): no observation
  mi::actors::on_publish_outcome(fb, &m, nullptr, o);
  auto text = m.scrape();
  auto at = text.find("mi_ingest_latency_seconds_sum{exchange=\"binance\"} ");
  REQUIRE(at != std::string::npos);
  double sum = std::stod(text.substr(text.find(' ', at) + 1));
  CHECK(sum >= 2.0);
  CHECK(sum < 3.0); // the test's own delay, generously
  CHECK(text.find("mi_ingest_latency_seconds_count{exchange=\"binance\"} 1\n") != std::string::npos);
  CHECK(text.find("mi_trades_published_total{exchange=\"binance\"} 2\n") != std::string::npos);
}
