#include "connectors/venue/book_feed.hpp"

#include <doctest/doctest.h>
#include <algorithm>

using namespace mi::venue;
using mi::book::update_kind;
using mi::book::wire_level;
using levels = std::vector<wire_level>;

namespace {

constexpr std::int64_t sec = 1'000'000'000;

struct fixture {
  std::unique_ptr<venue> v;
  std::vector<subscription> subs;
  explicit fixture(const char* exchange, const char* unified) {
    auto made = make_venue(exchange);
    REQUIRE(made);
    v = std::move(*made);
    auto s = v->resolve(unified);
    REQUIRE(s);
    subs.push_back(*s);
  }
};

std::string depth_event(int first, int last, const char* bids, const char* asks) {
  return R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1700000000123,"s":"BTCUSDT","U":)" +
         std::to_string(first) + R"(,"u":)" + std::to_string(last) + R"(,"b":)" + bids + R"(,"a":)" + asks + "}}";
}

} // namespace

TEST_CASE("book feed: level_changes lists new, changed and removed levels") {
  levels before{{"10", "1"}, {"9", "2"}, {"8", "3"}};
  levels after{{"10", "1"}, {"9", "5"}, {"7", "1"}};
  CHECK(level_changes(before, after) == levels{{"9", "5"}, {"7", "1"}, {"8", "0"}});
  CHECK(level_changes(after, after).empty());
  CHECK(level_changes({}, after) == after);
}

