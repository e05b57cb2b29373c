#include "gateways/metrics/metrics.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "gateways/push/push_protocol.hpp"
#include "messages/trade_admission.hpp"

namespace {

// The sample lines of a scrape (no # HELP / # TYPE), in order; the process start time (a different value in
// every run) is checked on its own.
std::string samples(const std::string& scrape) {
  std::istringstream in(scrape);
  std::string out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#' && line.rfind("mi_process_start_time_seconds ", 0) != 0)
      out += line + "\n";
  return out;
}

bool has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

// The sample lines of a fresh registry: series without labels exist from the start (as before the probes);
// counters, then gauges, then histograms, as prometheus-cpp lists them.
const std::string fresh_samples = R"(mi_publish_retries_total 0
mi_kline_finals_superseded_total 0
mi_kline_reader_switches_total{to="stream"} 0
mi_kline_reader_switches_total{to="local"} 0
mi_push_dropped_messages_total 0
mi_push_sessions_failed_total 0
mi_api_key_lookups_total 0
mi_api_connections_refused_total 0
mi_api_busy_total 0
mi_symbol_windows 0
mi_audit_last_run_timestamp_seconds 0
mi_push_clients 0
mi_push_trade_feeds 0
mi_api_connections 0
mi_api_database_up 0
mi_kline_final_latency_seconds_count 0
mi_kline_final_latency_seconds_sum 0
mi_kline_final_latency_seconds_bucket{le="0.001"} 0
mi_kline_final_latency_seconds_bucket{le="0.002"} 0
mi_kline_final_latency_seconds_bucket{le="0.005"} 0
mi_kline_final_latency_seconds_bucket{le="0.01"} 0
mi_kline_final_latency_seconds_bucket{le="0.02"} 0
mi_kline_final_latency_seconds_bucket{le="0.05"} 0
mi_kline_final_latency_seconds_bucket{le="0.1"} 0
mi_kline_final_latency_seconds_bucket{le="0.25"} 0
mi_kline_final_latency_seconds_bucket{le="0.5"} 0
mi_kline_final_latency_seconds_bucket{le="1"} 0
mi_kline_final_latency_seconds_bucket{le="2.5"} 0
mi_kline_final_latency_seconds_bucket{le="+Inf"} 0
mi_publish_in_flight 0
)";

} // namespace

TEST_CASE("metrics probes: a fresh registry lists only the series without labels, as before") {
  mi::gw::metrics m;
  CHECK(samples(m.scrape()) == fresh_samples);
}

TEST_CASE("metrics: mi_process_start_time_seconds is the wall-clock time the registry was made") {
  const auto before = std::chrono::system_clock::now();
  mi::gw::metrics m;
  const auto after = std::chrono::system_clock::now();
  const auto text = m.scrape();
  const auto at = text.find("\nmi_process_start_time_seconds ");
  REQUIRE(at != std::string::npos);
  const double v = std::stod(text.substr(at + 31));
  CHECK(v >= std::chrono::duration<double>(before.time_since_epoch()).count() - 0.001);
  CHECK(v <= std::chrono::duration<double>(after.time_since_epoch()).count() + 0.001);
}

TEST_CASE("metrics: mi_process_heap_bytes is absent without a source and read from it at every scrape") {
  mi::gw::metrics m;
  CHECK(m.scrape().find("mi_process_heap_bytes") == std::string::npos);
  std::int64_t held = 123456789;
  m.heap_bytes_source([&] { return held; });
  CHECK(m.scrape().find("\nmi_process_heap_bytes 123456789\n") != std::string::npos);
  held = 42;
  const auto text = m.scrape();
  CHECK(text.find("\nmi_process_heap_bytes 42\n") != std::string::npos);
  CHECK(text.find("# TYPE mi_process_heap_bytes gauge") != std::string::npos);
  m.heap_bytes_source(nullptr);
  CHECK(m.scrape().find("mi_process_heap_bytes") == std::string::npos);
}

