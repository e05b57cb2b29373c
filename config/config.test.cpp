#include "config/config.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <unistd.h>

#include "messages/venue_registry.hpp"

using namespace std::chrono_literals;
using mi::cfg::config;
using mi::cfg::config_error;
using env_map = std::map<std::string, std::string>;

namespace {

std::vector<config_error> errors_of(std::string_view yaml, const env_map& env = {}) {
  auto r = mi::cfg::load(yaml, env);
  if (auto* c = std::get_if<config>(&r)) {
    (void)c;
    return {};
  }
  return std::get<std::vector<config_error>>(r);
}

config loaded(std::string_view yaml, const env_map& env = {}) {
  auto r = mi::cfg::load(yaml, env);
  if (auto* errs = std::get_if<std::vector<config_error>>(&r)) {
    FAIL("unexpected errors:\n" << mi::cfg::format_errors(*errs));
  }
  return std::get<config>(r);
}

/// The error for `key`, or nullptr.
const config_error* find(const std::vector<config_error>& errs, std::string_view key) {
  auto it = std::find_if(errs.begin(), errs.end(), [&](const auto& e) { return e.key == key; });
  return it == errs.end() ? nullptr : &*it;
}

bool mentions(const config_error* e, std::string_view text) {
  return e != nullptr && e->message.find(text) != std::string::npos;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

TEST_CASE("defaults are valid and point at the real exchanges") {
  auto c = mi::cfg::defaults();
  CHECK(mi::cfg::validate(c).empty());
  CHECK(c.nats.url == "nats://127.0.0.1:4222");
  CHECK(c.nats.raw.name == "MARKET_RAW");
  CHECK(c.nats.raw.max_age == std::chrono::days(7));
  CHECK(c.nats.kline.subjects == "market.kline.>");
  CHECK(c.nats.kline.max_age == std::chrono::days(30));
  REQUIRE(c.exchanges.size() == mi::venues().size()); // every venue of the registry, with its endpoints
  CHECK(c.exchanges.at("binance").enabled);
  CHECK(c.exchanges.at("binance").ws_url == "wss://stream.binance.com:9443/stream");
  CHECK(c.exchanges.at("binance").rest_url == "https://api.binance.com");
  CHECK(c.exchanges.at("binance").symbols == std::vector<std::string>{"BTC/USDT", "ETH/USDT"});
  for (auto name : {"okx", "bybit", "coinbase", "kraken"}) {
    CAPTURE(name);
    CHECK_FALSE(c.exchanges.at(name).enabled);
    CHECK(c.exchanges.at(name).ws_url.rfind("wss://", 0) == 0);
    CHECK(c.exchanges.at(name).rest_url.rfind("https://", 0) == 0);
  }
  CHECK(c.klines.intervals == std::vector<std::string>{"1m"});
}

TEST_CASE("empty YAML and no environment give the defaults") {
  CHECK(loaded("") == mi::cfg::defaults());
  CHECK(loaded("# only a comment\n") == mi::cfg::defaults());
  CHECK(loaded("nats:\n") == mi::cfg::defaults()); // a section with nothing under it
}

TEST_CASE("a full YAML file sets every section") {
  auto c = loaded(R"(
nats:
  url: "nats://10.0.0.1:4222,nats://10.0.0.2:4222"
  streams:
    raw: {name: RAW_TEST, storage: memory, max_age: 1h, max_bytes: 1073741824,
          replicas: 3, duplicate_window: 30s}
    kline: {name: KLINE_TEST, max_age: 0s}
  max_in_flight: 100
  ack_timeout: 2500ms
  connect_timeout: 1s
  kv_replicas: 3
postgres:
  dsn: "postgresql://ingest@db/market"
exchanges:
  binance:
    stream: aggTrade
    symbols: [BTC/USDT, SOL/USDT]
    reconnect: {initial: 500ms, max: 2m, healthy_after: 1m}
    rotate_after: 12h
  okx:
    enabled: true
    ws_url: "ws://127.0.0.1:9000/ws"
    symbols: [BTC/USDT]
    read_timeout: 30s
klines:
  intervals: [1s, 1m, 1h, 1d, 1M]
  grace: 0s
  partial_interval: 250ms
saver: {batch_size: 5000, batch_timeout: 200ms}
push: {listen: "0.0.0.0:18080", queue_size: 1024}
metrics: {listen: "[::1]:9100"}
runtime: {scheduler_threads: 8, log_level: debug}
)");
  CHECK(c.nats.url == "nats://10.0.0.1:4222,nats://10.0.0.2:4222");
  CHECK(c.nats.raw.name == "RAW_TEST");
  CHECK(c.nats.raw.subjects == "market.raw.>"); // the contract, whatever the name
  CHECK(c.nats.raw.storage == mi::cfg::stream_storage::memory);
  CHECK(c.nats.raw.max_age == 1h);
  CHECK(c.nats.raw.max_bytes == 1073741824);
  CHECK(c.nats.raw.replicas == 3);
  CHECK(c.nats.raw.duplicate_window == 30s);
  CHECK(c.nats.kline.name == "KLINE_TEST");
  CHECK(c.nats.kline.subjects == "market.kline.>"); // not given: default kept
  CHECK(c.nats.kline.max_age == 0s);
  CHECK(c.nats.max_in_flight == 100);
  CHECK(c.nats.ack_timeout == 2500ms);
  CHECK(c.nats.connect_timeout == 1s);
  CHECK(c.nats.kv_replicas == 3);
  CHECK(c.postgres.dsn == "postgresql://ingest@db/market");
  const auto& b = c.exchanges.at("binance");
  CHECK(b.enabled);
  CHECK(b.stream == "aggTrade");
  CHECK(b.symbols == std::vector<std::string>{"BTC/USDT", "SOL/USDT"});
  CHECK(b.reconnect.initial == 500ms);
  CHECK(b.reconnect.max == 2min);
  CHECK(b.reconnect.healthy_after == 1min);
  CHECK(b.rotate_after == 12h);
  CHECK(b.ws_url == "wss://stream.binance.com:9443/stream");
  const auto& o = c.exchanges.at("okx");
  CHECK(o.enabled);
  CHECK(o.ws_url == "ws://127.0.0.1:9000/ws");
  CHECK(o.rest_url == "https://www.okx.com");
  CHECK(o.read_timeout == 30s);
  CHECK(c.exchanges.at("kraken") == mi::cfg::defaults().exchanges.at("kraken"));
  CHECK(c.klines.intervals == std::vector<std::string>{"1s", "1m", "1h", "1d", "1M"});
  CHECK(c.klines.grace == 0s);
  CHECK(c.klines.partial_interval == 250ms);
  CHECK(c.saver.batch_size == 5000);
  CHECK(c.saver.batch_timeout == 200ms);
  CHECK(c.push.listen == "0.0.0.0:18080");
  CHECK(c.push.queue_size == 1024);
  CHECK(c.metrics.listen == "[::1]:9100");
  CHECK(c.runtime.scheduler_threads == 8);
  CHECK(c.runtime.log_level == mi::cfg::log_severity::debug);
}

TEST_CASE("unknown keys are rejected at every depth, with the dotted key") {
  auto errs = errors_of(R"(
natz: {url: "nats://x:4222"}
nats:
  streams:
    raw:
      max_agee: 1d
    other: {}
exchanges:
  binance:
    reconnect:
      maximum: 10s
  ftx:
    enabled: true
klines:
  interval: [1m]
)");
  CHECK(errs.size() == 6);
  CHECK(find(errs, "natz"));
  CHECK(mentions(find(errs, "nats.streams.raw.max_agee"), "did you mean 'max_age'"));
  CHECK(mentions(find(errs, "nats.streams.other"), "unknown key"));
  CHECK(find(errs, "exchanges.binance.reconnect.maximum"));
  CHECK(mentions(find(errs, "exchanges.ftx"), "unknown exchange 'ftx'"));
  CHECK(mentions(find(errs, "exchanges.ftx"), "(known: binance, okx, bybit, coinbase, kraken"));
  CHECK(mentions(find(errs, "klines.interval"), "did you mean 'intervals'"));
  CHECK(mentions(find(errs, "natz"), "line 2"));
}

TEST_CASE("stream subjects are the public contract: a subjects key is refused with the reason") {
  auto errs = errors_of("nats:\n  streams:\n    raw: {subjects: \"test.raw.>\"}\n");
  CHECK(errs.size() == 1);
  CHECK(mentions(find(errs, "nats.streams.raw.subjects"), "public contract"));
  CHECK(mi::cfg::defaults().nats.raw.subjects == "market.raw.>");
  CHECK(mi::cfg::defaults().nats.kline.subjects == "market.kline.>");
}

TEST_CASE("several errors at once are all listed") {
  auto errs = errors_of(R"(
nats:
  max_in_flight: 0
saver:
  batch_size: 100001
  batch_timeout: 0s
push:
  listen: "localhost"
  queue_size: -5
runtime:
  scheduler_threads: 65
  log_level: verbose
)",
                        {{"MI_NATS_URL", "http://127.0.0.1:4222"}});
  CHECK(errs.size() == 8);
  CHECK(mentions(find(errs, "nats.max_in_flight"), "got 0"));
  CHECK(mentions(find(errs, "saver.batch_size"), "100001"));
  CHECK(mentions(find(errs, "saver.batch_timeout"), "greater than 0"));
  CHECK(mentions(find(errs, "push.listen"), "'localhost'"));
  CHECK(mentions(find(errs, "push.queue_size"), "-5"));
  CHECK(mentions(find(errs, "runtime.scheduler_threads"), "65"));
  CHECK(mentions(find(errs, "runtime.log_level"), "'verbose'"));
  CHECK(mentions(find(errs, "nats.url"), "'http://127.0.0.1:4222'"));

  auto text = mi::cfg::format_errors(errs);
  CHECK(text.find("config error: saver.batch_size: ") != std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 8);
}

TEST_CASE("parse_duration accepts ms, s, m, h, d and nothing else") {
  CHECK(*mi::cfg::parse_duration("500ms") == 500ms);
  CHECK(*mi::cfg::parse_duration("2s") == 2s);
  CHECK(*mi::cfg::parse_duration("1m") == 1min);
  CHECK(*mi::cfg::parse_duration("1h") == 1h);
  CHECK(*mi::cfg::parse_duration("7d") == std::chrono::days(7));
  CHECK(*mi::cfg::parse_duration("0s") == 0s);
  for (auto bad : {"", "5", "s", "1.5s", "-1s", "2 s", "1M", "3w", "10sec", "99999999999999999999d"}) {
    CAPTURE(bad);
    CHECK_FALSE(mi::cfg::parse_duration(bad).has_value());
  }
  CHECK(mi::cfg::parse_duration("5").err().message.find("missing unit") != std::string::npos);
  for (mi::cfg::duration d : {0ms, 1500ms, 2000ms, 90000ms, 120000ms, 82800000ms, 2592000000ms}) {
    CHECK(*mi::cfg::parse_duration(mi::cfg::format_duration(d)) == d);
  }
  CHECK(mi::cfg::format_duration(std::chrono::days(7)) == "7d");
  CHECK(mi::cfg::format_duration(1500ms) == "1500ms");
}

TEST_CASE("a bad duration in YAML names the key, the value and the line") {
  auto errs = errors_of("klines:\n  grace: 2 seconds\n  partial_interval: 5\n");
  REQUIRE(errs.size() == 2);
  CHECK(mentions(find(errs, "klines.grace"), "'2 seconds'"));
  CHECK(mentions(find(errs, "klines.grace"), "line 2"));
  CHECK(mentions(find(errs, "klines.partial_interval"), "missing unit"));
}

TEST_CASE("bad, duplicate and empty kline intervals are rejected") {
  auto errs = errors_of("klines:\n  intervals: [1m, 2m, 1m, 1w]\n");
  REQUIRE(errs.size() == 2);
  CHECK(mentions(&errs[0], "unknown interval '2m'"));
  CHECK(mentions(&errs[0], "(known: 1s, 1m, 3m, 5m, "));
  CHECK(mentions(&errs[1], "duplicate interval '1m'"));
  CHECK(errs[0].key == "klines.intervals");

  auto empty = errors_of("klines:\n  intervals: []\n");
  REQUIRE(empty.size() == 1);
  CHECK(mentions(find(empty, "klines.intervals"), "must not be empty"));
}

TEST_CASE("environment overrides strings, integers, lists and nested exchange keys") {
  auto c =
    loaded("nats:\n  url: nats://from-file:4222\n", {{"MI_NATS_URL", "nats://from-env:4222"},
                                                     {"MI_POSTGRES_DSN", "host=db user=ingest"},
                                                     {"MI_SAVER_BATCH_SIZE", "5000"},
                                                     {"MI_KLINES_INTERVALS", "1m, 5m,1h"},
                                                     {"MI_KLINES_GRACE", "5s"},
                                                     {"MI_EXCHANGES_BINANCE_WS_URL", "ws://127.0.0.1:9443/stream"},
                                                     {"MI_EXCHANGES_BINANCE_RECONNECT_HEALTHY_AFTER", "10s"},
                                                     {"MI_EXCHANGES_OKX_ENABLED", "true"},
                                                     {"MI_EXCHANGES_OKX_SYMBOLS", "BTC/USDT"},
                                                     {"MI_NATS_STREAMS_RAW_MAX_AGE", "1d"},
                                                     {"PATH", "/usr/bin"}, // not MI_: ignored
                                                     {"MIX_FOO", "1"}});
  CHECK(c.nats.url == "nats://from-env:4222"); // env wins over the file
  CHECK(c.postgres.dsn == "host=db user=ingest");
  CHECK(c.saver.batch_size == 5000);
  CHECK(c.klines.intervals == std::vector<std::string>{"1m", "5m", "1h"});
  CHECK(c.klines.grace == 5s);
  CHECK(c.exchanges.at("binance").ws_url == "ws://127.0.0.1:9443/stream");
  CHECK(c.exchanges.at("binance").reconnect.healthy_after == 10s);
  CHECK(c.exchanges.at("okx").enabled);
  CHECK(c.exchanges.at("okx").symbols == std::vector<std::string>{"BTC/USDT"});
  CHECK(c.nats.raw.max_age == std::chrono::days(1));
}

TEST_CASE("unknown MI_ variables and bad environment values are errors") {
  auto errs = errors_of("", {{"MI_NATS_URLS", "nats://x:4222"},
                             {"MI_EXCHANGES_FTX_ENABLED", "true"},
                             {"MI_SAVER_BATCH_SIZE", "lots"},
                             {"MI_KLINES_GRACE", "2"}});
  REQUIRE(errs.size() == 4);
  CHECK(mentions(find(errs, "MI_NATS_URLS"), "did you mean 'MI_NATS_URL'"));
  CHECK(mentions(find(errs, "MI_EXCHANGES_FTX_ENABLED"), "unknown environment variable"));
  CHECK(mentions(find(errs, "saver.batch_size"), "'lots'"));
  CHECK(mentions(find(errs, "saver.batch_size"), "MI_SAVER_BATCH_SIZE"));
  CHECK(mentions(find(errs, "klines.grace"), "missing unit"));
}

TEST_CASE("every key has its own environment variable") {
  auto keys = mi::cfg::known_keys();
  std::set<std::string> names;
  for (const auto& k : keys)
    names.insert(mi::cfg::env_name(k));
  CHECK(names.size() == keys.size());
  CHECK(mi::cfg::env_name("exchanges.binance.ws_url") == "MI_EXCHANGES_BINANCE_WS_URL");
  CHECK(std::count(keys.begin(), keys.end(), "exchanges.kraken.reconnect.healthy_after") == 1);
}

TEST_CASE("a wrong YAML type is rejected with what was expected") {
  auto errs = errors_of(R"(
nats:
  url: {host: x}
  max_in_flight: [1, 2]
exchanges:
  binance:
    enabled: maybe
    symbols: BTC/USDT
    reconnect: 5s
klines:
  intervals: [1m, {x: 1}]
saver: 12
)");
  REQUIRE(errs.size() == 7);
  CHECK(mentions(find(errs, "nats.url"), "expected a string, got a mapping"));
  CHECK(mentions(find(errs, "nats.max_in_flight"), "expected an integer, got a list"));
  CHECK(mentions(find(errs, "exchanges.binance.enabled"), "'maybe'"));
  CHECK(mentions(find(errs, "exchanges.binance.symbols"), "expected a list"));
  CHECK(mentions(find(errs, "exchanges.binance.reconnect"), "expected a mapping, got the scalar '5s'"));
  CHECK(mentions(find(errs, "klines.intervals[1]"), "expected a string, got a mapping"));
  CHECK(mentions(find(errs, "saver"), "expected a mapping"));

  auto top = errors_of("- a\n- b\n");
  REQUIRE(top.size() == 1);
  CHECK(top[0].key == "");
}

TEST_CASE("malformed YAML gives one error with the parser's message and line") {
  auto errs = errors_of("nats:\n  url: nats://x:4222\nsaver: [1, 2\nklines: {}\n");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].key == "");
  CHECK(mentions(&errs[0], "YAML syntax error at line 4, column 7: end of sequence flow not found"));

  auto bad_indent = errors_of("nats:\n  url: nats://x:4222\n   max_in_flight: 5\n");
  REQUIRE(bad_indent.size() == 1);
  CHECK(mentions(&bad_indent[0], "line 3"));
  CHECK(mi::cfg::format_errors(bad_indent).rfind("config error: YAML syntax error", 0) == 0);
}