TEST_CASE("book feed: Binance buffers until the REST snapshot, then a snapshot, deltas of the top N, a gap resyncs") {
  fixture f("binance", "BTC/USDT");
  REQUIRE(f.v->supports_books());
  auto snap_req = f.v->book_snapshot_request(f.subs[0], 2);
  REQUIRE(snap_req);
  CHECK(snap_req->target == "/api/v3/depth?symbol=BTCUSDT&limit=5");

  book_feed_options o;
  o.depth = 2;
  o.snapshot_interval_ns = 60 * sec;
  book_feed feed("binance", *f.v, f.subs, o, 42);
  book_events out;

  const auto e1 = depth_event(99, 101, R"([["10.0","0"],["9.5","3"]])", "[]");
  auto route = f.v->book_frame(e1);
  REQUIRE(route);
  CHECK(route->key == "BTCUSDT");
  CHECK(route->ts_ns == 1700000000123000000);
  const std::string* symbol = feed.symbol_of_key(route->key);
  REQUIRE(symbol != nullptr);
  CHECK(*symbol == "BTCUSDT");
  CHECK_FALSE(f.v->book_frame(R"({"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":true})"));

  feed.on_frame("BTCUSDT", e1, route->ts_ns, 5, 1 * sec, out);
  CHECK(out.books.empty()); // nothing is published before the book is valid
  CHECK(out.snapshots_wanted == std::vector<std::string>{"BTCUSDT"});
  out.clear();
  feed.on_frame("BTCUSDT", depth_event(102, 102, "[]", R"([["11.5","1"]])"), 0, 6, 1 * sec, out);
  CHECK(out.snapshots_wanted.empty()); // asked already
  feed.on_frame("BTCUSDT", R"({"lastUpdateId":100,"bids":[["10.0","1"],["9.0","1"]],"asks":[["11.0","2"]]})", 0, 7,
                2 * sec, out);
  REQUIRE(out.books.size() == 1);
  const auto& s1 = out.books[0];
  CHECK(s1.kind == update_kind::snapshot);
  CHECK(s1.valid);
  CHECK(s1.sequence == 1);
  CHECK(s1.session == 42);
  CHECK(s1.bids == levels{{"9.5", "3"}, {"9", "1"}});
  CHECK(s1.asks == levels{{"11", "2"}, {"11.5", "1"}});
  REQUIRE(out.bbos.size() == 1);
  CHECK(out.bbos[0].bid == wire_level{"9.5", "3"});
  CHECK(out.bbos[0].ask == wire_level{"11", "2"});

  out.clear();
  feed.on_frame("BTCUSDT", depth_event(103, 103, R"([["9.8","1"]])", "[]"), 0, 8, 3 * sec, out);
  REQUIRE(out.books.size() == 1);
  CHECK(out.books[0].kind == update_kind::delta);
  CHECK(out.books[0].sequence == 2);
  CHECK(out.books[0].bids == levels{{"9.8", "1"}, {"9", "0"}}); // 9 left the top 2
  CHECK(out.books[0].asks.empty());
  REQUIRE(out.bbos.size() == 1);
  CHECK(out.bbos[0].bid == wire_level{"9.8", "1"});

  out.clear();
  feed.on_frame("BTCUSDT", depth_event(104, 104, R"([["5","1"]])", "[]"), 0, 9, 3 * sec, out);
  CHECK(out.books.empty()); // below the published depth: nothing to say
  CHECK(out.bbos.empty());

  out.clear();
  feed.on_frame("BTCUSDT", depth_event(106, 106, R"([["9.9","1"]])", "[]"), 0, 10, 4 * sec, out);
  REQUIRE(out.resyncs.size() == 1);
  CHECK(out.resyncs[0].reason == resync_reason::sequence_gap);
  REQUIRE(out.books.size() == 1);
  CHECK(out.books[0].sequence == 3);
  CHECK_FALSE(out.books[0].valid);
  CHECK(out.books[0].bids.empty());
  REQUIRE(out.bbos.size() == 1);
  CHECK_FALSE(out.bbos[0].valid);
  CHECK(out.snapshots_wanted == std::vector<std::string>{"BTCUSDT"});

  // While invalid: nothing published, the snapshot asked again only after snapshot_retry_ns.
  out.clear();
  feed.on_frame("BTCUSDT", depth_event(107, 107, R"([["9.9","2"]])", "[]"), 0, 11, 5 * sec, out);
  CHECK(out.books.empty());
  CHECK(out.resyncs.empty());
  CHECK(out.snapshots_wanted.empty());
  feed.tick(10 * sec, out);
  CHECK(out.snapshots_wanted == std::vector<std::string>{"BTCUSDT"});
  CHECK(feed.codec("BTCUSDT")->resyncs() == 1);

  // A stale REST snapshot (older than the buffered event 107): a resync of its own (stale_snapshot), never published
  // valid, asked again at once; a fresh one makes the book valid again in the same sequence.
  out.clear();
  feed.on_rest_snapshot("BTCUSDT", R"({"lastUpdateId":100,"bids":[["10.0","1"]],"asks":[["11.0","2"]]})", 11 * sec,
                        out);
  REQUIRE(out.resyncs.size() == 1);
  CHECK(out.resyncs[0].reason == resync_reason::stale_snapshot);
  CHECK(out.books.empty()); // it was never published valid: nothing to take back
  CHECK(out.snapshots_wanted == std::vector<std::string>{"BTCUSDT"});
  out.clear();
  feed.on_rest_snapshot("BTCUSDT", R"({"lastUpdateId":106,"bids":[["10.0","1"]],"asks":[["11.0","2"]]})", 12 * sec,
                        out);
  REQUIRE(out.books.size() == 1);
  CHECK(out.books[0].valid);
  CHECK(out.books[0].sequence == 4);
  CHECK(out.books[0].bids == levels{{"10", "1"}, {"9.9", "2"}}); // event 107 replayed over the snapshot
  CHECK(feed.codec("BTCUSDT")->resyncs() == 2);
}

TEST_CASE("book feed: a full snapshot every snapshot_interval, and a reconnect invalidates the book") {
  fixture f("okx", "BTC/USDT");
  book_feed_options o;
  o.depth = 5;
  o.snapshot_interval_ns = 10 * sec;
  book_feed feed("okx", *f.v, f.subs, o, 1);
  book_events out;
  const std::string snap =
    R"({"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["11","2","0","1"]],)"
    R"("bids":[["10","1","0","1"]],"ts":"1700000000000","checksum":0,"seqId":10,"prevSeqId":-1}]})";
  auto route = f.v->book_frame(snap);
  REQUIRE(route);
  CHECK(route->key == "BTC-USDT");
  CHECK(route->ts_ns == 1700000000000000000);
  REQUIRE(feed.symbol_of_key("BTC-USDT") != nullptr);
  feed.on_frame("BTCUSDT", snap, route->ts_ns, 1, 100 * sec, out);
  REQUIRE(out.books.size() == 1);
  CHECK(out.books[0].kind == update_kind::snapshot);
  CHECK(out.books[0].ts_ns == 1700000000000000000);

  out.clear();
  feed.tick(105 * sec, out);
  CHECK(out.books.empty());
  feed.tick(110 * sec, out);
  REQUIRE(out.books.size() == 1);
  CHECK(out.books[0].kind == update_kind::snapshot);
  CHECK(out.books[0].sequence == 2);
  CHECK(out.books[0].bids == levels{{"10", "1"}});

  out.clear();
  feed.reset(111 * sec, out);
  REQUIRE(out.resyncs.size() == 1);
  CHECK(out.resyncs[0].reason == resync_reason::reconnect);
  REQUIRE(out.books.size() == 1);
  CHECK_FALSE(out.books[0].valid);
  CHECK(out.books[0].sequence == 3);

  // The new connection's snapshot makes it valid again, in the same sequence.
  out.clear();
  feed.on_frame("BTCUSDT", snap, 0, 2, 112 * sec, out);
  REQUIRE(out.books.size() == 1);
  CHECK(out.books[0].valid);
  CHECK(out.books[0].sequence == 4);
}

