// The documents table (0007) on a real PostgreSQL: revisions, repeated items, full-text search in English and
// Chinese, filters and paging.
#include <doctest/doctest.h>

#include <set>
#include <sstream>

#include "gateways/postgres/document_store.hpp"
#include "gateways/postgres/postgres.hpp"
#include "tests/harness/pg_server.hpp"

namespace {

struct documents_db {
  mi::test::pg_server pg{mi::test::pg_server_options{true}};
  std::unique_ptr<mi::gw::document_store> store;
  documents_db() {
    auto applied = mi::gw::migrate(pg.conninfo());
    REQUIRE_MESSAGE(applied.has_value(), (applied ? "" : applied.err().message));
    auto s = mi::gw::document_store::connect(pg.conninfo());
    REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.err().message));
    store = std::move(*s);
  }
  mi::gw::document_write upsert(const std::vector<mi::document>& batch) {
    auto r = store->upsert(batch);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.err().message));
    return *r;
  }
  std::vector<std::string> ids(const mi::gw::document_query& q) {
    auto r = store->search(q);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.err().message));
    std::vector<std::string> out;
    for (const auto& d : r->documents)
      out.push_back(mi::document_id(d));
    return out;
  }
};

// An English news article (Alpaca rest_news_page1_go.json's first, with a body) and a Chinese announcement (cninfo
// 600600's first; cninfo sends no text, so the body is written here as its PDF would read).
mi::document english() {
  mi::document d;
  d.source = "alpaca";
  d.native_id = "20472678";
  d.kind = mi::document_kind::news;
  d.symbols = {"GOOG", "GOOGL", "TSLA"};
  d.title = "CEO John Krafcik Leaves Waymo";
  d.summary = "Waymo's chief technology officer and its chief operating officer will serve as co-CEOs.";
  d.body = "John Krafcik is stepping down after more than five years leading the self-driving subsidiary.";
  d.url = "https://www.benzinga.com/news/21/04/20472678/ceo-john-krafcik-leaves-waymo";
  d.language = "en";
  d.published_at_ns = 1617464121000000000; // 2021-04-03T15:35:21Z
  d.fetched_at_ns = 1700000000000000000;
  d.revision = 1617464121000000000;
  d.fields = {{"author", "Bibhu Pattnaik"}, {"provider", "benzinga"}};
  return d;
}

mi::document chinese() {
  mi::document d;
  d.source = "cninfo";
  d.native_id = "1208388950";
  d.kind = mi::document_kind::announcement;
  d.symbols = {"600600.SH"};
  d.title = "关于持股5%以上股东权益变动达1%的提示公告";
  d.summary = "青岛啤酒：关于持股5%以上股东权益变动达1%的提示公告";
  d.body = "本次权益变动属于减持，不触及要约收购，不会导致公司控股股东及实际控制人发生变化。";
  d.url = "http://static.cninfo.com.cn/finalpage/2020-09-04/1208388950.PDF";
  d.language = "zh";
  d.published_at_ns = 1599148800000000000; // 2020-09-04 00:00 +08:00
  d.fetched_at_ns = 1700000000000000000;
  d.fields = {{"sec_name", "青岛啤酒"}, {"org_id", "gssh0600600"}};
  return d;
}

} // namespace

TEST_CASE("documents store: a stored document reads back field for field, in its month partition") {
  documents_db db;
  CHECK(db.upsert({english(), chinese()}) == mi::gw::document_write{2, 0, 0});
  auto page = db.store->search({});
  REQUIRE(page);
  REQUIRE(page->documents.size() == 2);
  CHECK(page->documents[0] == english()); // newest first
  CHECK(page->documents[1] == chinese());
  CHECK(db.pg.psql("SELECT tableoid::regclass FROM documents WHERE id = 'cninfo:1208388950'") == "documents_p202009");
  CHECK(db.pg.psql("SELECT count(*) FROM documents_default") == "0");
}

