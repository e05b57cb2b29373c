// The document simulator speaks each source's format: what it serves parses with the platform's own parsers, and its
// faults are what the pollers must survive.
#include <doctest/doctest.h>

#include "connectors/documents/alpaca_news.hpp"
#include "connectors/documents/cninfo.hpp"
#include "connectors/documents/feeds.hpp"
#include "connectors/documents/news_stream.hpp"
#include "connectors/documents/reddit.hpp"
#include "connectors/documents/sec.hpp"
#include "simulator/documents/document_sim.hpp"

namespace docs = mi::documents;
using mi::sim::documents::document_sim;

namespace {
constexpr std::int64_t now = 1764633600000000000; // 2025-12-02T00:00:00Z
}

TEST_CASE("document sim: every source's answer parses with the platform's parser") {
  document_sim sim(now, 3);
  auto sec = docs::sec::parse_current_atom(sim.handle("/cgi-bin/browse-edgar", "action=getcurrent&start=0", "").body,
                                           {{320193, {"AAPL"}}}, 1);
  REQUIRE_MESSAGE(sec, (sec ? "" : sec.err().message));
  CHECK(sec->entries == 6); // each filing listed for its reporting owner and its issuer
  REQUIRE(sec->documents.size() == 3);
  CHECK(sec->documents[0].title == "4 - Apple Inc.");
  CHECK(sec->documents[0].symbols == std::vector<std::string>{"AAPL"});

  auto news = docs::alpaca_news::parse_news_page(sim.handle("/v1beta1/news", "", "").body, 1);
  REQUIRE_MESSAGE(news, (news ? "" : news.err().message));
  CHECK(news->documents.size() == 3);
  CHECK_FALSE(news->next_page_token);

  auto rss = docs::feeds::parse_feed(sim.handle("/rss/markets", "", "").body, "sim", "en", 1);
  REQUIRE_MESSAGE(rss, (rss ? "" : rss.err().message));
  CHECK(rss->size() == 3);

  auto cn = docs::cninfo::parse_query(sim.handle("/new/hisAnnouncement/query", "", "pageNum=1").body, 1);
  REQUIRE_MESSAGE(cn, (cn ? "" : cn.err().message));
  REQUIRE(cn->documents.size() == 3);
  CHECK(cn->documents[0].symbols == std::vector<std::string>{"600600.SH"});

  auto rd = docs::reddit::parse_listing(sim.handle("/r/wallstreetbets/new.json", "", "").body, 1);
  REQUIRE_MESSAGE(rd, (rd ? "" : rd.err().message));
  REQUIRE(rd->documents.size() == 3);
  CHECK(rd->documents[0].symbols == std::vector<std::string>{"AAPL"});
}

TEST_CASE("document sim: faults are served one per request, then the source is healthy again") {
  document_sim sim(now, 1);
  REQUIRE(sim.command("source=reddit&action=throttle&count=1&retry_after=7").status == 200);
  auto r = sim.handle("/r/wallstreetbets/new.json", "", "");
  CHECK(r.status == 429);
  REQUIRE(r.headers.size() == 1);
  CHECK(r.headers[0] == std::pair<std::string, std::string>{"Retry-After", "7"});
  CHECK(sim.handle("/r/wallstreetbets/new.json", "", "").status == 200);

  REQUIRE(sim.command("source=sec&action=fail&count=2&status=503").status == 200);
  CHECK(sim.handle("/cgi-bin/browse-edgar", "", "").status == 503);
  CHECK(sim.handle("/cgi-bin/browse-edgar", "", "").status == 503);
  CHECK(sim.handle("/cgi-bin/browse-edgar", "", "").status == 200);

  REQUIRE(sim.command("source=rss&action=malformed&count=1").status == 200);
  CHECK_FALSE(docs::feeds::parse_feed(sim.handle("/rss/x", "", "").body, "sim", "en", 1));
  CHECK(docs::feeds::parse_feed(sim.handle("/rss/x", "", "").body, "sim", "en", 1));
  CHECK(sim.requests("sec") == 3);
  CHECK(sim.command("source=twitter&action=add").status == 400);
}