TEST_CASE("metrics probes: an exchange's probe moves that exchange's series and no other") {
  mi::gw::metrics m;
  auto& okx = m.connection("okx");
  okx.reconnect();
  okx.reconnect();
  okx.trade_received(5);
  okx.frame_rejected(mi::gw::frame_reject::bad_symbol);
  okx.watchdog(mi::gw::watchdog_action::resubscribe);
  okx.trade_rejected(mi::reject_reason::clock_skew);
  okx.connection_up(true);
  m.connection("binance").connection_up(true);
  m.connection("binance").connection_up(false);
  auto text = m.scrape();
  CHECK(has(text, R"(mi_reconnects_total{exchange="okx"} 2)"));
  CHECK(has(text, R"(mi_trades_received_total{exchange="okx"} 5)"));
  CHECK(has(text, R"(mi_frames_rejected_total{exchange="okx",reason="bad_symbol"} 1)"));
  CHECK(has(text, R"(mi_watchdog_actions_total{action="resubscribe",exchange="okx"} 1)"));
  CHECK(has(text, R"(mi_trades_rejected_total{exchange="okx",reason="clock_skew"} 1)"));
  CHECK(has(text, R"(mi_exchange_connections{exchange="okx"} 1)"));
  CHECK(has(text, R"(mi_exchange_connections{exchange="binance"} 0)"));
  CHECK(text.find(R"(mi_reconnects_total{exchange="binance"})") == std::string::npos);
  CHECK(text.find(R"(reason="malformed")") == std::string::npos); // never happened: no series
  CHECK(&m.connection("okx") == &okx);                            // one probe per exchange
}

TEST_CASE("metrics probes: a label value outside its set is counted as other and creates no series of its own") {
  mi::gw::metrics m;
  m.connection("nasdaq").reconnect(); // not in the venue registry
  m.connection("BINANCE").reconnect();
  m.publish("market").trade_published();
  m.kline_trades("zz").late_trade();
  m.kline().kline_final("7m"); // not in the interval table
  m.kline().kline_final("1m");
  m.push().bad_request("no_such_code");
  m.push().rejected(mi::gw::parse_push_rejection("made_up"));
  m.publish_streams({"MARKET_RAW"});
  m.publisher().publish_failed("MARKET_ELSEWHERE");
  auto& api = m.api({"/api/v1/klines", "/api/v1/health"}, {"bad_signature"});
  api.request("/etc/passwd", 200, 0.001);
  api.request("/api/v1/klines", 418, 0.001);
  api.auth_rejected("guessed");
  auto text = m.scrape();
  CHECK(has(text, R"(mi_reconnects_total{exchange="other"} 2)"));
  CHECK(has(text, R"(mi_trades_published_total{exchange="other"} 1)"));
  CHECK(has(text, R"(mi_late_trades_total{exchange="other"} 1)"));
  CHECK(has(text, R"(mi_klines_final_total{interval="other"} 1)"));
  CHECK(has(text, R"(mi_klines_final_total{interval="1m"} 1)"));
  CHECK(has(text, R"(mi_push_bad_requests_total{code="other"} 1)"));
  CHECK(has(text, R"(mi_push_rejections_total{reason="other"} 1)"));
  CHECK(has(text, R"(mi_publish_failures_total{stream="other"} 1)"));
  CHECK(has(text, R"(mi_api_requests_total{route="other",status="200"} 1)"));
  CHECK(has(text, R"(mi_api_requests_total{route="/api/v1/klines",status="other"} 1)"));
  CHECK(has(text, R"(mi_api_auth_rejections_total{reason="other"} 1)"));
  // As label values (quoted): a bare "418" could be digits of mi_process_start_time_seconds.
  for (const char* v : {"nasdaq", "BINANCE", "market", "zz", "7m", "no_such_code", "made_up", "MARKET_ELSEWHERE",
                        "/etc/passwd", "418", "guessed"})
    CHECK_MESSAGE(text.find("\"" + std::string(v) + "\"") == std::string::npos, v);
}

TEST_CASE("metrics probes: every push_error code and every push limit reason has a series of its own") {
  mi::gw::metrics m;
  for (auto code : {mi::gw::push_error::bad_json, mi::gw::push_error::bad_op, mi::gw::push_error::bad_channel,
                    mi::gw::push_error::too_many_channels, mi::gw::push_error::message_too_large})
    m.push().bad_request(code);
  for (const char* reason : {"max_connections", "rate_limit", "message_too_large", "api_key_revoked", "trade_feeds"}) {
    CHECK(mi::gw::to_string(mi::gw::parse_push_rejection(reason)) == reason);
    m.push().rejected(mi::gw::parse_push_rejection(reason));
  }
  auto text = m.scrape();
  for (const char* code : {"bad_json", "bad_op", "bad_channel", "too_many_channels", "message_too_large"})
    CHECK(has(text, std::string("mi_push_bad_requests_total{code=\"") + code + "\"} 1"));
  CHECK(text.find(R"(code="other")") == std::string::npos);
  CHECK(text.find(R"(reason="other")") == std::string::npos);
}

