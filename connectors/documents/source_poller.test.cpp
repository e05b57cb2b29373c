// The poller of one source, driven with recorded answers (../shared/fixtures/documents) and no socket.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/documents/source_poller.hpp"

namespace docs = mi::documents;

namespace {

constexpr std::int64_t s = 1'000'000'000;

std::string fixture(const std::string& rel) {
  std::ifstream in(std::filesystem::path(MI_FIXTURES_DIR) / "documents" / rel, std::ios::binary);
  if (!in)
    FAIL_CHECK("fixture documents/" << rel << " is missing");
  std::ostringstream o;
  o << in.rdbuf();
  return o.str();
}

// A file of tests/data/documents (hand-written; README there).
std::string data_file(const std::string& name) {
  std::ifstream in(std::filesystem::path(MI_SOURCE_DIR) / "tests" / "data" / "documents" / name, std::ios::binary);
  if (!in)
    FAIL_CHECK("tests/data/documents/" << name << " is missing");
  std::ostringstream o;
  o << in.rdbuf();
  return o.str();
}

docs::source_request must_request(docs::source_poller& p, std::int64_t now) {
  auto n = p.next(now);
  REQUIRE_MESSAGE(std::holds_alternative<docs::source_request>(n), "waits " << std::get<std::int64_t>(n) << " ns");
  return std::get<docs::source_request>(n);
}

std::string header(const docs::source_request& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name)
      return v;
  return {};
}

// The recorded answer to a SEC request, by what it asks for.
docs::source_response sec_answer(const docs::source_request& r) {
  if (r.what == "tickers")
    return {200, fixture("sec/company_tickers_first25_excerpt.json"), "", "", ""};
  if (r.what == "submissions")
    return {200, fixture("sec/submissions_CIK0000320193_AAPL.json"), "", "", ""};
  return {200, fixture("sec/getcurrent_atom_start0.xml"), "\"v1\"", "", ""};
}

docs::source_settings sec_settings() {
  docs::source_settings st;
  st.source = "sec";
  st.url = "https://www.sec.gov";
  st.user_agent = "Acme Corp ops@acme.example";
  st.schedule.interval_ns = 60 * s;
  st.schedule.jitter = 0;
  st.schedule.requests_per_second = 10;
  st.max_pages = 1;
  return st;
}

} // namespace

TEST_CASE("sec poller: tickers once, the current feed with the contact User-Agent, then conditional requests") {
  docs::source_poller p(sec_settings(), 1, 0);
  auto t = must_request(p, 0);
  CHECK(t.url == "https://www.sec.gov/files/company_tickers.json");
  CHECK(header(t, "User-Agent") == "Acme Corp ops@acme.example");
  CHECK(p.on_response(t, sec_answer(t), "", 0).outcome == docs::request_outcome::ok);
  auto r = must_request(p, 1 * s / 10);
  CHECK(r.url ==
        "https://www.sec.gov/cgi-bin/browse-edgar?action=getcurrent&count=100&start=0&type=&owner=include&output=atom");
  CHECK(header(r, "User-Agent") == "Acme Corp ops@acme.example");
  CHECK(header(r, "If-None-Match").empty());
  auto step = p.on_response(r, sec_answer(r), "", 1 * s);
  CHECK(step.outcome == docs::request_outcome::ok);
  CHECK(step.documents.size() == 50);
  CHECK(std::get<std::int64_t>(p.next(2 * s)) == 59 * s); // the next poll one interval after the last answer
  auto again = must_request(p, 61 * s);                   // tickers are not read again
  CHECK(again.what == "atom");
  CHECK(header(again, "If-None-Match") == "\"v1\"");
  auto not_modified = p.on_response(again, docs::source_response{304, "", "", "", ""}, "", 61 * s);
  CHECK(not_modified.outcome == docs::request_outcome::not_modified);
  CHECK(not_modified.documents.empty());
}

