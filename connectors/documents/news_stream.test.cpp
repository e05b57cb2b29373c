// Alpaca's news stream, client side: the recorded session
// (../shared/fixtures/documents/alpaca_news/ws_news_frames.jsonl, a websocat session of Alpaca's documentation)
// replayed through news_stream_session.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/documents/news_stream.hpp"

namespace docs = mi::documents;
using phase = docs::news_stream_session::phase;

namespace {

std::vector<std::string> fixture_lines(const std::string& rel) {
  std::ifstream in(std::filesystem::path(MI_FIXTURES_DIR) / "documents" / rel, std::ios::binary);
  if (!in)
    FAIL_CHECK("fixture documents/" << rel << " is missing");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      out.push_back(line);
  return out;
}

} // namespace

TEST_CASE("news stream: the recorded session authenticates, subscribes to all news and yields the article") {
  const auto frames = fixture_lines("alpaca_news/ws_news_frames.jsonl");
  REQUIRE(frames.size() == 4);
  docs::news_stream_session s("PKTEST", "s3cr\"et", {"*"});
  CHECK(s.state() == phase::connecting);

  auto connected = s.on_frame(frames[0], 1);
  CHECK(connected.error.empty());
  REQUIRE(connected.send.size() == 1);
  // The secret JSON-escaped, as Alpaca's documentation's request shape.
  CHECK(connected.send[0] == R"({"action":"auth","key":"PKTEST","secret":"s3cr\"et"})");
  CHECK(s.state() == phase::authenticating);

  auto authenticated = s.on_frame(frames[1], 2);
  REQUIRE(authenticated.send.size() == 1);
  // The client request recorded beside the session.
  CHECK(authenticated.send[0] == fixture_lines("alpaca_news/ws_news_client_requests.jsonl").at(0));
  CHECK(s.state() == phase::subscribing);
  CHECK_FALSE(authenticated.subscribed);

  auto subscription = s.on_frame(frames[2], 3);
  CHECK(subscription.subscribed);
  CHECK(subscription.send.empty());
  CHECK(s.state() == phase::streaming);

  auto news = s.on_frame(frames[3], 4);
  CHECK(news.error.empty());
  REQUIRE(news.documents.size() == 1);
  CHECK(news.documents[0].native_id == "40892639");
  CHECK(news.documents[0].source == "alpaca");
  CHECK(news.documents[0].title == "VinFast Officially Launches VF 3 Electric Vehicle In The Philippines");
  CHECK(news.documents[0].fetched_at_ns == 4);
  CHECK_FALSE(news.fatal);
}

TEST_CASE("news stream: an auth failure or a server error ends the session, a bad frame does not") {
  docs::news_stream_session s("PK", "wrong", {});
  auto c = s.on_frame(R"([{"T":"success","msg":"connected"}])", 1);
  REQUIRE(c.send.size() == 1);
  auto bad = s.on_frame("[{\"T\":\"success\"", 2); // cut mid-frame
  CHECK_FALSE(bad.error.empty());
  CHECK_FALSE(bad.fatal);
  CHECK(s.state() == phase::authenticating);
  auto refused = s.on_frame(R"([{"T":"error","code":402,"msg":"auth failed"}])", 3);
  CHECK(refused.fatal);
  CHECK(refused.error == "news stream error 402: auth failed");
  CHECK(refused.send.empty());
  CHECK(s.state() == phase::failed);
  CHECK(s.on_frame(R"([{"T":"success","msg":"connected"}])", 4).fatal);
}

TEST_CASE("news stream: an empty symbol list subscribes to all news, a list to those symbols") {
  docs::news_stream_session all("k", "s", {});
  all.on_frame(R"([{"T":"success","msg":"connected"}])", 1);
  CHECK(all.on_frame(R"([{"T":"success","msg":"authenticated"}])", 2).send.at(0) ==
        R"({"action":"subscribe","news":["*"]})");
  docs::news_stream_session some("k", "s", {"AAPL", "TSLA"});
  some.on_frame(R"([{"T":"success","msg":"connected"}])", 1);
  CHECK(some.on_frame(R"([{"T":"success","msg":"authenticated"}])", 2).send.at(0) ==
        R"({"action":"subscribe","news":["AAPL","TSLA"]})");
  // "authenticated" before "connected" is out of order: the connection is of no use.
  docs::news_stream_session early("k", "s", {});
  CHECK(early.on_frame(R"([{"T":"success","msg":"authenticated"}])", 1).fatal);
}
