// Integration tests of the JetStream gateway against a real nats-server (tests/harness).
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/jetstream/sync_publish.hpp"
#include "tests/harness/nats_server.hpp"
#include "tests/harness/process.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <numeric>
#include <mutex>
#include <nats/nats.h>
#include <set>
#include <thread>
#include <tuple>

using namespace std::chrono_literals;
using mi::gw::jetstream;
using mi::gw::js_message;
using mi::gw::ordered_consumer;
using mi::gw::outgoing;
using mi::gw::publish_outcome;
using mi::gw::pull_consumer;
using mi::gw::stream_spec;

namespace {

stream_spec raw_stream() {
  stream_spec s;
  s.name = "MARKET_RAW";
  s.subjects = {"market.raw.>"};
  return s;
}

const char* content_type = "application/x-protobuf; proto=market.v1.Trade";

outgoing trade_msg(int i, const std::string& symbol = "BTCUSDT") {
  return outgoing{"market.raw.binance." + symbol, "binance:" + symbol + ":" + std::to_string(i), content_type,
                  "trade-" + std::to_string(i)};
}

struct outcome_counter {
  std::atomic<int> ok{0};
  std::atomic<int> duplicate{0};
  std::atomic<int> failed{0};
  std::mutex mu;
  std::string last_error;
  std::function<void(const publish_outcome&)> listener() {
    return [this](const publish_outcome& o) {
      if (!o.ok) {
        failed++;
        std::lock_guard lock(mu);
        last_error = o.error;
        return;
      }
      ok++;
      if (o.duplicate)
        duplicate++;
    };
  }
};

std::unique_ptr<jetstream> connect(const mi::test::nats_server& server,
                                   std::function<void(const publish_outcome&)> listener = {},
                                   std::chrono::milliseconds ack_timeout = 5000ms, int max_retries = 10,
                                   std::function<void(std::string_view)> on_retry = {}) {
  jetstream::options o;
  o.url = server.url();
  o.on_outcome = std::move(listener);
  o.on_retry = std::move(on_retry);
  o.ack_timeout = ack_timeout;
  o.max_retries = max_retries;
  auto js = jetstream::connect(o);
  REQUIRE_MESSAGE(js.has_value(), (js ? "" : js.err().message));
  return std::move(*js);
}

// Collects an ordered consumer's deliveries.
struct collected {
  std::mutex mu;
  std::vector<std::pair<std::uint64_t, std::string>> msgs; // (stream seq, data)
  std::function<void(js_message&&)> sink() {
    return [this](js_message&& m) {
      std::lock_guard lock(mu);
      msgs.emplace_back(m.stream_seq(), std::string(m.data()));
    };
  }
  std::size_t size() {
    std::lock_guard lock(mu);
    return msgs.size();
  }
};

std::vector<js_message> fetch_n(pull_consumer& c, std::size_t n, std::chrono::milliseconds timeout) {
  std::vector<js_message> all;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (all.size() < n && std::chrono::steady_clock::now() < deadline) {
    auto batch = c.fetch(static_cast<int>(std::min<std::size_t>(n - all.size(), 500)), 1000ms);
    REQUIRE_MESSAGE(batch.has_value(), (batch ? "" : batch.err().message));
    for (auto& m : *batch)
      all.push_back(std::move(m));
  }
  return all;
}

} // namespace

TEST_CASE("ensure_stream creates a stream, accepts the same spec again and updates max_age") {
  mi::test::nats_server server;
  auto js = connect(server);
  auto spec = raw_stream();
  auto created = js->ensure_stream(spec);
  REQUIRE_MESSAGE(created.has_value(), (created ? "" : created.err().message));
  CHECK(created->messages == 0);

  auto again = js->ensure_stream(spec);
  REQUIRE(again.has_value());
  auto st = js->state("MARKET_RAW");
  REQUIRE(st.has_value());
  CHECK(st->messages == 0);

  spec.max_age = std::chrono::hours(24);
  auto updated = js->ensure_stream(spec);
  CHECK_MESSAGE(updated.has_value(), (updated ? "" : updated.err().message));

  SUBCASE("a refused update is an error naming the stream") {
    auto memory = spec;
    memory.file_storage = false;
    auto refused = js->ensure_stream(memory);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.err().message.find("MARKET_RAW") != std::string::npos);
  }
}