TEST_CASE("sec poller: tickers map CIKs first, then each configured company's submissions on data.sec.gov") {
  auto st = sec_settings();
  st.items = {"AAPL"};
  docs::source_poller p(st, 1, 0);
  auto tickers = must_request(p, 0);
  CHECK(tickers.url == "https://www.sec.gov/files/company_tickers.json");
  p.on_response(tickers, sec_answer(tickers), "", 0);
  auto atom = must_request(p, 1 * s);
  CHECK(atom.what == "atom");
  auto with_symbols = p.on_response(atom, sec_answer(atom), "", 1 * s);
  CHECK(with_symbols.documents.size() == 50);
  auto sub = must_request(p, 2 * s);
  CHECK(sub.url == "https://data.sec.gov/submissions/CIK0000320193.json");
  auto step = p.on_response(sub, sec_answer(sub), "", 2 * s);
  CHECK(step.documents.size() == 1005);
}

TEST_CASE("sec poller: a company's overflow file is read once, only when the backfill horizon reaches past recent") {
  const std::int64_t t0 = 1772323200 * s; // 2026-03-01; Apple's recent rows go back to 2015-03-12
  const std::string overflow_url = "https://data.sec.gov/submissions/CIK0000320193-submissions-001.json";
  auto read_company = [&](docs::source_poller& p, std::int64_t now) {
    for (;;) {
      auto r = must_request(p, now);
      auto step = p.on_response(r, sec_answer(r), "", now);
      REQUIRE(step.outcome == docs::request_outcome::ok);
      if (r.what == "submissions")
        return;
      now += s;
    }
  };
  auto st = sec_settings();
  st.items = {"AAPL"};
  st.schedule.backfill_horizon_ns = 86400 * s; // a day: recent covers it
  docs::source_poller day(st, 1, t0);
  read_company(day, t0);
  CHECK(std::holds_alternative<std::int64_t>(day.next(t0 + 10 * s))); // nothing more this poll

  st.schedule.backfill_horizon_ns = 20 * 365 * 86400 * s; // twenty years: back to 2006, past recent
  docs::source_poller years(st, 1, t0);
  read_company(years, t0);
  auto file = must_request(years, t0 + 10 * s);
  CHECK(file.url == overflow_url);
  CHECK(file.what == "submissions_file");
  CHECK(header(file, "User-Agent") == "Acme Corp ops@acme.example");
  const docs::source_response answer{200, data_file("CIK0000320193-submissions-001_handwritten.json"), "", "", ""};
  auto old = years.on_response(file, answer, "", t0 + 10 * s);
  REQUIRE(old.outcome == docs::request_outcome::ok);
  REQUIRE(old.documents.size() == 3);
  CHECK(old.documents[1].title == "10-K - Apple Inc.");
  CHECK(old.documents[1].symbols == std::vector<std::string>{"AAPL"});
  // The next poll reads recent again, not the file.
  auto next_atom = must_request(years, t0 + 100 * s);
  CHECK(next_atom.what == "atom");
  years.on_response(next_atom, sec_answer(next_atom), "", t0 + 100 * s);
  auto sub = must_request(years, t0 + 101 * s);
  CHECK(sub.what == "submissions");
  years.on_response(sub, sec_answer(sub), "", t0 + 101 * s);
  CHECK(std::holds_alternative<std::int64_t>(years.next(t0 + 102 * s)));
}

