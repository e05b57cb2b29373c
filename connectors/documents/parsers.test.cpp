// Every file of ../shared/fixtures/documents parses to the documents of its hand-checked expected file in
// tests/data/documents/ (README there: how each was checked, by tests/data/documents/verify_expected.py), and the
// malformed ones are refused with a parser error code.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/documents/alpaca_news.hpp"
#include "connectors/documents/cninfo.hpp"
#include "connectors/documents/feeds.hpp"
#include "connectors/documents/reddit.hpp"
#include "connectors/documents/sec.hpp"
#include "connectors/documents/text.hpp"

namespace {

namespace docs = mi::documents;
constexpr std::int64_t fetched = 1700000000000000000;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    FAIL_CHECK("file " << path.string() << " is missing (configure with -DMI_FIXTURES_DIR=...)");
    return {};
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string fixture(const std::string& rel) {
  return read_file(std::filesystem::path(MI_FIXTURES_DIR) / "documents" / rel);
}

std::filesystem::path data_dir() { return std::filesystem::path(MI_SOURCE_DIR) / "tests" / "data" / "documents"; }

std::vector<std::string> expected_lines(const std::string& name) {
  std::vector<std::string> out;
  std::istringstream in(read_file(data_dir() / name));
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      out.push_back(line);
  return out;
}

void check_documents(const std::vector<mi::document>& got, const std::string& expected_file,
                     std::size_t only_first = SIZE_MAX) {
  const auto want = expected_lines(expected_file);
  CAPTURE(expected_file);
  REQUIRE_FALSE(want.empty());
  if (only_first == SIZE_MAX)
    CHECK(got.size() == want.size());
  else
    REQUIRE(got.size() >= want.size());
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    CAPTURE(i);
    CHECK(mi::document_to_json(got[i]) == want[i]);
    // every document survives the wire
    auto back = mi::decode_document_pb(mi::encode_document_pb(got[i]));
    REQUIRE(back);
    CHECK(*back == got[i]);
  }
}

docs::sec::cik_tickers tickers() {
  auto t = docs::sec::parse_company_tickers(fixture("sec/company_tickers_first25_excerpt.json"));
  REQUIRE_MESSAGE(t, (t ? "" : t.err().message));
  return *t;
}

} // namespace

TEST_CASE("sec company_tickers: CIK to tickers, several tickers of one CIK in file order") {
  const auto t = tickers();
  CHECK(t.size() == 25); // the excerpt's 25 entries are 25 companies (GOOG, Alphabet's second ticker, comes later)
  CHECK(t.at(320193) == std::vector<std::string>{"AAPL"});
  CHECK(t.at(789019) == std::vector<std::string>{"MSFT"});
  CHECK(t.at(1652044) == std::vector<std::string>{"GOOGL"});
  auto two = docs::sec::parse_company_tickers(
    R"({"0":{"cik_str":1652044,"ticker":"GOOGL","title":"Alphabet Inc."},"1":{"cik_str":1652044,"ticker":"GOOG","title":"Alphabet Inc."}})");
  REQUIRE(two);
  CHECK(two->at(1652044) == std::vector<std::string>{"GOOGL", "GOOG"});
  CHECK_FALSE(docs::sec::parse_company_tickers(R"({"0":{"cik_str":"x","ticker":"A"}})"));
  CHECK(docs::sec::parse_company_tickers("{").err().code == mi::errc::malformed_json);
}

TEST_CASE("sec current filings Atom: every page gives one document per accession, as expected") {
  const auto t = tickers();
  for (const char* page : {"start0", "start100", "start5000"}) {
    CAPTURE(page);
    auto r = docs::sec::parse_current_atom(fixture(std::string("sec/getcurrent_atom_") + page + ".xml"), t, fetched);
    REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
    CHECK(r->entries == 100); // a full page: ask for the next
    check_documents(r->documents, std::string("getcurrent_atom_") + page + ".expected.jsonl");
  }
}

