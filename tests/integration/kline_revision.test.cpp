// Late trades after a restart or a passivation revise the final (issue 9, item 4), and a far-future
// trade already in MARKET_RAW does not freeze its symbol (item 2). Real nats-server and the real
// `market-ingestor run --roles kline` process; trades are published to MARKET_RAW as the ingest
// role does, finals are read from MARKET_KLINE.
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gateways/jetstream/jetstream.hpp"
#include "messages/codec.hpp"
#include "messages/kline.hpp"
#include "messages/trade.hpp"
#include "tests/harness/nats_server.hpp"
#include "tests/harness/process.hpp"
#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;

namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// The kline role alone, restartable, 1s candles.
struct kline_process {
  mi::test::nats_server nats;
  mi::test::temp_dir dir{"mi-kline-revision"};
  int metrics_port = mi::test::free_port();
  int starts = 0;
  std::unique_ptr<mi::test::child_process> proc;

  explicit kline_process(const std::string& idle_after) {
    std::ofstream cfg(dir.path() + "/config.yaml");
    cfg << "nats:\n  url: " << nats.url() << "\n"
        << "klines:\n  intervals: [1s]\n  grace: 500ms\n  partial_interval: 60s\n  idle_after: " << idle_after << "\n"
        << "push:\n  listen: 127.0.0.1:" << mi::test::free_port() << "\n"
        << "metrics:\n  listen: 127.0.0.1:" << metrics_port << "\n";
  }

  void start() {
    auto log = dir.path() + "/platform" + std::to_string(++starts) + ".log";
    proc = std::make_unique<mi::test::child_process>(
      std::vector<std::string>{MI_BINARY, "run", "--config", dir.path() + "/config.yaml", "--roles", "kline"}, log);
    bool ready =
      mi::test::eventually([&] { return mi::test::read_file(log).find("ready\n") != std::string::npos; }, 30s);
    if (!ready)
      FAIL("kline stage did not start:\n" << mi::test::read_file(log));
  }

  void kill_hard() {
    proc->kill_hard();
    proc.reset();
  }

  std::string log() const { return mi::test::read_file(dir.path() + "/platform" + std::to_string(starts) + ".log"); }

  double gauge(const std::string& name) const {
    auto page = mi::test::run({"curl", "-fsS", "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics"}).output;
    std::istringstream in(page);
    std::string line;
    while (std::getline(in, line))
      if (line.rfind(name + " ", 0) == 0)
        return std::stod(line.substr(name.size() + 1));
    return -1;
  }
};

mi::trade make_trade(const std::string& symbol, std::int64_t id, std::int64_t ts_ms, const char* price, const char* qty,
                     std::int64_t recv_ms) {
  mi::trade t;
  t.exchange = "binance";
  t.symbol = symbol;
  t.base = symbol.substr(0, symbol.size() - 4);
  t.quote = "USDT";
  t.trade_id = std::to_string(id);
  t.price = *mi::decimal::parse(price);
  t.quantity = *mi::decimal::parse(qty);
  t.taker_side = mi::side::buy;
  t.ts_ns = ts_ms * 1'000'000;
  t.recv_ns = recv_ms * 1'000'000;
  return t;
}

// Publishes like the ingest role (subject, dedup id, protobuf); `msg_id` overrides the dedup id
// (a republication after JetStream's duplicate window).
void publish(mi::gw::jetstream& js, const mi::trade& t, const std::string& msg_id = {}) {
  mi::gw::outgoing o{mi::raw_subject(t.exchange, t.symbol), msg_id.empty() ? mi::dedup_id(t) : msg_id,
                     std::string(mi::trade_content_type), mi::encode_trade_pb(t)};
  auto r = js.publish_sync(o);
  if (!r)
    FAIL("publish: " << r.err().message);
}

// Every final kline in MARKET_KLINE, as they arrive.
struct final_reader {
  std::mutex mu;
  std::vector<mi::kline> finals;
  std::unique_ptr<mi::gw::ordered_consumer> consumer;

  explicit final_reader(mi::gw::jetstream& js) {
    auto c = mi::gw::ordered_consumer::start(js, "MARKET_KLINE", "market.kline.>", 1, [this](mi::gw::js_message&& m) {
      auto k = mi::decode_kline_pb(std::string(m.data()));
      if (!k || !k->is_final)
        return;
      std::lock_guard lock(mu);
      finals.push_back(std::move(*k));
    });
    if (!c)
      FAIL("consume MARKET_KLINE: " << c.err().message);
    consumer = std::move(*c);
  }