TEST_CASE("poller: a malformed body is bad_body, 5 failures open the circuit, the probe closes it") {
  auto st = sec_settings();
  st.schedule.interval_ns = 1 * s;
  st.schedule.open_for_ns = 30 * s;
  docs::source_poller p(st, 1, 0);
  std::int64_t now = 0;
  auto r = must_request(p, now);
  REQUIRE(r.what == "tickers");
  auto bad = p.on_response(r, docs::source_response{200, "{\"0\":", "", "", ""}, "", now);
  CHECK(bad.outcome == docs::request_outcome::bad_body);
  CHECK_FALSE(bad.error.empty());
  for (int i = 0; i < 4; ++i) {
    now += 1 * s;
    r = must_request(p, now);
    p.on_response(r, docs::source_response{503, fixture("sec/getcurrent_start5100_503.html"), "", "", ""}, "", now);
  }
  CHECK(p.state() == docs::circuit_state::open);
  CHECK(std::get<std::int64_t>(p.next(now + 1 * s)) == 29 * s);
  r = must_request(p, now + 30 * s);
  CHECK(p.state() == docs::circuit_state::half_open);
  auto ok = p.on_response(r, sec_answer(r), "", now + 30 * s);
  CHECK(ok.outcome == docs::request_outcome::ok);
  CHECK(p.state() == docs::circuit_state::closed);
}

TEST_CASE("poller: 429 Retry-After holds every request back that long, a network error counts as a failure") {
  docs::source_settings st;
  st.source = "reddit";
  st.url = "https://www.reddit.com";
  st.items = {"wallstreetbets"};
  st.schedule.interval_ns = 10 * s;
  st.schedule.jitter = 0;
  docs::source_poller p(st, 1, 0);
  auto r = must_request(p, 0);
  CHECK(r.url == "https://www.reddit.com/r/wallstreetbets/new.json?limit=100&raw_json=1");
  auto limited = p.on_response(r, docs::source_response{429, "", "", "", "120"}, "", 0);
  CHECK(limited.outcome == docs::request_outcome::rate_limited);
  CHECK(std::get<std::int64_t>(p.next(10 * s)) == 110 * s);
  r = must_request(p, 120 * s);
  auto net = p.on_response(r, std::nullopt, "connect www.reddit.com:443: Connection refused", 120 * s);
  CHECK(net.outcome == docs::request_outcome::network_error);
  CHECK(net.error.find("refused") != std::string::npos);
}

TEST_CASE("alpaca poller: keys in headers, next_page_token followed with the same start, percent-encoded") {
  docs::source_settings st;
  st.source = "alpaca";
  st.url = "https://data.alpaca.markets";
  st.key_id = "AKID";
  st.secret_key = "SECRET";
  st.schedule.jitter = 0;
  st.schedule.backfill_horizon_ns = 3600 * s;
  docs::source_poller p(st, 1, 1617460000 * s);
  auto r = must_request(p, 1617460000 * s);
  CHECK(r.url == "https://data.alpaca.markets/v1beta1/news?start=2021-04-03T13:26:40Z&sort=asc&limit=50"
                 "&include_content=true");
  CHECK(header(r, "APCA-API-KEY-ID") == "AKID");
  CHECK(header(r, "APCA-API-SECRET-KEY") == "SECRET");
  auto step = p.on_response(r, docs::source_response{200, fixture("alpaca_news/rest_news_page1_go.json"), "", "", ""},
                            "", 1617460001 * s);
  CHECK(step.documents.size() == 2);
  auto page2 = must_request(p, 1617460002 * s);
  CHECK(page2.url == "https://data.alpaca.markets/v1beta1/news?start=2021-04-03T13:26:40Z&sort=asc&limit=50"
                     "&include_content=true&page_token=MTYxNzQ2MzIxMjAwMDAwMDAwMHwyMDQ3MjUxMg%3D%3D");
  CHECK(page2.page == 2);
}