TEST_CASE("duplicate keys are rejected") {
  auto errs = errors_of("saver:\n  batch_size: 10\n  batch_size: 20\n");
  REQUIRE(errs.size() == 1);
  CHECK(mentions(find(errs, "saver.batch_size"), "duplicate key"));
}

TEST_CASE("validation checks urls, symbols, streams, listen addresses and timeouts") {
  auto c = mi::cfg::defaults();
  c.nats.raw.name = "market.raw";
  c.nats.raw.replicas = 0;
  c.nats.kv_replicas = 7;
  c.nats.kline.duplicate_window = std::chrono::days(40); // > max_age 30d
  auto& b = c.exchanges["binance"];
  b.ws_url = "https://stream.binance.com";
  b.symbols = {"BTCUSDT", "ETH/USDT", "eth/usdt"};
  b.reconnect.max = 100ms; // < initial 1s
  c.exchanges["okx"].enabled = true;
  c.exchanges["okx"].symbols.clear();
  c.exchanges["okx"].stream = "aggTrade";
  c.exchanges["bybit"].rest_url = "ftp://api.bybit.com";
  c.exchanges["kraken"].backfill_max_trades = -1;
  c.exchanges["kraken"].silence_timeout = 0ms;
  c.nats.gap.name = "MARKET_KLINE";
  c.exchanges["ftx"] = c.exchanges["okx"];
  c.metrics.listen = "127.0.0.1:70000";
  c.push.listen = "127.0.0.1:";

  auto errs = mi::cfg::validate(c);
  CAPTURE(mi::cfg::format_errors(errs));
  CHECK(mentions(find(errs, "nats.streams.raw.name"), "'market.raw'"));
  CHECK(mentions(find(errs, "nats.streams.raw.replicas"), "1..5"));
  CHECK(mentions(find(errs, "nats.kv_replicas"), "1..5"));
  CHECK(mentions(find(errs, "nats.streams.kline.duplicate_window"), "max_age"));
  CHECK(mentions(find(errs, "exchanges.binance.ws_url"), "ws:// or wss://"));
  CHECK(mentions(find(errs, "exchanges.binance.symbols"), "'BTCUSDT'"));
  CHECK(std::count_if(errs.begin(), errs.end(), [](auto& e) { return e.key == "exchanges.binance.symbols"; }) == 2);
  CHECK(mentions(find(errs, "exchanges.binance.reconnect.max"), "100ms"));
  CHECK(find(errs, "exchanges.okx.symbols"));
  CHECK(mentions(find(errs, "exchanges.okx.stream"), "binance"));
  CHECK(mentions(find(errs, "exchanges.bybit.rest_url"), "'ftp://api.bybit.com'"));
  CHECK(mentions(find(errs, "exchanges.ftx"), "unknown exchange"));
  CHECK(mentions(find(errs, "metrics.listen"), "'127.0.0.1:70000'"));
  CHECK(find(errs, "push.listen"));
  CHECK(mentions(find(errs, "exchanges.kraken.backfill_max_trades"), "-1"));
  CHECK(find(errs, "exchanges.kraken.silence_timeout"));
  CHECK(mentions(find(errs, "nats.streams.gap.name"), "'MARKET_KLINE'"));
  CHECK(errs.size() == 17);
}

