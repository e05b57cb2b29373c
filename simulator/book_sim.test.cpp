// The simulator's order-book frames, decoded by our own book codecs, give the simulator's true book.
#include "simulator/book_sim.hpp"

#include <doctest/doctest.h>

#include "connectors/binance/book.hpp"
#include "connectors/bybit/book.hpp"
#include "connectors/coinbase/book.hpp"
#include "connectors/kraken/book.hpp"
#include "connectors/okx/book.hpp"
#include "messages/decimal.hpp"
#include "simulator/market.hpp"
#include "simulator/protocols/protocol.hpp"

using namespace mi::sim;
using mi::book::side;
using mi::book::status;

namespace {

/// Both books hold the same levels (exact decimals), every one of them.
void check_same(const mi::book::order_book& ours, const mi::book::order_book& truth) {
  for (auto s : {side::bid, side::ask}) {
    REQUIRE(ours.size(s) == truth.size(s));
    auto a = ours.levels(s).begin();
    for (const auto& [price, l] : truth.levels(s)) {
      CHECK(a->first == price);
      CHECK(a->second.qty == l.qty);
      ++a;
    }
  }
}

} // namespace

TEST_CASE("sim book: deterministic, never crossed, within its depth") {
  sim_book a(7, 10'000), b(7, 10'000);
  for (int i = 0; i < 2000; ++i) {
    auto ua = a.step();
    auto ub = b.step();
    REQUIRE(ua.changes.size() == ub.changes.size());
    CHECK(ua.id == static_cast<std::uint64_t>(i + 1));
    CHECK_FALSE(a.book().crossed());
    CHECK(a.book().size(side::bid) <= sim_book::max_levels);
    CHECK(a.book().size(side::ask) <= sim_book::max_levels);
  }
  check_same(a.book(), b.book());
  CHECK(a.update_id() == 2000);
  CHECK(a.stale_update_id() == 1980); // copies every 20, the one before the last
  CHECK(sim_book_json(a).rfind("{\"update_id\":2000,\"bids\":[[", 0) == 0);
}

TEST_CASE("sim book: OKX books frames (snapshot, updates, checksums) rebuild the true book, a corrupted checksum "
          "and a skipped update are caught") {
  market m("okx", {"BTCUSDT"}, {}, 100);
  auto proto = make_protocol("okx", m);
  REQUIRE(proto);
  REQUIRE(proto->supports_books());
  actions initial;
  http_reply refusal;
  auto c = proto->open("/ws/v5/public", {}, initial, refusal);
  REQUIRE(c);
  actions out;
  proto->on_text(*c, R"({"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]})", out);
  REQUIRE(out.subscribe.size() == 1);
  CHECK(out.subscribe[0].kind == book_kind);
  sim_book* truth = m.book("BTCUSDT");
  REQUIRE(truth != nullptr);

  mi::okx::book_sync codec;
  auto snap = proto->book_snapshot_frame(*c, "BTCUSDT", *truth);
  REQUIRE(snap);
  CHECK(codec.on_frame(*snap).what == status::snapshot);
  for (int i = 0; i < 500; ++i) {
    auto u = truth->step();
    auto r = codec.on_frame(proto->book_update_frame(*c, "BTCUSDT", *truth, u, false));
    REQUIRE(r.what == status::applied);
    REQUIRE(r.checksum_ok == std::optional<bool>(true));
  }
  check_same(codec.book(), truth->book());

  auto bad = truth->step();
  auto r = codec.on_frame(proto->book_update_frame(*c, "BTCUSDT", *truth, bad, true));
  CHECK(r.what == status::resync);
  CHECK(r.checksum_ok == std::optional<bool>(false));
  CHECK(codec.resyncs() == 1);
  // A new subscription's snapshot resyncs it.
  CHECK(codec.on_frame(*proto->book_snapshot_frame(*c, "BTCUSDT", *truth)).what == status::snapshot);
  check_same(codec.book(), truth->book());

  truth->step(); // applied by the exchange, never sent
  auto next = truth->step();
  CHECK(codec.on_frame(proto->book_update_frame(*c, "BTCUSDT", *truth, next, false)).what == status::resync);
  CHECK(codec.resyncs() == 2);
}

