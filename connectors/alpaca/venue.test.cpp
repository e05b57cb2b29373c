// The alpaca mi::venue adapter: symbols, auth before subscribe, errors that close the connection, backfill by time
// range with next_page_token paging, the configurable REST rate.
#include <doctest/doctest.h>

#include <string>

#include "connectors/alpaca/test_files.hpp"
#include "connectors/venue/test_support.hpp"
#include "connectors/venue/venue.hpp"

namespace {

mi::venue::venue_options creds() {
  mi::venue::venue_options o;
  o.key_id = "PKTEST";
  o.secret_key = "s3cr3t";
  return o;
}

} // namespace

TEST_CASE("alpaca resolve: AAPL and AAPL/USD are symbol AAPL, BRK.B is BRK_B on the platform") {
  auto v = mi::venue::test::must_make("alpaca");
  auto a = v->resolve("AAPL");
  REQUIRE(a);
  CHECK(a->symbol == "AAPL");
  CHECK(a->base == "AAPL");
  CHECK(a->quote == "USD");
  CHECK(a->wire == "AAPL");
  auto b = v->resolve("AAPL/USD");
  REQUIRE(b);
  CHECK(b->symbol == "AAPL");
  auto brk = v->resolve("BRK.B");
  REQUIRE(brk);
  CHECK(brk->symbol == "BRK_B");
  CHECK(brk->rest == "BRK.B");
  CHECK_FALSE(v->resolve("AAPL/EUR"));
  CHECK_FALSE(v->resolve("aapl"));
}

TEST_CASE("alpaca resolve against the assets list: unlisted symbols are refused") {
  auto v = mi::venue::test::must_make("alpaca");
  auto n = v->load_instruments(mi::alpaca::test::fixture_text("rest/assets_v2_active_sdk_mock.json"));
  REQUIRE(n);
  CHECK(*n == 1);
  CHECK(v->resolve("AAPL"));
  auto msft = v->resolve("MSFT");
  REQUIRE_FALSE(msft);
  CHECK(msft.err().message.find("not listed by alpaca") != std::string::npos);
}

TEST_CASE(
  "alpaca: every connection authenticates first, then subscribes, and a resubscribe does not authenticate again") {
  auto v = mi::venue::test::must_make("alpaca", creds());
  std::vector<mi::venue::subscription> subs{*v->resolve("AAPL"), *v->resolve("MSFT")};
  v->on_open(1);
  auto first = v->subscribe_requests(subs);
  REQUIRE(first.size() == 2);
  CHECK(first[0] == R"({"action":"auth","key":"PKTEST","secret":"s3cr3t"})");
  // Quotes only when exchanges.alpaca.quotes is on (off by default); statuses by default.
  CHECK(first[1].rfind(R"({"action":"subscribe","trades":["AAPL","MSFT"],"bars":["AAPL","MSFT"])", 0) == 0);
  CHECK(first[1].find("\"quotes\"") == std::string::npos);
  CHECK(first[1].find(R"("statuses":["AAPL","MSFT"])") != std::string::npos);
  auto with_quotes_opts = creds();
  with_quotes_opts.quotes = true;
  with_quotes_opts.statuses = false;
  auto wq = mi::venue::test::must_make("alpaca", with_quotes_opts);
  wq->on_open(1);
  auto wq_first = wq->subscribe_requests(subs);
  REQUIRE(wq_first.size() == 2);
  CHECK(wq_first[1].rfind(R"({"action":"subscribe","trades":["AAPL","MSFT"],"quotes":["AAPL","MSFT"])", 0) == 0);
  CHECK(wq_first[1].find("\"statuses\"") == std::string::npos);
  auto again = v->subscribe_requests({subs[0]});
  REQUIRE(again.size() == 1);
  CHECK(again[0].find("auth") == std::string::npos);
  auto un = v->unsubscribe_requests({subs[0]});
  REQUIRE(un.size() == 1);
  CHECK(un[0].rfind(R"({"action":"unsubscribe","trades":["AAPL"])", 0) == 0);
  v->on_open(2); // a new connection authenticates again
  CHECK(v->subscribe_requests({subs[0]}).at(0).find("\"auth\"") != std::string::npos);
}

