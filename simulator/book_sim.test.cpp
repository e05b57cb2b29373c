// The simulator's order-book frames, decoded by our own book codecs, give the simulator's true book.
#include "simulator/book_sim.hpp"

#include <doctest/doctest.h>

#include "connectors/binance/book.hpp"
#include "connectors/okx/book.hpp"
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