TEST_CASE("documents store: a repeated item is stored once, an updated one becomes a revision") {
  documents_db db;
  CHECK(db.upsert({english()}) == mi::gw::document_write{1, 0, 0});
  auto again = english();
  again.fetched_at_ns += 60'000'000'000; // the same article fetched a minute later
  CHECK(db.upsert({again, english()}) == mi::gw::document_write{0, 0, 2});
  auto edited = english();
  edited.fetched_at_ns += 120'000'000'000;
  edited.revision = 1617470000000000000; // updated_at moved on
  edited.body = "Updated: Tekedra Mawakana and Dmitri Dolgov become co-CEOs.";
  edited.published_at_ns += 5'000'000'000; // a source that moves its date: still the same row
  CHECK(db.upsert({edited}) == mi::gw::document_write{0, 1, 0});
  CHECK(db.pg.psql("SELECT count(*) FROM documents") == "1");
  auto n = db.store->revisions("alpaca:20472678");
  REQUIRE(n);
  CHECK(*n == 2);
  CHECK(db.pg.psql("SELECT body FROM documents") == edited.body);
  // the old revision redelivered afterwards does not roll the row back
  CHECK(db.upsert({english()}) == mi::gw::document_write{0, 0, 1});
  CHECK(db.pg.psql("SELECT body FROM documents") == edited.body);
}

TEST_CASE("documents search: an English and a Chinese document found by a word of their body") {
  documents_db db;
  db.upsert({english(), chinese()});
  CHECK(db.ids({.q = "subsidiary"}) == std::vector<std::string>{"alpaca:20472678"});
  CHECK(db.ids({.q = "subsidiaries"}) == std::vector<std::string>{"alpaca:20472678"}); // English stemming
  CHECK(db.ids({.q = "要约收购"}) == std::vector<std::string>{"cninfo:1208388950"});
  CHECK(db.ids({.q = "减持"}) == std::vector<std::string>{"cninfo:1208388950"});
  CHECK(db.ids({.q = "dividend"}).empty());
  CHECK(db.ids({.q = "50%_"}).empty()); // LIKE wildcards are literal
}

TEST_CASE("documents search: symbol, source, kind and time filters, and paging by cursor") {
  documents_db db;
  std::vector<mi::document> many;
  for (int i = 0; i < 7; ++i) {
    auto d = english();
    d.native_id = std::to_string(100 + i);
    d.published_at_ns += i * 86'400'000'000'000; // one a day
    many.push_back(d);
  }
  db.upsert(many);
  db.upsert({chinese()});
  CHECK(db.ids({.symbol = "600600.SH"}) == std::vector<std::string>{"cninfo:1208388950"});
  CHECK(db.ids({.symbol = "TSLA"}).size() == 7);
  CHECK(db.ids({.source = "cninfo"}).size() == 1);
  CHECK(db.ids({.kind = mi::document_kind::news}).size() == 7);
  CHECK(db.ids({.start_ms = 1617464121000 + 86'400'000, .end_ms = 1617464121000 + 3 * 86'400'000}) ==
        std::vector<std::string>{"alpaca:103", "alpaca:102", "alpaca:101"});
  std::vector<std::string> all;
  mi::gw::document_query q{.source = "alpaca", .limit = 3};
  for (int pages = 0; pages < 5; ++pages) {
    auto page = db.store->search(q);
    REQUIRE(page);
    for (const auto& d : page->documents)
      all.push_back(mi::document_id(d));
    if (!page->next)
      break;
    auto token = mi::gw::encode_document_cursor(*page->next);
    auto back = mi::gw::decode_document_cursor(token);
    REQUIRE(back);
    q.after = *back;
  }
  CHECK(all == std::vector<std::string>{"alpaca:106", "alpaca:105", "alpaca:104", "alpaca:103", "alpaca:102",
                                        "alpaca:101", "alpaca:100"});
  CHECK_FALSE(mi::gw::decode_document_cursor("nonsense"));
}