  // The newest revision of the final of `symbol` opening at `open_ms`, if any.
  std::optional<mi::kline> latest(const std::string& symbol, std::int64_t open_ms) {
    std::lock_guard lock(mu);
    std::optional<mi::kline> out;
    for (const auto& k : finals)
      if (k.symbol == symbol && k.open_time_ms == open_ms && (!out || k.revision > out->revision))
        out = k;
    return out;
  }

  std::size_t count(const std::string& symbol) {
    std::lock_guard lock(mu);
    std::size_t n = 0;
    for (const auto& k : finals)
      n += k.symbol == symbol;
    return n;
  }
};

std::unique_ptr<mi::gw::jetstream> connect(const kline_process& p) {
  mi::gw::jetstream::options o;
  o.url = p.nats.url();
  auto js = mi::gw::jetstream::connect(o);
  if (!js)
    FAIL("connect: " << js.err().message);
  return std::move(*js);
}

// Publishes two trades of the window opening at `w` and one 2 s later (which closes it by event
// time), and waits for the window's final, revision 0.
void first_final(mi::gw::jetstream& js, final_reader& finals, const std::string& sym, std::int64_t w) {
  publish(js, make_trade(sym, 101, w + 100, "10", "1", w + 100));
  publish(js, make_trade(sym, 102, w + 200, "12", "2", w + 200));
  publish(js, make_trade(sym, 103, w + 2000, "11", "1", w + 2000));
  bool got = mi::test::eventually([&] { return finals.latest(sym, w).has_value(); }, 20s);
  REQUIRE_MESSAGE(got, "no final for the first window");
  auto k = *finals.latest(sym, w);
  CHECK(k.revision == 0);
  CHECK(k.trade_count == 2);
  CHECK(k.volume.to_string() == "3");
}

// Trade 101 again (a republication after JetStream's 2-minute duplicate window: another
// Nats-Msg-Id) and a late trade 104 of the first window: revision 1 holds 104, not 101 twice.
void late_trade_revises(mi::gw::jetstream& js, final_reader& finals, const std::string& sym, std::int64_t w) {
  const auto now = wall_ms();
  publish(js, make_trade(sym, 101, w + 100, "10", "1", now), "republished:101");
  publish(js, make_trade(sym, 104, w + 300, "9", "4", now));
  bool revised = mi::test::eventually(
    [&] {
      auto k = finals.latest(sym, w);
      return k && k->revision >= 1;
    },
    20s);
  REQUIRE_MESSAGE(revised, "the late trade did not revise the final");
  auto k = *finals.latest(sym, w);
  CHECK(k.revision == 1);
  CHECK(k.trade_count == 3);
  CHECK(k.volume.to_string() == "7");
  CHECK(k.low.to_string() == "9");
  CHECK(k.last_trade_id == "104");
}

} // namespace

TEST_CASE("kline revision: a late trade after kill -9 and restart publishes revision 1 of the final") {
  kline_process stage("10m");
  stage.start();
  auto js = connect(stage);
  final_reader finals(*js);
  const std::string sym = "RESTARTUSDT";
  const std::int64_t w = wall_ms() / 1000 * 1000;
  first_final(*js, finals, sym, w);
  // The checkpoint with the kept final is stored after the final is acked: wait for it, then kill.
  bool stored = mi::test::eventually(
    [&] {
      auto v = js->kv_get("MI_KLINE_STATE", "w.binance." + sym);
      return v && *v && (*v)->find("f:1s=" + std::to_string(w) + ",") != std::string::npos;
    },
    20s);
  REQUIRE_MESSAGE(stored, "no checkpoint with the final");
  stage.kill_hard();
  stage.start();
  late_trade_revises(*js, finals, sym, w);
  finals.consumer.reset();
  stage.proc->signal(SIGTERM);
  CHECK(stage.proc->wait_for(60s) == 0);
}

TEST_CASE("kline revision: a late trade after the symbol was passivated publishes revision 1 of the final") {
  kline_process stage("1s");
  stage.start();
  auto js = connect(stage);
  final_reader finals(*js);
  const std::string sym = "PASSIVEUSDT";
  const std::int64_t w = wall_ms() / 1000 * 1000;
  first_final(*js, finals, sym, w);
  // idle_after 1s: once its windows closed by the clock, the symbol's actor is passivated.
  double live = -1;
  bool passivated = mi::test::eventually(
    [&] {
      live = stage.gauge("mi_symbol_windows");
      return live == 0;
    },
    20s);
  REQUIRE_MESSAGE(passivated, "mi_symbol_windows is " << live);
  late_trade_revises(*js, finals, sym, w);
  finals.consumer.reset();
  stage.proc->signal(SIGTERM);
  CHECK(stage.proc->wait_for(60s) == 0);
}

