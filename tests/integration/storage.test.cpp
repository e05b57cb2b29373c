// Storage under faults (issue 5): dead letters, consumer lag, partitions after start, audit.
// Real nats-server, PostgreSQL and `market-ingestor run` processes; trades are published straight
// to MARKET_RAW by the test (no exchange needed), so each test controls exactly what the savers see.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nats/nats.h>

#include "gateways/jetstream/jetstream.hpp"
#include "gateways/postgres/partitions.hpp"
#include "gateways/postgres/postgres.hpp"
#include "messages/codec.hpp"
#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;
using mi::test::canonical;
using mi::test::platform_env;

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// n trades of binance BTCUSDT / ETHUSDT, ids from first_id, one every `step_ns` from `start_ns`.
std::vector<mi::trade> make_trades(std::size_t n, std::size_t first_id, std::int64_t start_ns, std::int64_t step_ns) {
  std::vector<mi::trade> out;
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t i = first_id + k;
    mi::trade t;
    t.exchange = "binance";
    t.symbol = i % 2 == 0 ? "BTCUSDT" : "ETHUSDT";
    t.base = i % 2 == 0 ? "BTC" : "ETH";
    t.quote = "USDT";
    t.trade_id = std::to_string(1000 + i);
    t.price = *mi::decimal::parse(i % 2 == 0 ? "16500.12" : "1200.5");
    t.quantity = *mi::decimal::parse("0.001");
    t.taker_side = i % 3 == 0 ? mi::side::sell : mi::side::buy;
    t.ts_ns = start_ns + static_cast<std::int64_t>(k) * step_ns;
    t.recv_ns = t.ts_ns + 1'000'000;
    out.push_back(std::move(t));
  }
  return out;
}

std::unique_ptr<mi::gw::jetstream> connect(const platform_env& env) {
  mi::gw::jetstream::options o;
  o.url = env.nats.url();
  auto js = mi::gw::jetstream::connect(o);
  REQUIRE_MESSAGE(js.has_value(), (js ? "" : js.err().message));
  return std::move(*js);
}

mi::gw::outgoing as_message(const mi::trade& t) {
  return {mi::raw_subject(t.exchange, t.symbol), mi::dedup_id(t), std::string(mi::trade_content_type),
          mi::encode_trade_pb(t)};
}

std::uint64_t publish(mi::gw::jetstream& js, const mi::gw::outgoing& o) {
  auto r = js.publish_sync(o);
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.err().message));
  return r->first;
}

void publish_all(mi::gw::jetstream& js, const std::vector<mi::trade>& trades) {
  for (const auto& t : trades)
    publish(js, as_message(t));
}

const std::string lag_trades = "mi_consumer_lag{consumer=\"saver_trades\"}";

/// `n` trades in MARKET_RAW, published while no saver runs (a store node started once made the stream and the
/// AckAll durable), with their stream sequences.
struct published_trades {
  std::unique_ptr<mi::gw::jetstream> js;
  std::vector<mi::trade> trades;
  std::vector<std::uint64_t> seqs;
};
published_trades published_before_the_saver(platform_env& env, std::size_t n) {
  env.start_platform({"--roles", "store"});
  CHECK(env.stop_platform() == 0);
  published_trades out{connect(env), make_trades(n, 0, now_ns() - 3600 * 1'000'000'000LL, 1'000'000'000LL), {}};
  for (const auto& t : out.trades)
    out.seqs.push_back(publish(*out.js, as_message(t)));
  return out;
}

} // namespace