TEST_CASE("closed sets are read once at load: names become enums, an unknown name is an error naming the key") {
  auto d = mi::cfg::defaults();
  CHECK(d.klines.late_policy == mi::cfg::late_mode::revise);
  CHECK(d.klines.empty_windows == mi::cfg::empty_window_mode::skip);
  CHECK(d.nats.raw.storage == mi::cfg::stream_storage::file);
  auto c = loaded("klines: {late_policy: drop, empty_windows: fill}\nnats: {streams: {kline: {storage: memory}}}\n",
                  {{"MI_API_AUTH", "off"}, {"MI_SAVER_SYNCHRONOUS_COMMIT", "off"}});
  CHECK(c.klines.late_policy == mi::cfg::late_mode::drop);
  CHECK(c.klines.empty_windows == mi::cfg::empty_window_mode::fill);
  CHECK(c.nats.kline.storage == mi::cfg::stream_storage::memory);
  CHECK(c.nats.raw.storage == mi::cfg::stream_storage::file);
  CHECK(c.api.auth == mi::cfg::auth_mode::off);
  CHECK(c.saver.synchronous_commit == mi::cfg::commit_mode::off);

  auto errs = errors_of("klines: {late_policy: Revise, empty_windows: zero}\nnats: {streams: {raw: {storage: disk}}}\n",
                        {{"MI_RUNTIME_LOG_LEVEL", "loud"}});
  CAPTURE(mi::cfg::format_errors(errs));
  CHECK(errs.size() == 4);
  CHECK(mentions(find(errs, "klines.late_policy"), "must be one of revise, drop, got 'Revise'"));
  CHECK(mentions(find(errs, "klines.empty_windows"), "'zero'"));
  CHECK(mentions(find(errs, "nats.streams.raw.storage"), "'disk'"));
  CHECK(mentions(find(errs, "runtime.log_level"), "'loud'"));
  CHECK(mentions(find(errs, "runtime.log_level"), "MI_RUNTIME_LOG_LEVEL"));
  // A list where a name belongs says what was expected.
  auto list = errors_of("klines: {late_policy: [revise]}\n");
  CHECK(mentions(find(list, "klines.late_policy"), "expected one of revise, drop"));
  // The names come back in to_yaml and to_string.
  CHECK(mi::cfg::to_yaml(c).find("late_policy: \"drop\"") != std::string::npos);
  CHECK(mi::cfg::to_string(mi::cfg::log_severity::warn) == "warn");
}