TEST_CASE("sec current filings Atom: a Form 4 listed for its reporting owner and its issuer is one filing") {
  auto r = docs::sec::parse_current_atom(fixture("sec/getcurrent_atom_start0.xml"), {}, fetched);
  REQUIRE(r);
  REQUIRE_FALSE(r->documents.empty());
  const mi::document& d = r->documents.front();
  CHECK(d.native_id == "0002063236-25-000004");
  CHECK(d.title == "4 - Hinge Health, Inc."); // the issuer, though the feed lists the reporting owner first
  CHECK(d.fields.at("ciks") == "0001673743,0002063236");
  CHECK(d.url == "https://www.sec.gov/Archives/edgar/data/1673743/000206323625000004/0002063236-25-000004-index.htm");
  CHECK(d.published_at_ns == 1765580563000000000); // 2025-12-12T18:02:43-05:00
  CHECK(mi::dedup_id(d) == "sec:0002063236-25-000004:0");
}

TEST_CASE("sec current filings Atom: the 503 page past the end and broken XML are refused") {
  auto html = docs::sec::parse_current_atom(fixture("sec/getcurrent_start5100_503.html"), {}, fetched);
  REQUIRE_FALSE(html);
  CHECK(mi::is_bad_input(html.err().code));
  CHECK(docs::sec::parse_current_atom("<feed><entry><id>urn:x</id></entry></feed>", {}, fetched).err().code ==
        mi::errc::missing_field);
  CHECK_FALSE(docs::sec::parse_current_atom("<feed><entry>", {}, fetched));
}

TEST_CASE("sec submissions: every row of the column arrays is a filing, as expected") {
  for (const char* name : {"submissions_CIK0001800903_fund_1filing", "submissions_CIK0001830056_adr_OTC",
                           "submissions_CIK0001718179_individual", "submissions_CIK0000940418_SIEMENS"}) {
    CAPTURE(name);
    auto r = docs::sec::parse_submissions(fixture(std::string("sec/") + name + ".json"), fetched);
    REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
    CHECK(r->files.empty());
    check_documents(r->documents, std::string(name) + ".expected.jsonl");
  }
}

TEST_CASE("sec submissions: Apple and Fannie Mae, row counts, tickers and the overflow files") {
  auto apple = docs::sec::parse_submissions(fixture("sec/submissions_CIK0000320193_AAPL.json"), fetched);
  REQUIRE_MESSAGE(apple, (apple ? "" : apple.err().message));
  CHECK(apple->cik == "0000320193");
  CHECK(apple->name == "Apple Inc.");
  CHECK(apple->tickers == std::vector<std::string>{"AAPL"});
  CHECK(apple->documents.size() == 1005);
  CHECK(apple->files == std::vector<std::string>{"CIK0000320193-submissions-001.json"});
  check_documents(apple->documents, "submissions_CIK0000320193_AAPL.first3.expected.jsonl", 3);

  auto fnma =
    docs::sec::parse_submissions(fixture("sec/submissions_CIK0000310522_FNMA_16tickers_3files.json"), fetched);
  REQUIRE_MESSAGE(fnma, (fnma ? "" : fnma.err().message));
  CHECK(fnma->tickers.size() == 16);
  CHECK(fnma->files.size() == 3);
  CHECK(fnma->documents.size() == 1140);
  check_documents(fnma->documents, "submissions_CIK0000310522_FNMA_16tickers_3files.first3.expected.jsonl", 3);
}