TEST_CASE("sim book: Binance depth events synced with the REST depth snapshot rebuild the true book, a stale "
          "snapshot and a skipped update are caught") {
  market m("binance", {"BTCUSDT"}, {}, 100);
  auto proto = make_protocol("binance", m);
  REQUIRE(proto);
  actions initial;
  http_reply refusal;
  auto c = proto->open("/stream", {}, initial, refusal);
  REQUIRE(c);
  actions out;
  proto->on_text(*c, R"({"method":"SUBSCRIBE","params":["btcusdt@depth@100ms"],"id":1})", out);
  REQUIRE(out.subscribe.size() == 1);
  CHECK(out.subscribe[0].kind == book_kind);
  CHECK_FALSE(proto->book_snapshot_frame(*c, "BTCUSDT", *m.book("BTCUSDT")));
  sim_book* truth = m.book("BTCUSDT");

  mi::binance::book_sync codec;
  // Events before the snapshot are buffered; the snapshot is taken in the middle of them.
  std::vector<std::string> before;
  for (int i = 0; i < 5; ++i) {
    auto u = truth->step();
    CHECK(codec.on_frame(proto->book_update_frame(*c, "BTCUSDT", *truth, u, false)).what == status::awaiting_snapshot);
  }
  auto rest = proto->rest("/api/v3/depth", {{"symbol", "BTCUSDT"}, {"limit", "1000"}});
  REQUIRE(rest);
  REQUIRE(rest->status == 200);
  for (int i = 0; i < 3; ++i) {
    auto u = truth->step();
    codec.on_frame(proto->book_update_frame(*c, "BTCUSDT", *truth, u, false));
  }
  CHECK(codec.on_frame(rest->body).what == status::snapshot);
  for (int i = 0; i < 500; ++i) {
    auto u = truth->step();
    REQUIRE(codec.on_frame(proto->book_update_frame(*c, "BTCUSDT", *truth, u, false)).what == status::applied);
  }
  check_same(codec.book(), truth->book());

  truth->step(); // never sent
  auto next = truth->step();
  CHECK(codec.on_frame(proto->book_update_frame(*c, "BTCUSDT", *truth, next, false)).what == status::resync);
  CHECK(codec.resyncs() == 1);

  // The stale fault: an older copy of the book; its lastUpdateId is behind the buffered events.
  m.stale_book_snapshot(2); // the second REST snapshot of the run
  for (int i = 0; i < 25; ++i) {
    auto u = truth->step();
    codec.on_frame(proto->book_update_frame(*c, "BTCUSDT", *truth, u, false));
  }
  auto stale = proto->rest("/api/v3/depth", {{"symbol", "BTCUSDT"}});
  REQUIRE(stale);
  CHECK(truth->stale_update_id() == 500); // 535 updates so far: copies at 500 and 520, the older one is served
  CHECK(stale->body.find("\"lastUpdateId\":500,") != std::string::npos);
  CHECK(codec.on_frame(stale->body).what != status::snapshot); // older than the buffered events 511..535
  CHECK_FALSE(codec.book().valid());
  // The next answer is fresh again and syncs the book.
  auto fresh = proto->rest("/api/v3/depth", {{"symbol", "BTCUSDT"}});
  REQUIRE(fresh);
  CHECK(codec.on_frame(fresh->body).what == status::snapshot);
  check_same(codec.book(), truth->book());
}