TEST_CASE("to_yaml round-trips through load") {
  auto c = loaded("exchanges:\n  okx: {enabled: true, symbols: [\"BTC/USDT\"]}\n"
                  "klines: {intervals: [1m, 1h], partial_interval: 1500ms}\n"
                  "postgres: {dsn: \"host=db password='a: b' # x\"}\n");
  auto text = mi::cfg::to_yaml(c);
  CAPTURE(text);
  CHECK(loaded(text) == c);
  CHECK(loaded(mi::cfg::to_yaml(mi::cfg::defaults())) == mi::cfg::defaults());
}

TEST_CASE("load_file reports a missing file with an empty key") {
  auto r = mi::cfg::load_file("/nonexistent/market-ingestor.yaml");
  REQUIRE(std::holds_alternative<std::vector<config_error>>(r));
  const auto& errs = std::get<std::vector<config_error>>(r);
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].key == "");
  CHECK(mentions(&errs[0], "/nonexistent/market-ingestor.yaml"));
}

TEST_CASE("the example file loads cleanly, equals the defaults and documents every key") {
  const std::string path = std::string(MI_SOURCE_DIR) + "/config/market-ingestor.example.yaml";
  auto text = read_text(path);
  REQUIRE_FALSE(text.empty());
  CHECK(loaded(text) == mi::cfg::defaults());
  CHECK(mi::cfg::to_yaml(loaded(text)) == mi::cfg::to_yaml(mi::cfg::defaults())); // a readable diff

  auto r = mi::cfg::load_file(path);
  if (auto* errs = std::get_if<std::vector<config_error>>(&r)) {
    // Only MI_ variables of the test's own environment could fail it.
    for (const auto& e : *errs)
      CHECK_MESSAGE(e.key.rfind("MI_", 0) == 0, mi::cfg::format_errors(*errs));
  }
  // The file loads without unknown or duplicate keys, so each "key: value" line sets a distinct
  // leaf; as many such lines as the schema has leaves means every key is written out.
  std::size_t leaf_lines = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    line = line.substr(0, line.find('#'));
    auto colon = line.find(':');
    if (colon == std::string::npos || line.find_first_not_of(" \t") == colon)
      continue;
    if (line.find_first_not_of(" \t", colon + 1) != std::string::npos)
      ++leaf_lines;
  }
  CHECK(leaf_lines == mi::cfg::known_keys().size());
}

TEST_CASE("load_file applies MI_ variables from the process environment and names the file on syntax errors") {
  const std::string path =
    (std::filesystem::temp_directory_path() / ("mi_config_test_" + std::to_string(::getpid()) + ".yaml")).string();
  {
    std::ofstream out(path);
    out << "saver:\n  batch_size: 10\n";
  }
  ::setenv("MI_SAVER_BATCH_SIZE", "7", 1);
  auto r = mi::cfg::load_file(path);
  ::unsetenv("MI_SAVER_BATCH_SIZE");
  REQUIRE(std::holds_alternative<config>(r));
  CHECK(std::get<config>(r).saver.batch_size == 7);

  {
    std::ofstream out(path);
    out << "saver: {batch_size: 10\n";
  }
  auto bad = mi::cfg::load_file(path);
  std::filesystem::remove(path);
  REQUIRE(std::holds_alternative<std::vector<config_error>>(bad));
  const auto& errs = std::get<std::vector<config_error>>(bad);
  REQUIRE(errs.size() == 1);
  CHECK(mentions(&errs[0], path + ": YAML syntax error at line"));
}

TEST_CASE("api section: defaults, values from YAML and environment, every bad key listed") {
  auto d = mi::cfg::defaults();
  CHECK(d.api.listen == "127.0.0.1:8081");
  CHECK(d.api.auth == mi::cfg::auth_mode::required);
  CHECK(d.api.timestamp_window == std::chrono::seconds(5));
  CHECK(d.api.default_quota_per_minute == 1200);
  CHECK(d.api.anonymous_push);

  auto ok = mi::cfg::load("api: {listen: \"0.0.0.0:18081\", auth: \"off\", timestamp_window: 2s, "
                          "default_quota_per_minute: 60, anonymous_push: false, workers: 4}",
                          {{"MI_API_DEFAULT_QUOTA_PER_MINUTE", "90"}});
  REQUIRE(std::holds_alternative<mi::cfg::config>(ok));
  const auto& c = std::get<mi::cfg::config>(ok);
  CHECK(c.api.listen == "0.0.0.0:18081");
  CHECK(c.api.auth == mi::cfg::auth_mode::off);
  CHECK(c.api.timestamp_window == std::chrono::seconds(2));
  CHECK(c.api.default_quota_per_minute == 90);
  CHECK_FALSE(c.api.anonymous_push);
  CHECK(c.api.workers == 4);

  auto bad = mi::cfg::load("api: {listen: \"127.0.0.1:8080\", auth: maybe, timestamp_window: 0s, "
                           "default_quota_per_minute: 0, workers: 0, anonymus_push: true}",
                           {});
  REQUIRE(std::holds_alternative<std::vector<mi::cfg::config_error>>(bad));
  std::set<std::string> keys;
  for (const auto& e : std::get<std::vector<mi::cfg::config_error>>(bad))
    keys.insert(e.key);
  for (const char* k : {"api.listen", "api.auth", "api.timestamp_window", "api.default_quota_per_minute", "api.workers",
                        "api.anonymus_push"})
    CHECK_MESSAGE(keys.count(k) == 1, k);
}