TEST_CASE("sec submissions overflow file: the rows of an older file are the company's filings, as worked out by hand") {
  auto apple = docs::sec::parse_submissions(fixture("sec/submissions_CIK0000320193_AAPL.json"), fetched);
  REQUIRE(apple);
  REQUIRE(apple->overflow.size() == 1);
  CHECK(apple->overflow[0] ==
        docs::sec::submissions_file{"CIK0000320193-submissions-001.json", 1206, "1994-01-26", "2015-03-11"});
  auto fnma =
    docs::sec::parse_submissions(fixture("sec/submissions_CIK0000310522_FNMA_16tickers_3files.json"), fetched);
  REQUIRE(fnma);
  REQUIRE(fnma->overflow.size() == 3);
  CHECK(fnma->overflow[2] ==
        docs::sec::submissions_file{"CIK0000310522-submissions-003.json", 1848, "1995-01-10", "2015-11-11"});

  auto rows =
    docs::sec::parse_submissions_file(read_file(data_dir() / "CIK0000320193-submissions-001_handwritten.json"), *apple,
                                      "CIK0000320193-submissions-001.json", fetched);
  REQUIRE_MESSAGE(rows, (rows ? "" : rows.err().message));
  REQUIRE(rows->size() == 3);
  const mi::document& k8 = (*rows)[0];
  CHECK(k8.source == "sec");
  CHECK(k8.native_id == "0001193125-15-087811");
  CHECK(k8.kind == mi::document_kind::filing);
  CHECK(k8.title == "8-K - Apple Inc.");
  CHECK(k8.url == "https://www.sec.gov/Archives/edgar/data/320193/000119312515087811/d889221d8k.htm");
  CHECK(k8.published_at_ns == 1426089925LL * 1'000'000'000); // 2015-03-11T16:05:25Z
  CHECK(k8.fetched_at_ns == fetched);
  CHECK(k8.symbols == std::vector<std::string>{"AAPL"});
  CHECK(k8.summary == "8-K filed 2015-03-11 by Apple Inc.");
  CHECK(k8.fields == std::map<std::string, std::string>{{"form", "8-K"},
                                                        {"accession", "0001193125-15-087811"},
                                                        {"cik", "0000320193"},
                                                        {"filing_date", "2015-03-11"},
                                                        {"report_date", "2015-03-10"},
                                                        {"items", "5.07"},
                                                        {"primary_doc_description", "FORM 8-K"},
                                                        {"size", "31244"}});
  CHECK((*rows)[1].title == "10-K - Apple Inc.");
  CHECK((*rows)[1].published_at_ns == 1414427585LL * 1'000'000'000); // 2014-10-27T16:33:05Z
  // no primary document: the filing's index page
  CHECK((*rows)[2].url ==
        "https://www.sec.gov/Archives/edgar/data/320193/000032019394000016/0000320193-94-000016-index.htm");
  CHECK((*rows)[2].published_at_ns == 787276800LL * 1'000'000'000); // 1994-12-13T00:00:00Z
  CHECK((*rows)[2].fields.count("primary_doc_description") == 0);
  for (const auto& d : *rows) {
    auto back = mi::decode_document_pb(mi::encode_document_pb(d));
    REQUIRE(back);
    CHECK(*back == d);
  }
}

TEST_CASE("sec submissions overflow file: ragged columns, a missing accession column and non-JSON are refused") {
  docs::sec::submissions apple{"0000320193", "Apple Inc.", {"AAPL"}, {}, {}, {}};
  auto ragged = docs::sec::parse_submissions_file(R"({"accessionNumber":["a","b"],"form":["4"]})", apple, "f1.json", 1);
  REQUIRE_FALSE(ragged);
  CHECK(ragged.err().message == "submissions: files[f1.json].form has 1 rows, accessionNumber 2");
  auto none = docs::sec::parse_submissions_file(R"({"form":["4"]})", apple, "f1.json", 1);
  REQUIRE_FALSE(none);
  CHECK(none.err().code == mi::errc::missing_field);
  CHECK_FALSE(docs::sec::parse_submissions_file("<html>503</html>", apple, "f1.json", 1));
  auto bad_time = docs::sec::parse_submissions_file(R"({"accessionNumber":["a"],"acceptanceDateTime":["yesterday"]})",
                                                    apple, "f1.json", 1);
  REQUIRE_FALSE(bad_time);
  CHECK(bad_time.err().message == "files[f1.json][0]: acceptanceDateTime is not an RFC 3339 time");
}

TEST_CASE("sec submissions: column arrays of different lengths are refused") {
  auto r = docs::sec::parse_submissions(
    R"({"cik":"0000000001","name":"X","tickers":[],"filings":{"recent":{"accessionNumber":["a","b"],"form":["4"]},"files":[]}})",
    fetched);
  REQUIRE_FALSE(r);
  CHECK(r.err().message.find("form has 1 rows") != std::string::npos);
}

TEST_CASE("alpaca news REST pages: documents and the next page token") {
  struct page {
    const char* name;
    const char* token;
  };
  for (const page& p : {page{"rest_news_page1_go", "MTYxNzQ2MzIxMjAwMDAwMDAwMHwyMDQ3MjUxMg=="},
                        page{"rest_news_page2_go", nullptr}, page{"rest_news_page2_alpacapy", nullptr},
                        page{"rest_news_page1_alpacapy_placeholders", "MTczMDk3MTEwMTAwMDAwMDAwMHw0MTc5OTExNQ=="},
                        page{"rest_news_docs_example", "MTY0MDk0ODkyMzAwMDAwMDAwMHwyNDg0MzE3MQ=="},
                        page{"rest_news_openapi_example", "MTY0MDk0ODkyMzAwMDAwMDAwMHwyNDg0MzE3MQ=="}}) {
    CAPTURE(p.name);
    auto r = docs::alpaca_news::parse_news_page(fixture(std::string("alpaca_news/") + p.name + ".json"), fetched);
    REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
    CHECK(r->next_page_token == (p.token ? std::optional<std::string>(p.token) : std::nullopt));
    check_documents(r->documents, std::string(p.name) + ".expected.jsonl");
  }
}

TEST_CASE("alpaca news: an article edited after publication carries its update time as revision") {
  auto r =
    docs::alpaca_news::parse_news_article(fixture("alpaca_news/news_object_docs_example_with_content.json"), fetched);
  REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
  check_documents({*r}, "news_object_docs_example_with_content.expected.jsonl");
  CHECK(r->published_at_ns == 1640790663000000000);     // created_at 2021-12-29T15:11:03Z
  CHECK(r->revision == 1640896661000000000);            // updated_at 2021-12-30T20:37:41Z
  CHECK(r->body.find("<strong>") == std::string::npos); // HTML removed
  CHECK(r->body.find("Year of the Dogecoin") != std::string::npos);
}

TEST_CASE("alpaca news stream: n frames are documents, control frames none, errors refused") {
  for (const char* name : {"ws_news_frames", "ws_news_object_docs_example"}) {
    CAPTURE(name);
    std::vector<mi::document> all;
    std::istringstream in(fixture(std::string("alpaca_news/") + name + ".jsonl"));
    for (std::string line; std::getline(in, line);) {
      if (line.empty())
        continue;
      auto r = docs::alpaca_news::parse_news_frame(line, fetched);
      REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
      all.insert(all.end(), r->begin(), r->end());
    }
    check_documents(all, std::string(name) + ".expected.jsonl");
  }
  auto err = docs::alpaca_news::parse_news_frame(R"([{"T":"error","code":406,"msg":"connection limit exceeded"}])", 0);
  REQUIRE_FALSE(err);
  CHECK(err.err().code == mi::errc::rejected);
  CHECK(docs::alpaca_news::parse_news_frame(R"([{"T":"n","headline":"no id"}])", 0).err().code ==
        mi::errc::missing_field);
  CHECK(docs::alpaca_news::subscribe_request({"*"}) == R"({"action":"subscribe","news":["*"]})");
  CHECK(fixture("alpaca_news/ws_news_client_requests.jsonl").find(docs::alpaca_news::subscribe_request({"*"})) == 0);
}

TEST_CASE("rss 2.0 feed: Yahoo's 50 items, ISO item times beside an RFC 822 channel time") {
  auto r = docs::feeds::parse_feed(fixture("feeds/rss2_yahoo_news_2021-05-28.xml"), "yahoo", "en", fetched);
  REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
  check_documents(*r, "rss2_yahoo_news_2021-05-28.expected.jsonl");
  REQUIRE(r->size() == 50);
  CHECK(r->front().published_at_ns == 1622146019000000000); // 2021-05-27T20:06:59Z
  CHECK(r->front().fields.at("publisher") == "Yahoo News");
}

TEST_CASE("atom feed: the generic parser reads the SEC current-filings feed entry by entry") {
  auto r = docs::feeds::parse_feed(fixture("sec/getcurrent_atom_start0.xml"), "edgar", "en", fetched);
  REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
  REQUIRE(r->size() == 100); // generic Atom: one document per entry (the SEC parser groups accessions)
  const mi::document& d = r->front();
  CHECK(d.native_id == "edgar/urn:tag:sec.gov,2008:accession-number=0002063236-25-000004");
  CHECK(d.title == "4 - Perez Daniel Antonio (0002063236) (Reporting)");
  CHECK(d.url == "https://www.sec.gov/Archives/edgar/data/2063236/000206323625000004/0002063236-25-000004-index.htm");
  CHECK(d.published_at_ns == 1765580563000000000);
  CHECK(d.revision == 1765580563000000000);
  CHECK(d.fields.at("categories") == "4");
  CHECK(docs::feeds::parse_feed("<html><body/></html>", "x", "en", 0).err().code == mi::errc::unsupported_message);
  CHECK(docs::feeds::parse_feed("<rss><channel><item><title>t", "x", "en", 0).err().code == mi::errc::malformed_json);
}

TEST_CASE("rss 2.0: a changed item is a new revision, a repeated one the same") {
  const std::string a = R"(<rss version="2.0"><channel><item><title>Fed holds</title><link>https://x.test/a</link>)"
                        R"(<pubDate>Fri, 28 May 2021 10:17:09 -0400</pubDate><description>v1</description></item>)"
                        R"(</channel></rss>)";
  std::string b = a;
  b.replace(b.find("v1"), 2, "v2");
  auto ra = docs::feeds::parse_feed(a, "f", "en", 1), ra2 = docs::feeds::parse_feed(a, "f", "en", 2),
       rb = docs::feeds::parse_feed(b, "f", "en", 3);
  REQUIRE((ra && ra2 && rb));
  REQUIRE(ra->size() == 1);
  CHECK(ra->front().native_id == docs::url_id("https://x.test/a")); // no guid: the link's hash
  CHECK(ra->front().published_at_ns == 1622211429000000000);        // 2021-05-28T14:17:09Z
  CHECK(mi::dedup_id(ra->front()) == mi::dedup_id(ra2->front()));
  CHECK(mi::document_id(rb->front()) == mi::document_id(ra->front()));
  CHECK(mi::dedup_id(rb->front()) != mi::dedup_id(ra->front()));
}

TEST_CASE("cninfo announcements: pages and a single item, symbols with their exchange suffix") {
  for (const char* name :
       {"hisAnnouncement_query_600600_2020-09_elision_removed", "hisAnnouncement_query_002104_2023-09_fixed"}) {
    CAPTURE(name);
    auto r = docs::cninfo::parse_query(fixture(std::string("cninfo/") + name + ".json"), fetched);
    REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
    CHECK(r->has_more);
    check_documents(r->documents, std::string(name) + ".expected.jsonl");
  }
  auto one = docs::cninfo::parse_announcement(fixture("cninfo/announcement_item_600231_2018-10.json"), fetched);
  REQUIRE_MESSAGE(one, (one ? "" : one.err().message));
  check_documents({*one}, "announcement_item_600231_2018-10.expected.jsonl");
  CHECK(one->symbols == std::vector<std::string>{"600231.SH"});
  CHECK(one->url == "http://static.cninfo.com.cn/finalpage/2018-10-10/1205488844.PDF");
}

TEST_CASE("cninfo: the verbatim comments that are not JSON are refused, a null list is an empty page") {
  for (const char* name : {"hisAnnouncement_query_002104_2023-09_verbatim_comment_INVALID.txt",
                           "hisAnnouncement_query_600600_2020-09_verbatim_comment.txt"}) {
    CAPTURE(name);
    auto r = docs::cninfo::parse_query(fixture(std::string("cninfo/") + name), fetched);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == mi::errc::malformed_json);
  }
  auto empty = docs::cninfo::parse_query(R"({"announcements":null,"hasMore":false,"totalAnnouncement":0})", fetched);
  REQUIRE(empty);
  CHECK(empty->documents.empty());
  CHECK_FALSE(empty->has_more);
  CHECK(docs::cninfo::exchange_suffix("600000") == std::optional<std::string_view>("SH"));
  CHECK(docs::cninfo::exchange_suffix("688981") == std::optional<std::string_view>("SH"));
  CHECK(docs::cninfo::exchange_suffix("000001") == std::optional<std::string_view>("SZ"));
  CHECK(docs::cninfo::exchange_suffix("300750") == std::optional<std::string_view>("SZ"));
  CHECK(docs::cninfo::exchange_suffix("830799") == std::optional<std::string_view>("BJ"));
  CHECK_FALSE(docs::cninfo::exchange_suffix("AAPL"));
  CHECK_FALSE(docs::cninfo::exchange_suffix("12345"));
}

TEST_CASE("reddit listing: posts with cashtags as symbols, an edit as revision, other kinds skipped") {
  auto r = docs::reddit::parse_listing(read_file(data_dir() / "reddit_wallstreetbets_new.json"), fetched);
  REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
  CHECK(r->after == std::optional<std::string>("t3_lvsm9x"));
  check_documents(r->documents, "reddit_wallstreetbets_new.expected.jsonl");
  REQUIRE(r->documents.size() == 3);
  CHECK(r->documents[0].symbols == std::vector<std::string>{"AMC", "GME"}); // not "$120", not "$5"
  CHECK(r->documents[1].revision == 1614560000500000000);                   // edited 1614560000.5
  CHECK(docs::reddit::parse_listing(R"({"kind":"t3","data":{}})", 0).err().code == mi::errc::unsupported_message);
}
