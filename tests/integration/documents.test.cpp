// Documents end to end (issue 14): the document simulator (in this process, real HTTP on loopback) stands in for
// SEC, Alpaca news, an RSS feed and Reddit; `market-ingestor run --roles store,documents,api` polls them, publishes
// to MARKET_DOC (real nats-server) and stores in PostgreSQL (real), where the assertions look.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "simulator/documents/document_sim_server.hpp"
#include "simulator/documents/news_stream_server.hpp"
#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;
namespace simdoc = mi::sim::documents;

namespace {

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

struct documents_env {
  simdoc::document_sim sim{wall_ns(), 3};
  mi::net::io_thread io;
  simdoc::document_sim_server server{io.context(), sim};
  simdoc::news_stream_server news{io.context(), sim};
  std::unique_ptr<mi::test::platform_env> env;

  /// Which sources: every one (polls only), alpaca alone with its news WebSocket (the simulator's), or sec alone
  /// reading Apple's submissions with a backfill horizon of twenty years.
  enum class sources { all, news_stream, sec_history };

  explicit documents_env(sources which = sources::all) {
    const std::string url = server.base_url();
    std::string y = "documents:\n  user_agent: \"market-ingestor tests ops@example.com\"\n  sources:\n";
    auto source = [&](const char* name, const char* items, const char* extra) {
      y += std::string("    ") + name + ":\n      enabled: true\n      url: \"" + url + "\"\n      interval: 1s\n" +
           "      jitter_percent: 0\n      failure_threshold: 5\n      open_for: 4s\n      timeout: 2s\n" + items +
           extra;
    };
    if (which == sources::news_stream) {
      source("alpaca", "", ("      stream_url: \"" + news.url() + "\"\n").c_str());
    } else if (which == sources::sec_history) {
      source("sec", "      items: [AAPL]\n", "      requests_per_second: 10\n      backfill_horizon: 7300d\n");
    } else {
      source("sec", "", "      requests_per_second: 10\n      backfill_horizon: 2s\n");
      source("alpaca", "", "      stream_url: \"\"\n");
      source("rss", ("      items: [\"" + url + "/rss/markets\"]\n").c_str(), "");
      source("reddit", "      items: [wallstreetbets]\n", "");
      source("cninfo", "      items: [\"600600,gssh0600600\"]\n", "");
    }
    env = std::make_unique<mi::test::platform_env>(std::vector<std::string>{"1m"}, "", "", "", y);
  }

  std::string sql(const std::string& q) const { return env->pg.psql(q); }
  int count(const std::string& where) const { return std::stoi(sql("SELECT count(*) FROM documents WHERE " + where)); }

  /// Waits up to `timeout` for `pred`.
  template <class P>
  bool eventually(P pred, std::chrono::seconds timeout = 30s) const {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      try {
        if (pred())
          return true;
      } catch (const std::exception&) {
        // the table does not exist before the store role migrated
      }
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }
};

} // namespace

TEST_CASE("documents: a source failing 5 times opens its circuit while the others flow, and closes after recovery") {
  documents_env e;
  e.sim.set_faults("sec", {5, 503, 0, 1, 0});
  e.env->start_platform({"--roles", "store,documents"});
  // The others are stored while SEC answers 503.
  REQUIRE_MESSAGE(e.eventually([&] { return e.count("source = 'reddit'") == 3 && e.count("source = 'rss'") == 3; }),
                  e.env->platform_log());
  REQUIRE(e.eventually([&] { return e.env->metric(R"(mi_source_circuit_state{source="sec"})") == 1; }, 20s));
  CHECK(e.count("source = 'sec'") == 0);
  CHECK(e.env->metric(R"(mi_source_requests_total{outcome="server_error",source="sec"})") == 5);
  CHECK(e.env->metric(R"(mi_source_circuit_state{source="reddit"})") == 0);
  // After open_for, the half-open probe succeeds: closed, and the filings arrive.
  REQUIRE_MESSAGE(e.eventually([&] { return e.count("source = 'sec'") == 3; }, 20s), e.env->platform_log());
  CHECK(e.env->metric(R"(mi_source_circuit_state{source="sec"})") == 0);
  CHECK(e.sim.requests("sec") >= 6);
  CHECK(e.sql("SELECT title FROM documents WHERE source = 'sec' ORDER BY published_at DESC LIMIT 1") ==
        "4 - Apple Inc.");
  // Down for longer than its 2 s backfill horizon: one gap record on market.gap.sec.documents.
  CHECK(e.env->metric(R"(mi_source_gaps_total{source="sec"})") == 1);
  CHECK(e.env->stream_messages("MARKET_GAP") == 1);
  CHECK(e.env->metric(R"(mi_documents_published_total{path="poll",source="reddit"})") >= 3);
}