TEST_CASE("store: poison messages among good ones go to MARKET_DLQ with their reason, every good one is stored once") {
  platform_env env({"1m"}, {}, {}, "  max_attempts: 3\n");
  env.start_platform({"--roles", "store"});
  auto js = connect(env);
  auto good = make_trades(400, 0, now_ns() - 600 * 1'000'000'000LL, 1'000'000'000LL);
  publish_all(*js, std::vector<mi::trade>(good.begin(), good.begin() + 150));
  // Undecodable: not a protobuf Trade at all.
  const std::uint64_t junk_seq =
    publish(*js, {"market.raw.binance.BTCUSDT", "junk-1", std::string(mi::trade_content_type), "\xff\xff not a trade"});
  publish_all(*js, std::vector<mi::trade>(good.begin() + 150, good.begin() + 300));
  // Decodes, but PostgreSQL rejects it: text cannot hold a NUL byte (SQLSTATE 22021).
  auto rejected = make_trades(1, 999, now_ns() - 300 * 1'000'000'000LL, 1)[0];
  rejected.trade_id = std::string("77\0bad", 6);
  const std::uint64_t rejected_seq = publish(*js, as_message(rejected));
  publish_all(*js, std::vector<mi::trade>(good.begin() + 300, good.end()));

  REQUIRE(mi::test::eventually([&] { return env.stream_messages("MARKET_DLQ") == 2; }, 60s));
  REQUIRE(mi::test::eventually([&] { return env.stored_trades().size() == good.size(); }, 30s));
  CHECK(canonical(env.stored_trades()) == canonical(good));

  std::map<std::uint64_t, std::string> reasons;  // original sequence -> reason
  std::map<std::uint64_t, std::string> subjects; // original sequence -> original subject
  for (std::uint64_t seq = 1; seq <= 2; ++seq) {
    auto m = js->get_message("MARKET_DLQ", seq);
    REQUIRE(m.has_value());
    REQUIRE(m->has_value());
    auto& msg = **m;
    CHECK(msg.subject() == "market.dlq.trades");
    CHECK(msg.header("Mi-Dlq-Attempts") == std::optional<std::string>("3"));
    CHECK(msg.header("Mi-Dlq-Stream") == std::optional<std::string>("MARKET_RAW"));
    auto seq_header = msg.header("Mi-Dlq-Sequence");
    REQUIRE(seq_header.has_value());
    reasons[std::stoull(*seq_header)] = msg.header("Mi-Dlq-Reason").value_or("");
    subjects[std::stoull(*seq_header)] = msg.header("Mi-Dlq-Subject").value_or("");
    if (std::stoull(*seq_header) == rejected_seq) // same payload, still decodable for a re-drive
      CHECK(mi::decode_trade_pb(msg.data()).has_value());
  }
  REQUIRE(reasons.count(junk_seq) == 1);
  REQUIRE(reasons.count(rejected_seq) == 1);
  CHECK(subjects[junk_seq] == "market.raw.binance.BTCUSDT");
  CHECK(subjects[rejected_seq] == "market.raw.binance.ETHUSDT");
  CHECK(reasons[junk_seq].find("undecodable trade") != std::string::npos);
  CHECK(reasons[rejected_seq].find("SQLSTATE 22021") != std::string::npos);
  MESSAGE("reasons: " << reasons[junk_seq] << " | " << reasons[rejected_seq]);
  CHECK(env.metric("mi_dead_letters_total{kind=\"trades\"}") == 2);
  // Acked: nothing left for the saver.
  CHECK(mi::test::eventually([&] { return env.metric(lag_trades) == 0; }, 10s));

  // The operator's view: list, drop one, redrive the other (it fails again: back in the DLQ).
  auto dlq = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{mi::test::binary(), "dlq"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--config", env.config_path()});
    return mi::test::run(argv, {}, true);
  };
  auto list = dlq({"list"});
  INFO(list.output);
  CHECK(list.exit_code == 0);
  CHECK(list.output.find("2 dead letters in MARKET_DLQ") != std::string::npos);
  CHECK(list.output.find("from MARKET_RAW #" + std::to_string(junk_seq) + " market.raw.binance.BTCUSDT id junk-1") !=
        std::string::npos);
  CHECK(list.output.find("attempts 3") != std::string::npos);
  std::uint64_t junk_dlq_seq = 0;
  for (std::uint64_t seq = 1; seq <= 2; ++seq)
    if ((*js->get_message("MARKET_DLQ", seq))->header("Mi-Dlq-Sequence") == std::to_string(junk_seq))
      junk_dlq_seq = seq;
  REQUIRE(junk_dlq_seq != 0);
  CHECK(dlq({"drop", "--seq", std::to_string(junk_dlq_seq)}).exit_code == 0);
  CHECK(env.stream_messages("MARKET_DLQ") == 1);
  const auto raw_before = env.stream_messages("MARKET_RAW");
  auto redrive = dlq({"redrive", "--all"});
  INFO(redrive.output);
  CHECK(redrive.exit_code == 0);
  CHECK(env.stream_messages("MARKET_RAW") == raw_before + 1);
  CHECK(mi::test::eventually([&] { return env.metric("mi_dead_letters_total{kind=\"trades\"}") == 3; }, 30s));
  CHECK(env.stream_messages("MARKET_DLQ") == 1);
  CHECK(dlq({"drop"}).exit_code == 2); // names no message
  CHECK(env.stop_platform() == 0);
}

TEST_CASE("store: PostgreSQL down: nothing is dead-lettered, the consumer lag rises, then falls to 0") {
  // Two trade savers share the durable consumer (explicit acks): still every trade once.
  platform_env env({"1m"}, {}, {}, "  max_attempts: 2\n  trade_writers: 2\n  acks: each\n");
  env.start_platform({"--roles", "store"});
  auto js = connect(env);
  auto first = make_trades(1000, 0, now_ns() - 3600 * 1'000'000'000LL, 1'000'000'000LL);
  publish_all(*js, first);
  REQUIRE(mi::test::eventually([&] { return env.stored_trades().size() == 1000; }, 30s));
  REQUIRE(mi::test::eventually([&] { return env.metric(lag_trades) == 0; }, 10s));

  env.pg.stop_immediate();
  auto second = make_trades(3000, 1000, now_ns() - 1800 * 1'000'000'000LL, 100'000'000LL);
  publish_all(*js, second);
  // Every un-stored message counts, fetched (ack pending) or not.
  CHECK(mi::test::eventually([&] { return env.metric(lag_trades) == 3000; }, 20s));
  // Several failed attempts, more than max_attempts: still no dead letter.
  CHECK(mi::test::eventually([&] { return env.metric("mi_batch_failures_total{table=\"market_trades\"}") >= 4; }, 30s));
  CHECK(env.stream_messages("MARKET_DLQ") == 0);

  env.pg.start();
  REQUIRE(mi::test::eventually([&] { return env.stored_trades().size() == 4000; }, 60s));
  auto all = first;
  all.insert(all.end(), second.begin(), second.end());
  CHECK(canonical(env.stored_trades()) == canonical(all));
  CHECK(mi::test::eventually([&] { return env.metric(lag_trades) == 0; }, 10s));
  CHECK(env.stream_messages("MARKET_DLQ") == 0);
  CHECK(env.metric("mi_dead_letters_total{kind=\"trades\"}") <= 0); // absent (-1) or 0
  CHECK(env.stop_platform() == 0);
}

TEST_CASE("store: partitions ahead exist after start and the scheduled audit checks the last hour's trades") {
  platform_env env({"1m"}, {}, {}, {}, "storage:\n  partitions_ahead_days: 3\naudit:\n  interval: 1s\n");
  // Trades in the previous complete UTC hour (the hour the scheduled audit checks) and in the
  // current one (the hour it checks once the clock passes the hour during the test).
  constexpr std::int64_t hour_ns = 3'600'000'000'000;
  const std::int64_t now = now_ns(), this_hour = now / hour_ns * hour_ns;
  auto trades = make_trades(200, 0, this_hour - hour_ns + 1'000'000'000, 10'000'000'000); // 2000 s
  auto current = make_trades(200, 1000, this_hour, std::max<std::int64_t>(1'000'000, (now - this_hour) / 200));
  env.start_platform({"--roles", "store"}); // creates the streams
  auto js = connect(env);
  publish_all(*js, trades);
  publish_all(*js, current);
  auto today = mi::gw::day_of(now_ns());
  std::vector<std::string> want;
  for (int d = 0; d <= 3; ++d)
    want.push_back(mi::gw::trade_partition(today + d).name);
  REQUIRE(mi::test::eventually(
    [&] {
      auto parts = mi::gw::list_partitions(env.pg.conninfo(), "market_trades");
      if (!parts)
        return false;
      for (const auto& w : want)
        if (std::find(parts->begin(), parts->end(), w) == parts->end())
          return false;
      return true;
    },
    20s));
  REQUIRE(mi::test::eventually([&] { return env.stored_trades().size() == trades.size() + current.size(); }, 30s));
  // A run after every trade was stored: both symbols' hour checked, nothing missing.
  const std::string checked = "mi_audit_checked{kind=\"trades\"}";
  const std::string mismatches = "mi_audit_mismatches{kind=\"trades\"}";
  CHECK(mi::test::eventually([&] { return env.metric(checked) == 2 && env.metric(mismatches) == 0; }, 20s));
  CHECK(env.metric("mi_audit_last_run_timestamp_seconds") > 0);
  CHECK(env.metric("mi_audit_mismatches{kind=\"klines\"}") == 0);

  // A trade lost from the database (one in each hour) is found by the next scheduled run.
  env.pg.psql("DELETE FROM market_trades WHERE trade_id IN ('" + trades[7].trade_id + "', '" + current[7].trade_id +
              "')");
  CHECK(mi::test::eventually([&] { return env.metric(mismatches) == 1; }, 20s));
  CHECK(env.platform_log().find("audit mismatch") != std::string::npos);
  CHECK(env.stop_platform() == 0);
}

TEST_CASE("audit: clean -> exit 0, a deleted trade and a tampered kline are each reported, exit 1, bad usage exit 2") {
  platform_env env({"1m"});
  env.start_platform({"--roles", "kline,store"});
  auto js = connect(env);
  // 2 h of trades, one a minute per symbol (so one per 1m candle), starting 3 h before the current hour.
  constexpr std::int64_t hour_ns = 3'600'000'000'000LL;
  const std::int64_t start_ns = now_ns() / hour_ns * hour_ns - 3 * hour_ns;
  auto trades = make_trades(240, 0, start_ns + 500'000'000, 30'000'000'000LL);
  publish_all(*js, trades);
  REQUIRE(mi::test::eventually([&] { return env.stored_trades().size() == trades.size(); }, 30s));
  // Every trade in some stored final candle (the last window closes by the wall clock).
  REQUIRE(mi::test::eventually(
    [&] {
      std::uint64_t n = 0;
      for (const auto& k : env.stored_klines())
        n += k.trade_count;
      return n == trades.size();
    },
    60s));

  const std::string from_ms = std::to_string(start_ns / 1'000'000);
  const std::string to_ms = std::to_string((start_ns + 2 * hour_ns) / 1'000'000);
  auto audit = [&] {
    return mi::test::run({mi::test::binary(), "audit", "--config", env.config_path(), "--from", from_ms, "--to", to_ms},
                         {}, true);
  };
  auto clean = audit();
  INFO(clean.output);
  CHECK(clean.exit_code == 0);
  CHECK(clean.output.find("240 trades in MARKET_RAW") != std::string::npos);
  CHECK(clean.output.find("CLEAN") != std::string::npos);
  CHECK(clean.output.find("MISMATCH ") == std::string::npos);

  // A trade lost from the database: its hour and its candle no longer add up.
  const auto& lost = trades[7]; // ETHUSDT, minute 3 of the first hour
  env.pg.psql("DELETE FROM market_trades WHERE trade_id = '" + lost.trade_id + "'");
  auto missing = audit();
  INFO(missing.output);
  CHECK(missing.exit_code == 1);
  CHECK(missing.output.find("MISMATCH trades binance ETHUSDT hour ") != std::string::npos);
  CHECK(missing.output.find("MARKET_RAW 60, market_trades 59 (missing 1 in the database)") != std::string::npos);
  CHECK(missing.output.find("MISMATCH kline binance ETHUSDT 1m") != std::string::npos);
  CHECK(missing.output.find("trade_count 1, market_trades 0") != std::string::npos);

  // Put it back (as the saver would on a re-drive) and tamper a candle instead.
  auto w = mi::gw::pg_writer::connect(env.pg.conninfo());
  REQUIRE(w.has_value());
  REQUIRE((*w)->write_trades({lost}).has_value());
  CHECK(audit().exit_code == 0);
  env.pg.psql("UPDATE market_klines SET trade_count = trade_count + 5 WHERE symbol = 'BTCUSDT' AND open_time_ms = " +
              std::to_string((start_ns + 10 * 60'000'000'000LL) / 1'000'000));
  auto tampered = audit();
  INFO(tampered.output);
  CHECK(tampered.exit_code == 1);
  CHECK(tampered.output.find("MISMATCH kline binance BTCUSDT 1m open ") != std::string::npos);
  CHECK(tampered.output.find("trade_count 6, market_trades 1") != std::string::npos);
  CHECK(tampered.output.find("MISMATCH trades") == std::string::npos);

  // Usage and connection errors: 2.
  auto backwards = mi::test::run(
    {mi::test::binary(), "audit", "--config", env.config_path(), "--from", to_ms, "--to", from_ms}, {}, true);
  CHECK(backwards.exit_code == 2);
  CHECK(backwards.output.find("--from must be before --to") != std::string::npos);
  CHECK(env.stop_platform() == 0);
  env.nats.stop();
  auto no_nats = audit();
  CHECK(no_nats.exit_code == 2);
  CHECK(no_nats.output.find("audit: cannot connect") != std::string::npos);
}

TEST_CASE("store: an undecodable kline message goes to market.dlq.klines, the good candles are stored") {
  platform_env env({"1m"}, {}, {}, "  max_attempts: 2\n");
  env.start_platform({"--roles", "store"});
  auto js = connect(env);
  std::vector<mi::kline> good;
  const std::int64_t open_ms = now_ns() / 1'000'000 / 60'000 * 60'000 - 10 * 60'000;
  for (int i = 0; i < 3; ++i) {
    mi::kline k;
    k.exchange = "binance";
    k.symbol = "BTCUSDT";
    k.interval = "1m";
    k.open_time_ms = open_ms + i * 60'000;
    k.close_time_ms = k.open_time_ms + 59'999;
    k.open = k.high = k.low = k.close = k.vwap = *mi::decimal::parse("16500.12");
    k.volume = k.taker_buy_volume = *mi::decimal::parse("0.001");
    k.quote_volume = k.taker_buy_quote_volume = *mi::decimal::parse("16.50012");
    k.trade_count = 1;
    k.first_trade_id = k.last_trade_id = std::to_string(100 + i);
    k.is_final = true;
    good.push_back(k);
  }
  publish(*js, {mi::kline_subject(good[0]), mi::dedup_id(good[0]), std::string(mi::kline_content_type),
                mi::encode_kline_pb(good[0])});
  const auto junk_seq = publish(
    *js, {"market.kline.binance.BTCUSDT.1m", "junk-k", std::string(mi::kline_content_type), "definitely not a kline"});
  for (int i = 1; i < 3; ++i)
    publish(*js, {mi::kline_subject(good[i]), mi::dedup_id(good[i]), std::string(mi::kline_content_type),
                  mi::encode_kline_pb(good[i])});
  REQUIRE(mi::test::eventually([&] { return env.stream_messages("MARKET_DLQ") == 1; }, 60s));
  auto m = js->get_message("MARKET_DLQ", 1);
  REQUIRE(m.has_value());
  REQUIRE(m->has_value());
  CHECK((*m)->subject() == "market.dlq.klines");
  CHECK((*m)->header("Mi-Dlq-Stream") == std::optional<std::string>("MARKET_KLINE"));
  CHECK((*m)->header("Mi-Dlq-Sequence") == std::optional<std::string>(std::to_string(junk_seq)));
  CHECK((*m)->header("Mi-Dlq-Attempts") == std::optional<std::string>("2"));
  CHECK((*m)->header("Mi-Dlq-Reason").value_or("").find("undecodable kline") != std::string::npos);
  CHECK((*m)->data() == "definitely not a kline");
  REQUIRE(mi::test::eventually([&] { return env.stored_klines().size() == 3; }, 30s));
  CHECK(canonical(env.stored_klines()) == canonical(good));
  CHECK(env.metric("mi_dead_letters_total{kind=\"klines\"}") == 1);
  CHECK(env.stop_platform() == 0);
}

TEST_CASE(
  "store: messages delivered again with their sequences are skipped by sequence, a trade under a new one by the key") {
  platform_env env({"1m"});
  env.start_platform({"--roles", "store"});
  auto js = connect(env);
  const auto trades = make_trades(500, 0, now_ns() - 3600 * 1'000'000'000LL, 1'000'000'000LL);
  publish_all(*js, trades);
  REQUIRE(mi::test::eventually([&] { return env.stored_trades().size() == 500; }, 30s));
  REQUIRE(mi::test::eventually([&] { return env.metric(lag_trades) == 0; }, 10s));
  CHECK(env.stop_platform() == 0);

  // Delete the durable consumer: the next saver creates it again and JetStream delivers every message of MARKET_RAW
  // again, with the same stream sequences (what a lost ack does to one batch, here to all of them).
  {
    natsConnection* raw_nc = nullptr;
    REQUIRE(natsConnection_ConnectTo(&raw_nc, env.nats.url().c_str()) == NATS_OK);
    std::unique_ptr<natsConnection, decltype(&natsConnection_Destroy)> nc{raw_nc, &natsConnection_Destroy};
    natsMsg* raw_reply = nullptr;
    REQUIRE(natsConnection_RequestString(&raw_reply, nc.get(), "$JS.API.CONSUMER.DELETE.MARKET_RAW.saver_trades", "",
                                         5000) == NATS_OK);
    std::unique_ptr<natsMsg, decltype(&natsMsg_Destroy)> reply{raw_reply, &natsMsg_Destroy};
    const std::string answer(natsMsg_GetData(reply.get()),
                             static_cast<std::size_t>(natsMsg_GetDataLength(reply.get())));
    CHECK_MESSAGE(answer.find("\"success\":true") != std::string::npos, answer);
  }
  // And one stored trade published again without a dedup id (as `dlq redrive` does): a new sequence.
  auto again = as_message(trades[7]);
  again.msg_id.clear();
  publish(*js, again);

  env.start_platform({"--roles", "store"});
  REQUIRE(mi::test::eventually(
    [&] {
      return env.metric("mi_saver_redelivered_total{table=\"market_trades\"}") == 500 && env.metric(lag_trades) == 0;
    },
    30s));
  CHECK(env.metric("mi_saver_key_fallbacks_total{table=\"market_trades\"}") == 1);
  CHECK(canonical(env.stored_trades()) == canonical(trades));
  CHECK(env.pg.psql("SELECT sum(trade_count) FROM market_symbols") == "500");
  CHECK(env.stop_platform() == 0);
}

TEST_CASE("store: with one ack per stored run (saver.acks: batch), messages deleted from MARKET_RAW are passed over "
          "and the durable is acked to the end") {
  platform_env env({"1m"});
  auto [js, trades, seqs] = published_before_the_saver(env, 300);
  // Two messages gone from the middle of the stream: the saver's deliveries skip them, leaving holes no ack of its own
  // would cover.
  std::vector<mi::trade> kept;
  for (std::size_t i = 0; i < trades.size(); ++i) {
    if (i == 99 || i == 199) {
      auto d = js->delete_message("MARKET_RAW", seqs[i]);
      REQUIRE(d.has_value());
      REQUIRE(*d);
    } else {
      kept.push_back(trades[i]);
    }
  }
  env.start_platform({"--roles", "store"});
  REQUIRE(mi::test::eventually([&] { return env.stored_trades().size() == kept.size(); }, 30s));
  CHECK(canonical(env.stored_trades()) == canonical(kept));
  // The holes are found gone from the stream and every stored message acked: nothing stays pending, nothing comes back.
  auto acked_to_end = [&] {
    auto cs = js->consumers("MARKET_RAW");
    if (!cs)
      return false;
    for (const auto& c : *cs)
      if (c.name == "saver_trades")
        return c.ack_floor == seqs.back() && c.ack_pending == 0 && c.pending == 0;
    return false;
  };
  CHECK(mi::test::eventually(acked_to_end, 20s));
  CHECK(mi::test::eventually([&] { return env.metric(lag_trades) == 0; }, 10s));
  CHECK(env.metric("mi_saver_redelivered_total{table=\"market_trades\"}") <= 0); // nothing delivered twice
  CHECK(env.stop_platform() == 0);
}

TEST_CASE("store: with one ack per stored run, a message another saver holds keeps the acks above it back "
          "(mi_saver_acks_held) until it comes back after ack_wait, then everything is stored and acked") {
  platform_env env({"1m"});
  auto [js, trades, seqs] = published_before_the_saver(env, 200);
  // Another saver of the same durable (its spec as the platform's: 10 s ack wait, batch 1000) takes the first message
  // and neither stores nor acks it.
  mi::gw::pull_consumer::spec sp{"MARKET_RAW", "saver_trades", "market.raw.>", 10s, 4 * 1000 + 1000};
  sp.ack_all = true;
  auto other = mi::gw::pull_consumer::create(*js, sp);
  REQUIRE_MESSAGE(other.has_value(), (other ? "" : other.err().message));
  auto taken = (*other)->fetch(1, 5s, 0ms);
  REQUIRE(taken.has_value());
  REQUIRE(taken->size() == 1);
  CHECK((*taken)[0].stream_seq() == seqs.front());
  const auto taken_at = std::chrono::steady_clock::now();

  env.start_platform({"--roles", "store"});
  const std::string held = "mi_saver_acks_held{consumer=\"saver_trades\"}";
  auto saver_trades = [&]() -> std::optional<mi::gw::consumer_state> {
    auto cs = js->consumers("MARKET_RAW");
    if (cs)
      for (const auto& c : *cs)
        if (c.name == "saver_trades")
          return c;
    return std::nullopt;
  };
  // The saver stores the other 199 but acks none of them: an ack of any would ack the held message too.
  REQUIRE(mi::test::eventually([&] { return env.stored_trades().size() == 199; }, 8s));
  CHECK(mi::test::eventually([&] { return env.metric(held) == 199; }, 3s));
  REQUIRE_MESSAGE(std::chrono::steady_clock::now() - taken_at < 9s, "too slow to see the hold before ack_wait ends");
  auto c = saver_trades();
  REQUIRE(c.has_value());
  CHECK(c->ack_floor == 0);

  // After ack_wait the held message is delivered again, to the platform's saver: all stored once, acked to the end.
  REQUIRE(mi::test::eventually([&] { return env.stored_trades().size() == trades.size(); }, 30s));
  CHECK(canonical(env.stored_trades()) == canonical(trades));
  CHECK(mi::test::eventually(
    [&] {
      auto c = saver_trades();
      return c && c->ack_floor == seqs.back() && c->ack_pending == 0 && c->pending == 0;
    },
    20s));
  CHECK(mi::test::eventually([&] { return env.metric(held) == 0; }, 10s));
  CHECK(env.stop_platform() == 0);
}