TEST_CASE("api limits and master key: defaults, overrides, bad values, the key itself only from the environment") {
  auto d = mi::cfg::defaults();
  CHECK(d.api.max_connections == 512);
  CHECK(d.api.statement_timeout == std::chrono::seconds(3));
  CHECK(d.api.pool_wait == std::chrono::seconds(2));
  CHECK(d.api.master_key_file.empty());

  auto ok = mi::cfg::load("api: {max_connections: 64, statement_timeout: 500ms, pool_wait: 250ms, "
                          "master_key_file: /etc/mi/master.key}",
                          {{"MI_API_MAX_CONNECTIONS", "32"}});
  REQUIRE(std::holds_alternative<mi::cfg::config>(ok));
  const auto& c = std::get<mi::cfg::config>(ok);
  CHECK(c.api.max_connections == 32);
  CHECK(c.api.statement_timeout == std::chrono::milliseconds(500));
  CHECK(c.api.pool_wait == std::chrono::milliseconds(250));
  CHECK(c.api.master_key_file == "/etc/mi/master.key");

  // MI_API_MASTER_KEY is known (not an unknown variable), never becomes part of the config.
  const std::string secret(64, 'a');
  auto env_key = mi::cfg::load("", {{"MI_API_MASTER_KEY", secret}});
  REQUIRE(std::holds_alternative<mi::cfg::config>(env_key));
  CHECK(mi::cfg::to_yaml(std::get<mi::cfg::config>(env_key)).find(secret) == std::string::npos);

  auto both = mi::cfg::load("api: {master_key_file: /etc/mi/master.key}", {{"MI_API_MASTER_KEY", secret}});
  REQUIRE(std::holds_alternative<std::vector<mi::cfg::config_error>>(both));
  const auto& both_errs = std::get<std::vector<mi::cfg::config_error>>(both);
  REQUIRE(both_errs.size() == 1);
  CHECK(both_errs[0].key == "api.master_key_file");
  CHECK(both_errs[0].message.find(secret) == std::string::npos);

  auto bad = mi::cfg::load("api: {max_connections: 0, statement_timeout: 11m, pool_wait: 0s}", {});
  REQUIRE(std::holds_alternative<std::vector<mi::cfg::config_error>>(bad));
  std::set<std::string> keys;
  for (const auto& e : std::get<std::vector<mi::cfg::config_error>>(bad))
    keys.insert(e.key);
  CHECK(keys == std::set<std::string>{"api.max_connections", "api.statement_timeout", "api.pool_wait"});
}

TEST_CASE("storage, audit and saver fault keys: defaults, overrides and every bad value named") {
  auto d = mi::cfg::defaults();
  CHECK(d.storage.partitions_ahead_days == 7);
  CHECK(d.storage.retention_days_trades == 0);
  CHECK(d.storage.retention_months_klines == 0);
  CHECK(d.audit.interval == std::chrono::hours(1));
  CHECK(d.saver.max_attempts == 5);
  CHECK(d.saver.synchronous_commit == mi::cfg::commit_mode::on);
  CHECK(d.saver.trade_writers == 1);

  auto c = loaded("storage: {partitions_ahead_days: 3, retention_days_trades: 30, retention_months_klines: 24}\n"
                  "audit: {interval: 0s}\nsaver: {max_attempts: 2, synchronous_commit: \"off\"}\n");
  CHECK(c.storage.partitions_ahead_days == 3);
  CHECK(c.storage.retention_days_trades == 30);
  CHECK(c.storage.retention_months_klines == 24);
  CHECK(c.audit.interval.count() == 0);
  CHECK(c.saver.max_attempts == 2);
  CHECK(c.saver.synchronous_commit == mi::cfg::commit_mode::off);

  auto errs =
    errors_of("storage: {partitions_ahead_days: 400, retention_days_trades: -1, retention_months_klines: -2,"
              " maintenance_interval: 0s}\nsaver: {max_attempts: 0, synchronous_commit: maybe, trade_writers: 17}\n",
              {{"MI_AUDIT_INTERVAL", "-5m"}});
  CHECK(errs.size() == 8);
  CHECK(mentions(find(errs, "saver.trade_writers"), "17"));
  CHECK(mentions(find(errs, "storage.partitions_ahead_days"), "400"));
  CHECK(mentions(find(errs, "storage.retention_days_trades"), "-1"));
  CHECK(mentions(find(errs, "storage.retention_months_klines"), "-2"));
  CHECK(mentions(find(errs, "storage.maintenance_interval"), "greater than 0"));
  CHECK(mentions(find(errs, "saver.max_attempts"), "got 0"));
  CHECK(mentions(find(errs, "saver.synchronous_commit"), "'maybe'"));
  CHECK(mentions(find(errs, "audit.interval"), "MI_AUDIT_INTERVAL"));
}

TEST_CASE("supervision and testing keys: defaults, overrides, and a restart window too short for its backoff refused") {
  auto d = mi::cfg::defaults();
  CHECK(d.supervision.initial_backoff == std::chrono::milliseconds(200));
  CHECK(d.supervision.max_backoff == std::chrono::seconds(10));
  CHECK(d.supervision.reset_after == std::chrono::seconds(30));
  CHECK(d.supervision.max_restarts == 10);
  CHECK(d.supervision.restart_window == std::chrono::seconds(120));
  CHECK(d.testing.fault.empty());
  // 0.2 + 0.4 + 0.8 + 1.6 + 3.2 + 6.4 + 4 x 10 s
  CHECK(mi::cfg::min_restart_window(d.supervision.initial_backoff, d.supervision.max_backoff, 10) ==
        std::chrono::milliseconds(52600));
  CHECK(mi::cfg::min_restart_window(std::chrono::seconds(1), std::chrono::seconds(1), 0).count() == 0);

  auto c = loaded("supervision: {initial_backoff: 100ms, max_backoff: 1s, reset_after: 5s, max_restarts: 3,"
                  " restart_window: 10s}\ntesting: {fault: kline_stage_throws, fault_after_trades: 7}\n");
  CHECK(c.supervision.max_restarts == 3);
  CHECK(c.supervision.restart_window == std::chrono::seconds(10));
  CHECK(c.testing.fault == "kline_stage_throws");
  CHECK(c.testing.fault_after_trades == 7);

  // The old built-in limits (20 restarts in 60 s with this backoff) could never trigger.
  auto errs = errors_of("supervision: {max_restarts: 20, restart_window: 60s}\n");
  REQUIRE(errs.size() == 1);
  CHECK(mentions(find(errs, "supervision.restart_window"), "could never be reached"));
  CHECK(mentions(find(errs, "supervision.restart_window"), "152600ms"));

  errs = errors_of("supervision: {reset_after: 0s, max_restarts: -1}\ntesting: {fault: chaos, "
                   "fault_after_trades: 0}\n",
                   {{"MI_SUPERVISION_MAX_BACKOFF", "5ms"}});
  CHECK(errs.size() == 5);
  CHECK(mentions(find(errs, "supervision.reset_after"), "greater than 0"));
  CHECK(mentions(find(errs, "supervision.max_backoff"), "at least"));
  CHECK(mentions(find(errs, "supervision.max_restarts"), "-1"));
  CHECK(mentions(find(errs, "testing.fault"), "'chaos'"));
  CHECK(mentions(find(errs, "testing.fault_after_trades"), "got 0"));
}