TEST_CASE("book feed: an OKX checksum mismatch resyncs once and asks for a new snapshot") {
  fixture f("okx", "BTC/USDT");
  book_feed feed("okx", *f.v, f.subs, {}, 1);
  book_events out;
  feed.on_frame(
    "BTCUSDT",
    R"({"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["11","2","0","1"]],)"
    R"("bids":[["10","1","0","1"]],"ts":"1","checksum":0,"seqId":10,"prevSeqId":-1}]})",
    0, 1, sec, out);
  out.clear();
  feed.on_frame("BTCUSDT",
                R"({"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],)"
                R"("bids":[["10","3","0","1"]],"ts":"2","checksum":12345,"seqId":11,"prevSeqId":10}]})",
                0, 2, 2 * sec, out);
  REQUIRE(out.resyncs.size() == 1);
  CHECK(out.resyncs[0].reason == resync_reason::checksum);
  REQUIRE(out.books.size() == 1);
  CHECK_FALSE(out.books[0].valid);
  CHECK(out.snapshots_wanted == std::vector<std::string>{"BTCUSDT"});
  out.clear();
  feed.on_frame("BTCUSDT",
                R"({"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],)"
                R"("bids":[["10","4","0","1"]],"ts":"3","checksum":0,"seqId":12,"prevSeqId":11}]})",
                0, 3, 3 * sec, out);
  CHECK(out.resyncs.empty()); // counted once per break
  CHECK(out.books.empty());
}

TEST_CASE("book feed: Bybit orderbook.50 (routing, subscribe topics), a gap in u resyncs by subscribing again") {
  fixture f("bybit", "BTC/USDT");
  REQUIRE(f.v->supports_books());
  auto sub = f.v->book_subscribe_requests(f.subs, 20);
  REQUIRE(sub.size() == 1);
  CHECK(sub[0].find(R"("args":["orderbook.50.BTCUSDT"])") != std::string::npos);
  CHECK_FALSE(f.v->book_snapshot_request(f.subs[0], 20)); // the snapshot comes with a new subscription
  book_feed_options o;
  o.depth = 20;
  book_feed feed("bybit", *f.v, f.subs, o, 1);
  book_events out;
  auto frame = [](const char* type, int u, const char* bids) {
    return std::string(R"({"topic":"orderbook.50.BTCUSDT","type":")") + type +
           R"(","ts":1700000000456,"data":{"s":"BTCUSDT","b":)" + bids + R"(,"a":[["11","2"]],"u":)" +
           std::to_string(u) + R"(,"seq":7},"cts":1})";
  };
  const auto snap = frame("snapshot", 1, R"([["10","1"]])");
  auto route = f.v->book_frame(snap);
  REQUIRE(route);
  CHECK(route->key == "BTCUSDT");
  CHECK(route->ts_ns == 1700000000456000000);
  REQUIRE(feed.symbol_of_key(route->key) != nullptr);
  CHECK_FALSE(f.v->book_frame(R"({"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot","data":[]})"));
  feed.on_frame("BTCUSDT", snap, route->ts_ns, 1, sec, out);
  REQUIRE(out.books.size() == 1);
  CHECK(out.books[0].valid);
  out.clear();
  feed.on_frame("BTCUSDT", frame("delta", 2, R"([["10","3"]])"), 0, 2, 2 * sec, out);
  REQUIRE(out.books.size() == 1);
  CHECK(out.books[0].bids == levels{{"10", "3"}});
  out.clear();
  feed.on_frame("BTCUSDT", frame("delta", 4, R"([["10","4"]])"), 0, 3, 3 * sec, out);
  REQUIRE(out.resyncs.size() == 1);
  CHECK(out.resyncs[0].reason == resync_reason::sequence_gap);
  CHECK(out.snapshots_wanted == std::vector<std::string>{"BTCUSDT"});
  auto again = f.v->book_unsubscribe_requests(f.subs, 20);
  REQUIRE(again.size() == 1);
  CHECK(again[0].find(R"("op":"unsubscribe")") != std::string::npos);
}