TEST_CASE("alpaca: an auth error closes the connection (reported dead), other errors do not") {
  auto v = mi::venue::test::must_make("alpaca", creds());
  v->on_open(1);
  auto ev = v->decode(R"([{"T":"error","code":405,"msg":"symbol limit exceeded"}])", 1);
  REQUIRE(ev);
  CHECK(ev->what == mi::venue::events::kind::error);
  CHECK(ev->message.find("405") != std::string::npos);
  CHECK_FALSE(v->heartbeat_timed_out(2));
  ev = v->decode(R"([{"T":"error","code":402,"msg":"auth failed"}])", 3);
  REQUIRE(ev);
  CHECK(ev->what == mi::venue::events::kind::error);
  CHECK(ev->message.find("alpaca error 402: auth failed") == 0);
  CHECK(ev->message.find("s3cr3t") == std::string::npos); // the secret is never in a message
  CHECK(v->heartbeat_timed_out(4));
  v->on_open(5);
  CHECK_FALSE(v->heartbeat_timed_out(6));
}

TEST_CASE("alpaca decode: trades, acks, proof of life, and quotes and bars are not trades") {
  auto v = mi::venue::test::must_make("alpaca");
  auto t = v->decode(R"([{"T":"t","S":"AAPL","i":1,"x":"V","p":1.5,"s":2,"t":"2024-01-02T15:00:00Z"}])", 7);
  REQUIRE(t);
  CHECK(t->what == mi::venue::events::kind::trades);
  CHECK(t->trades.at(0).trade_id == "1-V");
  auto ack = v->decode(R"([{"T":"subscription","trades":["AAPL"]}])", 7);
  REQUIRE(ack);
  CHECK(ack->what == mi::venue::events::kind::ack);
  auto hello = v->decode(R"([{"T":"success","msg":"connected"}])", 7);
  REQUIRE(hello);
  CHECK(hello->what == mi::venue::events::kind::heartbeat);
  auto q = v->decode(
    R"([{"T":"q","S":"AMD","bx":"K","bp":91.95,"bs":2,"ax":"Q","ap":91.98,"as":1,"t":"2023-04-06T11:54:21Z"}])", 7);
  REQUIRE(q);
  CHECK(q->what == mi::venue::events::kind::ignored);
  CHECK_FALSE(v->decode("[{", 7));
}

TEST_CASE("alpaca backfill by time range: the gap's times, both ends included, paged by next_page_token") {
  auto v = mi::venue::test::must_make("alpaca", creds());
  CHECK_FALSE(v->sequential_ids());
  CHECK(v->backfills_by_time());
  auto s = *v->resolve("AAPL");
  mi::venue::gap g{0, 0, 1646802002183000000, 1646802016910000000};
  auto req = v->history_request(s, g);
  REQUIRE(req);
  CHECK(req->target == "/v2/stocks/AAPL/trades?start=2022-03-09T05:00:02.183Z&end=2022-03-09T05:00:16.91Z&limit=10000");
  REQUIRE(req->headers.size() == 2);
  CHECK(req->headers[0] == std::pair<std::string, std::string>{"APCA-API-KEY-ID", "PKTEST"});
  CHECK(req->headers[1] == std::pair<std::string, std::string>{"APCA-API-SECRET-KEY", "s3cr3t"});
  auto page = v->parse_history(s, g, mi::alpaca::test::fixture_text("rest/trades_single_AAPL_page1.json"));
  REQUIRE(page);
  REQUIRE(page->trades.size() == 2);
  CHECK(page->trades[0].trade_id == "151-D");
  CHECK(page->trades[1].trade_id == "168-D");
  REQUIRE(page->next);
  CHECK(page->next->target.find(
          "&page_token=QUFQTHwyMDIyLTAzLTA5VDA1OjAwOjE2LjkxMDAwMDAwMFp8RHwwOTIyMzM3MjAzNjg1NDc3NTk3Ng%3D%3D") !=
        std::string::npos);
  CHECK(page->next->headers == req->headers);
  // A narrower gap keeps only its own trades; the last page has no next.
  mi::venue::gap narrow{0, 0, 1646802010000000000, 1646802020000000000};
  auto last = v->parse_history(s, narrow, mi::alpaca::test::fixture_text("rest/trades_single_empty_null.json"));
  REQUIRE(last);
  CHECK(last->trades.empty());
  CHECK(!last->next);
  auto part = v->parse_history(s, narrow, mi::alpaca::test::fixture_text("rest/trades_single_AAPL_page1.json"));
  REQUIRE(part);
  REQUIRE(part->trades.size() == 1);
  CHECK(part->trades[0].trade_id == "168-D");
  // No time known before the gap: nothing to ask.
  CHECK_FALSE(v->history_request(s, mi::venue::gap{0, 0, 0, 5}));
}