TEST_CASE("push limits: defaults, values from YAML and environment, every bad value named") {
  auto d = mi::cfg::defaults();
  CHECK(d.push.max_connections == 10000);
  CHECK(d.push.client_rate == 20);
  CHECK(d.push.client_burst == 40);
  CHECK(d.push.max_message_bytes == 65536);
  CHECK(d.push.max_channels == 100);
  CHECK(d.push.key_check_interval == std::chrono::seconds(30));

  auto c = loaded("push: {max_connections: 50, client_rate: 5, client_burst: 10, max_message_bytes: 4096, "
                  "max_channels: 8, key_check_interval: 2s}",
                  {{"MI_PUSH_MAX_CONNECTIONS", "60"}});
  CHECK(c.push.max_connections == 60);
  CHECK(c.push.client_rate == 5);
  CHECK(c.push.client_burst == 10);
  CHECK(c.push.max_message_bytes == 4096);
  CHECK(c.push.max_channels == 8);
  CHECK(c.push.key_check_interval == std::chrono::seconds(2));

  auto errs = errors_of("push: {max_connections: 0, client_rate: 0, client_burst: 0, max_message_bytes: 10, "
                        "max_channels: 0, key_check_interval: 0s}");
  CAPTURE(mi::cfg::format_errors(errs));
  CHECK(mentions(find(errs, "push.max_connections"), "got 0"));
  CHECK(mentions(find(errs, "push.client_rate"), "got 0"));
  CHECK(mentions(find(errs, "push.client_burst"), "got 0"));
  CHECK(mentions(find(errs, "push.max_message_bytes"), "got 10"));
  CHECK(mentions(find(errs, "push.max_channels"), "got 0"));
  CHECK(mentions(find(errs, "push.key_check_interval"), "greater than 0"));
  CHECK(errs.size() == 6);
}

TEST_CASE("listen addresses: IPv6 in brackets and :port are valid for push, api and metrics, bad ones named") {
  auto c = loaded("push: {listen: \"[::1]:18080\"}\napi: {listen: \":18081\"}\nmetrics: {listen: \"[::]:0\"}\n");
  CHECK(c.push.listen == "[::1]:18080");
  CHECK(c.api.listen == ":18081");
  CHECK(c.metrics.listen == "[::]:0");

  auto errs = errors_of("push: {listen: \"::1:8080\"}\napi: {listen: \"[::1]8081\"}\nmetrics: {listen: \"[x]:9\"}\n");
  CAPTURE(mi::cfg::format_errors(errs));
  CHECK(mentions(find(errs, "push.listen"), "brackets"));
  CHECK(mentions(find(errs, "api.listen"), "no ':port' after ']'"));
  CHECK(mentions(find(errs, "metrics.listen"), "not an IPv6 address"));
  CHECK(errs.size() == 3);

  // The same address spelled two ways is still the same address.
  auto same = errors_of("push: {listen: \":18080\"}\napi: {listen: \"0.0.0.0:18080\"}\n");
  CHECK(mentions(find(same, "api.listen"), "same address as push.listen"));
}

TEST_CASE("ingest.max_clock_skew and the quarantine stream: defaults, overrides and every bad value named") {
  auto d = mi::cfg::defaults();
  CHECK(d.ingest.max_clock_skew == std::chrono::minutes(5));
  CHECK(d.nats.rejected.name == "MARKET_REJECTED");
  CHECK(d.nats.rejected.subjects == "market.rejected.>");
  CHECK(d.nats.rejected.max_age == std::chrono::days(30));

  auto c = loaded("ingest: {max_clock_skew: 30s}\nnats: {streams: {rejected: {max_age: 7d, replicas: 3}}}\n",
                  {{"MI_NATS_STREAMS_REJECTED_NAME", "QUARANTINE"}});
  CHECK(c.ingest.max_clock_skew == std::chrono::seconds(30));
  CHECK(c.nats.rejected.max_age == std::chrono::days(7));
  CHECK(c.nats.rejected.replicas == 3);
  CHECK(c.nats.rejected.name == "QUARANTINE");
  CHECK(loaded("", {{"MI_INGEST_MAX_CLOCK_SKEW", "1d"}}).ingest.max_clock_skew == std::chrono::hours(24));

  auto errs = errors_of("ingest: {max_clock_skew: 500ms}\nnats: {streams: {rejected: {name: MARKET_RAW}}}\n");
  CHECK(errs.size() == 2);
  CHECK(mentions(find(errs, "ingest.max_clock_skew"), "500ms"));
  CHECK(mentions(find(errs, "nats.streams.rejected.name"), "'MARKET_RAW'"));
  CHECK(mentions(find(errors_of("ingest: {max_clock_skew: 2d}\n"), "ingest.max_clock_skew"), "1s..1d"));
  CHECK(mentions(find(errors_of("ingest: {max_skew: 1m}\n"), "ingest.max_skew"), "unknown"));
}

TEST_CASE("log.format and admin: defaults, YAML and MI_ADMIN_TOKEN, and the checks (token length, listen clash)") {
  auto d = mi::cfg::defaults();
  CHECK(d.log.format == mi::cfg::log_format::text);
  CHECK(d.admin.listen == "127.0.0.1:9465");
  CHECK(d.admin.token.empty());

  const std::string token = "0123456789abcdef-admin";
  auto ok = mi::cfg::load("log: {format: json}\nadmin: {listen: \"127.0.0.1:0\"}\n", {{"MI_ADMIN_TOKEN", token}});
  REQUIRE(std::holds_alternative<mi::cfg::config>(ok));
  const auto& c = std::get<mi::cfg::config>(ok);
  CHECK(c.log.format == mi::cfg::log_format::json);
  CHECK(c.admin.token == token);
  CHECK(c.admin.listen == "127.0.0.1:0");

  auto bad = mi::cfg::load("log: {format: xml}\nadmin: {listen: \"127.0.0.1:9464\", token: short}\n", {});
  REQUIRE(std::holds_alternative<std::vector<mi::cfg::config_error>>(bad));
  std::map<std::string, std::string> errs;
  for (const auto& e : std::get<std::vector<mi::cfg::config_error>>(bad))
    errs[e.key] = e.message;
  REQUIRE(errs.count("log.format") == 1);
  CHECK(errs["log.format"] == "must be one of text, json, got 'xml' (line 1)");
  REQUIRE(errs.count("admin.token") == 1);
  CHECK(errs["admin.token"].find("short") == std::string::npos); // the secret is not repeated
  REQUIRE(errs.count("admin.listen") == 1);
  CHECK(errs["admin.listen"] == "same address as metrics.listen: '127.0.0.1:9464'");
}