TEST_CASE("book feed: Kraken v2 book (routing, depth, checksum), a checksum mismatch resyncs by subscribing again") {
  fixture f("kraken", "BTC/USD");
  REQUIRE(f.v->supports_books());
  auto sub = f.v->book_subscribe_requests(f.subs, 20);
  REQUIRE(sub.size() == 1);
  CHECK(sub[0] == R"({"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":25}})");
  book_feed_options o;
  o.depth = 20;
  book_feed feed("kraken", *f.v, f.subs, o, 1);
  book_events out;
  // tests/data/books/kraken_v2_checksum.jsonl, first line: a snapshot with its valid checksum.
  const std::string snap =
    R"({"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[{"price":78500.0,"qty":0.50000000},)"
    R"({"price":78499.5,"qty":1.00000000}],"asks":[{"price":78501.0,"qty":0.25000000},{"price":78502.0,"qty":)"
    R"(2.00000000}],"checksum":675025606,"timestamp":"2026-08-26T11:55:56.663054Z"}]})";
  auto route = f.v->book_frame(snap);
  REQUIRE(route);
  CHECK(route->key == "BTC/USD");
  CHECK(route->ts_ns == 1787745356663054000);
  const std::string* symbol = feed.symbol_of_key(route->key);
  REQUIRE(symbol != nullptr);
  CHECK(*symbol == "BTCUSD");
  CHECK_FALSE(f.v->book_frame(R"({"channel":"trade","type":"update","data":[{"symbol":"BTC/USD"}]})"));
  feed.on_frame(*symbol, snap, route->ts_ns, 1, sec, out);
  REQUIRE(out.books.size() == 1);
  CHECK(out.books[0].valid);
  CHECK(out.books[0].bids == levels{{"78500", "0.5"}, {"78499.5", "1"}}); // canonical decimals on the wire
  out.clear();
  feed.on_frame(*symbol,
                R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":78500.0,"qty":)"
                R"(0.75000000}],"asks":[],"checksum":1,"timestamp":"2026-08-26T11:55:56.663054Z"}]})",
                0, 2, 2 * sec, out);
  REQUIRE(out.resyncs.size() == 1);
  CHECK(out.resyncs[0].reason == resync_reason::checksum);
  REQUIRE(out.books.size() == 1);
  CHECK_FALSE(out.books[0].valid);
  CHECK(out.snapshots_wanted == std::vector<std::string>{"BTCUSD"});
  CHECK_FALSE(f.v->book_snapshot_request(f.subs[0], 20));
}