TEST_CASE("kline revision: a final the stream already holds with other values under its dedup id is published "
          "again one revision above, and a replay of the same finals adds nothing") {
  kline_process stage("10m");
  stage.start();
  auto js = connect(stage);
  final_reader finals(*js);
  const std::string sym = "SUPERSEDEUSDT";
  const std::int64_t w = wall_ms() / 1000 * 1000;
  // A stage now gone closed this window by the wall clock after trade 101 alone, published it and went before the
  // late trade 102 could revise it: MARKET_KLINE holds revision 0 with one trade under the window's dedup id.
  mi::kline gone;
  gone.exchange = "binance";
  gone.symbol = sym;
  gone.interval = "1s";
  gone.open_time_ms = w;
  gone.close_time_ms = w + 999;
  gone.open = gone.high = gone.low = gone.close = gone.vwap = *mi::decimal::parse("10");
  gone.volume = gone.taker_buy_volume = *mi::decimal::parse("1");
  gone.quote_volume = gone.taker_buy_quote_volume = *mi::decimal::parse("10");
  gone.trade_count = 1;
  gone.first_trade_id = gone.last_trade_id = "101";
  gone.is_final = true;
  auto seeded = js->publish_sync(mi::gw::outgoing{mi::kline_subject(gone), mi::dedup_id(gone),
                                                  std::string(mi::kline_content_type), mi::encode_kline_pb(gone)});
  REQUIRE_MESSAGE(seeded, (seeded ? "" : seeded.err().message));

  // This stage sees both trades: its revision 0 (two trades) is a duplicate with other values, so it goes out as 1.
  publish(*js, make_trade(sym, 101, w + 100, "10", "1", w + 100));
  publish(*js, make_trade(sym, 102, w + 200, "12", "2", w + 200));
  publish(*js, make_trade(sym, 103, w + 2000, "11", "1", w + 2000));
  bool superseded = mi::test::eventually(
    [&] {
      auto k = finals.latest(sym, w);
      return k && k->revision >= 1;
    },
    20s);
  REQUIRE_MESSAGE(superseded, "no revision above the kept one:\n" << stage.log());
  auto k = *finals.latest(sym, w);
  CHECK(k.revision == 1);
  CHECK(k.trade_count == 2);
  CHECK(k.volume.to_string() == "3");
  CHECK(k.quote_volume.to_string() == "34");
  CHECK(k.high.to_string() == "12");
  CHECK(k.close.to_string() == "12");
  CHECK(k.last_trade_id == "102");
  CHECK(stage.gauge("mi_kline_finals_superseded_total") == 1);
  auto revisions_of = [&](std::int64_t open_ms) {
    std::lock_guard lock(finals.mu);
    std::vector<std::uint32_t> revs;
    for (const auto& f : finals.finals)
      if (f.symbol == sym && f.open_time_ms == open_ms)
        revs.push_back(f.revision);
    return revs;
  };
  CHECK(revisions_of(w) == std::vector<std::uint32_t>{0, 1}); // the gone stage's 0, then ours: once each
  CHECK(finals.latest(sym, w - 1000) == std::nullopt);

  // The checkpoints are lost and the stage replays MARKET_RAW from its start: revision 0 collides again and goes out
  // as 1 again, which JetStream already holds with the same values: kept once, nothing above it.
  bool next_final = mi::test::eventually([&] { return finals.latest(sym, w + 2000).has_value(); }, 20s);
  REQUIRE(next_final);
  stage.kill_hard();
  auto keys = js->kv_keys("MI_KLINE_STATE");
  REQUIRE(keys);
  for (const auto& key : *keys)
    REQUIRE(js->kv_delete("MI_KLINE_STATE", key));
  stage.start();
  bool again = mi::test::eventually([&] { return stage.gauge("mi_kline_finals_superseded_total") == 1; }, 20s);
  REQUIRE_MESSAGE(again, stage.log());
  std::this_thread::sleep_for(2s); // time for a wrong revision 2 to show
  CHECK(revisions_of(w) == std::vector<std::uint32_t>{0, 1});
  CHECK(revisions_of(w + 2000) == std::vector<std::uint32_t>{0}); // identical when replayed: no revision
  CHECK(stage.gauge("mi_kline_finals_superseded_total") == 1);
  finals.consumer.reset();
  stage.proc->signal(SIGTERM);
  CHECK(stage.proc->wait_for(60s) == 0);
}

