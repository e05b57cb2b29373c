// The push hub on the deterministic scheduler: a client_session actor that dies is noticed.
#include "actors/push_hub.hpp"

#include <doctest/doctest.h>
#include <mutex>
#include <stdexcept>

#include "actors/caf_test_fixture.hpp"
#include "actors/caf_types.hpp"
#include "caf/send.hpp"
#include "gateways/metrics/metrics.hpp"
#include "messages/book/book_message.hpp"
#include "messages/codec.hpp"
#include "messages/kline.hpp"

namespace {

// A client whose connection breaks the session actor: sending to it throws (as a bug would).
class fake_session : public mi::gw::push_session {
public:
  explicit fake_session(mi::gw::client_id id, bool throws) : id_(id), throws_(throws) {}
  void send(std::shared_ptr<const std::string> text) override {
    if (throws_)
      throw std::runtime_error("broken session");
    if (drop_next > 0) { // a full queue: this frame is dropped and counted
      --drop_next;
      ++dropped_;
      return;
    }
    sent.push_back(*text);
  }
  void close(std::uint16_t code, std::string reason) override {
    closed_code = code;
    closed_reason = std::move(reason);
  }
  std::uint64_t dropped() const override { return dropped_; }
  mi::gw::client_id id() const override { return id_; }
  std::string remote() const override { return "127.0.0.1:1"; }
  std::string target() const override { return "/"; }
  void text_done() override { ++texts_done; }

  std::vector<std::string> sent;
  int drop_next = 0; ///< frames to drop from now on, as a full queue does
  int texts_done = 0;
  int closed_code = 0;
  std::string closed_reason;

private:
  mi::gw::client_id id_;
  bool throws_;
  std::uint64_t dropped_ = 0;
};

std::string book_payload(std::uint64_t seq, mi::book::update_kind kind, std::vector<mi::book::wire_level> bids) {
  mi::book::book_update b;
  b.exchange = "okx";
  b.symbol = "BTCUSDT";
  b.session = 9;
  b.sequence = seq;
  b.kind = kind;
  b.valid = true;
  b.bids = std::move(bids);
  return mi::book::encode_book_pb(b);
}

} // namespace

TEST_CASE("push hub: a session actor that dies with an error is removed, its client closed with 1011, and counted") {
  mi::actors::test::caf_fixture f;
  mi::gw::metrics m;
  mi::actors::push_hub_args args;
  args.metrics = &m;
  args.max_channels = 10;
  auto hub = mi::actors::spawn_push_hub(f.sys, args);
  auto good = std::make_shared<fake_session>(1, false);
  auto bad = std::make_shared<fake_session>(2, true);
  caf::anon_send(hub, mi::actors::c_open_atom::value, mi::actors::session_ptr(good));
  caf::anon_send(hub, mi::actors::c_open_atom::value, mi::actors::session_ptr(bad));
  f.run();
  CHECK(m.scrape().find("\nmi_push_clients 2\n") != std::string::npos);

  // The bad session's reply to a ping throws inside its actor.
  caf::anon_send(hub, mi::actors::c_text_atom::value, mi::gw::client_id{2}, std::string(R"({"op":"ping","id":1})"));
  caf::anon_send(hub, mi::actors::c_text_atom::value, mi::gw::client_id{1}, std::string(R"({"op":"ping","id":1})"));
  f.run();
  auto text = m.scrape();
  CHECK(text.find("\nmi_push_sessions_failed_total 1\n") != std::string::npos);
  CHECK(text.find("\nmi_push_clients 1\n") != std::string::npos);
  CHECK(bad->closed_code == 1011);
  CHECK(good->closed_code == 0);
  CHECK(good->sent.size() == 1); // the healthy client was answered

  // A client that leaves normally is not a failure.
  caf::anon_send(hub, mi::actors::c_close_atom::value, mi::gw::client_id{1});
  f.run();
  text = m.scrape();
  CHECK(text.find("\nmi_push_sessions_failed_total 1\n") != std::string::npos);
  CHECK(text.find("\nmi_push_clients 0\n") != std::string::npos);
  caf::anon_send(hub, mi::actors::stop_atom::value);
  f.run();
  // The session's 1 s drop-report timer is still pending: fire it so nothing is left behind.
  while (f.next_timeout()) {
  }
}