TEST_CASE("cninfo poller: a form POST per stock, the next page while hasMore") {
  docs::source_settings st;
  st.source = "cninfo";
  st.url = "http://www.cninfo.com.cn";
  st.items = {"600600,gssh0600600"};
  st.schedule.jitter = 0;
  st.schedule.backfill_horizon_ns = 7 * 86400 * s;
  docs::source_poller p(st, 1, 1599148800 * s); // 2020-09-04 00:00 +08:00 is 2020-09-03T16:00Z
  auto r = must_request(p, 1599148800 * s);
  CHECK(r.url == "http://www.cninfo.com.cn/new/hisAnnouncement/query");
  REQUIRE(r.form);
  CHECK(r.form->find("pageNum=1&") == 0);
  CHECK(r.form->find("stock=600600%2Cgssh0600600") != std::string::npos);
  CHECK(r.form->find("seDate=2020-08-28~2020-09-04") != std::string::npos);
  auto step = p.on_response(
    r,
    docs::source_response{200, fixture("cninfo/hisAnnouncement_query_600600_2020-09_elision_removed.json"), "", "", ""},
    "", 1599148801 * s);
  CHECK(step.documents.size() == 2);
  auto page2 = must_request(p, 1599148802 * s);
  REQUIRE(page2.form);
  CHECK(page2.form->find("pageNum=2&") == 0);
}

TEST_CASE("alpaca poller with the news stream: a catch-up poll when it comes up and when it drops, paused between") {
  docs::source_settings st;
  st.source = "alpaca";
  st.url = "https://data.alpaca.markets";
  st.schedule.jitter = 0;
  st.schedule.interval_ns = 60 * s;
  st.schedule.backfill_horizon_ns = 3600 * s;
  const std::int64_t t0 = 1617460000 * s; // 2021-04-03T14:26:40Z
  const std::string prefix = "https://data.alpaca.markets/v1beta1/news?start=";
  const std::string suffix = "&sort=asc&limit=50&include_content=true";
  const docs::source_response empty{200, R"({"news":[],"next_page_token":null})", "", "", ""};
  docs::source_poller p(st, 1, t0);
  auto r1 = must_request(p, t0);
  CHECK(r1.url == prefix + "2021-04-03T13:26:40Z" + suffix); // the backfill horizon
  const docs::source_response one{
    200, R"({"news":[{"id":7,"headline":"h","created_at":"2021-04-03T14:00:00Z"}],"next_page_token":null})", "", "",
    ""};
  auto got = p.on_response(r1, one, "", t0);
  CHECK(got.documents.size() == 1);
  CHECK(std::holds_alternative<std::int64_t>(p.next(t0 + 1 * s))); // the next poll is a minute away

  // Live: one poll at once, from a minute before the newest article seen (14:00:00), then nothing.
  p.stream_up(t0 + 5 * s);
  CHECK(p.stream_live());
  auto r2 = must_request(p, t0 + 5 * s);
  CHECK(r2.url == prefix + "2021-04-03T13:59:00Z" + suffix);
  p.on_response(r2, empty, "", t0 + 5 * s);
  CHECK(std::holds_alternative<std::int64_t>(p.next(t0 + 120 * s))); // two intervals later: still paused
  CHECK(std::holds_alternative<std::int64_t>(p.next(t0 + 290 * s)));

  // An article over the stream (created 14:30:00), then the drop at 14:31:40: a poll at once from 14:29:00.
  mi::document d;
  d.published_at_ns = (1617460000 + 200) * s;
  p.stream_seen(d, t0 + 250 * s);
  p.stream_down(t0 + 300 * s);
  CHECK_FALSE(p.stream_live());
  auto r3 = must_request(p, t0 + 300 * s);
  CHECK(r3.url == prefix + "2021-04-03T14:29:00Z" + suffix);
  auto after = p.on_response(r3, empty, "", t0 + 300 * s);
  CHECK_FALSE(after.gap); // the stream was the source's voice meanwhile: no outage
  // Down: the schedule's polls again, a minute apart.
  CHECK(std::holds_alternative<std::int64_t>(p.next(t0 + 330 * s)));
  auto r4 = must_request(p, t0 + 361 * s);
  CHECK(r4.url == prefix + "2021-04-03T14:29:00Z" + suffix);
  // A second "down" without a live stream between changes nothing.
  p.on_response(r4, empty, "", t0 + 361 * s);
  p.stream_down(t0 + 362 * s);
  CHECK(std::holds_alternative<std::int64_t>(p.next(t0 + 363 * s)));
}
