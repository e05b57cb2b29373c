#include "actors/console_sections.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

using namespace mi::actors;

namespace {
const char* exposition = R"(# HELP mi_reconnects_total Reconnects
# TYPE mi_reconnects_total counter
mi_reconnects_total{exchange="binance"} 3
mi_reconnects_total{exchange="okx"} 0
mi_gaps_detected_total{exchange="binance"} 2
mi_symbol_up{exchange="binance",symbol="BTCUSDT"} 1
mi_symbol_up{exchange="binance",symbol="NOPEUSDT"} 0
mi_consumer_lag{consumer="saver_trades"} 42
mi_batch_duration_seconds_bucket{table="market_trades",le="0.001"} 0
mi_batch_duration_seconds_bucket{table="market_trades",le="0.01"} 50
mi_batch_duration_seconds_bucket{table="market_trades",le="0.1"} 100
mi_batch_duration_seconds_bucket{table="market_trades",le="+Inf"} 100
mi_batch_duration_seconds_sum{table="market_trades"} 0.8
mi_batch_duration_seconds_count{table="market_trades"} 100
mi_push_clients 4
mi_odd{note="a \"quoted\" value"} 1.5
broken{line 7
)";
} // namespace

TEST_CASE("console sections: the Prometheus text is read back sample by sample, escapes and +Inf included") {
  auto m = parse_exposition(exposition);
  REQUIRE(m.size() == 14);
  CHECK(m[0].name == "mi_reconnects_total");
  CHECK(m[0].labels.at("exchange") == "binance");
  CHECK(m[0].value == 3);
  CHECK(m[12].name == "mi_push_clients");
  CHECK(m[12].labels.empty());
  CHECK(m[13].labels.at("note") == "a \"quoted\" value");
  CHECK(m[11].value == 100);
}

TEST_CASE("console sections: connections per exchange with the connection's state, message age and counters") {
  actor_info conn;
  conn.id = 12;
  conn.kind = "connection";
  conn.name = "connection.binance.1";
  conn.state = "connected";
  conn.last_ms = 9'000;
  actor_info saver;
  saver.kind = "batch_saver";
  saver.name = "saver_trades";
  auto out = boost::json::parse(
    connections_json({conn, saver}, parse_exposition(exposition), {{"binance", "ETHUSDT", 5'000}}, 10'000));
  const auto& ex = out.at("exchanges").as_array();
  REQUIRE(ex.size() == 2); // binance (actor + counters) and okx (counters only)
  const auto& b = ex[0].as_object();
  CHECK(b.at("exchange").as_string() == "binance");
  CHECK(b.at("reconnects").as_int64() == 3);
  CHECK(b.at("gaps_detected").as_int64() == 2);
  CHECK(b.at("gaps_unfillable").as_int64() == 0);
  REQUIRE(b.at("connections").as_array().size() == 1);
  const auto& c = b.at("connections").as_array()[0].as_object();
  CHECK(c.at("state").as_string() == "connected");
  CHECK(c.at("last_message_age_ms").as_int64() == 1'000);
  CHECK(b.at("symbols").as_array().size() == 2);
  CHECK(b.at("symbols").as_array()[1].at("up").as_bool() == false);
  CHECK(b.at("paused").as_array()[0].at("symbol").as_string() == "ETHUSDT");
  CHECK(ex[1].at("exchange").as_string() == "okx");
  CHECK(ex[1].at("connections").as_array().empty());
}

TEST_CASE("console sections: database batch latency from the histogram as histogram_quantile computes it") {
  auto out =
    boost::json::parse(database_json({}, parse_exposition(exposition), R"([{"name":"market_trades_p20261202"}])"));
  const auto& t = out.at("tables").as_array()[0].as_object();
  CHECK(t.at("batches").as_int64() == 100);
  CHECK(t.at("batch_mean_ms").as_double() == doctest::Approx(8.0));
  // rank 50 is the 0.01 bucket's top; rank 99 lies 49/50 into (0.01, 0.1]: 0.0982 s.
  CHECK(t.at("batch_p50_ms").as_double() == doctest::Approx(10.0));
  CHECK(t.at("batch_p99_ms").as_double() == doctest::Approx(98.2));
  CHECK(out.at("partitions").as_array().size() == 1);
  CHECK(histogram_quantile(0.5, {}) == 0);
}

TEST_CASE("console sections: jetstream and push sections carry the streams, consumer lag and push clients") {
  auto m = parse_exposition(exposition);
  auto js = boost::json::parse(
    jetstream_json({{"MARKET_RAW", 10, 2048, 1, 10, ""}}, {{"MARKET_RAW", "saver_trades", 40, 2, 1}}, m));
  CHECK(js.at("streams").as_array()[0].at("messages").as_int64() == 10);
  const auto& c = js.at("consumers").as_array()[0];
  CHECK(c.at("name").as_string() == "saver_trades");
  CHECK(c.at("lag").as_int64() == 42);
  CHECK(c.at("redelivered").as_int64() == 1);
  auto push = boost::json::parse(push_json(m, R"([{"id":1,"dropped":5}])"));
  CHECK(push.at("clients").as_int64() == 4);
  CHECK(push.at("slowest").as_array().size() == 1);
  CHECK(boost::json::parse(push_json(m, "not json")).at("slowest").as_array().empty());
}