TEST_CASE("book feed: Coinbase level2 on a connection numbered by sequence_num, a lost message of any channel resyncs "
          "every book once") {
  auto made = make_venue("coinbase");
  REQUIRE(made);
  auto& v = **made;
  REQUIRE(v.supports_books());
  std::vector<subscription> subs;
  for (const char* u : {"BTC/USD", "ETH/USD"}) {
    auto s = v.resolve(u);
    REQUIRE(s);
    subs.push_back(*s);
  }
  auto sub = v.book_subscribe_requests(subs, 20);
  REQUIRE(sub.size() == 1);
  CHECK(sub[0] == R"({"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"level2"})");
  auto unsub = v.book_unsubscribe_requests({subs[1]}, 20);
  REQUIRE(unsub.size() == 1);
  CHECK(unsub[0] == R"({"type":"unsubscribe","product_ids":["ETH-USD"],"channel":"level2"})");
  CHECK_FALSE(v.book_snapshot_request(subs[0], 20)); // the snapshot comes with a new subscription

  book_feed_options o;
  o.depth = 20;
  book_feed feed("coinbase", v, subs, o, 1);
  book_events out;
  auto l2 = [](int seq, const char* type, const char* product, const char* updates) {
    return R"({"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":)" +
           std::to_string(seq) + R"(,"events":[{"type":")" + type + R"(","product_id":")" + product +
           R"(","updates":)" + updates + "}]}";
  };
  auto trade = [](int seq) {
    return R"({"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:32:50Z","sequence_num":)" +
           std::to_string(seq) +
           R"(,"events":[{"type":"update","trades":[{"trade_id":"1","product_id":"BTC-USD","price":"10.5",)"
           R"("size":"1","side":"BUY","time":"2023-02-09T20:32:50Z"}]}]})";
  };
  // What the connection does with every frame: the connection-wide check first, then the book route.
  auto feed_frame = [&](const std::string& frame, std::int64_t now) {
    if (auto lost = v.connection_sequence_break(frame))
      feed.resync_all(*lost, now, out);
    if (auto route = v.book_frame(frame))
      if (const std::string* symbol = feed.symbol_of_key(route->key))
        feed.on_frame(*symbol, frame, route->ts_ns, now, now, out);
  };
  v.on_open(0);
  const auto btc_snap = l2(1, "snapshot", "BTC-USD",
                           R"([{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"10.00",)"
                           R"("new_quantity":"1.50"},{"side":"offer","event_time":"1970-01-01T00:00:00Z",)"
                           R"("price_level":"11","new_quantity":"2"}])");
  auto route = v.book_frame(btc_snap);
  REQUIRE(route);
  CHECK(route->key == "BTC-USD");
  CHECK(route->ts_ns == 1675974770714964855);
  CHECK_FALSE(v.book_frame(trade(5)));
  CHECK_FALSE(v.book_frame(R"({"channel":"heartbeats","sequence_num":3,"events":[]})"));

  feed_frame(R"({"channel":"subscriptions","client_id":"","timestamp":"2023-02-09T20:32:50Z","sequence_num":0,)"
             R"("events":[{"subscriptions":{"level2":["BTC-USD","ETH-USD"]}}]})",
             sec);
  feed_frame(btc_snap, sec);
  feed_frame(l2(2, "snapshot", "ETH-USD",
                R"([{"side":"bid","price_level":"1","new_quantity":"1"},{"side":"offer","price_level":"2",)"
                R"("new_quantity":"1"}])"),
             sec);
  feed_frame(trade(3), sec);
  // BTC's next update comes after a trade: its own sequence_num skips 3, the connection's does not.
  feed_frame(l2(4, "update", "BTC-USD", R"([{"side":"bid","price_level":"10","new_quantity":"3"}])"), sec);
  CHECK(out.resyncs.empty());
  REQUIRE(out.books.size() == 3);
  CHECK(out.books[0].bids == levels{{"10", "1.5"}});
  CHECK(out.books[2].kind == update_kind::delta);
  CHECK(out.books[2].bids == levels{{"10", "3"}});
  out.clear();

  // Message 5 is lost (a heartbeat, a trade: the connection cannot tell): both books resync, once each.
  feed_frame(trade(6), 2 * sec);
  REQUIRE(out.resyncs.size() == 2);
  for (const auto& r : out.resyncs) {
    CHECK(r.reason == resync_reason::sequence_gap);
    CHECK(r.detail == "sequence gap: sequence_num 6 after 4");
  }
  REQUIRE(out.books.size() == 2);
  CHECK_FALSE(out.books[0].valid);
  CHECK_FALSE(out.books[1].valid);
  auto wanted = out.snapshots_wanted;
  std::sort(wanted.begin(), wanted.end());
  CHECK(wanted == std::vector<std::string>{"BTCUSD", "ETHUSD"});
  out.clear();
  // An update still in flight before the resubscription is not applied; the new snapshot makes the book valid again.
  feed_frame(l2(7, "update", "BTC-USD", R"([{"side":"bid","price_level":"10","new_quantity":"4"}])"), 2 * sec);
  CHECK(out.books.empty());
  CHECK(out.resyncs.empty());
  feed_frame(l2(8, "snapshot", "BTC-USD", R"([{"side":"bid","price_level":"9","new_quantity":"1"}])"), 3 * sec);
  REQUIRE(out.books.size() == 1);
  CHECK(out.books[0].valid);
  CHECK(out.books[0].bids == levels{{"9", "1"}});
  out.clear();
  // A reconnect numbers from 0 again: no break.
  v.on_open(4 * sec);
  feed_frame(R"({"channel":"subscriptions","sequence_num":0,"events":[]})", 4 * sec);
  feed_frame(trade(1), 4 * sec);
  CHECK(out.resyncs.empty());
}