namespace {

// 5000 generated documents, one a minute from 2024-03-01 (the newest is g = 5000): `common` in every third,
// `rare` in every 700th, `skewed` in each of the oldest 1500 only, 罕见词 in every 1600th (Chinese), five symbols in
// turn.
void fill_generated(documents_db& db) {
  db.pg.psql(
    "INSERT INTO documents (id, source, native_id, kind, symbols, title, summary, body, url, language, "
    "published_at, published_at_ns, fetched_at_ns, revision) "
    "SELECT 'alpaca:' || g, 'alpaca', g::text, 'news', ARRAY[(ARRAY['AAPL','MSFT','TSLA','NVDA','AMZN'])[1 + g % 5]], "
    "'Headline ' || g, '', 'Body ' || g || "
    "CASE WHEN g % 3 = 0 THEN ' common' ELSE '' END || CASE WHEN g % 700 = 0 THEN ' rare' ELSE '' END || "
    "CASE WHEN g <= 1500 THEN ' skewed' ELSE '' END || CASE WHEN g % 1600 = 0 THEN ' 罕见词' ELSE '' END, "
    "'https://news.example/' || g, 'en', t, (extract(epoch FROM t) * 1e9)::bigint, 0, 0 "
    "FROM generate_series(1, 5000) g, "
    "LATERAL (SELECT timestamptz '2024-03-01 00:00+00' + g * interval '1 minute' AS t) x");
  db.pg.psql("ANALYZE documents");
}

// The reference: the search written out in plain SQL here (not the store's code), every match, newest first.
std::vector<std::string> reference(documents_db& db, const std::string& word, const std::string& symbol = "") {
  const std::string out = db.pg.psql("SELECT id FROM documents WHERE (search @@ websearch_to_tsquery('english', '" +
                                     word + "') OR documents_text(title, summary, body) ILIKE '%" + word + "%')" +
                                     (symbol.empty() ? std::string() : " AND symbols @> ARRAY['" + symbol + "']") +
                                     " ORDER BY published_at DESC, id DESC");
  std::vector<std::string> ids;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      ids.push_back(line);
  return ids;
}

// Every page of a search, following `next`; the paths the pages took.
std::vector<std::string> all_pages(documents_db& db, mi::gw::document_query q, std::set<mi::gw::search_path>& paths) {
  std::vector<std::string> out;
  for (int pages = 0; pages < 1000; ++pages) {
    auto page = db.store->search(q);
    REQUIRE_MESSAGE(page, (page ? "" : page.err().message));
    paths.insert(page->path);
    for (const auto& d : page->documents)
      out.push_back(mi::document_id(d));
    if (!page->next)
      break;
    q.after = *page->next;
  }
  return out;
}

} // namespace

TEST_CASE("documents search: frequent, rare, absent and old-only words give the plain SQL's results, page by page") {
  documents_db db;
  fill_generated(db);
  using mi::gw::search_path;
  struct word_case {
    std::string word, symbol;
    std::size_t matches;    // worked out from fill_generated
    search_path first_path; // how the first page is found
  };
  for (const auto& c :
       {word_case{"common", "", 1666, search_path::window}, word_case{"common", "MSFT", 333, search_path::window},
        word_case{"rare", "", 7, search_path::candidates}, word_case{"罕见词", "", 3, search_path::candidates},
        word_case{"absent", "", 0, search_path::candidates}, word_case{"skewed", "", 1500, search_path::time_walk}}) {
    CAPTURE(c.word);
    CAPTURE(c.symbol);
    const auto want = reference(db, c.word, c.symbol);
    CHECK(want.size() == c.matches);
    auto first = db.store->search({.q = c.word, .symbol = c.symbol});
    REQUIRE(first);
    CHECK(first->path == c.first_path);
    auto plain = db.store->search({.q = c.word, .symbol = c.symbol}, mi::gw::search_mode::plain);
    REQUIRE(plain);
    CHECK(plain->path == search_path::plain);
    std::vector<std::string> first_ids, plain_ids;
    for (const auto& d : first->documents)
      first_ids.push_back(mi::document_id(d));
    for (const auto& d : plain->documents)
      plain_ids.push_back(mi::document_id(d));
    CHECK(first_ids == plain_ids);
    CHECK(first_ids == std::vector<std::string>(want.begin(), want.begin() + std::min<std::size_t>(50, want.size())));
    for (int limit : {50, 7}) {
      CAPTURE(limit);
      std::set<search_path> paths;
      CHECK(all_pages(db, {.q = c.word, .symbol = c.symbol, .limit = limit}, paths) == want);
    }
  }
}