TEST_CASE("document sim: an added item is listed, an updated one a new revision of the same id") {
  document_sim sim(now, 1);
  auto added = sim.command("source=alpaca&action=add&title=Fed+holds&body=Rates+unchanged&symbol=SPY");
  REQUIRE(added.status == 200);
  auto page = docs::alpaca_news::parse_news_page(sim.handle("/v1beta1/news", "", "").body, 1);
  REQUIRE(page);
  REQUIRE(page->documents.size() == 2);
  const auto before = page->documents[1];
  CHECK(before.title == "Fed holds");
  CHECK(before.symbols == std::vector<std::string>{"SPY"});
  REQUIRE(
    sim.update("alpaca", before.native_id, "Rates unchanged, two dissents", before.published_at_ns + 5'000'000'000));
  page = docs::alpaca_news::parse_news_page(sim.handle("/v1beta1/news", "", "").body, 1);
  REQUIRE(page);
  const auto after = page->documents[1];
  CHECK(mi::document_id(after) == mi::document_id(before));
  CHECK(mi::dedup_id(after) != mi::dedup_id(before));
  CHECK(after.body == "Rates unchanged, two dissents");
}

TEST_CASE("document sim news stream: the platform's client session gets through auth and subscribe to the article") {
  // The simulator's protocol and the platform's session talk to each other; the article is the REST page's.
  mi::sim::documents::news_stream_protocol server;
  docs::news_stream_session client("PKSIMULATOR", "simulator-secret", {});
  std::vector<std::string> to_server;
  auto feed = [&](const std::string& frame) {
    auto step = client.on_frame(frame, 5);
    CHECK(step.error.empty());
    for (auto& f : step.send)
      to_server.push_back(f);
    return step;
  };
  feed(mi::sim::documents::news_stream_protocol::greeting());
  REQUIRE(to_server.size() == 1);
  auto answer = server.on_text(to_server[0]);
  REQUIRE(answer.size() == 1);
  feed(answer[0]);
  REQUIRE(to_server.size() == 2);
  answer = server.on_text(to_server[1]);
  REQUIRE(answer.size() == 1);
  CHECK(answer[0] == R"([{"T":"subscription","news":["*"]}])");
  CHECK(feed(answer[0]).subscribed);
  CHECK(server.subscribed());

  document_sim sim(now, 1);
  const auto rest = docs::alpaca_news::parse_news_page(sim.handle("/v1beta1/news", "", "").body, 5);
  REQUIRE(rest);
  REQUIRE(rest->documents.size() == 1);
  mi::sim::documents::sim_item item;
  item.id = rest->documents[0].native_id;
  item.title = rest->documents[0].title;
  item.body = "Simulated alpaca document number 1.";
  item.symbols = {"AAPL"};
  item.published_ns = now - 60'000'000'000;
  auto frame = server.news_frame(item);
  REQUIRE(frame);
  auto got = feed(*frame);
  REQUIRE(got.documents.size() == 1);
  CHECK(got.documents[0] == rest->documents[0]);
}

TEST_CASE("document sim news stream: a wrong secret, a subscribe before auth and bad JSON get Alpaca's errors") {
  mi::sim::documents::news_stream_protocol server;
  CHECK(server.on_text(R"({"action":"subscribe","news":["*"]})").at(0) ==
        R"([{"T":"error","code":401,"msg":"not authenticated"}])");
  CHECK(server.on_text(R"({"action":"auth","key":"PKSIMULATOR","secret":"nope"})").at(0) ==
        R"([{"T":"error","code":402,"msg":"auth failed"}])");
  CHECK(server.on_text("{nope").at(0) == R"([{"T":"error","code":400,"msg":"invalid syntax"}])");
  CHECK_FALSE(server.subscribed());
  CHECK_FALSE(server.news_frame({}).has_value());
  // subscribed to AAPL only: a TSLA article is not sent
  server.on_text(R"({"action":"auth","key":"PKSIMULATOR","secret":"simulator-secret"})");
  server.on_text(R"({"action":"subscribe","news":["AAPL"]})");
  mi::sim::documents::sim_item tsla;
  tsla.id = "5";
  tsla.symbols = {"TSLA"};
  CHECK_FALSE(server.news_frame(tsla).has_value());
  tsla.symbols = {"TSLA", "AAPL"};
  CHECK(server.news_frame(tsla).has_value());
}

TEST_CASE("document sim sec submissions: recent in column arrays, an archived filing only in the overflow file") {
  document_sim sim(now, 2);
  auto plain = docs::sec::parse_submissions(sim.handle("/submissions/CIK0000320193.json", "", "").body, 1);
  REQUIRE_MESSAGE(plain, (plain ? "" : plain.err().message));
  CHECK(plain->documents.size() == 2);
  CHECK(plain->overflow.empty());

  mi::sim::documents::sim_item old;
  old.title = "Old filing";
  old.body = "From the archive.";
  old.symbols = {"AAPL"};
  old.published_ns = 1414427585LL * 1'000'000'000; // 2014-10-27T16:33:05Z
  old.archived = true;
  const auto id = sim.add("sec", old);
  auto s = docs::sec::parse_submissions(sim.handle("/submissions/CIK0000320193.json", "", "").body, 1);
  REQUIRE(s);
  CHECK(s->documents.size() == 2); // not in recent
  REQUIRE(s->overflow.size() == 1);
  CHECK(s->overflow[0] ==
        docs::sec::submissions_file{"CIK0000320193-submissions-001.json", 1, "2014-10-27", "2014-10-27"});
  auto rows = docs::sec::parse_submissions_file(
    sim.handle("/submissions/CIK0000320193-submissions-001.json", "", "").body, *s, s->overflow[0].name, 1);
  REQUIRE_MESSAGE(rows, (rows ? "" : rows.err().message));
  REQUIRE(rows->size() == 1);
  CHECK((*rows)[0].native_id == id);
  CHECK((*rows)[0].published_at_ns == old.published_ns);
  CHECK((*rows)[0].title == "4 - Apple Inc.");
  // not in the current feed either
  auto atom = docs::sec::parse_current_atom(sim.handle("/cgi-bin/browse-edgar", "action=getcurrent&start=0", "").body,
                                            {{320193, {"AAPL"}}}, 1);
  REQUIRE(atom);
  CHECK(atom->documents.size() == 2);
  CHECK(sim.handle("/submissions/CIK0000000001.json", "", "").status == 404);
}