TEST_CASE("documents: 429 holds the source back for its Retry-After, then it is read") {
  documents_env e;
  e.sim.set_faults("reddit", {0, 503, 1, 3, 0});
  e.env->start_platform({"--roles", "store,documents"});
  REQUIRE_MESSAGE(e.eventually([&] { return e.count("source = 'reddit'") == 3; }), e.env->platform_log());
  const auto times = e.sim.request_times("reddit");
  REQUIRE(times.size() >= 2);
  CHECK(times[1] - times[0] >= 2'900'000'000); // Retry-After: 3 (the poll interval is 1 s)
  CHECK(e.env->metric(R"(mi_source_requests_total{outcome="rate_limited",source="reddit"})") == 1);
}

TEST_CASE("documents: a repeated item is stored once, an updated item becomes a revision") {
  documents_env e;
  e.env->start_platform({"--roles", "store,documents"});
  REQUIRE_MESSAGE(e.eventually([&] { return e.count("source = 'alpaca'") == 3 && e.count("source = 'rss'") == 3; }),
                  e.env->platform_log());
  // Several more polls of the same items (interval 1 s).
  const auto polls = e.sim.requests("rss");
  REQUIRE(e.eventually([&] { return e.sim.requests("rss") >= polls + 3; }));
  CHECK(e.count("source = 'rss'") == 3);
  CHECK(e.count("source = 'rss' AND revisions = 1") == 3);
  CHECK(e.count("source = 'alpaca' AND revisions = 1") == 3);
  CHECK(e.env->metric(R"(mi_documents_stored_total{result="inserted"})") >= 15); // 3 of each of the 5 sources
  // An edit at the source: same id, new updated_at.
  const std::string id = e.sql("SELECT native_id FROM documents WHERE source = 'alpaca' ORDER BY native_id LIMIT 1");
  REQUIRE(
    e.sim.update("alpaca", id, "Corrected: the figure was 4.2%, not 2.4%.", wall_ns() / 1'000'000'000 * 1'000'000'000));
  REQUIRE_MESSAGE(e.eventually([&] { return e.count("source = 'alpaca' AND revisions = 2") == 1; }),
                  e.env->platform_log());
  CHECK(e.count("source = 'alpaca'") == 3);
  CHECK(e.sql("SELECT body FROM documents WHERE source = 'alpaca' AND native_id = '" + id + "'") ==
        "Corrected: the figure was 4.2%, not 2.4%.");
  CHECK(e.env->metric(R"(mi_documents_stored_total{result="revised"})") == 1);
}

TEST_CASE("documents: REST search finds an English and a Chinese document by a word of their body") {
  documents_env e;
  e.sim.add("alpaca", {"",
                       "Chlorophyll startup raises funds",
                       "The company industrialises photosynthesis for fuels.",
                       {"XOM"},
                       wall_ns() / 1'000'000'000 * 1'000'000'000,
                       0});
  e.sim.add("cninfo", {"",
                       "关于股东权益变动的提示公告",
                       "本次权益变动不触及要约收购，不会导致控股股东发生变化。",
                       {"600600"},
                       wall_ns() / 1'000'000'000 * 1'000'000'000,
                       0});
  ::setenv("MI_API_AUTH", "off", 1); // the search itself is under test here; signed requests: api.test.cpp
  e.env->start_platform({"--roles", "store,documents,api"});
  ::unsetenv("MI_API_AUTH");
  REQUIRE_MESSAGE(e.eventually([&] { return e.count("source = 'cninfo'") == 4 && e.count("source = 'alpaca'") == 4; }),
                  e.env->platform_log());
  auto en = mi::test::http_get(e.env->api_port(), "/api/v1/documents?q=photosynthesis");
  REQUIRE(en.status == 200);
  CHECK(en.body.find("\"title\":\"Chlorophyll startup raises funds\"") != std::string::npos);
  CHECK(en.body.find("\"source\":\"cninfo\"") == std::string::npos);
  CHECK(en.body.find("\"next\":null") != std::string::npos);
  // 要约收购, percent-encoded UTF-8
  auto zh = mi::test::http_get(e.env->api_port(), "/api/v1/documents?q=%E8%A6%81%E7%BA%A6%E6%94%B6%E8%B4%AD");
  REQUIRE(zh.status == 200);
  CHECK(zh.body.find("\"title\":\"关于股东权益变动的提示公告\"") != std::string::npos);
  CHECK(zh.body.find("\"symbols\":[\"600600.SH\"]") != std::string::npos);
  CHECK(zh.body.find("\"source\":\"alpaca\"") == std::string::npos);
  // filters and paging
  auto by_symbol = mi::test::http_get(e.env->api_port(), "/api/v1/documents?symbol=XOM&kind=news");
  REQUIRE(by_symbol.status == 200);
  CHECK(by_symbol.body.find("photosynthesis") != std::string::npos);
  auto page = mi::test::http_get(e.env->api_port(), "/api/v1/documents?source=reddit&limit=2");
  REQUIRE(page.status == 200);
  const auto at = page.body.find("\"next\":\"");
  REQUIRE(at != std::string::npos);
  const auto token = page.body.substr(at + 8, page.body.find('"', at + 8) - at - 8);
  auto rest = mi::test::http_get(e.env->api_port(), "/api/v1/documents?source=reddit&limit=2&cursor=" + token);
  REQUIRE(rest.status == 200);
  CHECK(rest.body.find("\"next\":null") != std::string::npos);
  // errors in the API's style
  auto bad = mi::test::http_get(e.env->api_port(), "/api/v1/documents?source=twitter");
  CHECK(bad.status == 400);
  CHECK(bad.body.find("\"code\":-1100") != std::string::npos);
  CHECK(mi::test::http_get(e.env->api_port(), "/api/v1/documents?kind=tweet").status == 400);
  CHECK(mi::test::http_get(e.env->api_port(), "/api/v1/documents?cursor=zz").status == 400);
}

TEST_CASE("documents: the push channels doc.sec and doc.symbol.AAPL deliver a new filing") {
  documents_env e;
  e.env->start_platform({"--roles", "store,documents,push"});
  REQUIRE_MESSAGE(e.eventually([&] { return e.count("source = 'sec'") == 3; }), e.env->platform_log());
  // A subscriber's frames, collected on the io thread.
  struct frames {
    std::mutex mu;
    std::vector<std::string> got;
    bool has(std::string_view needle) {
      std::lock_guard lock(mu);
      return std::any_of(got.begin(), got.end(), [&](const std::string& f) { return f.find(needle) != f.npos; });
    }
  };
  auto in = std::make_shared<frames>();
  mi::net::ws_handlers h;
  h.on_text = [in](std::string&& t, std::int64_t) {
    std::lock_guard lock(in->mu);
    in->got.push_back(std::move(t));
  };
  auto client = mi::net::ws_client::create(
    e.io.context(), *mi::net::parse_url("ws://127.0.0.1:" + std::to_string(e.env->push_port()) + "/"), {}, h);
  h.on_open = nullptr;
  client->start();
  client->send(R"({"op":"subscribe","channels":["doc.sec","doc.symbol.AAPL","doc.reddit"]})");
  REQUIRE(e.eventually([&] { return in->has(R"("op":"subscribed")"); }, 10s));
  const auto added = e.sim.command("source=sec&action=add&title=10-K&body=annual+report&symbol=AAPL");
  REQUIRE(added.status == 200);
  const std::string accession = added.body.substr(7, added.body.size() - 9); // {"id":"<accession>"}
  REQUIRE_MESSAGE(e.eventually([&] { return in->has("\"channel\":\"doc.sec\"") && in->has(accession); }, 20s),
                  e.env->platform_log());
  CHECK(in->has("\"channel\":\"doc.symbol.AAPL\""));
  CHECK(in->has("\"id\":\"sec:" + accession + "\""));
  // Only new documents: the three filings stored before the subscription were not replayed.
  {
    std::lock_guard lock(in->mu);
    const auto sec_frames = std::count_if(in->got.begin(), in->got.end(), [](const std::string& f) {
      return f.find("\"channel\":\"doc.sec\"") != std::string::npos;
    });
    CHECK(sec_frames == 1);
  }
  client->close();
}

TEST_CASE("documents: alpaca news over the WebSocket pauses the polls, a drop is caught up by REST, nothing twice") {
  documents_env e(documents_env::sources::news_stream);
  ::setenv("MI_ALPACA_KEY_ID", "PKSIMULATOR", 1); // the simulator's key (news_stream_protocol)
  ::setenv("MI_ALPACA_SECRET_KEY", "simulator-secret", 1);
  e.env->start_platform({"--roles", "store,documents"});
  ::unsetenv("MI_ALPACA_KEY_ID");
  ::unsetenv("MI_ALPACA_SECRET_KEY");
  const std::string stream = R"(mi_documents_published_total{path="stream",source="alpaca"})";
  // The backfill poll, then the stream: authenticated and subscribed.
  REQUIRE_MESSAGE(e.eventually([&] { return e.count("source = 'alpaca'") == 3 && e.news.subscribed() == 1; }),
                  e.env->platform_log());
  CHECK(e.env->platform_log().find("simulator-secret") == std::string::npos); // the secret is never logged
  // Live: after the one catch-up poll, no poll for several intervals (1 s). Polls that went on would change the count
  // every second: it must settle, and then stay.
  REQUIRE(e.eventually(
    [&] {
      const auto before = e.sim.requests("alpaca");
      std::this_thread::sleep_for(2s);
      return e.sim.requests("alpaca") == before;
    },
    20s));
  const auto polls = e.sim.requests("alpaca");
  std::this_thread::sleep_for(3s);
  CHECK(e.sim.requests("alpaca") == polls);

  // A new article reaches the platform over the stream.
  const auto now_s = [] { return wall_ns() / 1'000'000'000 * 1'000'000'000; };
  e.sim.add("alpaca", {"", "Streamed headline", "Pushed over the WebSocket.", {"AAPL"}, now_s(), 0});
  REQUIRE_MESSAGE(e.eventually([&] { return e.count("source = 'alpaca'") == 4; }, 10s), e.env->platform_log());
  CHECK(e.env->metric(stream) == 1);
  CHECK(e.sim.requests("alpaca") == polls); // not by a poll
  CHECK(e.count("title = 'Streamed headline' AND body = 'Pushed over the WebSocket.'") == 1);

  // The stream drops mid-session and stays away: articles published meanwhile never come over it; the polls resume
  // and catch them up.
  e.news.refuse(true);
  e.news.drop_all();
  e.sim.add("alpaca", {"", "Published during the outage 1", "First while down.", {"MSFT"}, now_s(), 0});
  e.sim.add("alpaca", {"", "Published during the outage 2", "Second while down.", {"TSLA"}, now_s(), 0});
  REQUIRE_MESSAGE(e.eventually([&] { return e.count("source = 'alpaca'") == 6; }, 20s), e.env->platform_log());
  CHECK(e.sim.requests("alpaca") > polls);
  CHECK(e.env->metric(stream) == 1);

  // Back: the client reconnects (backoff), and the next article comes over the stream again.
  e.news.refuse(false);
  REQUIRE_MESSAGE(e.eventually([&] { return e.news.subscribed() == 1; }, 40s), e.env->platform_log());
  e.sim.add("alpaca", {"", "After the reconnect", "Streamed again.", {"AAPL"}, now_s(), 0});
  REQUIRE_MESSAGE(e.eventually([&] { return e.count("source = 'alpaca'") == 7; }, 10s), e.env->platform_log());
  REQUIRE(e.eventually([&] { return e.env->metric(stream) == 2; }, 5s));
  CHECK(e.news.connections() >= 2);

  // Every article once: one row, one revision, one MARKET_DOC message each (stream and polls carried some of the
  // same ids: the catch-up polls re-read the stream's articles, and JetStream kept one by Nats-Msg-Id).
  std::this_thread::sleep_for(2s); // polls after the reconnect's catch-up have had time to repeat what they read
  CHECK(e.count("source = 'alpaca'") == 7);
  CHECK(e.count("source = 'alpaca' AND revisions = 1") == 7);
  CHECK(e.sql("SELECT count(DISTINCT native_id) FROM documents") == "7");
  CHECK(e.env->stream_messages("MARKET_DOC") == 7);
  CHECK(e.env->metric(R"(mi_documents_published_total{path="poll",source="alpaca"})") > 7); // repeats included
}

TEST_CASE("documents: a filing only in a company's submissions overflow file is stored when the horizon reaches it") {
  documents_env e(documents_env::sources::sec_history);
  simdoc::sim_item old;
  old.title = "Archived annual report";
  old.body = "Only in CIK0000320193-submissions-001.json.";
  old.symbols = {"AAPL"};
  old.published_ns = 1414427585LL * 1'000'000'000; // 2014-10-27T16:33:05Z: past `recent`, within 20 years
  old.archived = true;
  const std::string accession = e.sim.add("sec", old);
  e.env->start_platform({"--roles", "store,documents"});
  // The three current filings (Atom and recent) and the archived one (the overflow file).
  REQUIRE_MESSAGE(e.eventually([&] { return e.count("source = 'sec'") == 4; }), e.env->platform_log());
  CHECK(e.sql("SELECT title || '|' || published_at_ns || '|' || (fields->>'filing_date') || '|' || "
              "array_to_string(symbols, ',') FROM documents WHERE native_id = '" +
              accession + "'") == "4 - Apple Inc.|1414427585000000000|2014-10-27|AAPL");
  // Later polls (recent again; the overflow file was read once: source_poller.test.cpp) store nothing twice.
  const auto requests = e.sim.requests("sec");
  REQUIRE(e.eventually([&] { return e.sim.requests("sec") >= requests + 6; })); // two more polls (1 s interval)
  CHECK(e.count("source = 'sec'") == 4);
  CHECK(e.count("source = 'sec' AND revisions = 1") == 4);
  CHECK(e.env->stream_messages("MARKET_DOC") == 4);
}