TEST_CASE("metrics probes: a malformed frame counts under its parser code, an unclassified one under malformed") {
  mi::gw::metrics m;
  auto& kraken = m.connection("kraken");
  kraken.frame_malformed(mi::errc::bad_timestamp);
  kraken.frame_malformed(mi::errc::bad_timestamp);
  kraken.frame_malformed(mi::errc::malformed_json);
  kraken.frame_malformed(mi::errc::unsupported_message);
  kraken.frame_malformed(mi::errc::unspecified); // not a parser code: the old reason
  kraken.frame_malformed(mi::errc::timeout);
  auto text = m.scrape();
  CHECK(has(text, R"(mi_frames_rejected_total{exchange="kraken",reason="bad_timestamp"} 2)"));
  CHECK(has(text, R"(mi_frames_rejected_total{exchange="kraken",reason="malformed_json"} 1)"));
  CHECK(has(text, R"(mi_frames_rejected_total{exchange="kraken",reason="unsupported_message"} 1)"));
  CHECK(has(text, R"(mi_frames_rejected_total{exchange="kraken",reason="malformed"} 2)"));
  CHECK(text.find(R"(reason="timeout")") == std::string::npos);
  CHECK(text.find(R"(reason="bad_number")") == std::string::npos); // no event, no series
}