TEST_CASE("push hub: book channels: a snapshot first, deltas in sequence, a dropped delta gets the client a fresh "
          "snapshot instead of a hole, a late subscriber starts from the current state") {
  using mi::book::update_kind;
  mi::actors::test::caf_fixture f;
  mi::gw::metrics m;
  mi::actors::push_hub_args args;
  args.metrics = &m;
  auto hub = mi::actors::spawn_push_hub(f.sys, args);
  auto client = std::make_shared<fake_session>(1, false);
  caf::anon_send(hub, mi::actors::c_open_atom::value, mi::actors::session_ptr(client));
  caf::anon_send(hub, mi::actors::c_text_atom::value, mi::gw::client_id{1},
                 std::string(R"({"op":"subscribe","channels":["book.okx.BTCUSDT"]})"));
  f.run();
  const std::string subject = "market.book.okx.BTCUSDT";
  auto book = [&](std::uint64_t seq, update_kind k, std::vector<mi::book::wire_level> bids) {
    caf::anon_send(hub, mi::actors::bmsg_atom::value, subject, book_payload(seq, k, std::move(bids)));
    f.run();
  };
  book(2, update_kind::delta, {{"10", "1"}}); // before any snapshot: the client cannot use it
  book(3, update_kind::snapshot, {{"10", "1"}, {"9", "1"}});
  book(4, update_kind::delta, {{"10", "2"}});
  client->drop_next = 1;
  book(5, update_kind::delta, {{"9", "0"}}); // the client's queue is full: dropped
  book(6, update_kind::delta, {{"8", "3"}});
  REQUIRE(client->sent.size() == 5);
  CHECK(client->sent[0] == R"({"op":"subscribed","channels":["book.okx.BTCUSDT"]})");
  CHECK(client->sent[1].find(R"("seq":3,"type":"snapshot")") != std::string::npos);
  CHECK(client->sent[2].find(R"("seq":4,"type":"delta")") != std::string::npos);
  // Instead of delta 5 (lost): the state after 5, as a snapshot; 6 follows it.
  CHECK(client->sent[3] == R"({"channel":"book.okx.BTCUSDT","data":{"exchange":"okx","symbol":"BTCUSDT","session":9,)"
                           R"("seq":5,"type":"snapshot","valid":true,"ts_ns":0,"recv_ns":0,"bids":[["10","2"]],)"
                           R"("asks":[]}})");
  CHECK(client->sent[4].find(R"("seq":6,"type":"delta")") != std::string::npos);
  book(7, update_kind::delta, {{"7", "1"}});
  REQUIRE(client->sent.size() == 6);
  CHECK(client->sent[5].find(R"("seq":7,"type":"delta")") != std::string::npos);
  CHECK(m.scrape().find("\nmi_push_book_resnapshots_total 1\n") != std::string::npos);

  auto late = std::make_shared<fake_session>(2, false);
  caf::anon_send(hub, mi::actors::c_open_atom::value, mi::actors::session_ptr(late));
  caf::anon_send(hub, mi::actors::c_text_atom::value, mi::gw::client_id{2},
                 std::string(R"({"op":"subscribe","channels":["book.okx.BTCUSDT"]})"));
  f.run();
  REQUIRE(late->sent.size() == 2);
  CHECK(late->sent[1].find(R"("seq":7,"type":"snapshot")") != std::string::npos);
  CHECK(late->sent[1].find(R"("bids":[["10","2"],["8","3"],["7","1"]])") != std::string::npos);
  caf::anon_send(hub, mi::actors::stop_atom::value);
  f.run();
  while (f.next_timeout()) {
  }
}

namespace {

std::string kline_payload(const std::string& symbol, std::int64_t open_ms, bool final) {
  mi::kline k;
  k.exchange = "binance";
  k.symbol = symbol;
  k.interval = "1m";
  k.open_time_ms = open_ms;
  k.close_time_ms = open_ms + 59999;
  k.is_final = final;
  return mi::encode_kline_pb(k);
}

} // namespace