namespace {

/// The top `depth` levels of each side of `b`.
mi::book::order_book top_of(const mi::book::order_book& b, std::size_t depth) {
  mi::book::order_book out;
  for (auto s : {side::bid, side::ask}) {
    std::size_t n = 0;
    for (const auto& [price, l] : b.levels(s))
      if (n++ < depth)
        out.set(s, l.price_text, l.qty_text);
  }
  return out;
}

/// A connection of `exchange`'s protocol that sent `subscribe` (one book subscription).
struct book_connection {
  market m;
  std::unique_ptr<protocol> proto;
  std::unique_ptr<connection_state> c;
  book_connection(const char* exchange, const char* path, std::string_view subscribe)
      : m(exchange, {"BTCUSD"}, {}, 100), proto(make_protocol(exchange, m)) {
    REQUIRE(proto);
    REQUIRE(proto->supports_books());
    actions initial;
    http_reply refusal;
    c = proto->open(path, {}, initial, refusal);
    REQUIRE(c);
    actions out;
    proto->on_text(*c, subscribe, out);
    REQUIRE(out.subscribe.size() == 1);
    REQUIRE(out.subscribe[0].kind == book_kind);
  }
  sim_book& truth() { return *m.book("BTCUSD"); }
  std::string snapshot() {
    auto f = proto->book_snapshot_frame(*c, "BTCUSD", truth());
    REQUIRE(f);
    return *f;
  }
  std::string step(bool corrupt = false) {
    auto u = truth().step();
    return proto->book_update_frame(*c, "BTCUSD", truth(), u, corrupt);
  }
};

} // namespace

TEST_CASE("sim book: Bybit orderbook.50 frames rebuild the true book, a skipped update is a sequence gap") {
  book_connection bc("bybit", "/v5/public/spot", R"({"op":"subscribe","args":["orderbook.50.BTCUSD"]})");
  mi::bybit::book_sync codec;
  CHECK(codec.on_frame(bc.snapshot()).what == status::snapshot);
  for (int i = 0; i < 500; ++i)
    REQUIRE(codec.on_frame(bc.step()).what == status::applied);
  check_same(codec.book(), bc.truth().book());

  bc.truth().step(); // applied by the exchange, never sent
  CHECK(codec.on_frame(bc.step()).what == status::resync);
  CHECK(codec.resyncs() == 1);
  CHECK(codec.on_frame(bc.snapshot()).what == status::snapshot);
  check_same(codec.book(), bc.truth().book());
}

TEST_CASE("sim book: Bybit orderbook.1 keeps the best level only, as the exchange does") {
  book_connection bc("bybit", "/v5/public/spot", R"({"op":"subscribe","args":["orderbook.1.BTCUSD"]})");
  mi::bybit::book_sync codec;
  CHECK(codec.on_frame(bc.snapshot()).what == status::snapshot);
  for (int i = 0; i < 300; ++i) {
    REQUIRE(codec.on_frame(bc.step()).what == status::applied);
    check_same(codec.book(), top_of(bc.truth().book(), 1));
  }
}

TEST_CASE("sim book: Kraken v2 book frames with trailing zeros and checksums rebuild the true book, a corrupted "
          "checksum and a lost update are caught") {
  book_connection bc("kraken", "/v2",
                     R"({"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":25}})");
  const auto snap = bc.snapshot();
  CHECK(snap.find("0000}") != std::string::npos); // quantities carry Kraken's 8 decimals
  mi::kraken::book_sync codec(25);
  CHECK(codec.on_frame(snap).what == status::snapshot);
  for (int i = 0; i < 500; ++i) {
    auto r = codec.on_frame(bc.step());
    REQUIRE(r.what == status::applied);
    REQUIRE(r.checksum_ok == std::optional<bool>(true));
  }
  check_same(codec.book(), bc.truth().book());

  auto r = codec.on_frame(bc.step(true));
  CHECK(r.what == status::resync);
  CHECK(r.checksum_ok == std::optional<bool>(false));
  CHECK(codec.on_frame(bc.snapshot()).what == status::snapshot);
  check_same(codec.book(), bc.truth().book());

  // Kraken has no sequence: a lost update shows as a checksum mismatch once the level it changed is within the top
  // 10 the checksum covers (at once when it was there; a deeper level only when it rises into the top 10).
  bc.truth().step();
  bool caught = false;
  for (int i = 0; i < 50 && !caught; ++i)
    caught = codec.on_frame(bc.step()).what == status::resync;
  CHECK(caught);
}