TEST_CASE("storage.books: off by default, overrides, and every bad value named") {
  auto d = mi::cfg::defaults();
  CHECK_FALSE(d.storage.books.enabled);
  CHECK(d.storage.books.depth == 20);
  CHECK(d.storage.books.bbo_interval == std::chrono::seconds(1));
  CHECK(d.storage.books.snapshot_interval == std::chrono::minutes(1));
  CHECK(d.storage.retention_months_books == 0);

  auto c = loaded("storage: {retention_months_books: 3, books: {enabled: true, depth: 5, bbo_interval: 2s, "
                  "snapshot_interval: 10s}}\n");
  CHECK(c.storage.books.enabled);
  CHECK(c.storage.books.depth == 5);
  CHECK(c.storage.books.bbo_interval == std::chrono::seconds(2));
  CHECK(c.storage.books.snapshot_interval == std::chrono::seconds(10));
  CHECK(c.storage.retention_months_books == 3);

  auto errs = errors_of("storage: {retention_months_books: -1, books: {depth: 0, bbo_interval: 500ms, "
                        "snapshot_interval: 25h}}\n",
                        {});
  CHECK(errs.size() == 4);
  CHECK(mentions(find(errs, "storage.retention_months_books"), "-1"));
  CHECK(mentions(find(errs, "storage.books.depth"), "0"));
  CHECK(mentions(find(errs, "storage.books.bbo_interval"), "1s..1h"));
  CHECK(mentions(find(errs, "storage.books.snapshot_interval"), "1s..1d"));
}

TEST_CASE("klines.partitions and klines.lease_ttl: defaults, overrides and every bad value named") {
  auto d = mi::cfg::defaults();
  CHECK(d.klines.partitions == 1);
  CHECK(d.klines.lease_ttl == std::chrono::seconds(6));
  auto c = loaded("klines: {partitions: 8, lease_ttl: 10s}\n");
  CHECK(c.klines.partitions == 8);
  CHECK(c.klines.lease_ttl == std::chrono::seconds(10));
  CHECK(loaded("", {{"MI_KLINES_PARTITIONS", "4"}}).klines.partitions == 4);
  auto errs = errors_of("klines: {partitions: 0, lease_ttl: 1s}\n");
  CHECK(errs.size() == 2);
  CHECK(mentions(find(errs, "klines.partitions"), "1..1024, got 0"));
  CHECK(mentions(find(errs, "klines.lease_ttl"), "3s..60s, got 1s"));
  CHECK(mentions(find(errors_of("klines: {partitions: 2000}\n"), "klines.partitions"), "got 2000"));
}

TEST_CASE("klines.feed_linger: 5ms by default, 0 allowed, beyond 50ms or negative refused by name") {
  CHECK(mi::cfg::defaults().klines.feed_linger == std::chrono::milliseconds(5));
  CHECK(loaded("klines: {feed_linger: 0ms}\n").klines.feed_linger == std::chrono::milliseconds(0));
  CHECK(loaded("", {{"MI_KLINES_FEED_LINGER", "20ms"}}).klines.feed_linger == std::chrono::milliseconds(20));
  CHECK(mentions(find(errors_of("klines: {feed_linger: 51ms}\n"), "klines.feed_linger"), "0ms..50ms, got 51ms"));
  CHECK(mentions(find(errors_of("klines: {feed_linger: 1s}\n"), "klines.feed_linger"), "0ms..50ms"));
}

TEST_CASE("exchanges.cn is refused with a pointer to equities.cn (a polled venue of the registry)") {
  auto errs = errors_of("exchanges:\n  cn:\n    enabled: true\n");
  REQUIRE(!errs.empty());
  CHECK(mentions(find(errs, "exchanges.cn"), "'cn' is a polled venue: configure it under equities.cn"));
}

TEST_CASE("calendars.alpaca_refresh_every: a day by default, 0 for at start only, under a second refused") {
  CHECK(mi::cfg::defaults().calendars.alpaca_refresh_every == std::chrono::hours(24));
  CHECK(loaded("calendars: {alpaca_refresh_every: 0s}\n").calendars.alpaca_refresh_every.count() == 0);
  CHECK(loaded("calendars: {alpaca_refresh_every: 6h}\n").calendars.alpaca_refresh_every == std::chrono::hours(6));
  auto errs = errors_of("calendars: {alpaca_refresh_every: 500ms}\n");
  REQUIRE(errs.size() == 1);
  CHECK(mentions(find(errs, "calendars.alpaca_refresh_every"), "at least 1s, got 500ms"));
}

TEST_CASE("documents: every source is off by default at its real endpoint, the doc stream on market.doc.>") {
  const config c = loaded("");
  CHECK(c.nats.doc.name == "MARKET_DOC");
  CHECK(c.nats.doc.subjects == "market.doc.>");
  REQUIRE(c.documents.sources.size() == 5);
  for (const auto& [name, s] : c.documents.sources) {
    CAPTURE(name);
    CHECK_FALSE(s.enabled);
  }
  CHECK(c.documents.sources.at("sec").url == "https://www.sec.gov");
  CHECK(c.documents.sources.at("sec").requests_per_second == 10);
}

TEST_CASE("documents: sec refuses to start without a contact User-Agent or above 10 requests per second") {
  auto errs = errors_of("documents:\n  sources:\n    sec: {enabled: true, requests_per_second: 11}\n");
  std::set<std::string> keys;
  for (const auto& e : errs)
    keys.insert(e.key);
  CHECK(keys == std::set<std::string>{"documents.user_agent", "documents.sources.sec.requests_per_second"});
  const config ok =
    loaded("documents:\n  user_agent: \"Acme Corp ops@acme.example\"\n  sources:\n    sec: {enabled: true}\n",
           {{"MI_DOCUMENTS_SOURCES_REDDIT_ITEMS", "wallstreetbets,stocks"}});
  CHECK(ok.documents.sources.at("sec").enabled);
  CHECK(ok.documents.sources.at("reddit").items == std::vector<std::string>{"wallstreetbets", "stocks"});
  CHECK_FALSE(errors_of("documents:\n  sources:\n    twitter: {enabled: true}\n").empty());
  CHECK_FALSE(errors_of("documents:\n  sources:\n    rss: {enabled: true}\n").empty()); // no feeds
}