TEST_CASE("publish_async of 10,000 trades stores each once, and republishing them is deduplicated") {
  mi::test::nats_server server;
  outcome_counter outcomes;
  auto js = connect(server, outcomes.listener());
  REQUIRE(js->ensure_stream(raw_stream()).has_value());

  for (int i = 0; i < 10'000; ++i)
    REQUIRE(js->publish_async(trade_msg(i)).has_value());
  auto flushed = js->flush(30s);
  REQUIRE_MESSAGE(flushed.has_value(), (flushed ? "" : flushed.err().message));
  CHECK(js->in_flight() == 0);
  CHECK(js->state("MARKET_RAW")->messages == 10'000);
  CHECK(outcomes.ok == 10'000);
  CHECK(outcomes.duplicate == 0);
  CHECK(outcomes.failed == 0);

  for (int i = 0; i < 10'000; ++i)
    REQUIRE(js->publish_async(trade_msg(i)).has_value());
  REQUIRE(js->flush(30s).has_value());
  CHECK(js->state("MARKET_RAW")->messages == 10'000);
  CHECK(outcomes.ok == 20'000);
  CHECK(outcomes.duplicate == 10'000);
  CHECK(outcomes.failed == 0);
  CHECK(js->retries() == 0);
}

TEST_CASE("publish_sync reports the sequence and duplicates") {
  mi::test::nats_server server;
  auto js = connect(server);
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  auto first = js->publish_sync(trade_msg(42));
  REQUIRE(first.has_value());
  CHECK(*first == std::pair<std::uint64_t, bool>{1, false});
  auto second = js->publish_sync(trade_msg(42));
  REQUIRE(second.has_value());
  CHECK(*second == std::pair<std::uint64_t, bool>{1, true});
}

TEST_CASE("a header that would break NATS's header block is refused before it is sent, and the connection goes on") {
  mi::test::nats_server server;
  auto js = connect(server);
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  // An exchange's trade id is outside input, and part of Nats-Msg-Id: with CRLF in it, the block would carry a
  // second, forged dedup id.
  auto forged = trade_msg(1);
  forged.msg_id = "binance:BTCUSDT:1\r\nNats-Msg-Id: binance:BTCUSDT:2";
  auto async = js->publish_async(forged);
  REQUIRE_FALSE(async.has_value());
  CHECK(async.err().code == mi::errc::bad_input);
  CHECK(async.err().message.find("header 'Nats-Msg-Id'") != std::string::npos);
  CHECK(js->in_flight() == 0);
  auto sync = js->publish_sync(forged);
  REQUIRE_FALSE(sync.has_value());
  CHECK(sync.err().code == mi::errc::bad_input);

  REQUIRE(js->publish_async(trade_msg(2)).has_value());
  REQUIRE(js->flush(10s).has_value());
  CHECK(js->state("MARKET_RAW")->messages == 1);
  auto last = js->last_message("MARKET_RAW", "market.raw.binance.BTCUSDT");
  REQUIRE(last.has_value());
  REQUIRE(last->has_value());
  CHECK((*last)->header("Nats-Msg-Id") == std::string("binance:BTCUSDT:2"));
  CHECK((*last)->header("Content-Type") == std::string(content_type));
  CHECK((*last)->data() == "trade-2");
}

TEST_CASE("a durable pull consumer re-created after acking resumes after the acked messages") {
  mi::test::nats_server server;
  auto js = connect(server);
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  for (int i = 1; i <= 100; ++i)
    REQUIRE(js->publish_async(trade_msg(i)).has_value());
  REQUIRE(js->flush(10s).has_value());

  pull_consumer::spec spec{"MARKET_RAW", "writer_pg", "market.raw.>"};
  {
    auto c = pull_consumer::create(*js, spec);
    REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.err().message));
    auto msgs = fetch_n(**c, 100, 10s);
    REQUIRE(msgs.size() == 100);
    for (std::size_t i = 0; i < msgs.size(); ++i) {
      CHECK(msgs[i].stream_seq() == i + 1);
      CHECK(msgs[i].num_delivered() == 1);
      CHECK(msgs[i].header("Nats-Msg-Id") == "binance:BTCUSDT:" + std::to_string(i + 1));
      CHECK(msgs[i].header("Content-Type") == std::string(content_type));
      REQUIRE(msgs[i].ack().has_value());
    }
    CHECK(mi::test::eventually([&] { return (*c)->pending().has_value() && *(*c)->pending() == 0; }, 5s));
  }
  for (int i = 101; i <= 120; ++i)
    REQUIRE(js->publish_async(trade_msg(i)).has_value());
  REQUIRE(js->flush(10s).has_value());

  auto c = pull_consumer::create(*js, spec);
  REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.err().message));
  CHECK(*(*c)->pending() == 20);
  auto msgs = fetch_n(**c, 20, 10s);
  REQUIRE(msgs.size() == 20);
  CHECK(msgs.front().stream_seq() == 101);
  CHECK(msgs.back().stream_seq() == 120);
  CHECK(msgs.front().data() == "trade-101");
  for (auto& m : msgs) {
    CHECK(m.num_delivered() == 1);
    REQUIRE(m.ack().has_value());
  }
  auto more = (*c)->fetch(10, 300ms);
  REQUIRE(more.has_value());
  CHECK(more->empty());
}

TEST_CASE("un-acked messages are redelivered after ack_wait") {
  mi::test::nats_server server;
  auto js = connect(server);
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  for (int i = 1; i <= 3; ++i)
    REQUIRE(js->publish_sync(trade_msg(i)).has_value());
  pull_consumer::spec spec{"MARKET_RAW", "saver", "market.raw.>"};
  spec.ack_wait = 1s;
  auto c = pull_consumer::create(*js, spec);
  REQUIRE(c.has_value());
  auto first = fetch_n(**c, 3, 5s);
  REQUIRE(first.size() == 3);
  // Not acked: each of the three comes back once ack_wait has passed. On a loaded machine a
  // redelivery can already overlap the first fetch, so collect by sequence, not by position.
  std::set<std::uint64_t> redelivered;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (redelivered.size() < 3 && std::chrono::steady_clock::now() < deadline) {
    auto got = (*c)->fetch(3, 1s);
    REQUIRE(got.has_value());
    for (auto& m : *got) {
      if (m.num_delivered() < 2)
        continue; // a first delivery (late on a loaded machine): left un-acked, it comes back too
      redelivered.insert(m.stream_seq());
      REQUIRE(m.ack().has_value());
    }
  }
  CHECK(redelivered == std::set<std::uint64_t>{1, 2, 3});
}

TEST_CASE("a fetch that gathers in slices returns the messages that arrive one by one during it, each once") {
  mi::test::nats_server server;
  auto js = connect(server);
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  pull_consumer::spec spec{"MARKET_RAW", "saver", "market.raw.>"};
  auto c = pull_consumer::create(*js, spec);
  REQUIRE(c.has_value());
  REQUIRE(js->publish_sync(trade_msg(1)).has_value());
  // Four more arrive while the fetch waits, 30 ms apart (longer than a slice): the fetch sleeps between slices
  // and must still hand back every one of them, in order, and return once the batch is full.
  std::atomic<bool> published{true};
  std::thread producer([&] {
    for (int i = 2; i <= 5; ++i) {
      std::this_thread::sleep_for(30ms);
      if (!js->publish_sync(trade_msg(i)))
        published = false;
    }
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto got = (*c)->fetch(5, 5s, 20ms);
  const auto took = std::chrono::steady_clock::now() - t0;
  producer.join();
  REQUIRE(published.load());
  REQUIRE(got.has_value());
  REQUIRE(got->size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(got->at(i).stream_seq() == i + 1);
    CHECK(got->at(i).num_delivered() == 1);
    REQUIRE(got->at(i).ack().has_value());
  }
  CHECK(took < 4s); // the full batch ended the wait, not the 5 s timeout
  // Fewer than asked for: what came is returned when the timeout ends (not an error), nothing twice.
  REQUIRE(js->publish_sync(trade_msg(6)).has_value());
  auto rest = (*c)->fetch(10, 500ms, 20ms);
  REQUIRE(rest.has_value());
  REQUIRE(rest->size() == 1);
  CHECK(rest->at(0).stream_seq() == 6);
}

TEST_CASE("a fetch waits for its whole timeout even when it is 1 ms, so a caller looping on it cannot spin") {
  mi::test::nats_server server;
  auto js = connect(server);
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  pull_consumer::spec spec{"MARKET_RAW", "saver", "market.raw.>"};
  auto c = pull_consumer::create(*js, spec);
  REQUIRE(c.has_value());
  // Nothing to deliver: each call must wait its 1 ms (a truncated wait returned at once, sending a pull request
  // every few µs from a loop that runs until its own deadline).
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    auto got = (*c)->fetch(10, 1ms);
    REQUIRE(got.has_value());
    CHECK(got->empty());
  }
  // nats.c's own wait may end up to 1 ms early (its clock counts whole ms): the fetch waits again until its deadline.
  CHECK(std::chrono::steady_clock::now() - t0 >= 100ms);
}

TEST_CASE(
  "consumers() reports each durable consumer's pending, unacked and redelivered messages as the server counts") {
  mi::test::nats_server server;
  auto js = connect(server);
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  auto none = js->consumers("MARKET_RAW");
  REQUIRE(none.has_value());
  CHECK(none->empty());
  for (int i = 1; i <= 5; ++i)
    REQUIRE(js->publish_sync(trade_msg(i)).has_value());
  pull_consumer::spec spec{"MARKET_RAW", "saver", "market.raw.>"};
  spec.ack_wait = 1s;
  auto c = pull_consumer::create(*js, spec);
  REQUIRE(c.has_value());
  REQUIRE(fetch_n(**c, 3, 5s).size() == 3); // 3 delivered, not acked; 2 not delivered
  std::vector<js_message> again;
  REQUIRE(mi::test::eventually(
    [&] {
      auto got = (*c)->fetch(3, 500ms);
      for (auto& m : *got)
        again.push_back(std::move(m));
      return again.size() >= 3;
    },
    10s));
  mi::result<std::vector<mi::gw::consumer_state>> cs = mi::error{"not read"};
  const bool seen = mi::test::eventually(
    [&] {
      cs = js->consumers("MARKET_RAW");
      return cs && cs->size() == 1 && cs->at(0).redelivered >= 1;
    },
    5s);
  REQUIRE_MESSAGE(seen,
                  (cs ? "redelivered " + std::to_string(cs->empty() ? 0 : cs->at(0).redelivered) : cs.err().message));
  CHECK(cs->at(0).name == "saver");
  CHECK(cs->at(0).pending + cs->at(0).ack_pending == 5);
  for (auto& m : again)
    REQUIRE(m.ack().has_value());
  auto rest = fetch_n(**c, 5, 5s);
  for (auto& m : rest)
    REQUIRE(m.ack().has_value());
  REQUIRE(mi::test::eventually(
    [&] {
      auto now = js->consumers("MARKET_RAW");
      return now && now->size() == 1 && now->at(0).ack_pending == 0 && now->at(0).pending == 0 &&
             now->at(0).ack_floor == 5;
    },
    5s));
}

TEST_CASE("an ordered consumer from sequence 0 delivers only messages published after it starts") {
  mi::test::nats_server server;
  auto js = connect(server);
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  for (int i = 1; i <= 5; ++i)
    REQUIRE(js->publish_sync(trade_msg(i)).has_value());
  collected got;
  {
    auto oc = ordered_consumer::start(*js, "MARKET_RAW", "market.raw.>", 0, got.sink());
    REQUIRE_MESSAGE(oc.has_value(), (oc ? "" : oc.err().message));
    for (int i = 6; i <= 10; ++i)
      REQUIRE(js->publish_sync(trade_msg(i)).has_value());
    REQUIRE(mi::test::eventually([&] { return got.size() >= 5; }, 5s));
  }
  std::lock_guard lock(got.mu);
  REQUIRE(got.msgs.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(got.msgs[i].first == 6 + i);
    CHECK(got.msgs[i].second == "trade-" + std::to_string(6 + i));
  }
}

TEST_CASE("publish_core reaches a core subscription on its subject only, and nothing after it ends") {
  mi::test::nats_server server;
  auto js = connect(server);
  auto other = connect(server); // the publisher is another process in production (apikey revoke)
  collected got;
  {
    auto sub = mi::gw::core_subscription::start(*js, "market.control.apikey.revoked", got.sink());
    REQUIRE_MESSAGE(sub.has_value(), (sub ? "" : sub.err().message));
    REQUIRE(other->publish_core("market.control.other", "x").has_value());
    REQUIRE(other->publish_core("market.control.apikey.revoked", "mik_1").has_value());
    REQUIRE(other->publish_core("market.control.apikey.revoked", "mik_2").has_value());
    REQUIRE(mi::test::eventually([&] { return got.size() >= 2; }, 5s));
  }
  REQUIRE(other->publish_core("market.control.apikey.revoked", "mik_3").has_value());
  REQUIRE(other->publish_core("market.control.apikey.revoked", "mik_4").has_value());
  std::lock_guard lock(got.mu);
  REQUIRE(got.msgs.size() == 2);
  CHECK(got.msgs[0].second == "mik_1");
  CHECK(got.msgs[1].second == "mik_2");
}

TEST_CASE("publish_core_buffered reaches a core subscriber with its headers, and no stream stores it") {
  mi::test::nats_server server;
  auto js = connect(server);
  stream_spec kline;
  kline.name = "MARKET_KLINE";
  kline.subjects = {"market.kline.>"};
  REQUIRE(js->ensure_stream(kline).has_value());
  auto other = connect(server); // the kline stage publishes, the push gateway subscribes
  std::mutex mu;
  std::vector<std::tuple<std::string, std::string, std::string>> got; // subject, Content-Type, payload
  auto sub = mi::gw::core_subscription::start(*js, "market.partial.>", [&](js_message&& m) {
    std::lock_guard lock(mu);
    got.emplace_back(std::string(m.subject()), m.header("Content-Type").value_or("-"), std::string(m.data()));
  });
  REQUIRE_MESSAGE(sub.has_value(), (sub ? "" : sub.err().message));
  for (int i = 1; i <= 3; ++i)
    REQUIRE(other
              ->publish_core_buffered(
                outgoing{"market.partial.binance.BTCUSDT.1m", "", "application/x-protobuf", "p" + std::to_string(i)})
              .has_value());
  REQUIRE(mi::test::eventually(
    [&] {
      std::lock_guard lock(mu);
      return got.size() >= 3;
    },
    5s));
  {
    std::lock_guard lock(mu);
    REQUIRE(got.size() == 3);
    for (int i = 0; i < 3; ++i) {
      CHECK(std::get<0>(got[i]) == "market.partial.binance.BTCUSDT.1m");
      CHECK(std::get<1>(got[i]) == "application/x-protobuf");
      CHECK(std::get<2>(got[i]) == "p" + std::to_string(i + 1));
    }
  }
  CHECK(js->state("MARKET_KLINE")->messages == 0);
}

TEST_CASE("publish_acked retries until the stream exists, then the message is stored once") {
  mi::test::nats_server server;
  auto js = connect(server, {}, 500ms);
  auto admin = connect(server);
  std::atomic<int> retries{0};
  std::atomic<bool> created{false};
  std::thread later([&] {
    // The stream appears only after the first attempts failed (no responders).
    while (retries.load() < 2)
      std::this_thread::sleep_for(5ms);
    created = admin->ensure_stream(raw_stream()).has_value();
  });
  auto r = mi::gw::publish_acked(*js, trade_msg(7), mi::gw::retry_policy{10ms, 50ms, 0},
                                 [&](const mi::error&, std::chrono::milliseconds) { ++retries; });
  later.join();
  REQUIRE(created.load());
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.err().message));
  CHECK(retries.load() >= 2);
  CHECK_FALSE(r->second);
  auto again = mi::gw::publish_acked(*js, trade_msg(7), mi::gw::one_attempt);
  REQUIRE(again.has_value());
  CHECK(again->second); // the same Nats-Msg-Id: a duplicate, nothing new stored
  CHECK(js->state("MARKET_RAW")->messages == 1);
}

TEST_CASE("an ordered consumer from sequence N delivers N..last in order, then new ones") {
  mi::test::nats_server server;
  auto js = connect(server);
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  for (int i = 1; i <= 10; ++i)
    REQUIRE(js->publish_sync(trade_msg(i)).has_value());
  collected got;
  auto oc = ordered_consumer::start(*js, "MARKET_RAW", "market.raw.>", 4, got.sink());
  REQUIRE_MESSAGE(oc.has_value(), (oc ? "" : oc.err().message));
  REQUIRE(mi::test::eventually([&] { return got.size() >= 7; }, 5s));
  REQUIRE(js->publish_sync(trade_msg(11)).has_value());
  REQUIRE(mi::test::eventually([&] { return got.size() >= 8; }, 5s));
  oc->reset();
  std::lock_guard lock(got.mu);
  REQUIRE(got.msgs.size() == 8);
  for (std::size_t i = 0; i < 8; ++i)
    CHECK(got.msgs[i].first == 4 + i);
}

TEST_CASE(
  "an ordered consumer filling stream gaps reads the sequences it never received, in order, past deleted ones") {
  mi::test::nats_server server;
  auto js = connect(server);
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  REQUIRE(js->publish_sync(trade_msg(1)).has_value());            // seq 1
  REQUIRE(js->publish_sync(trade_msg(2)).has_value());            // seq 2
  REQUIRE(js->publish_sync(trade_msg(1, "ETHUSDT")).has_value()); // seq 3, deleted below
  REQUIRE(js->publish_sync(trade_msg(2, "ETHUSDT")).has_value()); // seq 4
  REQUIRE(js->publish_sync(trade_msg(3)).has_value());            // seq 5
  auto deleted = js->delete_message("MARKET_RAW", 3);
  REQUIRE((deleted && *deleted));
  // The consumer is filtered to BTCUSDT, so the client library delivers 1, 2, 5, 6, 8 and never 4 or 7: this is how
  // the test makes sequences go missing (in production the filter covers the stream and a skip is nats.c's).
  auto run = [&](mi::gw::stream_gaps gaps) {
    collected got;
    auto oc = ordered_consumer::start(*js, "MARKET_RAW", "market.raw.binance.BTCUSDT", 1, got.sink(), gaps);
    REQUIRE_MESSAGE(oc.has_value(), (oc ? "" : oc.err().message));
    REQUIRE(mi::test::eventually([&] { return got.size() >= (gaps == mi::gw::stream_gaps::fill ? 4u : 3u); }, 5s));
    if (js->state("MARKET_RAW")->messages == 4) {                     // the live part, published once
      REQUIRE(js->publish_sync(trade_msg(4)).has_value());            // seq 6
      REQUIRE(js->publish_sync(trade_msg(3, "ETHUSDT")).has_value()); // seq 7
      REQUIRE(js->publish_sync(trade_msg(5)).has_value());            // seq 8
    }
    REQUIRE(mi::test::eventually([&] { return got.size() >= (gaps == mi::gw::stream_gaps::fill ? 7u : 5u); }, 5s));
    std::this_thread::sleep_for(200ms); // nothing more arrives
    oc->reset();
    std::lock_guard lock(got.mu);
    return got.msgs;
  };
  using seq_data = std::vector<std::pair<std::uint64_t, std::string>>;
  CHECK(
    run(mi::gw::stream_gaps::fill) ==
    seq_data{
      {1, "trade-1"}, {2, "trade-2"}, {4, "trade-2"}, {5, "trade-3"}, {6, "trade-4"}, {7, "trade-3"}, {8, "trade-5"}});
  CHECK(run(mi::gw::stream_gaps::ignore) ==
        seq_data{{1, "trade-1"}, {2, "trade-2"}, {5, "trade-3"}, {6, "trade-4"}, {8, "trade-5"}});
}

TEST_CASE("last_message and get_message read stored messages by subject and sequence") {
  mi::test::nats_server server;
  auto js = connect(server);
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  auto before_ns =
    std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (int i = 1; i <= 3; ++i)
    REQUIRE(js->publish_sync(trade_msg(i, "BTCUSDT")).has_value());
  for (int i = 1; i <= 2; ++i)
    REQUIRE(js->publish_sync(trade_msg(i, "ETHUSDT")).has_value());

  auto last = js->last_message("MARKET_RAW", "market.raw.binance.BTCUSDT");
  REQUIRE_MESSAGE(last.has_value(), (last ? "" : last.err().message));
  REQUIRE(last->has_value());
  CHECK((*last)->data() == "trade-3");
  CHECK((*last)->subject() == "market.raw.binance.BTCUSDT");
  CHECK((*last)->stream_seq() == 3);
  CHECK((*last)->header("Nats-Msg-Id") == std::string("binance:BTCUSDT:3"));
  CHECK((*last)->timestamp_ns() >= before_ns - 1'000'000'000);

  auto none = js->last_message("MARKET_RAW", "market.raw.binance.SOLUSDT");
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());

  auto by_seq = js->get_message("MARKET_RAW", 5);
  REQUIRE(by_seq.has_value());
  REQUIRE(by_seq->has_value());
  CHECK((*by_seq)->data() == "trade-2");
  CHECK((*by_seq)->subject() == "market.raw.binance.ETHUSDT");
  auto beyond = js->get_message("MARKET_RAW", 99);
  REQUIRE(beyond.has_value());
  CHECK_FALSE(beyond->has_value());

  CHECK_FALSE(js->last_message("NO_SUCH_STREAM", "x").has_value());
}

TEST_CASE("key-value put, get and keys") {
  mi::test::nats_server server;
  auto js = connect(server);
  REQUIRE(js->kv_ensure("ingest_state").has_value());
  auto missing = js->kv_keys("ingest_state");
  REQUIRE(missing.has_value());
  CHECK(missing->empty());
  REQUIRE(js->kv_put("ingest_state", "binance.BTCUSDT", "seq=10").has_value());
  REQUIRE(js->kv_put("ingest_state", "okx.ETHUSDT", "seq=7").has_value());
  REQUIRE(js->kv_put("ingest_state", "binance.BTCUSDT", "seq=11").has_value());
  auto value = js->kv_get("ingest_state", "binance.BTCUSDT");
  REQUIRE(value.has_value());
  CHECK(*value == std::optional<std::string>("seq=11"));
  auto absent = js->kv_get("ingest_state", "kraken.XBTUSD");
  REQUIRE(absent.has_value());
  CHECK_FALSE(absent->has_value());
  auto keys = js->kv_keys("ingest_state");
  REQUIRE(keys.has_value());
  CHECK(std::set<std::string>(keys->begin(), keys->end()) == std::set<std::string>{"binance.BTCUSDT", "okx.ETHUSDT"});
}

TEST_CASE("key-value create stores a key once across connections, and again after the bucket TTL") {
  mi::test::nats_server server;
  auto a = connect(server);
  auto b = connect(server);
  REQUIRE(a->kv_ensure("nonces", std::chrono::seconds(1)).has_value());
  auto first = a->kv_create("nonces", "mik_1.n1", "1");
  REQUIRE_MESSAGE(first.has_value(), (first ? "" : first.err().message));
  CHECK(*first);
  auto again = b->kv_create("nonces", "mik_1.n1", "1"); // another connection: the server decides
  REQUIRE(again.has_value());
  CHECK_FALSE(*again);
  CHECK(*b->kv_create("nonces", "mik_1.n2", "1"));
  // Entries expire with the bucket's TTL (the stream's max age): the key can be created again.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool recreated = false;
  while (!recreated && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto r = a->kv_create("nonces", "mik_1.n1", "1");
    REQUIRE(r.has_value());
    recreated = *r;
  }
  CHECK(recreated);
  // An existing bucket takes a new TTL (a changed api.timestamp_window).
  auto c = connect(server);
  CHECK(c->kv_ensure("nonces", std::chrono::seconds(30)).has_value());
  CHECK(*c->kv_create("nonces", "mik_1.n3", "1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500)); // beyond the old 1 s TTL
  CHECK_FALSE(*c->kv_create("nonces", "mik_1.n3", "1"));
}

TEST_CASE("key-value swap: create where absent, update only at the current revision, refused otherwise, and "
          "create again after a release to '' or the TTL") {
  mi::test::nats_server server;
  auto a = connect(server);
  auto b = connect(server);
  REQUIRE(a->kv_ensure("leases", std::chrono::seconds(2)).has_value());
  auto created = a->kv_swap("leases", "p.0", "node-a", 0);
  REQUIRE_MESSAGE(created.has_value(), (created ? "" : created.err().message));
  REQUIRE(created->has_value());
  const auto r1 = **created;
  auto read = b->kv_get_entry("leases", "p.0");
  REQUIRE(read.has_value());
  REQUIRE(read->has_value());
  CHECK((*read)->value == "node-a");
  CHECK((*read)->revision == r1);
  auto latest = b->kv_get_latest("leases", "p.0"); // the same, from the stream's leader
  REQUIRE_MESSAGE(latest.has_value(), (latest ? "" : latest.err().message));
  REQUIRE(latest->has_value());
  CHECK((*latest)->value == "node-a");
  CHECK((*latest)->revision == r1);
  CHECK_FALSE(b->kv_get_latest("leases", "p.9")->has_value()); // never written
  // Another node's create of a held key, and an update at a revision no longer current: refused by the server.
  auto contender = b->kv_swap("leases", "p.0", "node-b", 0);
  REQUIRE(contender.has_value());
  CHECK_FALSE(contender->has_value());
  auto renewed = a->kv_swap("leases", "p.0", "node-a", r1);
  REQUIRE(renewed.has_value());
  REQUIRE(renewed->has_value());
  CHECK(**renewed > r1);
  auto stale = b->kv_swap("leases", "p.0", "node-b", r1);
  REQUIRE(stale.has_value());
  CHECK_FALSE(stale->has_value());
  CHECK((*b->kv_get_entry("leases", "p.0"))->value == "node-a");
  // Released to "": the next owner takes it at that revision.
  auto released = a->kv_swap("leases", "p.0", "", **renewed);
  REQUIRE(released.has_value());
  REQUIRE(released->has_value());
  auto taken = b->kv_swap("leases", "p.0", "node-b", **released);
  REQUIRE(taken.has_value());
  CHECK(taken->has_value());
  // Not renewed: the entry expires with the bucket's TTL and a create succeeds again.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool expired = false;
  while (!expired && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto e = a->kv_get_entry("leases", "p.0");
    REQUIRE(e.has_value());
    expired = !e->has_value();
  }
  CHECK(expired);
  auto again = a->kv_swap("leases", "p.0", "node-a", 0);
  REQUIRE(again.has_value());
  CHECK(again->has_value());
  // Deleted: gone for readers and listings, and a create stores it again.
  REQUIRE(a->kv_delete("leases", "p.0").has_value());
  CHECK_FALSE(b->kv_get_entry("leases", "p.0")->has_value());
  CHECK_FALSE(b->kv_get_latest("leases", "p.0")->has_value());     // the delete marker is no value
  CHECK(*b->kv_keys("leases") == std::vector<std::string>{"p.0"}); // listed with its marker, no value
  auto after_delete = b->kv_swap("leases", "p.0", "node-b", 0);
  REQUIRE(after_delete.has_value());
  CHECK(after_delete->has_value());
}

TEST_CASE("publishes during a server outage are retried with the same id and land exactly once") {
  mi::test::nats_server server;
  outcome_counter outcomes;
  auto js = connect(server, outcomes.listener(), 300ms, 1000);
  REQUIRE(js->ensure_stream(raw_stream()).has_value());

  // In flight when the server stops: some stored and acked, some stored with the ack lost,
  // some never received.
  for (int i = 0; i < 3000; ++i)
    REQUIRE(js->publish_async(trade_msg(i)).has_value());
  server.stop();
  // Published while the server is down: buffered by nats.c, timed out, retried.
  for (int i = 3000; i < 3500; ++i)
    REQUIRE(js->publish_async(trade_msg(i)).has_value());
  REQUIRE(mi::test::eventually([&] { return js->retries() >= 500; }, 10s));
  CHECK(js->in_flight() > 0);
  server.start();

  auto flushed = js->flush(30s);
  REQUIRE_MESSAGE(flushed.has_value(), (flushed ? "" : flushed.err().message));
  CHECK(outcomes.failed == 0);
  CHECK(outcomes.ok == 3500);
  auto st = js->state("MARKET_RAW");
  REQUIRE(st.has_value());
  CHECK(st->messages == 3500);
  MESSAGE("retries: " << js->retries() << ", acked as duplicate: " << outcomes.duplicate.load());
}

TEST_CASE("a publish that keeps timing out fails after max_retries") {
  mi::test::nats_server server;
  outcome_counter outcomes;
  std::atomic<int> hook_calls{0};
  std::string hook_subject; // written by the retry thread only, read after flush
  auto js = connect(server, outcomes.listener(), 100ms, 2, [&](std::string_view subject) {
    ++hook_calls;
    hook_subject = subject;
  });
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  server.stop();
  REQUIRE(js->publish_async(trade_msg(1)).has_value());
  REQUIRE(js->flush(10s).has_value());
  CHECK(outcomes.failed == 1);
  CHECK(js->retries() == 2);
  // The on_retry hook (mi_publish_retries_total) saw each retry, with the message's subject.
  CHECK(hook_calls == 2);
  CHECK(hook_subject == trade_msg(1).subject);
  std::lock_guard lock(outcomes.mu);
  CHECK(outcomes.last_error.find("Timeout") != std::string::npos);
}

TEST_CASE("a publish the stream refuses fails at once with the server's reason and code, and is not retried") {
  mi::test::nats_server server;
  outcome_counter outcomes;
  auto js = connect(server, outcomes.listener(), 5000ms, 10);
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  auto m = trade_msg(1);
  m.headers = {{"Nats-Expected-Last-Sequence", "41"}}; // the stream is empty: the server refuses it
  REQUIRE(js->publish_async(m).has_value());
  REQUIRE(js->publish_async(trade_msg(2)).has_value());
  REQUIRE(js->flush(5s).has_value());
  CHECK(outcomes.failed == 1);
  CHECK(outcomes.ok == 1);
  CHECK(js->retries() == 0);
  CHECK(js->state("MARKET_RAW")->messages == 1);
  std::lock_guard lock(outcomes.mu);
  CHECK(outcomes.last_error.find("wrong last sequence") != std::string::npos);
  CHECK(outcomes.last_error.find("[jetstream error 10071]") != std::string::npos);
}

TEST_CASE("a publish nobody stores yet (no responders) is retried with growing pauses: stored once the stream "
          "exists, failed after max_retries without it") {
  mi::test::nats_server server;
  std::mutex mu;
  std::vector<publish_outcome> seen; // copies: ok, seq, stream kept as strings below
  std::vector<std::string> streams, errors;
  auto js = connect(
    server,
    [&](const publish_outcome& o) {
      std::lock_guard lock(mu);
      seen.push_back(publish_outcome{o.ok, o.duplicate, o.seq, {}, o.event_ts_ns, o.error, {}, {}});
      streams.emplace_back(o.stream);
      errors.push_back(o.error);
    },
    5000ms, 5);
  auto m = trade_msg(7);
  m.event_ts_ns = 1234;
  REQUIRE(js->publish_async(m).has_value()); // no stream yet: nats-server answers "no responders"
  REQUIRE(mi::test::eventually([&] { return js->retries() >= 1; }, 5s));
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  REQUIRE(js->flush(10s).has_value());
  {
    std::lock_guard lock(mu);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].ok);
    CHECK(seen[0].seq == 1);
    CHECK(seen[0].event_ts_ns == 1234); // the caller's event time comes back with the ack, across the retries
    CHECK(streams[0] == "MARKET_RAW");
  }
  CHECK(js->state("MARKET_RAW")->messages == 1);

  // A subject no stream takes: 5 retries after 100, 200, 300, 400 and 500 ms, then a failure that says why.
  outgoing nowhere{"nowhere.at.all", "n:1", content_type, "x"};
  const auto t0 = std::chrono::steady_clock::now();
  const auto before = js->retries();
  REQUIRE(js->publish_async(nowhere).has_value());
  REQUIRE(js->flush(10s).has_value());
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(js->retries() - before == 5);
  CHECK(took >= 1500ms);
  std::lock_guard lock(mu);
  REQUIRE(seen.size() == 2);
  CHECK_FALSE(seen[1].ok);
  CHECK(errors[1] == "no responders (after 5 retries)");
}

TEST_CASE("closing with unacknowledged publishes reports them as failed (after the 5 s drain)") {
  mi::test::nats_server server;
  outcome_counter outcomes;
  auto js = connect(server, outcomes.listener(), 30s);
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  server.stop();
  REQUIRE(js->publish_async(trade_msg(1)).has_value());
  REQUIRE(js->publish_async(trade_msg(2)).has_value());
  js.reset();
  CHECK(outcomes.failed == 2);
  CHECK(outcomes.ok == 0);
}

TEST_CASE("connecting to a dead port gives a clear error") {
  int port = mi::test::free_port();
  jetstream::options o;
  o.url = "nats://127.0.0.1:" + std::to_string(port);
  o.connect_timeout = 1000ms;
  auto js = jetstream::connect(o);
  REQUIRE_FALSE(js.has_value());
  CHECK(js.err().message.find("cannot connect to nats://127.0.0.1:" + std::to_string(port) + ": ") == 0);
  MESSAGE(js.err().message);
}

TEST_CASE("publish_async throughput, 100k messages (reported, not asserted)") {
  mi::test::nats_server server;
  outcome_counter outcomes;
  auto js = connect(server, outcomes.listener());
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  const std::string payload(100, 'x');
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100'000; ++i) {
    outgoing m{"market.raw.binance.BTCUSDT", "binance:BTCUSDT:" + std::to_string(i), content_type, payload};
    REQUIRE(js->publish_async(m).has_value());
  }
  REQUIRE(js->flush(60s).has_value());
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(js->state("MARKET_RAW")->messages == 100'000);
  CHECK(outcomes.ok == 100'000);
  MESSAGE("publish_async with ids, 100k x 100 B, acked: " << static_cast<long>(100'000 / secs) << " msg/s");
}

TEST_CASE("a durable whose filter is the stream's only subject takes the whole stream unfiltered, other filters stay, "
          "and a durable created with that filter before loses it and keeps working") {
  mi::test::nats_server server;
  auto js = connect(server);
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  for (int i = 1; i <= 30; ++i)
    REQUIRE(js->publish_async(trade_msg(i, i % 3 == 0 ? "ETHUSDT" : "BTCUSDT")).has_value());
  REQUIRE(js->flush(10s).has_value());
  // A durable as an earlier version created it, with the filter (a JetStream API request of our own).
  natsConnection* nc = nullptr;
  REQUIRE(natsConnection_ConnectTo(&nc, server.url().c_str()) == NATS_OK);
  natsMsg* reply = nullptr;
  const char* old_cfg = R"({"stream_name":"MARKET_RAW","config":{"durable_name":"writer_old","ack_policy":"explicit",)"
                        R"("deliver_policy":"all","filter_subject":"market.raw.>"}})";
  REQUIRE(natsConnection_RequestString(&reply, nc, "$JS.API.CONSUMER.DURABLE.CREATE.MARKET_RAW.writer_old", old_cfg,
                                       5000) == NATS_OK);
  const std::string answer(natsMsg_GetData(reply), static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  natsConnection_Destroy(nc);
  REQUIRE_MESSAGE(answer.find("\"error\"") == std::string::npos, answer);

  auto all = pull_consumer::create(*js, {"MARKET_RAW", "writer_all", "market.raw.>"});
  REQUIRE_MESSAGE(all.has_value(), (all ? "" : all.err().message));
  auto eth = pull_consumer::create(*js, {"MARKET_RAW", "writer_eth", "market.raw.binance.ETHUSDT"});
  REQUIRE_MESSAGE(eth.has_value(), (eth ? "" : eth.err().message));
  auto old = pull_consumer::create(*js, {"MARKET_RAW", "writer_old", "market.raw.>"});
  REQUIRE_MESSAGE(old.has_value(), (old ? "" : old.err().message));

  auto listed = js->consumers("MARKET_RAW");
  REQUIRE(listed.has_value());
  std::map<std::string, std::string> filters;
  for (const auto& c : *listed)
    filters[c.name] = c.filter_subject;
  CHECK(filters.at("writer_all").empty());
  CHECK(filters.at("writer_eth") == "market.raw.binance.ETHUSDT");
  CHECK(filters.at("writer_old").empty()); // updated: nats-server 2.9 lets a durable drop its filter
  // Each takes what it took before.
  CHECK(fetch_n(**all, 30, 10s).size() == 30);
  CHECK(fetch_n(**eth, 10, 10s).size() == 10);
  CHECK(fetch_n(**old, 30, 10s).size() == 30);
}

TEST_CASE("an AckAll durable: the ack of one sequence acks every pending message up to it, the ack floor reads it, and "
          "an explicit-ack durable asked for AckAll is created again after its ack floor") {
  mi::test::nats_server server;
  auto js = connect(server);
  REQUIRE(js->ensure_stream(raw_stream()).has_value());
  for (int i = 1; i <= 20; ++i)
    REQUIRE(js->publish_async(trade_msg(i, "BTCUSDT")).has_value());
  REQUIRE(js->flush(10s).has_value());

  // The consumer info's figures, 99 / 0 when it cannot be read.
  auto floor_of = [](pull_consumer& c) { return c.ack_floor() ? *c.ack_floor() : 99; };
  auto pending_of = [](pull_consumer& c) { return c.pending() ? *c.pending() : 0; };
  pull_consumer::spec sp{"MARKET_RAW", "writer_all", "market.raw.>", 2s};
  sp.ack_all = true;
  auto all = pull_consumer::create(*js, sp);
  REQUIRE_MESSAGE(all.has_value(), (all ? "" : all.err().message));
  CHECK((*all)->acks_all());
  auto got = fetch_n(**all, 20, 10s);
  REQUIRE(got.size() == 20);
  CHECK(floor_of(**all) == 0);
  REQUIRE(got[11].ack().has_value()); // stream sequence 12
  REQUIRE(mi::test::eventually([&] { return floor_of(**all) == 12; }, 5s));
  // After ack_wait only 13..20 come back: 1..11 were acked with 12.
  auto again = fetch_n(**all, 8, 6s); // the first redeliveries: any of 1..11 would come before 13
  std::vector<std::uint64_t> seqs;
  for (const auto& m : again)
    seqs.push_back(m.stream_seq());
  CHECK(seqs == std::vector<std::uint64_t>{13, 14, 15, 16, 17, 18, 19, 20});

  // A durable that exists with explicit acks, asked for AckAll, is created again after its ack floor: what was acked
  // is not delivered again, what was delivered and not acked is.
  auto expl = pull_consumer::create(*js, {"MARKET_RAW", "writer_each", "market.raw.>", 2s});
  REQUIRE(expl.has_value());
  CHECK_FALSE((*expl)->acks_all());
  auto each = fetch_n(**expl, 20, 10s);
  REQUIRE(each.size() == 20);
  for (int i = 0; i < 5; ++i)
    REQUIRE(each[i].ack().has_value()); // 1..5
  REQUIRE(each[11].ack().has_value());  // 12 alone: the floor stays at 5
  REQUIRE(mi::test::eventually([&] { return floor_of(**expl) == 5 && pending_of(**expl) == 14; }, 5s));
  expl->reset();
  pull_consumer::spec each_sp{"MARKET_RAW", "writer_each", "market.raw.>", 2s};
  each_sp.ack_all = true;
  auto reopened = pull_consumer::create(*js, each_sp);
  REQUIRE_MESSAGE(reopened.has_value(), (reopened ? "" : reopened.err().message));
  CHECK((*reopened)->acks_all());
  auto back = fetch_n(**reopened, 15, 10s);
  std::vector<std::uint64_t> back_seqs;
  for (const auto& m : back)
    back_seqs.push_back(m.stream_seq());
  std::vector<std::uint64_t> want(15);
  std::iota(want.begin(), want.end(), 6); // 6..20, 12 included: an explicit ack above the floor is not kept
  CHECK(back_seqs == want);
  REQUIRE(back.back().ack().has_value());
  REQUIRE(mi::test::eventually([&] { return floor_of(**reopened) == 20 && pending_of(**reopened) == 0; }, 5s));
}