TEST_CASE("alpaca REST rate: Alpaca's documented 200 requests a minute") {
  CHECK(mi::venue::test::must_make("alpaca")->limits().min_interval_ns == 300'000'000);
}

TEST_CASE("alpaca top of book from quotes") {
  auto v = mi::venue::test::must_make("alpaca");
  auto book = v->make_book_codec(0);
  REQUIRE(book);
  auto r = book->on_frame(
    R"([{"T":"q","S":"AMD","bx":"K","bp":91.95,"bs":2,"ax":"Q","ap":91.98,"as":1,"c":["R"],"z":"C","t":"2023-04-06T11:54:21.670905508Z"}])");
  CHECK(r.what == mi::book::status::snapshot);
  REQUIRE(book->book().valid());
  CHECK(mi::book::to_json_line(book->book(), r, 5).find(R"("bids":[["91.95","2"]],"asks":[["91.98","1"]])") !=
        std::string::npos);
  CHECK(book->on_frame(R"([{"T":"success","msg":"authenticated"}])").what == mi::book::status::ignored);
  CHECK(book->on_frame("[{").what == mi::book::status::resync);
  CHECK_FALSE(book->book().valid());
}

TEST_CASE("alpaca corrections and cancels become amendments after the frame's trades (the documented c and x)") {
  auto v = mi::venue::test::must_make("alpaca");
  // The documented objects (fixtures alpaca/ws/doc_objects.jsonl, lines 7 and 8) in one frame, after a trade.
  const std::string frame =
    R"([{"T":"t","i":96921,"S":"EEM","x":"D","p":39.15,"s":1,"t":"2023-04-06T14:25:06.1Z","c":["@"],"z":"B"},)"
    R"({"T":"c","S":"EEM","x":"M","oi":52983525033527,"op":39.1582,"os":440000,"oc":[" ","7"],"ci":52983525034326,)"
    R"("cp":39.1809,"cs":440000,"cc":[" ","7"],"z":"B","t":"2023-04-06T14:25:06.542305024Z"},)"
    R"({"T":"x","S":"GOOGL","i":465,"x":"D","p":105.31,"s":300,"a":"C","z":"C","t":"2023-04-06T13:15:42.83540958Z"}])";
  auto ev = v->decode(frame, 77);
  REQUIRE(ev);
  CHECK(ev->what == mi::venue::events::kind::trades);
  REQUIRE(ev->trades.size() == 3);
  CHECK_FALSE(ev->trades[0].is_amendment());
  const auto& c = ev->trades[1];
  CHECK(c.symbol == "EEM");
  CHECK(c.trade_id == "52983525034326-M");
  CHECK(c.amends == "52983525033527-M");
  CHECK_FALSE(c.canceled);
  CHECK(c.price.to_string() == "39.1809");
  CHECK(c.quantity.to_string() == "440000");
  CHECK(c.conditions == std::vector<std::string>{" ", "7"});
  CHECK(c.exchange_code == "M");
  CHECK(c.tape == "B");
  CHECK(c.ts_ns == 1680791106542305024);
  CHECK(c.recv_ns == 77);
  CHECK(mi::dedup_id(c) == "alpaca:EEM:52983525034326-M");
  const auto& x = ev->trades[2];
  CHECK(x.symbol == "GOOGL");
  CHECK(x.trade_id == "465-D:cancel");
  CHECK(x.amends == "465-D");
  CHECK(x.canceled);
  CHECK(x.price.to_string() == "105.31");
  CHECK(x.quantity.to_string() == "300");
  CHECK(x.ts_ns == 1680786942835409580);
  // An error ("a":"E") is voided the same way, under its own id.
  auto e = v->decode(
    R"([{"T":"x","S":"GOOGL","i":465,"x":"D","p":105.31,"s":300,"a":"E","z":"C","t":"2023-04-06T13:15:42Z"}])", 1);
  REQUIRE(e);
  REQUIRE(e->trades.size() == 1);
  CHECK(e->trades[0].trade_id == "465-D:error");
  CHECK(e->trades[0].canceled);
}