TEST_CASE("metrics probes: a sample of events scrapes to the same text as before the probes") {
  mi::gw::metrics m;
  m.publish_streams({"MARKET_RAW", "MARKET_KLINE", "MARKET_GAP", "MARKET_DLQ", "MARKET_REJECTED"});
  m.connection("binance").trade_received(3);
  m.connection("binance").frame_rejected(mi::gw::frame_reject::malformed);
  m.connection("kraken").watchdog(mi::gw::watchdog_action::reconnect);
  m.connection("kraken").gap_unfilled(7);
  m.connection("bybit").symbol_status("BTCUSDT", true);
  m.publish("coinbase").trade_published();
  m.publisher().publish_failed("MARKET_GAP");
  m.publisher().publish_retried();
  m.kline().kline_final("1m");
  m.kline().symbol_windows(4);
  m.kline_trades("okx").trade_skipped(mi::reject_reason::unrepresentable);
  m.kline_trades("kraken").outside_session(1); // mi::kline_engine::outside::closed
  m.kline_trades("kraken").outside_session(2); // no_calendar
  m.kline_trades("kraken").outside_session(2);
  auto& saver = m.saver(mi::gw::store_table::klines, "saver_klines");
  saver.rows_written(10);
  saver.dead_letter();
  saver.consumer_lag(12);
  saver.acks_held(3);
  CHECK(&m.saver(mi::gw::store_table::klines, "saver_klines") == &saver);
  m.storage().partition_default_rows(mi::gw::store_table::trades, 2);
  m.push().clients(3);
  m.push().bad_request(mi::gw::push_error::bad_op);
  m.push().rejected(mi::gw::push_rejection::rate_limit);
  m.supervisor("ingest").restarted();
  auto& api = m.api({"/api/v1/klines", "/api/v1/health"}, {"bad_signature", "unusable_key"});
  api.request("/api/v1/health", 503, 0.25);
  api.auth_rejected("unusable_key");
  api.busy();
  api.database_up(true);
  // Written by hand from README.md's list and the old metrics class: the series the events above made.
  // prometheus-cpp lists counters, then gauges, then histograms, each kind in registration order (the
  // order of the old class), series in label order, a histogram's `le` last; mi_publish_in_flight comes last.
  const std::string expected = R"(mi_trades_received_total{exchange="binance"} 3
mi_frames_rejected_total{exchange="binance",reason="malformed"} 1
mi_gaps_unfilled_total{exchange="kraken"} 1
mi_gap_missing_trades_total{exchange="kraken"} 7
mi_watchdog_actions_total{action="reconnect",exchange="kraken"} 1
mi_trades_published_total{exchange="coinbase"} 1
mi_publish_failures_total{stream="MARKET_GAP"} 1
mi_publish_retries_total 1
mi_kline_finals_superseded_total 0
mi_kline_reader_switches_total{to="stream"} 0
mi_kline_reader_switches_total{to="local"} 0
mi_klines_final_total{interval="1m"} 1
mi_kline_trades_skipped_total{exchange="okx",reason="unrepresentable"} 1
mi_kline_trades_outside_session_total{exchange="kraken",reason="no_calendar"} 2
mi_kline_trades_outside_session_total{exchange="kraken",reason="closed"} 1
mi_rows_written_total{table="market_klines"} 10
mi_dead_letters_total{kind="klines"} 1
mi_push_dropped_messages_total 0
mi_push_bad_requests_total{code="bad_op"} 1
mi_push_sessions_failed_total 0
mi_actor_restarts_total{supervisor="ingest"} 1
mi_push_rejections_total{reason="rate_limit"} 1
mi_api_requests_total{route="/api/v1/health",status="503"} 1
mi_api_auth_rejections_total{reason="unusable_key"} 1
mi_api_key_lookups_total 0
mi_api_connections_refused_total 0
mi_api_busy_total 1
mi_symbol_up{exchange="bybit",symbol="BTCUSDT"} 1
mi_symbol_windows 4
mi_consumer_lag{consumer="saver_klines"} 12
mi_saver_acks_held{consumer="saver_klines"} 3
mi_partition_default_rows{table="market_trades"} 2
mi_audit_last_run_timestamp_seconds 0
mi_push_clients 3
mi_push_trade_feeds 0
mi_api_connections 0
mi_api_database_up 1
mi_kline_final_latency_seconds_count 0
mi_kline_final_latency_seconds_sum 0
mi_kline_final_latency_seconds_bucket{le="0.001"} 0
mi_kline_final_latency_seconds_bucket{le="0.002"} 0
mi_kline_final_latency_seconds_bucket{le="0.005"} 0
mi_kline_final_latency_seconds_bucket{le="0.01"} 0
mi_kline_final_latency_seconds_bucket{le="0.02"} 0
mi_kline_final_latency_seconds_bucket{le="0.05"} 0
mi_kline_final_latency_seconds_bucket{le="0.1"} 0
mi_kline_final_latency_seconds_bucket{le="0.25"} 0
mi_kline_final_latency_seconds_bucket{le="0.5"} 0
mi_kline_final_latency_seconds_bucket{le="1"} 0
mi_kline_final_latency_seconds_bucket{le="2.5"} 0
mi_kline_final_latency_seconds_bucket{le="+Inf"} 0
mi_api_request_duration_seconds_count{route="/api/v1/health"} 1
mi_api_request_duration_seconds_sum{route="/api/v1/health"} 0.25
mi_api_request_duration_seconds_bucket{route="/api/v1/health",le="0.0005"} 0
mi_api_request_duration_seconds_bucket{route="/api/v1/health",le="0.001"} 0
mi_api_request_duration_seconds_bucket{route="/api/v1/health",le="0.002"} 0
mi_api_request_duration_seconds_bucket{route="/api/v1/health",le="0.005"} 0
mi_api_request_duration_seconds_bucket{route="/api/v1/health",le="0.01"} 0
mi_api_request_duration_seconds_bucket{route="/api/v1/health",le="0.02"} 0
mi_api_request_duration_seconds_bucket{route="/api/v1/health",le="0.05"} 0
mi_api_request_duration_seconds_bucket{route="/api/v1/health",le="0.1"} 0
mi_api_request_duration_seconds_bucket{route="/api/v1/health",le="0.2"} 0
mi_api_request_duration_seconds_bucket{route="/api/v1/health",le="0.5"} 1
mi_api_request_duration_seconds_bucket{route="/api/v1/health",le="1"} 1
mi_api_request_duration_seconds_bucket{route="/api/v1/health",le="2"} 1
mi_api_request_duration_seconds_bucket{route="/api/v1/health",le="5"} 1
mi_api_request_duration_seconds_bucket{route="/api/v1/health",le="+Inf"} 1
mi_publish_in_flight 0
)";
  CHECK(samples(m.scrape()) == expected);
}