TEST_CASE("kline stage: a far-future trade in MARKET_RAW is skipped and the symbol's later windows close") {
  kline_process stage("10m");
  stage.start();
  auto js = connect(stage);
  final_reader finals(*js);
  const std::string sym = "FUTUREUSDT";
  const std::int64_t w = wall_ms() / 1000 * 1000;
  const std::int64_t year_ms = 365LL * 24 * 3600 * 1000;
  publish(*js, make_trade(sym, 1, w + 100, "10", "1", w + 100));
  publish(*js, make_trade(sym, 2, w + year_ms, "10", "1", w + 150)); // stamped next year, received now
  publish(*js, make_trade(sym, 3, w + 1100, "11", "1", w + 1100));
  publish(*js, make_trade(sym, 4, w + 3200, "12", "1", w + 3200));
  bool closed = mi::test::eventually([&] { return finals.latest(sym, w + 1000).has_value(); }, 20s);
  CHECK_MESSAGE(closed, "the window after the far-future trade never became final");
  CHECK(finals.latest(sym, w).has_value());
  CHECK(!finals.latest(sym, (w + year_ms) / 1000 * 1000).has_value());
  CHECK(stage.gauge("mi_kline_trades_skipped_total{exchange=\"binance\",reason=\"clock_skew\"}") == 1);
  // After a restart the symbol still goes on (its checkpoint holds no far-future watermark).
  stage.kill_hard();
  stage.start();
  const auto now = wall_ms();
  publish(*js, make_trade(sym, 5, now, "13", "1", now));
  publish(*js, make_trade(sym, 6, now + 2000, "13", "1", now + 2000));
  bool later = mi::test::eventually([&] { return finals.latest(sym, now / 1000 * 1000).has_value(); }, 20s);
  CHECK_MESSAGE(later, "no final after the restart");
  finals.consumer.reset();
  stage.proc->signal(SIGTERM);
  CHECK(stage.proc->wait_for(60s) == 0);
}

TEST_CASE("kline revision: with the store role, the revised final after kill -9 is stored and the audit is clean") {
  mi::test::platform_env env({"1s"});
  env.start_platform({"--roles", "kline,store"});
  mi::gw::jetstream::options o;
  o.url = env.nats.url();
  auto jsr = mi::gw::jetstream::connect(o);
  REQUIRE(jsr);
  auto& js = **jsr;
  final_reader finals(js);
  // A complete past hour, so that the audit covers it whole.
  constexpr std::int64_t hour_ms = 3'600'000;
  const std::int64_t hour = wall_ms() / hour_ms * hour_ms - 2 * hour_ms;
  const std::int64_t w = hour + 10'000;
  const std::string sym = "STOREUSDT";
  const auto now = wall_ms();
  // The three trades are in MARKET_RAW before the stage reads any: a window two hours old closes by
  // the wall clock as soon as the stage is caught up, so trades published one by one to a running
  // stage could close it after the first (revision 0 of one trade, then a revision per trade).
  CHECK(env.stop_platform() == 0); // the streams exist now
  publish(js, make_trade(sym, 101, w + 100, "10", "1", now));
  publish(js, make_trade(sym, 102, w + 200, "12", "2", now));
  publish(js, make_trade(sym, 103, w + 2000, "11", "1", now));
  env.start_platform({"--roles", "kline,store"});
  REQUIRE(mi::test::eventually([&] { return finals.latest(sym, w).has_value(); }, 30s));
  CHECK(finals.latest(sym, w)->revision == 0);
  CHECK(finals.latest(sym, w)->trade_count == 2);
  REQUIRE(mi::test::eventually(
    [&] {
      auto v = js.kv_get("MI_KLINE_STATE", "w.binance." + sym);
      return v && *v && (*v)->find("f:1s=" + std::to_string(w) + ",") != std::string::npos;
    },
    20s));
  env.kill_platform();
  env.start_platform({"--roles", "kline,store"});
  publish(js, make_trade(sym, 104, w + 300, "9", "4", wall_ms()));
  auto stored = [&]() -> std::optional<mi::kline> {
    for (const auto& k : env.stored_klines())
      if (k.symbol == sym && k.open_time_ms == w)
        return k;
    return std::nullopt;
  };
  bool revised = mi::test::eventually(
    [&] {
      auto k = stored();
      return k && k->trade_count == 3;
    },
    30s);
  REQUIRE_MESSAGE(revised, "stored: " << (stored() ? mi::kline_to_json(*stored()) : std::string("none")) << "\n"
                                      << env.platform_log());
  CHECK(stored()->revision == 1);
  CHECK(stored()->volume.to_string() == "7");
  CHECK(finals.latest(sym, w)->revision == 1);
  REQUIRE(mi::test::eventually([&] { return env.stored_trades().size() == 4; }, 30s));
  auto audit = mi::test::run({mi::test::binary(), "audit", "--config", env.config_path(), "--from",
                              std::to_string(hour), "--to", std::to_string(hour + hour_ms)},
                             {}, true);
  INFO(audit.output);
  CHECK(audit.exit_code == 0);
  CHECK(audit.output.find("CLEAN") != std::string::npos);
  finals.consumer.reset();
  CHECK(env.stop_platform() == 0);
}