TEST_CASE("documents: alpaca's news stream is Alpaca's real WebSocket by default, empty turns it off") {
  const config c = loaded("");
  CHECK(c.documents.sources.at("alpaca").stream_url == "wss://stream.data.alpaca.markets/v1beta1/news");
  CHECK(c.documents.sources.at("sec").stream_url.empty());
  const config off = loaded("documents:\n  sources:\n    alpaca: {enabled: true, stream_url: \"\"}\n");
  CHECK(off.documents.sources.at("alpaca").stream_url.empty());
  auto errs = errors_of("documents:\n  sources:\n    alpaca: {stream_url: \"https://stream.example/news\"}\n");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].key == "documents.sources.alpaca.stream_url");
  // only alpaca has a stream: the key is unknown elsewhere
  CHECK_FALSE(errors_of("documents:\n  sources:\n    sec: {stream_url: \"wss://x.example/\"}\n").empty());
}

TEST_CASE("equities.cn: symbols in the venue's form, source limits in range, env overrides") {
  auto errs =
    errors_of("equities:\n  cn:\n    enabled: true\n    symbols: [600000.SH, 600000.SH, sh600000, 000001.HK]\n"
              "    sources:\n      tencent: {requests_per_second: 0, batch_size: 801}\n"
              "      sina: {url: \"ftp://x\"}\n");
  std::multiset<std::string> keys;
  for (const auto& e : errs)
    keys.insert(e.key);
  CHECK(keys == std::multiset<std::string>{"equities.cn.symbols", "equities.cn.symbols", "equities.cn.symbols",
                                           "equities.cn.sources.tencent.requests_per_second",
                                           "equities.cn.sources.tencent.batch_size", "equities.cn.sources.sina.url"});
  const config ok = loaded("equities:\n  cn: {enabled: true, symbols: [688111.SH]}\n",
                           {{"MI_EQUITIES_CN_SOURCES_TENCENT_URL", "http://127.0.0.1:9"}});
  CHECK(ok.equities.cn.enabled);
  CHECK(ok.equities.cn.symbols == std::vector<std::string>{"688111.SH"});
  CHECK(ok.equities.cn.tencent.url == "http://127.0.0.1:9");
  CHECK(ok.equities.cn.sina.url == "http://hq.sinajs.cn");
}

TEST_CASE("exchanges.alpaca.daily_job: off at 20:05 with 30 days by default, overrides, every bad value named") {
  auto d = mi::cfg::defaults();
  const auto& dj = d.exchanges.at("alpaca").daily_job;
  CHECK_FALSE(dj.enabled);
  CHECK(dj.at == "20:05");
  CHECK(dj.backfill_days == 30);
  auto c = loaded("exchanges:\n  alpaca:\n    enabled: true\n    daily_job: {enabled: true, at: \"21:30\", "
                  "backfill_days: 5}\n",
                  {{"MI_EXCHANGES_ALPACA_DAILY_JOB_BACKFILL_DAYS", "7"}});
  CHECK(c.exchanges.at("alpaca").daily_job.enabled);
  CHECK(c.exchanges.at("alpaca").daily_job.at == "21:30");
  CHECK(c.exchanges.at("alpaca").daily_job.backfill_days == 7);
  auto errs = errors_of("exchanges:\n  alpaca:\n    daily_job: {enabled: true, at: \"24:00\", backfill_days: -1}\n");
  CHECK(errs.size() == 3);
  CHECK(mentions(find(errs, "exchanges.alpaca.daily_job.at"), "'24:00'"));
  CHECK(mentions(find(errs, "exchanges.alpaca.daily_job.backfill_days"), "-1"));
  CHECK(mentions(find(errs, "exchanges.alpaca.daily_job.enabled"), "needs the exchange enabled"));
  // A crypto exchange has no daily job.
  CHECK(find(errors_of("exchanges:\n  binance:\n    daily_job: {enabled: true}\n"), "exchanges.binance.daily_job") !=
        nullptr);
}

TEST_CASE("runtime.scheduler_threads: one worker by default, more from YAML or MI_RUNTIME_SCHEDULER_THREADS") {
  CHECK(mi::cfg::defaults().runtime.scheduler_threads == 1);
  CHECK(loaded("runtime: {scheduler_threads: 4}\n").runtime.scheduler_threads == 4);
  CHECK(loaded("", {{"MI_RUNTIME_SCHEDULER_THREADS", "3"}}).runtime.scheduler_threads == 3);
  auto errs = errors_of("runtime: {scheduler_threads: 0}\n", {});
  CHECK(errs.size() == 1);
  CHECK(mentions(find(errs, "runtime.scheduler_threads"), "0"));
}

TEST_CASE("runtime.scheduler_policy: sharing by default, stealing from YAML or MI_RUNTIME_SCHEDULER_POLICY, else an "
          "error naming both") {
  CHECK(mi::cfg::defaults().runtime.policy == mi::cfg::scheduler_policy::sharing);
  CHECK(loaded("runtime: {scheduler_policy: stealing}\n").runtime.policy == mi::cfg::scheduler_policy::stealing);
  CHECK(loaded("", {{"MI_RUNTIME_SCHEDULER_POLICY", "stealing"}}).runtime.policy ==
        mi::cfg::scheduler_policy::stealing);
  auto errs = errors_of("runtime: {scheduler_policy: fast}\n", {});
  CHECK(errs.size() == 1);
  CHECK(mentions(find(errs, "runtime.scheduler_policy"), "must be one of sharing, stealing, got 'fast'"));
}

TEST_CASE("klines.feed: local by default, stream from YAML or MI_KLINES_FEED, else an error naming both") {
  CHECK(mi::cfg::defaults().klines.feed == mi::cfg::kline_feed::local);
  CHECK(loaded("klines: {feed: stream}\n").klines.feed == mi::cfg::kline_feed::stream);
  CHECK(loaded("", {{"MI_KLINES_FEED", "stream"}}).klines.feed == mi::cfg::kline_feed::stream);
  auto errs = errors_of("klines: {feed: acks}\n", {});
  CHECK(errs.size() == 1);
  CHECK(mentions(find(errs, "klines.feed"), "must be one of local, stream, got 'acks'"));
}

TEST_CASE("saver.acks: batch by default, each from YAML or MI_SAVER_ACKS, and several trade writers need each") {
  CHECK(mi::cfg::defaults().saver.acks == mi::cfg::ack_mode::batch);
  CHECK(loaded("saver: {acks: each}\n").saver.acks == mi::cfg::ack_mode::each);
  CHECK(loaded("", {{"MI_SAVER_ACKS", "each"}}).saver.acks == mi::cfg::ack_mode::each);
  CHECK(loaded("saver: {acks: each, trade_writers: 3}\n").saver.trade_writers == 3);
  auto errs = errors_of("saver: {acks: all}\n", {});
  CHECK(errs.size() == 1);
  CHECK(mentions(find(errs, "saver.acks"), "must be one of batch, each, got 'all'"));
  errs = errors_of("saver: {trade_writers: 2}\n", {});
  CHECK(errs.size() == 1);
  CHECK(mentions(find(errs, "saver.trade_writers"), "needs saver.acks: each"));
}