TEST_CASE("push hub: one encode per message shared by every subscriber, with its stream sequence and publish time, "
          "a wildcard brings in each matching channel once it is seen, and list names what the client holds") {
  mi::actors::test::caf_fixture f;
  mi::gw::metrics m;
  mi::actors::push_hub_args args;
  args.metrics = &m;
  args.max_channels = 3;
  auto hub = mi::actors::spawn_push_hub(f.sys, args);
  auto a = std::make_shared<fake_session>(1, false);
  auto b = std::make_shared<fake_session>(2, false);
  caf::anon_send(hub, mi::actors::c_open_atom::value, mi::actors::session_ptr(a));
  caf::anon_send(hub, mi::actors::c_open_atom::value, mi::actors::session_ptr(b));
  caf::anon_send(hub, mi::actors::c_text_atom::value, mi::gw::client_id{1},
                 std::string(R"({"op":"subscribe","channels":["kline.binance.BTCUSDT.1m"]})"));
  caf::anon_send(hub, mi::actors::c_text_atom::value, mi::gw::client_id{2},
                 std::string(R"({"op":"subscribe","channels":["kline.binance.*.1m"]})"));
  f.run();
  auto kline = [&](const std::string& symbol, std::uint64_t seq) {
    caf::anon_send(hub, mi::actors::kmsg_atom::value, "market.kline.binance." + symbol + ".1m",
                   kline_payload(symbol, 1767225600000, true), seq, std::int64_t{1767225660000000000});
    f.run();
  };
  kline("BTCUSDT", 41);
  kline("ETHUSDT", 42);
  kline("SOLUSDT", 43);
  kline("XRPUSDT", 44); // b holds 3 channels already: over its limit
  REQUIRE(a->sent.size() == 2);
  CHECK(a->sent[1].rfind(R"({"channel":"kline.binance.BTCUSDT.1m","seq":41,"ts":1767225660000000000,"data":{)", 0) ==
        0);
  REQUIRE(b->sent.size() == 5);
  CHECK(b->sent[1] == a->sent[1]); // the same bytes
  CHECK(b->sent[2].find(R"("channel":"kline.binance.ETHUSDT.1m","seq":42)") != std::string::npos);
  CHECK(b->sent[3].find(R"("channel":"kline.binance.SOLUSDT.1m","seq":43)") != std::string::npos);
  CHECK(b->sent[4].find(R"("code":"too_many_channels")") != std::string::npos);
  CHECK(b->sent[4].find("XRPUSDT") != std::string::npos);

  caf::anon_send(hub, mi::actors::c_text_atom::value, mi::gw::client_id{2}, std::string(R"({"op":"list"})"));
  f.run();
  CHECK(b->sent.back() == R"({"op":"list","channels":["kline.binance.*.1m"]})");
  // Unsubscribing the pattern drops what it brought in.
  caf::anon_send(hub, mi::actors::c_text_atom::value, mi::gw::client_id{2},
                 std::string(R"({"op":"unsubscribe","channels":["kline.binance.*.1m"]})"));
  f.run();
  const auto before = b->sent.size();
  kline("ETHUSDT", 45);
  CHECK(b->sent.size() == before);
  caf::anon_send(hub, mi::actors::stop_atom::value);
  f.run();
  while (f.next_timeout()) {
  }
}

TEST_CASE("push hub: a resume whose stream cannot be read is said so, and the channel goes live") {
  mi::actors::test::caf_fixture f;
  mi::gw::metrics m;
  mi::actors::push_hub_args args;
  args.metrics = &m; // no JetStream: the replay fails, the client is told and goes live
  auto hub = mi::actors::spawn_push_hub(f.sys, args);
  auto a = std::make_shared<fake_session>(1, false);
  caf::anon_send(hub, mi::actors::c_open_atom::value, mi::actors::session_ptr(a));
  caf::anon_send(hub, mi::actors::c_text_atom::value, mi::gw::client_id{1},
                 std::string(R"({"op":"subscribe","channels":["kline.binance.BTCUSDT.1m"],)"
                             R"("since":{"kline.binance.BTCUSDT.1m":40}})"));
  f.run();
  caf::anon_send(hub, mi::actors::kmsg_atom::value, std::string("market.kline.binance.BTCUSDT.1m"),
                 kline_payload("BTCUSDT", 1767225600000, true), std::uint64_t{41}, std::int64_t{1});
  f.run();
  REQUIRE(a->sent.size() == 3);
  CHECK(a->sent[0].find(R"("op":"subscribed")") != std::string::npos);
  CHECK(a->sent[1].find(R"({"op":"error","code":"resume_failed")") == 0);
  CHECK(a->sent[2].find(R"("seq":41)") != std::string::npos);
  CHECK(m.scrape().find("mi_push_bad_requests_total{code=\"resume_failed\"} 1") != std::string::npos);
  caf::anon_send(hub, mi::actors::stop_atom::value);
  f.run();
  while (f.next_timeout()) {
  }
}
