#include <doctest/doctest.h>

#include <set>

#include "messages/document.hpp"

namespace {

mi::document sample() {
  mi::document d;
  d.source = "cninfo";
  d.native_id = "1208388950";
  d.kind = mi::document_kind::announcement;
  d.symbols = {"600600.SH"};
  d.title = "关于持股5%以上股东权益变动达1%的提示公告";
  d.url = "http://static.cninfo.com.cn/finalpage/2020-09-04/1208388950.PDF";
  d.language = "zh";
  d.published_at_ns = 1599148800000000000;
  d.fetched_at_ns = 7;
  d.fields = {{"sec_name", "青岛啤酒"}, {"adjunct_type", "PDF"}};
  return d;
}

} // namespace

TEST_CASE("document: id, dedup id and subject follow the public contract") {
  auto d = sample();
  CHECK(mi::document_id(d) == "cninfo:1208388950");
  CHECK(mi::dedup_id(d) == "cninfo:1208388950:0");
  d.revision = 1617463212000000000;
  CHECK(mi::dedup_id(d) == "cninfo:1208388950:1617463212000000000");
  CHECK(mi::doc_subject("sec", mi::document_kind::filing) == "market.doc.sec.filing");
  CHECK(mi::doc_subject("reddit", mi::document_kind::social) == "market.doc.reddit.social");
}

TEST_CASE("document: protobuf round trip keeps every field") {
  const auto d = sample();
  auto back = mi::decode_document_pb(mi::encode_document_pb(d));
  REQUIRE(back);
  CHECK(*back == d);
  CHECK_FALSE(mi::decode_document_pb("\xff\xff garbage"));
  CHECK_FALSE(mi::decode_document_pb("")); // no source, no id, no kind
}

TEST_CASE("document: JSON line in the documented key order, fields sorted") {
  CHECK(mi::document_to_json(sample()) ==
        R"({"id":"cninfo:1208388950","source":"cninfo","native_id":"1208388950","kind":"announcement",)"
        R"("symbols":["600600.SH"],"title":"关于持股5%以上股东权益变动达1%的提示公告","summary":"","body":"",)"
        R"("url":"http://static.cninfo.com.cn/finalpage/2020-09-04/1208388950.PDF","language":"zh",)"
        R"("published_at_ns":1599148800000000000,"fetched_at_ns":7,"revision":0,)"
        R"("fields":{"adjunct_type":"PDF","sec_name":"青岛啤酒"}})");
}

TEST_CASE("document sources: each named once as a NATS token, with a kind") {
  std::set<std::string_view> seen;
  for (const auto& s : mi::document_sources()) {
    CAPTURE(s.name);
    CHECK(seen.insert(s.name).second);
    CHECK(s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") == std::string_view::npos);
    CHECK(mi::find_document_source(s.name) == &s);
    CHECK(mi::parse_document_kind(mi::to_string(s.kind)) == s.kind);
  }
  CHECK(mi::document_source_names_joined() == "sec, alpaca, rss, cninfo, reddit");
  CHECK(mi::find_document_source("twitter") == nullptr);
  CHECK_FALSE(mi::parse_document_kind("tweet"));
}

TEST_CASE("fnv1a64: the published test vectors") {
  CHECK(mi::fnv1a64("") == 0xcbf29ce484222325ull);
  CHECK(mi::fnv1a64("a") == 0xaf63dc4c8601ec8cull);
  CHECK(mi::fnv1a64("foobar") == 0x85944171f73967e8ull);
}