TEST_CASE("sim book: Kraken depth 10 keeps the top 10 levels of each side, levels entering from below included") {
  book_connection bc("kraken", "/v2",
                     R"({"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":10}})");
  mi::kraken::book_sync codec(10);
  CHECK(codec.on_frame(bc.snapshot()).what == status::snapshot);
  for (int i = 0; i < 500; ++i) {
    auto r = codec.on_frame(bc.step());
    REQUIRE(r.what == status::applied);
    REQUIRE(r.checksum_ok == std::optional<bool>(true));
    check_same(codec.book(), top_of(bc.truth().book(), 10));
  }
}

TEST_CASE("sim book: Kraken refuses a depth it does not offer") {
  market m("kraken", {"BTCUSD"}, {}, 100);
  auto proto = make_protocol("kraken", m);
  actions initial;
  http_reply refusal;
  auto c = proto->open("/v2", {}, initial, refusal);
  actions out;
  proto->on_text(*c, R"({"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":7}})", out);
  CHECK(out.subscribe.empty());
  REQUIRE(out.frames.size() == 1);
  CHECK(out.frames[0].find("Invalid depth") != std::string::npos);
}

TEST_CASE("sim book: Coinbase level2 frames (snapshot event, then update events numbered with the connection's other "
          "messages) rebuild the true book, a lost update is a sequence_num gap") {
  book_connection bc("coinbase", "/", R"({"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"})");
  mi::coinbase::book_sync codec; // given every message of the connection, as the `book` command is
  mi::coinbase::connection_sequence seq;
  auto feed = [&](const std::string& frame) {
    CHECK_FALSE(seq.on_frame(frame));
    return codec.on_frame(frame).what;
  };
  const auto snap = bc.snapshot();
  CHECK(snap.find(R"("channel":"l2_data")") != std::string::npos);
  CHECK(snap.find(R"("sequence_num":1,)") != std::string::npos); // the subscriptions ack was 0
  CHECK(feed(snap) == status::snapshot);
  for (int i = 0; i < 300; ++i) {
    REQUIRE(feed(bc.step()) == status::applied);
    if (i % 50 == 0) { // a trade between updates takes the next number
      mi::trade t;
      t.symbol = "BTCUSD";
      t.base = "BTC";
      t.quote = "USD";
      t.trade_id = std::to_string(i + 1);
      t.price = *mi::decimal::parse("100");
      t.quantity = *mi::decimal::parse("1");
      t.ts_ns = 1'700'000'000'000'000'000;
      CHECK(feed(bc.proto->trade_frame(*bc.c, t, 0)) == status::ignored);
    }
  }
  check_same(codec.book(), bc.truth().book());

  const auto lost = bc.truth().step(); // applied by the exchange, never sent: its number is skipped
  bc.proto->book_update_lost(*bc.c, "BTCUSD");
  (void)lost;
  const auto next = bc.step();
  CHECK(seq.on_frame(next));
  CHECK(codec.on_frame(next).what == status::resync);
  CHECK(codec.resyncs() == 1);
  // A resubscription's snapshot restores it.
  actions out;
  bc.proto->on_text(*bc.c, R"({"type":"unsubscribe","product_ids":["BTC-USD"],"channel":"level2"})", out);
  REQUIRE(out.unsubscribe.size() == 1);
  CHECK(out.unsubscribe[0].kind == book_kind);
  CHECK(feed(out.frames.at(0)) == status::ignored);
  CHECK(feed(bc.snapshot()) == status::snapshot);
  check_same(codec.book(), bc.truth().book());
}
